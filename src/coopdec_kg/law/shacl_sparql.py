"""Full SHACL validation at national scale: the project's shapes compiled to SPARQL on the store.

Why. pySHACL validates focus node by focus node and runs each SPARQL-based constraint once per
node with rdflib's engine: on the 1.5 M-triple synthetic atlas that takes far more than ten
minutes, and reading the graph into rdflib alone takes 20-40 s. Here each (shape, constraint)
becomes one query that finds the violations of *all* focus nodes at once, on the persistent
pyoxigraph store.

How (measured at scale 1.0 on 2 cores: 47 782 results, the same as pySHACL's):

* Targets are computed once per declaration (sh:targetClass through the subclass closure read
  from the store, SPARQL targets as written) and kept as sets: cds:HeldToFullLaw costs about a
  second and seven property shapes share it. Constraint queries run over every node that has
  values for the path; Python keeps the rows whose node is a focus node.
* Counting constraints (min/max counts, qualified counts, unique languages, property
  sh:hasValue) are one DISTINCT or GROUP BY query each; sh:class and shape-based constraints
  (sh:not, sh:or, sh:node…) are exact SPARQL conditions.
* SPARQL-based constraints run with `$this` unbound. That equals pySHACL's pre-binding only when
  `$this` is bound by a triple pattern of the main group before any OPTIONAL, expression or
  LIMIT uses it: the compiler checks this on rdflib's algebra of the query and refuses anything
  else. A nested SELECT that mentions `$this` gets the focus pattern injected, so that it still
  runs once per focus node (a count of zero stays a count of zero).
* Oxigraph plans `?x rdf:type/rdfs:subClassOf* ?c` inside FILTER NOT EXISTS badly when neither
  end is bound yet (the zero-length step enumerates every node): one constraint ran more than
  10 minutes at scale 0.05. Such sequences are rewritten to the equivalent
  `(rdf:type|rdf:type/rdfs:subClassOf+)`: 5 s at scale 1.0.
* Exactness. The store keeps literals in canonical form ("1.50"^^xsd:decimal comes back as
  "1.5", "5"^^xsd:int as "5"^^xsd:integer); rdflib keeps what was written. The typed literals of
  the sources are read once (graph.read_ntriples, ≈ 2.5 s at scale 1.0, overlapped with the
  queries) and every literal a result needs is given back in its written form. pySHACL compares
  values with rdflib's rules, which differ from SPARQL's at the edges (an integer is "after" a
  date, "abc"^^xsd:integer is ill-typed…): value checks (datatype, ranges, patterns, sh:in and
  logical constraints made of them) are two-stage — SPARQL keeps only the values it cannot prove
  conforming (none, in valid data) and pySHACL's own constraint component decides those.
* pyoxigraph holds the GIL while it evaluates, so the queries are answered by two worker
  processes that open the store read-only: 23 s for the engine instead of 40 s in one process,
  28 s for `validate --all` end to end, peak RSS 0.96 GB (the workers ≈ 0.2 GB each). Loading
  the atlas into an in-memory store in each worker was only 2 s faster, for 0.7 GB more each
  (copying the disk store into memory takes 15 s).
* Anything the compiler cannot evaluate exactly raises a ContentError at compile time, naming
  the shape and the construct: no shape is ever skipped silently.

Known limits, all from the store's representation of RDF: language tags come back lowercased;
two literals of one value written differently on one node ("1.0" and "1.00") are one value in
the store; a string written "x"^^xsd:string is the plain "x"; blank nodes get the store's labels.
"""

from __future__ import annotations

import logging
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Identifier, Node, Variable

from coopdec_kg.engines.sparql_text import (
    Token,
    closing_bracket,
    is_symbol,
    keyword,
    opening_bracket,
    significant,
    tokenize,
    untokenize,
)
from coopdec_kg.engines.store import Answer, select
from coopdec_kg.errors import ContentError

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


# ---------------------------------------------------------------- SPARQL text

_PATH_TOKENS = {"|", "/", "^", "!", "(", ")", "?", "*", "+"}
# What a SPARQL constraint may not contain (SHACL 5.3.1, as pySHACL checks), and what no query
# of the shapes may do here (read other graphs or the network).
_FORBIDDEN_IN_CONSTRAINTS = frozenset({"MINUS", "VALUES", "SERVICE", "GRAPH", "FROM"})
_FORBIDDEN_IN_TARGETS = frozenset({"SERVICE", "GRAPH", "FROM"})
_DEFAULT_PREFIXES = {"rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL)}


def _expand_prefixes(tokens: list[Token], prefixes: Mapping[str, str], where: str) -> None:
    """Prefixed names written as full IRIs, so queries combine without PREFIX clashes."""
    for token in tokens:
        if token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            namespace = prefixes.get(prefix)
            if namespace is None:
                raise ContentError(f"{where}: the prefix {prefix!r} is not declared")
            local = re.sub(r"\\(.)", r"\1", local)
            token.kind, token.text = "iri", f"<{namespace}{local}>"


def _check_keywords(tokens: Sequence[Token], forbidden: frozenset[str], where: str) -> None:
    for token in tokens:
        if keyword(token) in forbidden:
            raise ContentError(f"{where}: {token.text.upper()} is not allowed in this query")
        if token.kind == "var" and token.text[1:].startswith("__"):
            raise ContentError(f"{where}: variables named ?__… are reserved")


def _substitute(tokens: list[Token], values: Mapping[str, str], where: str) -> None:
    """Pre-bound variables replaced by their value (SHACL's pre-binding, as text)."""
    sig = significant(tokens)
    for position, index in enumerate(sig):
        token = tokens[index]
        if token.kind == "var" and token.text[1:] in values:
            before = tokens[sig[position - 1]] if position else None
            if before is not None and (keyword(before) in ("SELECT", "AS", "DISTINCT")):
                raise ContentError(f"{where}: the pre-bound {token.text} cannot be projected")
            token.kind, token.text = "raw", values[token.text[1:]]


def _is_path_primary_end(tokens: Sequence[Token], sig: Sequence[int], at: int, where: str) -> bool:
    token = tokens[sig[at]]
    if token.kind == "iri" or (token.kind == "name" and token.text == "a"):
        return True
    if is_symbol(token, ")"):
        start = opening_bracket(tokens, sig, at, where)
        inner = [tokens[sig[p]] for p in range(start + 1, at)]
        return bool(inner) and all(
            t.kind == "iri" or (t.kind == "name" and t.text == "a") or is_symbol(t, *_PATH_TOKENS)
            for t in inner
        )
    return False


def _element_back(tokens: Sequence[Token], sig: Sequence[int], end: int, where: str) -> int:
    """Start (position in `sig`) of the path element ending at `end`."""
    position = end
    if is_symbol(tokens[sig[position]], "?", "*", "+"):
        position -= 1
    if position < 0 or not _is_path_primary_end(tokens, sig, position, where):
        return -1
    if is_symbol(tokens[sig[position]], ")"):
        position = opening_bracket(tokens, sig, position, where)
    if position > 0 and is_symbol(tokens[sig[position - 1]], "^", "!"):
        position -= 1
    return position


def _element_forward(tokens: Sequence[Token], sig: Sequence[int], start: int, where: str) -> int:
    """End (position in `sig`) of the path element starting at `start`, or -1."""
    position = start
    if is_symbol(tokens[sig[position]], "^", "!"):
        position += 1
    if position >= len(sig):
        return -1
    token = tokens[sig[position]]
    if is_symbol(token, "("):
        position = closing_bracket(tokens, sig, position, where)
    elif not (token.kind == "iri" or (token.kind == "name" and token.text == "a")):
        return -1
    if position + 1 < len(sig) and is_symbol(tokens[sig[position + 1]], "?", "*", "+"):
        position += 1
    return position


def _rewrite_one_star(tokens: list[Token], where: str) -> bool:
    """Rewrite the first `s/e*` sequence as `(s|s/e+)` (exact); False when none is left."""
    sig = significant(tokens)
    for position, index in enumerate(sig):
        if not is_symbol(tokens[index], "*") or position == 0:
            continue
        if not _is_path_primary_end(tokens, sig, position - 1, where):
            continue
        start = _element_back(tokens, sig, position, where)
        if start < 0:
            continue
        elements = [(start, position)]
        while elements[0][0] > 1 and is_symbol(tokens[sig[elements[0][0] - 1]], "/"):
            end = elements[0][0] - 2
            begin = _element_back(tokens, sig, end, where)
            if begin < 0:
                break
            elements.insert(0, (begin, end))
        star = len(elements) - 1
        while elements[-1][1] + 2 < len(sig) and is_symbol(tokens[sig[elements[-1][1] + 1]], "/"):
            begin = elements[-1][1] + 2
            end = _element_forward(tokens, sig, begin, where)
            if end < 0:
                break
            elements.append((begin, end))
        if len(elements) == 1:
            continue
        texts = [untokenize(tokens[sig[a] : sig[b] + 1]) for a, b in elements]
        plus = [*texts[:star], texts[star][:-1] + "+", *texts[star + 1 :]]
        without = texts[:star] + texts[star + 1 :]
        replacement = Token("raw", f"(({'/'.join(without)})|({'/'.join(plus)}))")
        first, last = sig[elements[0][0]], sig[elements[-1][1]]
        tokens[first : last + 1] = [replacement]
        return True
    return False


def _rewrite_star_paths(text: str, where: str) -> str:
    for _ in range(100):
        tokens = tokenize(text, where)
        if not _rewrite_one_star(tokens, where):
            return text
        text = untokenize(tokens)
    raise ContentError(f"{where}: too many property paths to rewrite")


@dataclass(frozen=True)
class _SubSelect:
    """A nested SELECT: where its WHERE group opens, and whether it mentions $this."""

    brace: int
    mentions_this: bool


def _sub_selects(tokens: Sequence[Token], where: str) -> list[_SubSelect]:
    sig = significant(tokens)
    found: list[_SubSelect] = []
    depth = 0
    for position, index in enumerate(sig):
        token = tokens[index]
        if is_symbol(token, "{"):
            depth += 1
        elif is_symbol(token, "}"):
            depth -= 1
        elif keyword(token) == "SELECT" and depth > 0:
            brace = next(
                (p for p in range(position, len(sig)) if is_symbol(tokens[sig[p]], "{")), None
            )
            if brace is None:
                raise ContentError(f"{where}: a nested SELECT without a WHERE group")
            end = closing_bracket(tokens, sig, brace, where)
            mentions = any(
                tokens[sig[p]].kind == "var" and tokens[sig[p]].text[1:] == "this"
                for p in range(brace, end)
            )
            found.append(_SubSelect(sig[brace], mentions))
    return found


def _inject(tokens: Sequence[Token], pattern: str, where: str) -> str:
    """The query with `pattern` opening every nested SELECT that mentions $this."""
    copy = list(tokens)
    for sub in reversed(_sub_selects(copy, where)):
        if sub.mentions_this:
            copy.insert(sub.brace + 1, Token("raw", f" {pattern} "))
    return untokenize(copy)


def _exists_bodies_select(tokens: Sequence[Token], where: str) -> bool:
    """Whether some FILTER [NOT] EXISTS block holds a nested SELECT."""
    sig = significant(tokens)
    for position, index in enumerate(sig):
        if keyword(tokens[index]) == "EXISTS" and position + 1 < len(sig):
            end = closing_bracket(tokens, sig, position + 1, where)
            if any(keyword(tokens[sig[p]]) == "SELECT" for p in range(position + 1, end)):
                return True
    return False


def _project_this(tokens: list[Token], where: str) -> None:
    """Add ?this to the main projection (rows must name their focus node)."""
    sig = significant(tokens)
    select = next((p for p in sig if keyword(tokens[p]) == "SELECT"), None)
    if select is None:
        raise ContentError(f"{where}: only SELECT queries are supported")
    position = sig.index(select) + 1
    if position < len(sig) and keyword(tokens[sig[position]]) in ("DISTINCT", "REDUCED"):
        position += 1
    projection: list[Token] = []
    for index in sig[position:]:
        if is_symbol(tokens[index], "{") or keyword(tokens[index]) == "WHERE":
            break
        projection.append(tokens[index])
    if any(is_symbol(t, "*") for t in projection) or any(
        t.kind == "var" and t.text[1:] == "this" for t in projection
    ):
        return
    tokens.insert(sig[position - 1] + 1, Token("raw", " ?this"))


# ---------------------------------------------------------------- query analysis (rdflib algebra)


def _variables(node: object, skip_exists: bool = False) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Variable):
            found.add(str(item))
        elif isinstance(item, dict):
            name = getattr(item, "name", "")
            if skip_exists and name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
                continue
            stack.extend(value for key, value in item.items() if key != "_vars")
        elif isinstance(item, list | tuple | set):
            stack.extend(item)
    return found


class _Locality:
    """Checks that evaluating a constraint with $this unbound equals pre-binding it."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, why: str) -> ContentError:
        return ContentError(f"{self.where}: {why}; the full-validation engine cannot run it")

    def check(self, text: str) -> None:
        """Raise unless the text can run with $this unbound (a pass is remembered on disk)."""
        from coopdec_kg.engines.query_outline import passed, remember_pass

        if passed("locality", text):
            return
        from rdflib.plugins.sparql.algebra import translateQuery
        from rdflib.plugins.sparql.parser import parseQuery

        try:
            query = translateQuery(parseQuery(text))
        except Exception as error:  # pyparsing and rdflib raise many types for bad queries
            raise ContentError(f"{self.where}: the SPARQL query does not parse ({error})") from None
        algebra = query.algebra
        if algebra.name != "SelectQuery":
            raise self.fail("only SELECT queries are supported")
        if "this" not in self.certain(algebra.p):
            raise self.fail("$this is not bound by a triple pattern of the query's main group")
        remember_pass("locality", text)

    def certain(self, part: Any) -> set[str]:
        """The variables every solution of `part` binds."""
        name = part.name
        if name == "BGP":
            return {str(t) for triple in part.triples for t in triple if isinstance(t, Variable)}
        if name == "Join":
            return self.certain(part.p1) | self.certain(part.p2)
        if name == "LeftJoin":
            left = self.certain(part.p1)
            if "this" in _variables(part.p2) and "this" not in left:
                raise self.fail("an OPTIONAL uses $this before the main group binds it")
            self.expression(part.get("expr"), left)
            return left
        if name == "Filter":
            inner = self.certain(part.p)
            self.expression(part.expr, inner)
            return inner
        if name == "Union":
            return self.certain(part.p1) & self.certain(part.p2)
        if name == "Extend":
            inner = self.certain(part.p)
            self.expression(part.expr, inner)
            if isinstance(part.expr, Variable) and str(part.expr) in inner:
                inner = inner | {str(part.var)}
            return inner
        if name == "ToMultiSet":
            return self.sub_select(part.p)
        if name == "Project":
            return self.certain(part.p) & {str(v) for v in part.PV}
        if name == "Slice" and "this" in _variables(part.p):
            raise self.fail("LIMIT or OFFSET would apply to all focus nodes at once")
        if name in ("Distinct", "Reduced", "OrderBy", "Slice"):
            return self.certain(part.p)
        if name == "AggregateJoin":
            group = part.p
            grouped = {str(e) for e in (group.expr or []) if isinstance(e, Variable)}
            inner = self.certain(group.p) & grouped
            for aggregate in part.A:
                if aggregate.name == "Aggregate_Sample" and str(aggregate.vars) in inner:
                    inner = inner | {str(aggregate.res)}
            return inner
        raise self.fail(f"the {name} operator is not supported")

    def sub_select(self, part: Any) -> set[str]:
        project = part
        while project.name in ("Distinct", "Reduced", "OrderBy", "Slice"):
            project = project.p
        if project.name != "Project":
            raise self.fail(f"the {project.name} operator is not supported")
        projected = {str(v) for v in project.PV}
        if "this" in _variables(project.p) and "this" not in projected:
            raise self.fail("a nested SELECT uses $this without selecting it")
        return self.certain(part)

    def expression(self, expr: object, bound: set[str]) -> None:
        mentions = expr is not None and "this" in _variables(expr, skip_exists=True)
        if mentions and "this" not in bound:
            raise self.fail("an expression uses $this before the main group binds it")


# ---------------------------------------------------------------- literals: store vs rdflib

PARALLEL_BYTES = 16 * 1024 * 1024
_INTEGER = str(XSD.integer)
# The store keeps these datatypes under another one (the value is kept, the type is not).
_STORED_AS = {
    **{
        str(XSD[name]): _INTEGER
        for name in [
            "int",
            "long",
            "short",
            "byte",
            "nonNegativeInteger",
            "positiveInteger",
            "nonPositiveInteger",
            "negativeInteger",
            "unsignedInt",
            "unsignedLong",
            "unsignedShort",
            "unsignedByte",
        ]
    },
    str(XSD.dateTimeStamp): str(XSD.dateTime),
}
# Datatypes whose lexical form rdflib rewrites into the canonical one, as the store does: for
# them the store's literal is the one rdflib holds (unless another datatype is stored as it).
_CANONICAL_IN_RDFLIB = frozenset(
    str(XSD[name])
    for name in ["string", "boolean", "integer", "double", "float", "date", "dateTime", "time"]
)
# Literals the store and rdflib compare the same way (plain strings and booleans).
_SAMETERM_SAFE = frozenset({str(XSD.string), str(XSD.boolean)})


def _literal_key(literal: Literal) -> tuple[str, str, object]:
    """What the store keeps of a typed literal: its datatype family and value (or text)."""
    datatype = str(literal.datatype or XSD.string)
    stored = _STORED_AS.get(datatype, datatype)
    value = literal.value
    if value is None or literal.ill_typed:
        return (stored, "text", str(literal))
    return (stored, "value", value)


class _Terms:
    """The rdflib terms for the store's, exactly as rdflib reads the source files.

    The typed literals of the sources are read once (graph.read_ntriples, ≈ 2.5 s at scale
    1.0): that tells which stored datatypes are certain (nothing else is stored as them), and
    gives the written form of the others ("1.50"^^xsd:decimal, "5"^^xsd:int…).
    """

    def __init__(self, sources: Sequence[Path]) -> None:
        from coopdec_kg.content.graph import read_ntriples

        self.forms: dict[tuple[str, str, object], set[Literal]] = defaultdict(set)
        self.files: dict[Path, set[tuple[str, str, object]]] = {}
        remapped: set[str] = set()
        for path in sources:
            keys = self.files[path] = set()
            for lexical, datatype in read_ntriples(path).typed_literals:
                literal = Literal(lexical, datatype=URIRef(datatype))
                key = _literal_key(literal)
                self.forms[key].add(literal)
                keys.add(key)
                if datatype in _STORED_AS:
                    remapped.add(_STORED_AS[datatype])
        self.uncertain = frozenset(remapped)
        self.ambiguous: set[tuple[Node, Literal]] = set()
        self.resolved: dict[tuple[Node, Literal], Literal] = {}

    def datatype_certain(self, datatype: str) -> bool:
        """Whether a stored literal of this datatype was written with this datatype."""
        return datatype not in self.uncertain

    def exact(self, literal: Literal) -> bool:
        datatype = str(literal.datatype or XSD.string)
        return datatype in _CANONICAL_IN_RDFLIB and self.datatype_certain(datatype)

    def need(self, value: Node, focus: Node) -> None:
        """Note a literal whose written form may have to be found beside its focus node."""
        if not isinstance(value, Literal) or not value.datatype or self.exact(value):
            return
        if len(self.forms.get(_literal_key(value), ())) > 1:
            self.ambiguous.add((focus, value))

    def resolve(self) -> None:
        """Find, in the files, which written form each ambiguous literal has on its node."""
        if not self.ambiguous:
            return
        from coopdec_kg.content.graph import read_ntriples

        wanted: dict[str, list[tuple[Node, Literal]]] = defaultdict(list)
        for focus, value in self.ambiguous:
            if isinstance(focus, URIRef):
                wanted[f"<{focus}>"].append((focus, value))
        keys = {_literal_key(value) for _, value in self.ambiguous}
        for path, held in self.files.items():
            if not keys & held:
                continue
            text = b"\n" + read_ntriples(path).text
            for subject, pairs in wanted.items():
                marker = b"\n" + subject.encode("utf-8") + b" "
                position = text.find(marker)
                while position >= 0:
                    end = text.find(b"\n", position + 1)
                    line = text[position + 1 : end if end >= 0 else len(text)].decode("utf-8")
                    written = line.split("> ", 2)[-1].removesuffix(" .")
                    for focus, value in pairs:
                        for form in self.forms[_literal_key(value)]:
                            if written == _nt_literal(form):
                                self.resolved.setdefault((focus, value), form)
                    position = text.find(marker, position + 1)
        self.ambiguous.clear()

    def original(self, value: Node, focus: Node) -> Node:
        if not isinstance(value, Literal) or not value.datatype or self.exact(value):
            return value
        found = self.resolved.get((focus, value))
        if found is not None:
            return found
        forms = self.forms.get(_literal_key(value))
        if not forms:
            return value  # computed by a query, not read from the sources
        return value if value in forms else min(forms, key=str)


@contextmanager
def _quiet_literals() -> Iterator[None]:
    """rdflib logs a warning with a traceback for each ill-typed literal: keep stderr clean."""
    logger = logging.getLogger("rdflib.term")
    previous, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = previous


# ---------------------------------------------------------------- query workers
#
# pyoxigraph holds the GIL while it evaluates a query, so threads cannot use the second core:
# worker processes do, each opening the store read-only (RocksDB allows it). They are plain
# subprocesses that import this module only (multiprocessing's spawn would import the
# caller's main module again, and fork is unsafe once RocksDB runs threads). Each reads
# pickled query texts on stdin and writes pickled answers on stdout, length-prefixed.


def _write_frame(stream: Any, payload: bytes) -> None:
    stream.write(len(payload).to_bytes(8, "big") + payload)
    stream.flush()


def _read_frame(stream: Any) -> bytes | None:
    header = stream.read(8)
    if len(header) < 8:
        return None
    size = int.from_bytes(header, "big")
    payload: bytes = stream.read(size)
    return payload if len(payload) == size else None


def serve_queries(store_path: str, requests: Any, answers: Any) -> None:
    """A query worker: answers each query text read from `requests` until it closes."""
    import pyoxigraph

    store = pyoxigraph.Store.read_only(store_path)
    with _quiet_literals():
        _answer_all(store, requests, answers)


def _answer_all(store: pyoxigraph.Store, requests: Any, answers: Any) -> None:
    import pickle

    while (frame := _read_frame(requests)) is not None:
        text = pickle.loads(frame)
        try:
            answer: tuple[str, object] = ("rows", select(store, text))
        except (SyntaxError, OSError, ValueError) as error:
            answer = ("error", f"{type(error).__name__}: {error}")
        _write_frame(answers, pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))


_WORKER_CODE = (
    "import sys; from coopdec_kg.law.shacl_sparql import serve_queries; "
    "serve_queries(sys.argv[1], sys.stdin.buffer, sys.stdout.buffer)"
)


class _Workers:
    """Query texts answered by worker processes, each fed by a thread of this process.

    Whatever a worker does not answer (it failed, or was stopped) is simply run by this
    process afterwards: the workers only ever save time.
    """

    def __init__(self, store_path: Path, count: int, texts: Sequence[str]) -> None:
        import queue
        import subprocess
        import sys
        import threading

        self.pending: queue.SimpleQueue[str] = queue.SimpleQueue()
        for text in texts:
            self.pending.put(text)
        self.answers: dict[str, Answer] = {}
        self.stopped = False
        self.processes = [
            subprocess.Popen(
                [sys.executable, "-c", _WORKER_CODE, str(store_path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(count)
        ]
        self.threads = [
            threading.Thread(target=self.feed, args=(process,), daemon=True)
            for process in self.processes
        ]
        for thread in self.threads:
            thread.start()

    def feed(self, process: Any) -> None:
        import pickle
        import queue

        while not self.stopped:
            try:
                text = self.pending.get_nowait()
            except queue.Empty:
                return
            try:
                _write_frame(process.stdin, pickle.dumps(text))
                frame = _read_frame(process.stdout)
            except OSError:  # the worker is gone: this process answers the rest
                return
            if frame is None:
                return
            kind, answer = pickle.loads(frame)  # our own child's answer
            if kind != "rows":
                return
            self.answers[text] = answer

    def wait(self) -> dict[str, Answer]:
        for thread in self.threads:
            thread.join()
        self.close()
        return self.answers

    def stop(self) -> None:
        self.stopped = True
        for process in self.processes:
            process.kill()
        self.close()

    def close(self) -> None:
        for process in self.processes:
            if process.stdin:
                with suppress(OSError):  # already broken
                    process.stdin.close()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except Exception:  # a worker that does not stop is killed, whatever went wrong
                process.kill()
                process.wait()


def _nt_literal(literal: Literal) -> str:
    from coopdec_kg.content.graph import NT_ESCAPES

    text = "".join(NT_ESCAPES.get(c, c) for c in str(literal))
    return f'"{text}"^^<{literal.datatype}>'


# ---------------------------------------------------------------- conditions on a value


@dataclass(frozen=True)
class _Cond:
    """Whether a value conforms: exactly, or as sound approximations for a later decision."""

    exact: str | None
    sure_ok: str
    sure_bad: str
    graph: bool  # depends on the graph, not only on the value node

    @classmethod
    def of(cls, exact: str, graph: bool = False) -> _Cond:
        return cls(exact, exact, f"!({exact})", graph)


_TRUE = _Cond.of("true")


def _all(conds: Sequence[_Cond]) -> _Cond:
    if not conds:
        return _TRUE
    if len(conds) == 1:
        return conds[0]
    exact = None
    if all(c.exact is not None for c in conds):
        exact = " && ".join(f"({c.exact})" for c in conds)
    return _Cond(
        exact,
        " && ".join(f"({c.sure_ok})" for c in conds),
        " || ".join(f"({c.sure_bad})" for c in conds),
        any(c.graph for c in conds),
    )


def _any(conds: Sequence[_Cond]) -> _Cond:
    if len(conds) == 1:
        return conds[0]
    exact = None
    if all(c.exact is not None for c in conds):
        exact = " || ".join(f"({c.exact})" for c in conds)
    return _Cond(
        exact,
        " || ".join(f"({c.sure_ok})" for c in conds) or "false",
        " && ".join(f"({c.sure_bad})" for c in conds) or "true",
        any(c.graph for c in conds),
    )


def _negate(cond: _Cond) -> _Cond:
    exact = None if cond.exact is None else f"!({cond.exact})"
    return _Cond(exact, cond.sure_bad, cond.sure_ok, cond.graph)


def _n3(term: Node, where: str) -> str:
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        return str(term.n3())
    raise ContentError(f"{where}: blank nodes cannot be compared by the full-validation engine")


def _sameterm_safe(term: Node) -> bool:
    """Whether `sameTerm` in the store agrees with rdflib's equality for this term."""
    if isinstance(term, URIRef):
        return True
    return (
        isinstance(term, Literal)
        and not term.language
        and str(term.datatype or XSD.string) in _SAMETERM_SAFE
    )


_CERTAIN = re.compile(r"@@certain<([^>]*)>@@")
_CLOSURE = re.compile(r"@@closure<([^>]*)>@@")
_PLAIN_DATE = '"^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}$"'
_PLAIN_DATETIME = '"^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\\\.[0-9]+)?$"'
_CASTS = {str(XSD[name]): None for name in ["integer", "decimal", "double", "float", "boolean"]} | {
    str(XSD.date): _PLAIN_DATE,
    str(XSD.dateTime): _PLAIN_DATETIME,
}
_NUMERIC = frozenset({str(XSD[n]) for n in ("integer", "decimal", "double", "float")}) | set(
    _STORED_AS
)
# Regular expressions that mean the same to Python's re (pySHACL) and to the store's engine:
# literal characters, escapes of punctuation, \d, anchors, ASCII classes, groups, quantifiers.
_PORTABLE_REGEX = re.compile(
    r"^(?:[A-Za-z0-9 /:_\-^$|(){},@#=&%'\"]|\\[.\-/\\d^$|(){}\[\]?*+]"
    r"|\[\^?(?:[A-Za-z0-9_ ]|[A-Za-z0-9]-[A-Za-z0-9]|\\[.\-\\\]d])+\]|[?*+])*$"
)
_RANGES = {
    SH.minInclusive: ">=",
    SH.maxInclusive: "<=",
    SH.minExclusive: ">",
    SH.maxExclusive: "<",
}
_NODE_KINDS = {
    SH.IRI: "isIRI({v})",
    SH.BlankNode: "isBlank({v})",
    SH.Literal: "isLiteral({v})",
    SH.BlankNodeOrIRI: "(isIRI({v}) || isBlank({v}))",
    SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
    SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))",
}
# An IRI or a string whose text the store keeps as written; no line break, where Python's `$`
# also matches (before a final one).
_STRINGISH = (
    '(isIRI({v}) || (isLiteral({v}) && (DATATYPE({v}) = <{s}> || LANG({v}) != "") '
    '&& !CONTAINS(STR({v}), "\\n")))'
)


def _datatype_cond(datatype: Node, var: str, where: str) -> _Cond:
    """sh:datatype, with pySHACL's rules: rdflib's datatype, and no ill-typed literal."""
    if datatype == RDFS.Literal:
        return _Cond.of(f"isLiteral({var})")
    if datatype == XSD.string:
        return _Cond.of(f"(isLiteral({var}) && DATATYPE({var}) = <{XSD.string}>)")
    if datatype == RDF.langString:
        return _Cond.of(f'(isLiteral({var}) && LANG({var}) != "")')
    if not isinstance(datatype, URIRef) or datatype == RDFS.Datatype:
        raise ContentError(
            f"{where}: sh:datatype {datatype} cannot be checked on the store (pySHACL tells "
            "a plain literal from an xsd:string one, the store does not)"
        )
    text = str(datatype)
    # The store keeps xsd:int as xsd:integer: only another stored datatype is surely wrong.
    sure_bad = f"(!isLiteral({var}) || DATATYPE({var}) != <{_STORED_AS.get(text, text)}>)"
    if text not in _CASTS:
        return _Cond(None, "false", sure_bad, False)
    cast = f"sameTerm(<{datatype}>(STR({var})), {var})"
    form = _CASTS[text]
    shape = f" && REGEX(STR({var}), {form})" if form else ""
    sure_ok = (
        f"(@@certain<{datatype}>@@ && isLiteral({var}) && DATATYPE({var}) = <{datatype}>"
        f"{shape} && {cast})"
    )
    return _Cond(None, sure_ok, sure_bad, False)


def _members_cond(members: Sequence[Node], var: str, where: str) -> _Cond:
    """sh:in / a node's sh:hasValue: rdflib's term equality with one of the members."""
    for member in members:
        if isinstance(member, BNode):
            raise ContentError(f"{where}: blank nodes cannot be compared on the store")
    safe = [m for m in members if _sameterm_safe(m)]
    same = " || ".join(f"sameTerm({var}, {_n3(m, where)})" for m in safe) or "false"
    if len(safe) == len(members):
        return _Cond.of(f"({same})")
    iris = " || ".join(f"sameTerm({var}, <{m}>)" for m in members if isinstance(m, URIRef))
    sure_bad = f"(isBlank({var}) || (isIRI({var}) && !({iris or 'false'})))"
    return _Cond(None, f"({same})", sure_bad, False)


def _pattern_cond(pattern: Node, flags: Node | None, var: str, where: str) -> _Cond:
    if not isinstance(pattern, Literal) or (flags is not None and not isinstance(flags, Literal)):
        raise ContentError(f"{where}: sh:pattern and sh:flags must be strings")
    text, flag = str(pattern), str(flags or "")
    stringish = _STRINGISH.format(v=var, s=XSD.string)
    if not _PORTABLE_REGEX.match(text) or flag not in ("", "i"):
        return _Cond(None, "false", f"isBlank({var})", False)
    regex = f"REGEX(STR({var}), {Literal(text).n3()}, {Literal(flag).n3()})"
    return _Cond(
        None, f"({stringish} && {regex})", f"(isBlank({var}) || ({stringish} && !{regex}))", False
    )


def _languages_cond(languages: Sequence[Node], var: str, where: str) -> _Cond:
    needed = []
    for language in languages:
        if not isinstance(language, Literal) or not isinstance(language.value, str):
            raise ContentError(f"{where}: the members of sh:languageIn must be strings")
        if language.value:  # an empty range matches no tag, for pySHACL as here
            needed.append(str(language.value).lower())
    tagged = f'isLiteral({var}) && LANG({var}) != ""'
    if "*" in needed:
        return _Cond.of(f"({tagged})")
    if not needed:
        return _Cond.of("false")
    listed = ", ".join(Literal(n).n3() for n in needed)
    return _Cond.of(
        f"({tagged} && (LCASE(LANG({var})) IN ({listed}) || "
        f'LCASE(STRBEFORE(LANG({var}), "-")) IN ({listed})))'
    )


def _range_cond(operator: str, bound: Node, var: str, where: str) -> _Cond:
    """Value ranges: SPARQL clears plain numbers and dates; pySHACL decides the rest (rdflib
    orders values of different types in its own way)."""
    if not isinstance(bound, Literal):
        raise ContentError(f"{where}: a value range bound must be a literal")
    limit = bound.n3()
    other = f"(isIRI({var}) || isBlank({var}))"
    datatype = str(bound.datatype or XSD.string)
    if datatype in _NUMERIC and bound.value is not None and not bound.ill_typed:
        number = f"(isNumeric({var}) && {var} = {var})"
        return _Cond(
            None,
            f"({number} && {var} {operator} {limit})",
            f"({other} || ({number} && !({var} {operator} {limit})))",
            False,
        )
    if datatype == str(XSD.date) and bound.value is not None:
        plain = f"(DATATYPE({var}) = <{XSD.date}> && REGEX(STR({var}), {_PLAIN_DATE}))"
        return _Cond(None, f"({plain} && {var} {operator} {limit})", other, False)
    return _Cond(None, "false", other, False)


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
