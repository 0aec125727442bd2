"""The plan: the checks a shapes graph compiles to, the results they give, and what one run shares
(the store, the answers, the focus sets, the class closures, pySHACL for the values it decides).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDFS, SH, XSD
from rdflib.term import Identifier, Node

from coopdec_kg.engines.store import Answer, select
from coopdec_kg.law.shacl_sparql.conditions import _CERTAIN, _CLOSURE, _PLAIN_DATE
from coopdec_kg.law.shacl_sparql.literals import _Terms
from coopdec_kg.law.shacl_sparql.workers import _Workers

if TYPE_CHECKING:
    import pyoxigraph

# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Result:
    """One validation result, as pySHACL reports it."""

    focus: Node
    shape: Node
    component: URIRef
    path: Node | None
    value: Node | None
    severity: URIRef

    def key(self) -> tuple[Node | None, ...]:
        """What the equivalence with pySHACL is judged on."""
        return (self.focus, self.shape, self.component, self.path, self.value, self.severity)


# ---------------------------------------------------------------- the plan


def _target_query(target: str) -> str:
    return f"SELECT DISTINCT ?this WHERE {{ {target} }}"


@dataclass(frozen=True)
class _Focus:
    """The focus nodes of a shape: the union of its target patterns (each binds ?this)."""

    targets: tuple[str, ...]

    def pattern(self) -> str:
        union = " UNION ".join(f"{{ {t} }}" for t in self.targets)
        return f"{{ SELECT DISTINCT ?this WHERE {{ {union} }} }}"


class _Context:
    """What one run shares: the store, query answers, focus sets, closures, literals, pySHACL."""

    def __init__(self, store: pyoxigraph.Store, shapes: Graph) -> None:
        self.store, self.shapes = store, shapes
        self.terms: _Terms | None = None
        self.closures: dict[str, str] = {}
        self.answers: dict[str, Answer] = {}
        self.converted: dict[object, Identifier | None] = {}  # store terms → rdflib, all queries
        self.focus_sets: dict[str, set[Node]] = {}
        self._pyshacl: Any = None
        self._executor: Any = None

    def render(self, template: str) -> str:
        """The query to run: class closures filled in, datatype certainty from the census
        (optimistic before it: a query rendered otherwise afterwards is simply run again)."""
        template = _CLOSURE.sub(
            lambda m: self.closures.get(m.group(1)) or "<urn:coopdec-kg:no-class>", template
        )
        terms = self.terms
        return _CERTAIN.sub(
            lambda m: "false" if terms and not terms.datatype_certain(m.group(1)) else "true",
            template,
        )

    def select(self, template: str) -> Answer:
        text = self.render(template)
        found = self.answers.get(text)
        if found is None:
            found = self.answers[text] = select(self.store, text, self.converted)
        return found

    def rows(self, template: str) -> Sequence[tuple[Node | None, ...]]:
        return self.select(template)[1]

    def prefetch(self, templates: Iterable[str], store_path: Path, workers: int) -> _Workers:
        """Start answering the queries in worker processes."""
        texts = list(dict.fromkeys(self.render(t) for t in templates))
        return _Workers(store_path, workers, texts)

    def read_closures(self, classes: Iterable[str]) -> None:
        wanted = sorted(set(classes))
        if not wanted:
            return
        found: dict[str, list[str]] = defaultdict(list)
        values = " ".join(f"<{c}>" for c in wanted)
        for cls, sub in self.rows(
            f"SELECT ?c ?sub WHERE {{ VALUES ?c {{ {values} }} ?sub <{RDFS.subClassOf}>* ?c }}"
        ):
            if isinstance(sub, URIRef):
                found[str(cls)].append(f"<{sub}>")
        self.closures = {c: " ".join(sorted(set(found[c]))) for c in wanted}

    @property
    def lexical(self) -> _Terms:
        if self.terms is None:  # pragma: no cover - run() reads the census first
            raise RuntimeError("the literals of the sources have not been read")
        return self.terms

    def focus(self, spec: _Focus) -> set[Node]:
        found: set[Node] = set()
        for target in spec.targets:
            if target not in self.focus_sets:
                self.focus_sets[target] = {
                    row[0] for row in self.rows(_target_query(target)) if row[0] is not None
                }
            found |= self.focus_sets[target]
        return found

    def decide(
        self,
        shape: Node,
        param: URIRef,
        values: Mapping[Node, set[Node]],
        data: Graph | None = None,
    ) -> list[tuple[Node, Node | None, URIRef]]:
        """pySHACL's own constraint component on these values: (focus, value, component)."""
        from pyshacl.constraints import CONSTRAINT_PARAMETERS_MAP
        from pyshacl.pytypes import SHACLExecutor
        from pyshacl.shapes_graph import ShapesGraph

        if self._pyshacl is None:
            self._pyshacl = ShapesGraph(self.shapes)
            _ = self._pyshacl.shapes  # builds pySHACL's shape cache
            self._executor = SHACLExecutor(
                advanced_mode=True, allow_infos=True, allow_warnings=True
            )
        component = CONSTRAINT_PARAMETERS_MAP[param](self._pyshacl.lookup_shape_from_node(shape))
        _, reports = component.evaluate(
            self._executor, data if data is not None else Graph(), dict(values), []
        )
        found = []
        for _, node, triples in reports:
            parts = {p: (o[1] if isinstance(o, tuple) else o) for s, p, o in triples if s == node}
            found.append(
                (parts[SH.focusNode], parts.get(SH.value), parts[SH.sourceConstraintComponent])
            )
        return found


class _Check:
    """One (shape, constraint) of the plan: `collect` reads the answers, `finish` makes the
    results once the written form of the literals is known."""

    def __init__(
        self, shape: Node, component: URIRef, path: Node | None, severity: URIRef, focus: _Focus
    ) -> None:
        self.shape, self.component, self.path = shape, component, path
        self.severity, self.focus = severity, focus
        self.query = ""

    def queries(self) -> list[str]:
        """The queries the check runs, its targets' included (answered ahead of time)."""
        return [self.query, *(_target_query(t) for t in self.focus.targets)]

    def result(
        self,
        focus: Node,
        value: Node | None,
        component: URIRef | None = None,
        path: Node | None = None,
    ) -> Result:
        return Result(
            focus,
            self.shape,
            component or self.component,
            path if path is not None else self.path,
            value,
            self.severity,
        )

    def collect(self, context: _Context) -> Any:
        raise NotImplementedError  # pragma: no cover

    def finish(self, context: _Context, state: Any) -> list[Result]:
        raise NotImplementedError  # pragma: no cover

    def focus_values(self, context: _Context) -> list[tuple[Node, Node]]:
        """The (focus, value) rows of the query whose focus node is a focus of the shape."""
        focus = context.focus(self.focus)
        rows = []
        for node, value in context.rows(self.query):
            if node in focus and value is not None:
                context.lexical.need(value, node)
                rows.append((node, value))
        return rows


def _values_failing(values: str, condition: str) -> str:
    """The (focus, value) pairs of `values` for which `condition` is not true (an error in the
    condition counts as failing, as in SHACL)."""
    return f"SELECT DISTINCT ?this ?v WHERE {{ {values} FILTER(!COALESCE({condition}, false)) }}"


class _ExactValues(_Check):
    """Value nodes that fail an exact SPARQL condition (sh:class, shape-based constraints…)."""

    def prepare(self, values: str, exact: str, with_value: bool = True) -> _ExactValues:
        self.with_value = with_value  # sh:hasValue reports no value
        self.query = _values_failing(values, exact)
        return self

    def collect(self, context: _Context) -> Any:
        return self.focus_values(context)

    def finish(self, context: _Context, state: Any) -> list[Result]:
        return [
            self.result(f, context.lexical.original(v, f) if self.with_value else None)
            for f, v in state
        ]


class _DecidedValues(_Check):
    """Value checks decided by pySHACL's component on the values SPARQL cannot clear."""

    def prepare(self, values: str, sure_ok: str, param: URIRef) -> _DecidedValues:
        self.param = param
        self.query = _values_failing(values, sure_ok)
        return self

    def collect(self, context: _Context) -> Any:
        return self.focus_values(context)

    def finish(self, context: _Context, state: Any) -> list[Result]:
        by_focus: dict[Node, set[Node]] = defaultdict(set)
        for f, v in state:
            by_focus[f].add(context.lexical.original(v, f))
        if not by_focus:
            return []
        decided = context.decide(self.shape, self.param, by_focus)
        return [self.result(f, v, component=c) for f, v, c in decided]


class _Missing(_Check):
    """Focus nodes without a required value (sh:minCount 1, sh:hasValue, qualified min 1)."""

    def prepare(self, having: str) -> _Missing:
        self.query = f"SELECT DISTINCT ?this WHERE {{ {having} }}"
        return self

    def collect(self, context: _Context) -> Any:
        return context.focus(self.focus) - {row[0] for row in context.rows(self.query)}

    def finish(self, context: _Context, state: Any) -> list[Result]:
        return [self.result(f, None) for f in state]


class _Counted(_Check):
    """Focus nodes whose number of (conforming) values is out of bounds."""

    def prepare(self, values: str, minimum: int | None, maximum: int | None) -> _Counted:
        self.minimum, self.maximum = minimum, maximum
        having = "" if maximum is None else f"HAVING (COUNT(DISTINCT ?v) > {maximum})"
        self.query = (
            f"SELECT ?this (COUNT(DISTINCT ?v) AS ?n) WHERE {{ {values} }} GROUP BY ?this {having}"
        )
        return self

    def collect(self, context: _Context) -> Any:
        focus = context.focus(self.focus)
        counts = {node: int(str(count)) for node, count in context.rows(self.query)}
        if self.minimum is not None:
            return [f for f in focus if counts.get(f, 0) < self.minimum]
        return [f for f in counts if f in focus]

    def finish(self, context: _Context, state: Any) -> list[Result]:
        return [self.result(f, None) for f in state]


class _UniqueLang(_Check):
    """One result per language tag that two values of a focus node share."""

    def prepare(self, path: str) -> _UniqueLang:
        self.query = (
            f"SELECT ?this ?lang WHERE {{ ?this {path} ?v . "
            'FILTER(isLiteral(?v) && LANG(?v) != "") BIND(LCASE(LANG(?v)) AS ?lang) } '
            "GROUP BY ?this ?lang HAVING (COUNT(DISTINCT ?v) > 1)"
        )
        return self

    def collect(self, context: _Context) -> Any:
        focus = context.focus(self.focus)
        return [row[0] for row in context.rows(self.query) if row[0] in focus]

    def finish(self, context: _Context, state: Any) -> list[Result]:
        return [self.result(f, None) for f in state]


class _Pair(_Check):
    """sh:lessThan / sh:lessThanOrEquals: SPARQL clears plainly ordered pairs, pySHACL decides
    the others with every value of the other property at hand."""

    def prepare(self, path: str, other: URIRef, operator: str, param: URIRef) -> _Pair:
        self.other, self.param = other, param
        plain = (
            "((isNumeric(?v) && isNumeric(?o) && ?v = ?v && ?o = ?o) || "
            f"(DATATYPE(?v) = <{XSD.date}> && DATATYPE(?o) = <{XSD.date}> && "
            f"REGEX(STR(?v), {_PLAIN_DATE}) && REGEX(STR(?o), {_PLAIN_DATE})))"
        )
        self.query = (
            f"SELECT DISTINCT ?this ?v WHERE {{ ?this {path} ?v . ?this <{other}> ?o . "
            f"FILTER(!COALESCE({plain} && ?v {operator} ?o, false)) }}"
        )
        return self

    def collect(self, context: _Context) -> Any:
        rows = self.focus_values(context)
        others = []
        nodes = sorted({f for f, _ in rows if isinstance(f, URIRef)}, key=str)
        for start in range(0, len(nodes), 500):
            listed = " ".join(f"<{n}>" for n in nodes[start : start + 500])
            query = (
                f"SELECT ?this ?o WHERE {{ VALUES ?this {{ {listed} }} ?this <{self.other}> ?o }}"
            )
            for node, value in context.rows(query):
                if node is not None and value is not None:
                    context.lexical.need(value, node)
                    others.append((node, value))
        return rows, others

    def finish(self, context: _Context, state: Any) -> list[Result]:
        rows, others = state
        if not rows:
            return []
        by_focus: dict[Node, set[Node]] = defaultdict(set)
        for f, v in rows:
            by_focus[f].add(context.lexical.original(v, f))
        data = Graph()
        for f, o in others:
            data.add((f, self.other, context.lexical.original(o, f)))
        decided = context.decide(self.shape, self.param, by_focus, data)
        return [self.result(f, v, component=c) for f, v, c in decided]


class _Sparql(_Check):
    """A SPARQL-based constraint, run once for all focus nodes."""

    def prepare(self, query: str, is_property: bool) -> _Sparql:
        self.query, self.is_property = query, is_property
        return self

    def collect(self, context: _Context) -> Any:
        focus = context.focus(self.focus)
        names, solutions = context.select(self.query)
        this, path, value = (
            names.index(n) if n in names else None for n in ("this", "path", "value")
        )
        seen: set[tuple[Node | None, ...]] = set()
        rows = []
        for solution in solutions:
            node = solution[this] if this is not None else None
            if node is None or node not in focus or solution in seen:
                continue  # pySHACL keeps one result per distinct row
            seen.add(solution)
            found = solution[value] if value is not None else None
            if found is not None:
                context.lexical.need(found, node)
            rows.append((node, solution[path] if path is not None else None, found))
        return rows

    def finish(self, context: _Context, state: Any) -> list[Result]:
        results = []
        for focus, path, value in state:
            found = None if value is None else context.lexical.original(value, focus)
            if found is None and not self.is_property:
                found = focus
            results.append(self.result(focus, found, path=path))
        return results
