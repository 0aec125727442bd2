"""The compiler: every shape of a shapes graph turned into the checks of a plan, or a ContentError
naming the shape and the construct it cannot evaluate exactly; `CompiledShapes.run` validates
a store with it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.term import Node

from coopdec_kg.engines.sparql_text import (
    is_symbol,
    keyword,
    significant,
    tokenize,
    untokenize,
)
from coopdec_kg.errors import ContentError
from coopdec_kg.law.shacl_sparql.conditions import (
    _NODE_KINDS,
    _RANGES,
    _TRUE,
    _all,
    _any,
    _Cond,
    _datatype_cond,
    _languages_cond,
    _members_cond,
    _n3,
    _negate,
    _pattern_cond,
    _range_cond,
    _sameterm_safe,
)
from coopdec_kg.law.shacl_sparql.literals import PARALLEL_BYTES, _quiet_literals, _Terms
from coopdec_kg.law.shacl_sparql.plan import (
    Result,
    _Check,
    _Context,
    _Counted,
    _DecidedValues,
    _ExactValues,
    _Focus,
    _Missing,
    _Pair,
    _Sparql,
    _UniqueLang,
)
from coopdec_kg.law.shacl_sparql.rewrite import (
    _DEFAULT_PREFIXES,
    _FORBIDDEN_IN_CONSTRAINTS,
    _FORBIDDEN_IN_TARGETS,
    _check_keywords,
    _exists_bodies_select,
    _expand_prefixes,
    _inject,
    _Locality,
    _project_this,
    _rewrite_star_paths,
    _substitute,
)

if TYPE_CHECKING:
    import pyoxigraph

# ---------------------------------------------------------------- the compiler

_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
# Predicates of a shape that are not constraints (or are read with the constraint they go with).
_NOT_CONSTRAINTS = frozenset(
    {
        RDF.type,
        SH.message,
        SH.severity,
        SH.name,
        SH.description,
        SH.order,
        SH.group,
        SH.defaultValue,
        SH.path,
        SH.deactivated,
        SH.flags,
        SH.qualifiedMinCount,
        SH.qualifiedMaxCount,
        SH.qualifiedValueShapesDisjoint,
        *_TARGETS,
    }
)
_VALUE_PARAMS = (SH.datatype, SH.nodeKind, SH["in"], SH.pattern, SH.languageIn, *_RANGES)
_LOGICAL = (SH["or"], SH["and"], SH["not"], SH.xone, SH.node)
_COMPONENTS = {
    SH["class"]: SH.ClassConstraintComponent,
    SH.datatype: SH.DatatypeConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent,
    SH["in"]: SH.InConstraintComponent,
    SH.pattern: SH.PatternConstraintComponent,
    SH.languageIn: SH.LanguageInConstraintComponent,
    SH.minInclusive: SH.MinInclusiveConstraintComponent,
    SH.maxInclusive: SH.MaxInclusiveConstraintComponent,
    SH.minExclusive: SH.MinExclusiveConstraintComponent,
    SH.maxExclusive: SH.MaxExclusiveConstraintComponent,
    SH.hasValue: SH.HasValueConstraintComponent,
    SH["or"]: SH.OrConstraintComponent,
    SH["and"]: SH.AndConstraintComponent,
    SH["not"]: SH.NotConstraintComponent,
    SH.xone: SH.XoneConstraintComponent,
    SH.node: SH.NodeConstraintComponent,
    SH.minCount: SH.MinCountConstraintComponent,
    SH.maxCount: SH.MaxCountConstraintComponent,
    SH.uniqueLang: SH.UniqueLangConstraintComponent,
    SH.lessThan: SH.LessThanConstraintComponent,
    SH.lessThanOrEquals: SH.LessThanOrEqualsConstraintComponent,
    SH.sparql: SH.SPARQLConstraintComponent,
}


@dataclass(frozen=True)
class CompiledShapes:
    """The shapes as a plan of SPARQL checks; `run` validates a store with it."""

    shapes: Graph
    checks: tuple[_Check, ...]
    classes: frozenset[str]
    shapes_used: frozenset[Node]

    @property
    def sources(self) -> frozenset[Node]:
        """The shapes whose results the plan reports."""
        return frozenset(check.shape for check in self.checks)

    def run(
        self,
        store: pyoxigraph.Store,
        sources: Sequence[Path],
        store_path: Path | None = None,
        workers: int | None = None,
    ) -> list[Result]:
        """Every result pySHACL gives on the graph the store holds (read from `sources`).

        Given the store's folder, the queries are answered by `workers` processes while this
        one reads the literals of the sources; by default two (or the cores there are) for
        content over 16 MB, and none for less, where starting processes costs more than it
        saves.
        """
        if workers is None:
            size = sum(path.stat().st_size for path in sources)
            workers = min(2, os.cpu_count() or 1) if size > PARALLEL_BYTES else 1
        with _quiet_literals():
            return self._run(store, sources, store_path, workers)

    def _run(
        self,
        store: pyoxigraph.Store,
        sources: Sequence[Path],
        store_path: Path | None,
        workers: int,
    ) -> list[Result]:
        context = _Context(store, self.shapes)
        context.read_closures(self.classes)
        pool = None
        if workers > 1 and store_path is not None:
            # The SPARQL constraints are the longest queries: first, so that the workers end
            # together.
            ordered = sorted(self.checks, key=lambda check: not isinstance(check, _Sparql))
            templates = [query for check in ordered for query in check.queries()]
            pool = context.prefetch(templates, store_path, workers)
        try:
            context.terms = _Terms(sources)
        except BaseException:
            if pool is not None:
                pool.stop()
            raise
        if pool is not None:
            context.answers.update(pool.wait())
        states = [(check, check.collect(context)) for check in self.checks]
        context.lexical.resolve()
        return [result for check, state in states for result in check.finish(context, state)]


def compile_shapes(shapes: Graph) -> CompiledShapes:
    """Compile every shape of a shapes graph, or raise ContentError naming what is unsupported."""
    return _Compiler(shapes).compile()


class _Compiler:
    def __init__(self, shapes: Graph) -> None:
        self.shapes = shapes
        self.checks: list[_Check] = []
        self.classes: set[str] = set()
        self.used: set[Node] = set()
        self.counter = 0

    # ------------------------------------------------------------ helpers

    def fresh(self) -> str:
        self.counter += 1
        return f"?__{self.counter}"

    def name(self, node: Node) -> str:
        return str(node) if isinstance(node, URIRef) else f"a blank shape ({node})"

    def value(self, node: Node, predicate: URIRef) -> Node | None:
        values = list(self.shapes.objects(node, predicate))
        if len(values) > 1:
            raise ContentError(f"{self.name(node)}: more than one {predicate}")
        return values[0] if values else None

    def items(self, node: Node, where: str) -> list[Node]:
        if node != RDF.nil and (node, RDF.first, None) not in self.shapes:
            raise ContentError(f"{where}: expected an RDF list")
        return list(Collection(self.shapes, node))

    def parameters(self, shape: Node) -> list[URIRef]:
        """The predicates of a shape, in a stable order."""
        return sorted({URIRef(str(p)) for p in self.shapes.predicates(shape, None)}, key=str)

    def deactivated(self, shape: Node) -> bool:
        flag = self.value(shape, SH.deactivated)
        return isinstance(flag, Literal) and flag.value is True

    def type_in(self, var: str, cls: Node, where: str) -> str:
        if not isinstance(cls, URIRef):
            raise ContentError(f"{where}: sh:class and sh:targetClass take an IRI")
        self.classes.add(str(cls))
        fresh = self.fresh()
        return f"{var} <{RDF.type}> {fresh} . VALUES {fresh} {{ @@closure<{cls}>@@ }}"

    def path(self, node: Node, where: str) -> str:
        if isinstance(node, URIRef):
            return f"<{node}>"
        if isinstance(node, BNode):
            if (node, RDF.first, None) in self.shapes:
                return "(" + "/".join(self.path(p, where) for p in self.items(node, where)) + ")"
            alternatives = self.value(node, SH.alternativePath)
            if alternatives is not None:
                members = self.items(alternatives, where)
                return "(" + "|".join(self.path(p, where) for p in members) + ")"
            inverse = self.value(node, SH.inversePath)
            if inverse is not None:
                return f"^({self.path(inverse, where)})"
            more = self.value(node, SH.oneOrMorePath)
            if more is not None:
                return f"({self.path(more, where)})+"
        raise ContentError(
            f"{where}: this sh:path is not supported (zero-length paths would have to enumerate "
            "every node of the graph)"
        )

    def prefixes(self, node: Node) -> dict[str, str]:
        found = dict(_DEFAULT_PREFIXES)
        for source in self.shapes.objects(node, SH.prefixes):
            for declaration in self.shapes.objects(source, SH.declare):
                prefix = self.value(declaration, SH.prefix)
                namespace = self.value(declaration, SH.namespace)
                if prefix is not None and namespace is not None:
                    found[str(prefix)] = str(namespace)
        return found

    # ------------------------------------------------------------ compile

    def compile(self) -> CompiledShapes:
        if any(self.shapes.subjects(RDF.type, SH.ConstraintComponent)):
            raise ContentError("custom constraint components are not supported")
        shape_types = (SH.NodeShape, SH.PropertyShape)
        for shape in {s for t in shape_types for s in self.shapes.subjects(RDF.type, t)}:
            if {RDFS.Class, OWL.Class} & set(self.shapes.objects(shape, RDF.type)):
                raise ContentError(f"{self.name(shape)}: implicit class targets are not supported")
        targeted = {s for p in _TARGETS for s in self.shapes.subjects(p, None)}
        for shape in sorted(targeted, key=str):
            self.used.add(shape)
            if self.deactivated(shape):
                continue
            self.evaluate(shape, _Focus(tuple(self.targets(shape))))
        return CompiledShapes(
            self.shapes, tuple(self.checks), frozenset(self.classes), frozenset(self.used)
        )

    def targets(self, shape: Node) -> Iterator[str]:
        where = self.name(shape)
        for cls in sorted(self.shapes.objects(shape, SH.targetClass), key=str):
            yield self.type_in("?this", cls, where)
        for node in sorted(self.shapes.objects(shape, SH.targetNode), key=str):
            yield f"VALUES ?this {{ {_n3(node, where)} }}"
        for predicate in sorted(self.shapes.objects(shape, SH.targetSubjectsOf), key=str):
            yield f"?this {_n3(predicate, where)} {self.fresh()} ."
        for predicate in sorted(self.shapes.objects(shape, SH.targetObjectsOf), key=str):
            yield f"{self.fresh()} {_n3(predicate, where)} ?this ."
        for target in sorted(self.shapes.objects(shape, SH.target), key=str):
            yield self.sparql_target(shape, target)

    def sparql_target(self, shape: Node, target: Node) -> str:
        where = f"{self.name(shape)} (sh:target)"
        types = set(self.shapes.objects(target, RDF.type))
        if SH.SPARQLTarget in types:
            select, declared, values = self.value(target, SH.select), target, dict[str, str]()
        else:
            kinds = [t for t in types if (t, RDF.type, SH.SPARQLTargetType) in self.shapes]
            if len(kinds) != 1:
                raise ContentError(f"{where}: only SPARQL-based targets are supported")
            kind = kinds[0]
            select, declared, values = self.value(kind, SH.select), kind, {}
            for parameter in self.shapes.objects(kind, SH.parameter):
                predicate = self.value(parameter, SH.path)
                if not isinstance(predicate, URIRef):
                    raise ContentError(f"{where}: a target parameter needs an IRI sh:path")
                given = self.value(target, predicate)
                optional = self.value(parameter, SH.optional)
                if given is None:
                    if isinstance(optional, Literal) and optional.value is True:
                        continue
                    raise ContentError(f"{where}: the target misses its parameter {predicate}")
                values[re.split(r"[/#]", str(predicate))[-1]] = _n3(given, where)
        if not isinstance(select, Literal):
            raise ContentError(f"{where}: a SPARQL target needs one sh:select")
        tokens = tokenize(str(select), where)
        _check_keywords(tokens, _FORBIDDEN_IN_TARGETS, where)
        _expand_prefixes(tokens, self.prefixes(declared), where)
        _substitute(tokens, values, where)
        text = _rewrite_star_paths(untokenize(tokens), where)
        tokens = tokenize(text, where)
        sig = significant(tokens)
        if not sig or keyword(tokens[sig[0]]) != "SELECT":
            raise ContentError(f"{where}: a SPARQL target must be a SELECT query")
        head = []
        for index in sig[1:]:
            if is_symbol(tokens[index], "{") or keyword(tokens[index]) == "WHERE":
                break
            head.append(tokens[index])
        if not any(t.kind == "var" and t.text[1:] == "this" for t in head):
            raise ContentError(f"{where}: a SPARQL target must select ?this")
        return f"{{ {text} }}"

    def evaluate(self, shape: Node, focus: _Focus) -> None:
        """The checks of one shape on the focus nodes given (its targets, or its parent's)."""
        self.used.add(shape)
        where = self.name(shape)
        path_node = self.value(shape, SH.path)
        is_property = path_node is not None
        path = self.path(path_node, where) if path_node is not None else ""
        severity = self.value(shape, SH.severity) or SH.Violation
        if not isinstance(severity, URIRef):
            raise ContentError(f"{where}: sh:severity must be an IRI")
        values = f"?this {path} ?v ." if is_property else f"{focus.pattern()} BIND(?this AS ?v)"

        def base(parameter: URIRef) -> tuple[Node, URIRef, Node | None, URIRef, _Focus]:
            return (shape, _COMPONENTS[parameter], path_node, severity, focus)

        def property_only(parameter: URIRef) -> None:
            if not is_property:
                raise ContentError(f"{where}: {parameter} only applies to property shapes")

        for parameter in self.parameters(shape):
            objects = sorted(self.shapes.objects(shape, parameter), key=str)
            if parameter in _NOT_CONSTRAINTS:
                continue
            if parameter == SH.property:
                if is_property:
                    raise ContentError(f"{where}: sh:property inside a property shape")
                for child in objects:
                    self.used.add(child)
                    if self.value(child, SH.path) is None:
                        raise ContentError(f"{where}: sh:property {child} has no sh:path")
                    if not self.deactivated(child):
                        self.evaluate(child, focus)
            elif parameter == SH["class"]:
                for cls in objects:
                    exact = f"EXISTS {{ {self.type_in('?v', cls, where)} }}"
                    self.checks.append(_ExactValues(*base(parameter)).prepare(values, exact))
            elif parameter in _VALUE_PARAMS or (parameter == SH.hasValue and not is_property):
                cond = self.value_cond(shape, parameter, "?v")
                self.add_value_check(base(parameter), parameter, values, cond, where)
            elif parameter in _LOGICAL:
                cond = self.logical(shape, parameter, "?v")
                self.add_value_check(base(parameter), parameter, values, cond, where)
            elif parameter == SH.hasValue:
                for member in objects:
                    if not _sameterm_safe(member):
                        raise ContentError(f"{where}: sh:hasValue {member} cannot be compared")
                    having = f"?this {path} {_n3(member, where)} ."
                    self.checks.append(_Missing(*base(parameter)).prepare(having))
            elif parameter in (SH.minCount, SH.maxCount):
                property_only(parameter)
                count = self.count(shape, parameter)
                if parameter == SH.maxCount:
                    self.checks.append(_Counted(*base(parameter)).prepare(values, None, count))
                elif count == 1:
                    self.checks.append(_Missing(*base(parameter)).prepare(values))
                elif count > 1:
                    self.checks.append(_Counted(*base(parameter)).prepare(values, count, None))
            elif parameter == SH.qualifiedValueShape:
                property_only(parameter)
                for qualified in objects:
                    self.qualified(shape, qualified, path, (shape, path_node, severity, focus))
            elif parameter == SH.uniqueLang:
                property_only(parameter)
                flag = self.value(shape, parameter)
                if not isinstance(flag, Literal) or not isinstance(flag.value, bool):
                    raise ContentError(f"{where}: sh:uniqueLang must be true or false")
                if flag.value:
                    self.checks.append(_UniqueLang(*base(parameter)).prepare(path))
            elif parameter in (SH.lessThan, SH.lessThanOrEquals):
                property_only(parameter)
                operator = "<" if parameter == SH.lessThan else "<="
                for other in objects:
                    if not isinstance(other, URIRef):
                        raise ContentError(f"{where}: {parameter} takes a property IRI")
                    pair = _Pair(*base(parameter)).prepare(path, other, operator, parameter)
                    self.checks.append(pair)
            elif parameter == SH.sparql:
                for constraint in objects:
                    if self.deactivated(constraint):
                        continue
                    query = self.sparql_constraint(shape, constraint, path, focus)
                    check = _Sparql(*base(parameter)).prepare(query, is_property)
                    self.checks.append(check)
            elif str(parameter).startswith(str(SH)):
                raise ContentError(
                    f"{where}: {parameter} is not supported by the full-validation engine"
                )

    def add_value_check(
        self,
        base: tuple[Node, URIRef, Node | None, URIRef, _Focus],
        parameter: URIRef,
        values: str,
        cond: _Cond,
        where: str,
    ) -> None:
        if cond.exact is not None:
            check = _ExactValues(*base).prepare(values, cond.exact, parameter != SH.hasValue)
            self.checks.append(check)
        elif not cond.graph:
            self.checks.append(_DecidedValues(*base).prepare(values, cond.sure_ok, parameter))
        else:
            raise ContentError(
                f"{where}: {parameter} mixes graph conditions with value checks that only "
                "pySHACL can decide"
            )

    def count(self, shape: Node, parameter: URIRef) -> int:
        count = self.value(shape, parameter)
        if not isinstance(count, Literal) or not isinstance(count.value, int) or count.value < 0:
            raise ContentError(f"{self.name(shape)}: {parameter} must be a non-negative integer")
        return count.value

    def qualified(
        self,
        shape: Node,
        qualified: Node,
        path: str,
        base: tuple[Node, Node | None, URIRef, _Focus],
    ) -> None:
        where = self.name(shape)
        disjoint = self.value(shape, SH.qualifiedValueShapesDisjoint)
        if isinstance(disjoint, Literal) and disjoint.value is True:
            raise ContentError(f"{where}: sh:qualifiedValueShapesDisjoint is not supported")
        minimum = self.value(shape, SH.qualifiedMinCount)
        maximum = self.value(shape, SH.qualifiedMaxCount)
        if minimum is None and maximum is None:
            raise ContentError(f"{where}: sh:qualifiedValueShape without a qualified count")
        cond = self.shape_cond(qualified, "?v")
        if cond.exact is None:
            raise ContentError(f"{where}: this sh:qualifiedValueShape cannot be counted exactly")
        conforming = f"?this {path} ?v . FILTER(COALESCE({cond.exact}, false))"
        shape_node, path_node, severity, focus = base
        if minimum is not None:
            low = self.count(shape, SH.qualifiedMinCount)
            args = (shape_node, SH.QualifiedMinCountConstraintComponent, path_node, severity, focus)
            if low == 1:
                self.checks.append(_Missing(*args).prepare(conforming))
            elif low > 1:
                self.checks.append(_Counted(*args).prepare(conforming, low, None))
        if maximum is not None:
            high = self.count(shape, SH.qualifiedMaxCount)
            args = (shape_node, SH.QualifiedMaxCountConstraintComponent, path_node, severity, focus)
            self.checks.append(_Counted(*args).prepare(conforming, None, high))

    # ------------------------------------------------------------ conditions

    def value_cond(self, shape: Node, parameter: URIRef, var: str) -> _Cond:
        """One value-level parameter of a shape (all its values), on the value node `var`."""
        where = self.name(shape)
        objects = sorted(self.shapes.objects(shape, parameter), key=str)
        if parameter == SH.datatype:
            if len(objects) != 1:
                raise ContentError(f"{where}: sh:datatype takes exactly one value")
            return _datatype_cond(objects[0], var, where)
        if parameter == SH.nodeKind:
            if len(objects) != 1 or objects[0] not in _NODE_KINDS:
                raise ContentError(f"{where}: sh:nodeKind takes one of the six node kinds")
            return _Cond.of(_NODE_KINDS[objects[0]].format(v=var))  # type: ignore[index]
        if parameter == SH["in"]:
            if len(objects) != 1:
                raise ContentError(f"{where}: sh:in takes exactly one list")
            return _members_cond(self.items(objects[0], where), var, where)
        if parameter == SH.hasValue:
            return _all([_members_cond([member], var, where) for member in objects])
        if parameter == SH.pattern:
            if len(objects) != 1:
                raise ContentError(f"{where}: sh:pattern takes exactly one value")
            return _pattern_cond(objects[0], self.value(shape, SH.flags), var, where)
        if parameter == SH.languageIn:
            if len(objects) != 1:
                raise ContentError(f"{where}: sh:languageIn takes exactly one list")
            return _languages_cond(self.items(objects[0], where), var, where)
        return _all([_range_cond(_RANGES[parameter], bound, var, where) for bound in objects])

    def logical(self, shape: Node, parameter: URIRef, var: str) -> _Cond:
        where = self.name(shape)
        conds = []
        for argument in sorted(self.shapes.objects(shape, parameter), key=str):
            if parameter in (SH["not"], SH.node):
                inner = self.shape_cond(argument, var)
                conds.append(_negate(inner) if parameter == SH["not"] else inner)
                continue
            members = [self.shape_cond(m, var) for m in self.items(argument, where)]
            if parameter == SH["or"]:
                conds.append(_any(members))
            elif parameter == SH["and"]:
                conds.append(_all(members))
            elif all(m.exact is not None for m in members):
                total = " + ".join(f"IF(COALESCE({m.exact}, false), 1, 0)" for m in members)
                conds.append(_Cond.of(f"({total or 0}) = 1", any(m.graph for m in members)))
            else:
                graph = any(m.graph for m in members)
                conds.append(_Cond(None, "false", "false", graph))
        return _all(conds)

    def shape_cond(self, shape: Node, var: str) -> _Cond:
        """Whether the node `var` conforms to a (nested) shape."""
        if isinstance(shape, Literal):
            raise ContentError(f"{shape}: a literal is not a shape")
        self.used.add(shape)
        if self.deactivated(shape):
            return _TRUE
        where = self.name(shape)
        path_node = self.value(shape, SH.path)
        if path_node is not None:
            return self.property_cond(shape, self.path(path_node, where), var)
        parts = []
        for parameter in self.parameters(shape):
            if parameter in _NOT_CONSTRAINTS:
                continue
            if parameter == SH["class"]:
                for cls in sorted(self.shapes.objects(shape, parameter), key=str):
                    parts.append(_Cond.of(f"EXISTS {{ {self.type_in(var, cls, where)} }}", True))
            elif parameter in (*_VALUE_PARAMS, SH.hasValue):
                parts.append(self.value_cond(shape, parameter, var))
            elif parameter in _LOGICAL:
                parts.append(self.logical(shape, parameter, var))
            elif parameter == SH.property:
                for child in sorted(self.shapes.objects(shape, parameter), key=str):
                    parts.append(self.shape_cond(child, var))
            elif str(parameter).startswith(str(SH)):
                raise ContentError(f"{where}: {parameter} is not supported in a nested shape")
        return _all(parts)

    def property_cond(self, shape: Node, path: str, var: str) -> _Cond:
        """Whether the node `var` conforms to a nested property shape (exact, or an error)."""
        where = self.name(shape)
        parts = []
        for parameter in self.parameters(shape):
            if parameter in _NOT_CONSTRAINTS:
                continue
            value = self.fresh()
            if parameter in (SH.minCount, SH.maxCount):
                count = self.count(shape, parameter)
                if parameter == SH.minCount and count <= 1:
                    parts.append("true" if count == 0 else f"EXISTS {{ {var} {path} {value} }}")
                elif parameter == SH.maxCount and count == 0:
                    parts.append(f"NOT EXISTS {{ {var} {path} {value} }}")
                elif parameter == SH.maxCount and count == 1:
                    other = self.fresh()
                    parts.append(
                        f"NOT EXISTS {{ {var} {path} {value}, {other} . "
                        f"FILTER(!sameTerm({value}, {other})) }}"
                    )
                else:
                    raise ContentError(f"{where}: this {parameter} is not supported when nested")
            elif parameter == SH.hasValue:
                for member in sorted(self.shapes.objects(shape, parameter), key=str):
                    if not _sameterm_safe(member):
                        raise ContentError(f"{where}: sh:hasValue {member} cannot be compared")
                    parts.append(f"EXISTS {{ {var} {path} {_n3(member, where)} }}")
            elif parameter in (SH["class"], *_VALUE_PARAMS, *_LOGICAL):
                if parameter == SH["class"]:
                    conds = [
                        _Cond.of(f"EXISTS {{ {self.type_in(value, cls, where)} }}", True)
                        for cls in sorted(self.shapes.objects(shape, parameter), key=str)
                    ]
                    cond = _all(conds)
                elif parameter in _LOGICAL:
                    cond = self.logical(shape, parameter, value)
                else:
                    cond = self.value_cond(shape, parameter, value)
                if cond.exact is None:
                    raise ContentError(f"{where}: {parameter} cannot be decided when nested")
                parts.append(
                    f"NOT EXISTS {{ {var} {path} {value} . "
                    f"FILTER(!COALESCE({cond.exact}, false)) }}"
                )
            elif str(parameter).startswith(str(SH)):
                raise ContentError(f"{where}: {parameter} is not supported in a nested shape")
        return _Cond.of(" && ".join(f"({p})" for p in parts) or "true", True)

    # ------------------------------------------------------------ SPARQL constraints

    def sparql_constraint(self, shape: Node, constraint: Node, path: str, focus: _Focus) -> str:
        """The constraint's query, run for all focus nodes at once (see the module doc)."""
        where = f"{self.name(shape)} (sh:sparql)"
        if self.value(constraint, SH.ask) is not None:
            raise ContentError(f"{where}: ASK-based constraints are not supported")
        select = self.value(constraint, SH.select)
        if not isinstance(select, Literal):
            raise ContentError(f"{where}: a SPARQL constraint needs one sh:select")
        tokens = tokenize(str(select), where)
        _check_keywords(tokens, _FORBIDDEN_IN_CONSTRAINTS, where)
        if _exists_bodies_select(tokens, where):
            raise ContentError(f"{where}: a nested SELECT inside EXISTS is not supported")
        _expand_prefixes(tokens, self.prefixes(constraint), where)
        names = {t.text[1:] for t in tokens if t.kind == "var"}
        substitutions = {}
        if "PATH" in names:
            if not path:
                raise ContentError(f"{where}: $PATH in a node shape")
            substitutions["PATH"] = path
        if "currentShape" in names:
            substitutions["currentShape"] = _n3(shape, where)
        if "shapesGraph" in names:
            raise ContentError(f"{where}: $shapesGraph is not supported")
        if "failure" in names:
            raise ContentError(f"{where}: ?failure is not supported")
        _substitute(tokens, substitutions, where)
        text = _rewrite_star_paths(untokenize(tokens), where)
        tokens = tokenize(text, where)
        _project_this(tokens, where)
        # A nested SELECT that mentions $this gets the focus pattern first, so that it is
        # evaluated for each focus node (the check sees a stand-in pattern binding ?this).
        stand_in = "{ SELECT DISTINCT ?this WHERE { ?this ?__p ?__o } }"
        _Locality(where).check(_inject(tokens, stand_in, where))
        return _inject(tokens, focus.pattern(), where)
