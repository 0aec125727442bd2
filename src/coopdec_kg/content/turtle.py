"""Byte-stable RDF text: N-Triples, Turtle and TriG, the same bytes for the same graph.

Subjects, predicates and objects are sorted, blank nodes get canonical labels (rdflib.compare),
and only the given prefixes (by default the project's) are declared, so a file written twice is
identical and diffs cleanly. `add` stores each submission with `to_turtle`; the dumps of
publish/export use every writer here.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

from coopdec_kg.content.graph import NT_ESCAPES
from coopdec_kg.content.namespaces import prefixes
from coopdec_kg.errors import ExportError

Triple = tuple[Node, Node, Node]
_TYPE = RDF.type  # compared on every statement (an rdflib namespace's attribute is a lookup)


# ---------------------------------------------------------------- canonical triples


def canonical_triples(graph: Iterable[Triple]) -> list[Triple]:
    """The graph's triples with canonical blank-node labels (stable across runs and load order).

    Only the triples that touch a blank node take part in canonicalisation; the others are kept.
    """
    ground: list[Triple] = []
    with_blanks = Graph(bind_namespaces="none")
    for triple in graph:
        if isinstance(triple[0], BNode) or isinstance(triple[2], BNode):  # a predicate is an IRI
            with_blanks.add(triple)
        else:
            ground.append(triple)
    if len(with_blanks):
        ground.extend(to_canonical_graph(with_blanks))
    return ground


# ---------------------------------------------------------------- terms

# An absolute IRI: a scheme, then no character N-Triples and Turtle forbid in an IRI.
_WRITABLE_IRI = re.compile(r'[A-Za-z][A-Za-z0-9+.\-]*:[^\x00-\x20<>"{}|^`\\\ud800-\udfff]*')
_LOCAL_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?")
_BLANK_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?")
_LANGUAGE = re.compile(r"[A-Za-z]+(?:-[A-Za-z0-9]+)*")
_TO_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')
SURROGATE = re.compile(r"[\ud800-\udfff]")
SHORT_FORMS = {
    XSD.integer: re.compile(r"[+-]?[0-9]+"),
    XSD.decimal: re.compile(r"[+-]?[0-9]*\.[0-9]+"),
    XSD.double: re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)[eE][+-]?[0-9]+"),
    XSD.boolean: re.compile(r"true|false"),
}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return NT_ESCAPES.get(char) or f"\\u{ord(char):04X}"


def quoted(text: str) -> str:
    if SURROGATE.search(text):
        raise ExportError(f"cannot export the literal {text[:40]!r}: it is not valid Unicode")
    return '"' + _TO_ESCAPE.sub(_escape, text) + '"'


def checked_iri(iri: str) -> str:
    text = str(iri)
    if not _WRITABLE_IRI.fullmatch(text):
        raise ExportError(f"cannot export {text!r}: it is not an absolute IRI")
    return text


def _blank_label(node: BNode, prefix: str) -> str:
    label = prefix + str(node)
    if not _BLANK_LABEL.fullmatch(label):
        raise ExportError(f"cannot export the blank node {label!r}: unusable label")
    return "_:" + label


def _literal(literal: Literal, iri: Callable[[URIRef], str]) -> str:
    """A literal, with `iri` rendering its datatype (prefixed in Turtle, full in N-Triples)."""
    text = quoted(str(literal))
    if literal.language:
        if not _LANGUAGE.fullmatch(literal.language):
            raise ExportError(f"cannot export the language tag {literal.language!r}")
        return f"{text}@{literal.language}"
    if literal.datatype is None or literal.datatype == XSD.string:
        return text
    return f"{text}^^{iri(literal.datatype)}"


def sort_key(node: Node) -> tuple[int, str, str, str]:
    if isinstance(node, URIRef):
        return (0, str(node), "", "")
    if isinstance(node, BNode):
        return (1, str(node), "", "")
    if isinstance(node, Literal):
        return (2, str(node), str(node.datatype or ""), node.language or "")
    raise ExportError(f"cannot export the term {node!r}")


def predicate_key(node: Node) -> tuple[int, str]:
    return (0, "") if node == _TYPE else (1, str(node))


def check_triple(triple: Triple) -> None:
    subject, predicate, _ = triple
    if isinstance(subject, Literal):
        raise ExportError(f"cannot export a triple whose subject is the literal {str(subject)!r}")
    if not isinstance(predicate, URIRef):
        raise ExportError(f"cannot export a triple whose predicate is {predicate!r}")


# ---------------------------------------------------------------- N-Triples


def nt_term(node: Node, blank_prefix: str = "") -> str:
    if isinstance(node, URIRef):
        return f"<{checked_iri(node)}>"
    if isinstance(node, BNode):
        return _blank_label(node, blank_prefix)
    if isinstance(node, Literal):
        return _literal(node, lambda datatype: f"<{checked_iri(datatype)}>")
    raise ExportError(f"cannot export the term {node!r}")


def to_ntriples(graph: Graph) -> bytes:
    """N-Triples, one triple a line, lines sorted; canonical blank-node labels."""
    lines = []
    for triple in canonical_triples(graph):
        check_triple(triple)
        lines.append(" ".join(nt_term(term) for term in triple) + " .\n")
    lines.sort()
    return "".join(lines).encode("utf-8")


# ---------------------------------------------------------------- Turtle and TriG

INDENT = "    "
MAX_NESTING = 32  # deeper blank-node nesting is written with labels (no recursion blow-up)


class Namer:
    """Renders IRIs as prefixed names where a project prefix fits, and records which were used.

    The longest namespace whose local part is a valid local name wins (the first declared among
    prefixes of the same namespace); namespaces are looked up by length, not one by one.
    """

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        by_length: dict[int, dict[str, str]] = {}
        for prefix, namespace in namespaces.items():
            by_length.setdefault(len(namespace), {}).setdefault(namespace, prefix)
        self._by_length = sorted(by_length.items(), reverse=True)
        self._cache: dict[str, str] = {}
        self.used: dict[str, str] = {}

    def iri(self, node: URIRef) -> str:
        return self.text(str(node))

    def text(self, text: str) -> str:
        """`iri` for an IRI given as a string (remembered: the same IRIs come back often)."""
        cached = self._cache.get(text)
        if cached is None:
            cached = self._cache[text] = self.render(text)
        return cached

    def render(self, text: str) -> str:
        """`text` without remembering the answer (for IRIs seen once, e.g. subjects)."""
        checked_iri(text)
        for length, namespaces in self._by_length:
            prefix = namespaces.get(text[:length])
            if prefix is not None:
                local = text[length:]
                if local == "" or _LOCAL_NAME.fullmatch(local):
                    self.used[prefix] = text[:length]
                    return f"{prefix}:{local}"
        return f"<{text}>"

    def header(self) -> str:
        return "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in sorted(self.used.items()))


class TurtleBody:
    """The statements of one graph in Turtle: sorted, blank nodes nested where used once."""

    def __init__(self, triples: Iterable[Triple], namer: Namer, blank_prefix: str = "") -> None:
        self.namer = namer
        self.blank_prefix = blank_prefix
        self._rendered: dict[Node, str] = {}
        self._literals: dict[tuple[str, URIRef | None, str | None], str] = {}
        self.statements: dict[Node, dict[Node, list[Node]]] = {}
        references: Counter[Node] = Counter()
        self.referrer: dict[Node, tuple[Node, Node]] = {}
        for triple in triples:
            check_triple(triple)
            subject, predicate, obj = triple
            self.statements.setdefault(subject, {}).setdefault(predicate, []).append(obj)
            if isinstance(obj, BNode):
                references[obj] += 1
                self.referrer[obj] = (subject, predicate)
        self.references = references
        # A blank node used exactly once as an object (not by itself) is written in place.
        self.nested: set[Node] = {
            node
            for node, count in references.items()
            if count == 1 and self.referrer[node][0] != node
        }
        self.lists: dict[Node, list[Node]] = {}
        self.list_cells: dict[Node, list[Node]] = {}
        self.list_of: dict[Node, Node] = {}
        for node in sorted(self.nested, key=sort_key):
            if self.referrer[node][1] != RDF.rest:
                self._try_list(node)
        self._limit_nesting()

    def _try_list(self, head: Node) -> None:
        """Record `head` as a collection `( … )` when it is a well-formed RDF list."""
        items: list[Node] = []
        cells: list[Node] = []
        node = head
        while node != RDF.nil:
            if node not in self.nested or node in cells or node in self.list_of:
                return
            properties = self.statements.get(node, {})
            if set(properties) != {RDF.first, RDF.rest}:
                return
            if len(properties[RDF.first]) != 1 or len(properties[RDF.rest]) != 1:
                return
            cells.append(node)
            items.append(properties[RDF.first][0])
            node = properties[RDF.rest][0]
        self.lists[head] = items
        self.list_cells[head] = cells
        for cell in cells:
            self.list_of[cell] = head

    def _children(self, node: Node) -> list[Node]:
        if node in self.lists:
            values = self.lists[node]
        else:
            values = [o for objs in self.statements.get(node, {}).values() for o in objs]
        return [value for value in values if value in self.nested]

    def _unnest(self, node: Node) -> list[Node]:
        """Write `node` as a labelled top-level subject; a list it belongs to is dissolved."""
        head = self.list_of.get(node)
        if head is None:
            self.nested.discard(node)
            return [node]
        cells = self.list_cells.pop(head)
        del self.lists[head]
        for cell in cells:
            del self.list_of[cell]
            self.nested.discard(cell)
        return cells

    def _limit_nesting(self) -> None:
        """Bound the nesting depth, and label blank nodes no top-level statement reaches."""
        seen: set[Node] = set()
        queue: deque[tuple[Node, int]] = deque()

        def mark(node: Node) -> None:
            seen.add(node)
            seen.update(self.list_cells.get(node, []))

        def walk() -> None:
            while queue:
                node, depth = queue.popleft()
                for child in self._children(node):
                    if child in seen:
                        continue
                    mark(child)
                    if depth + 1 > MAX_NESTING:
                        queue.extend((root, 0) for root in self._unnest(child))
                    else:
                        queue.append((child, depth + 1))

        for root in sorted((s for s in self.statements if s not in self.nested), key=sort_key):
            queue.append((root, 0))
        walk()
        for node in sorted(self.nested, key=sort_key):
            if node in self.nested and node not in seen:  # reachable only from itself: a cycle
                for root in self._unnest(node):
                    seen.add(root)
                    queue.append((root, 0))
                walk()

    def term(self, node: Node) -> str:
        if isinstance(node, URIRef):
            return self.namer.iri(node)
        if isinstance(node, BNode):
            return _blank_label(node, self.blank_prefix)
        if isinstance(node, Literal):
            # Literals repeat (a status, a year); keyed as written: rdflib's "01"^^xsd:integer
            # equals "1"^^xsd:integer.
            key = (str(node), node.datatype, node.language)
            written = self._literals.get(key)
            if written is None:
                written = self._literals[key] = self._literal(node)
            return written
        raise ExportError(f"cannot export the term {node!r}")

    def _literal(self, node: Literal) -> str:
        datatype = node.datatype
        shape = SHORT_FORMS.get(datatype) if datatype is not None else None
        if shape is not None and not node.language and shape.fullmatch(str(node)):
            return str(node)
        return _literal(node, self.namer.iri)

    def _object_key(self, node: Node) -> tuple[int, str, str, str]:
        """Nested blank nodes sort by what they say (readable), then by their canonical label."""
        if node in self.nested:
            text = self._rendered.get(node)
            if text is None:
                text = self._rendered[node] = self._object(node, 0)
            return (1, text, str(node), "")
        return sort_key(node)

    def _object(self, node: Node, level: int) -> str:
        if node in self.lists:
            return "( " + " ".join(self._object(item, level) for item in self.lists[node]) + " )"
        if node in self.nested:
            if not self.statements.get(node):
                return "[]"
            return "[\n" + self._properties(node, level + 1) + "\n" + INDENT * level + "]"
        return self.term(node)

    def _properties(self, node: Node, level: int) -> str:
        pad = INDENT * level
        parts = []
        for predicate in sorted(self.statements[node], key=predicate_key):
            verb = "a" if predicate == _TYPE else self.term(predicate)
            objects = self.statements[node][predicate]
            if len(objects) > 1:
                objects = sorted(objects, key=self._object_key)
            if len(objects) == 1:
                parts.append(f"{pad}{verb} {self._object(objects[0], level)}")
            else:
                inner = INDENT * (level + 1)
                rendered = f",\n{inner}".join(self._object(o, level + 1) for o in objects)
                parts.append(f"{pad}{verb}\n{inner}{rendered}")
        return " ;\n".join(parts)

    def blocks(self) -> list[str]:
        """One block per top-level subject, in a stable order."""
        return [block for _, block in self.keyed_blocks()]

    def keyed_blocks(self) -> list[tuple[Node, str]]:
        """The blocks with the subject each one describes."""
        roots = sorted((s for s in self.statements if s not in self.nested), key=sort_key)
        blocks: list[tuple[Node, str]] = []
        for subject in roots:
            body = self._properties(subject, 1)
            if isinstance(subject, BNode) and not self.references[subject]:
                blocks.append((subject, f"[\n{body}\n] .\n"))
            else:
                blocks.append((subject, f"{self.term(subject)}\n{body} .\n"))
        return blocks


def to_turtle(graph: Iterable[Triple], namespaces: Mapping[str, str] | None = None) -> bytes:
    """Byte-stable Turtle: the project's prefixes only, sorted statements, canonical blank nodes
    (`graph`: a Graph, or distinct triples)."""
    namer = Namer(prefixes() if namespaces is None else namespaces)
    body = "\n".join(TurtleBody(canonical_triples(graph), namer).blocks())
    header = namer.header()
    text = header + ("\n" if header and body else "") + body
    return text.encode("utf-8")


def indented(text: str, margin: str) -> str:
    """Every line of `text` but the empty ones indented (lines end at "\\n" only: a literal may
    hold U+2028 or U+0085, which `str.splitlines` would also break at)."""
    return "\n".join(margin + line if line else line for line in text.split("\n"))


def graph_label_prefix(name: URIRef, taken: set[str]) -> str:
    """A blank-node label prefix per named graph: labels are scoped to the whole TriG file."""
    base = re.sub(r"[^A-Za-z0-9]", "", str(name).rstrip("/").rsplit("/", 1)[-1]) or "g"
    prefix, index = base, 1
    while prefix in taken:
        index += 1
        prefix = f"{base}{index}"
    taken.add(prefix)
    return prefix + "-"


def to_trig(graphs: Mapping[URIRef, Graph], namespaces: Mapping[str, str] | None = None) -> bytes:
    """TriG with one named graph per entry, each written like the Turtle export."""
    namer = Namer(prefixes() if namespaces is None else namespaces)
    taken: set[str] = set()
    sections = []
    for name in sorted(graphs, key=str):
        body = TurtleBody(canonical_triples(graphs[name]), namer, graph_label_prefix(name, taken))
        text = "\n".join(body.blocks())
        sections.append(
            f"{namer.iri(name)} {{\n{indented(text, INDENT)}}}\n"
            if text
            else f"{namer.iri(name)} {{ }}\n"
        )
    header = namer.header()
    text = header + ("\n" if header and sections else "") + "\n".join(sections)
    return text.encode("utf-8")
