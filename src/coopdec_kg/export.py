"""Dumps of the graph for portals: Turtle, N-Triples, JSON-LD and TriG, with dataset metadata.

Turtle and N-Triples are byte-stable, so committed dumps diff cleanly: subjects, predicates and
objects are sorted, blank nodes get canonical labels (rdflib.compare), and only the project's
prefixes are declared. JSON-LD uses the curated context shipped with the package. TriG keeps the
ontology, the data and the metadata in separate named graphs. Files are written atomically: a
temporary file in the destination folder, fsync, then os.replace, so an error never leaves a
truncated dump behind.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

from coopdec_kg.errors import ExportError
from coopdec_kg.graph import load_data, load_ontology, new_graph
from coopdec_kg.metadata import content_date, describe
from coopdec_kg.namespaces import context_document, prefixes
from coopdec_kg.project import Project

Triple = tuple[Node, Node, Node]


@dataclass(frozen=True)
class ExportFormat:
    """One serialisation: its name on the command line, file extension and media type."""

    name: str
    extension: str
    media_type: str


FORMATS: dict[str, ExportFormat] = {
    fmt.name: fmt
    for fmt in (
        ExportFormat("turtle", "ttl", "text/turtle"),
        ExportFormat("ntriples", "nt", "application/n-triples"),
        ExportFormat("jsonld", "jsonld", "application/ld+json"),
        ExportFormat("trig", "trig", "application/trig"),
    )
}
DEFAULT_FORMAT = "turtle"

GRAPH_BASE = "https://w3id.org/coopdec-kg/graph/"
ONTOLOGY_GRAPH = URIRef(GRAPH_BASE + "ontology")
DATA_GRAPH = URIRef(GRAPH_BASE + "data")
METADATA_GRAPH = URIRef(GRAPH_BASE + "metadata")


@dataclass(frozen=True)
class Dump:
    """What an export contains: the ontology, the data and their DCAT/VoID description."""

    ontology: Graph
    data: Graph
    metadata: Graph

    def named_graphs(self) -> dict[URIRef, Graph]:
        return {
            ONTOLOGY_GRAPH: self.ontology,
            DATA_GRAPH: self.data,
            METADATA_GRAPH: self.metadata,
        }

    def union(self) -> Graph:
        graph = new_graph()
        for part in (self.ontology, self.data, self.metadata):
            for triple in part:
                graph.add(triple)
        return graph


def format_for(name: str | None, output: Path | None = None) -> ExportFormat:
    """The format named on the command line, else the one the output's extension implies."""
    if name is None:
        if output is not None:
            for fmt in FORMATS.values():
                if output.suffix == "." + fmt.extension:
                    return fmt
        return FORMATS[DEFAULT_FORMAT]
    if name not in FORMATS:
        raise ExportError(f"unknown format {name!r}: choose one of {', '.join(FORMATS)}")
    return FORMATS[name]


def collect(project: Project, modified: date | None = None) -> Dump:
    """Load the ontology and the data and describe them (DCAT + VoID)."""
    ontology = load_ontology(project)
    data = load_data(project)
    metadata = describe(ontology, data, modified or content_date(project))
    return Dump(ontology, data, metadata)


def serialize(dump: Dump, fmt: ExportFormat) -> bytes:
    """The dump in one format, as bytes."""
    if fmt.name == "trig":
        return to_trig(dump.named_graphs())
    union = dump.union()
    if fmt.name == "ntriples":
        return to_ntriples(union)
    if fmt.name == "jsonld":
        return to_jsonld(union)
    return to_turtle(union)


def export(
    project: Project,
    format_name: str | None = None,
    output: Path | None = None,
    modified: date | None = None,
) -> bytes:
    """Serialise ontology + data + metadata; write it atomically to `output` when given."""
    fmt = format_for(format_name, output)
    if output is not None:
        _check_destination(output)
    payload = serialize(collect(project, modified), fmt)
    if output is not None:
        write_atomic(output, payload)
    return payload


# ---------------------------------------------------------------- atomic writes


def _check_destination(path: Path) -> None:
    if not path.parent.is_dir():
        raise ExportError(f"{path.parent}: no such folder (create it first)")
    if path.is_dir():
        raise ExportError(f"{path} is a folder, not a file")


def _new_file_mode(path: Path) -> int:
    """Keep the mode of the file being replaced, else the usual mode under the umask."""
    with suppress(FileNotFoundError):
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: Path, payload: bytes) -> None:
    """Write `payload` to `path` so that readers see the old file or the new one, never half."""
    _check_destination(path)
    mode = _new_file_mode(path)
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as error:
        raise ExportError(f"{path.parent}: cannot write here ({error.strerror})") from error
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as error:
        with suppress(OSError):
            os.unlink(temporary)
        raise ExportError(f"{path}: cannot write ({error.strerror or error})") from error
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (best effort: not every platform can open a folder)."""
    with suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


# ---------------------------------------------------------------- canonical triples


def canonical_triples(graph: Graph) -> list[Triple]:
    """The graph's triples with canonical blank-node labels (stable across runs and load order).

    Only the triples that touch a blank node take part in canonicalisation; the others are kept.
    """
    ground: list[Triple] = []
    with_blanks = Graph(bind_namespaces="none")
    for triple in graph:
        if any(isinstance(term, BNode) for term in triple):
            with_blanks.add(triple)
        else:
            ground.append(triple)
    if len(with_blanks):
        ground.extend(to_canonical_graph(with_blanks))
    return ground


# ---------------------------------------------------------------- terms

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LOCAL_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?")
_BLANK_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?")
_LANGUAGE = re.compile(r"[A-Za-z]+(?:-[A-Za-z0-9]+)*")
_TO_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_SHORT_FORMS = {
    XSD.integer: re.compile(r"[+-]?[0-9]+"),
    XSD.decimal: re.compile(r"[+-]?[0-9]*\.[0-9]+"),
    XSD.double: re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)[eE][+-]?[0-9]+"),
    XSD.boolean: re.compile(r"true|false"),
}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04X}"


def _quoted(text: str) -> str:
    if _SURROGATE.search(text):
        raise ExportError(f"cannot export the literal {text[:40]!r}: it is not valid Unicode")
    return '"' + _TO_ESCAPE.sub(_escape, text) + '"'


def _checked_iri(iri: URIRef) -> str:
    text = str(iri)
    if not _SCHEME.match(text) or _IRI_FORBIDDEN.search(text) or _SURROGATE.search(text):
        raise ExportError(f"cannot export {text!r}: it is not an absolute IRI")
    return text


def _blank_label(node: BNode, prefix: str) -> str:
    label = prefix + str(node)
    if not _BLANK_LABEL.fullmatch(label):
        raise ExportError(f"cannot export the blank node {label!r}: unusable label")
    return "_:" + label


def _literal(literal: Literal, iri: Callable[[URIRef], str]) -> str:
    """A literal, with `iri` rendering its datatype (prefixed in Turtle, full in N-Triples)."""
    text = _quoted(str(literal))
    if literal.language:
        if not _LANGUAGE.fullmatch(literal.language):
            raise ExportError(f"cannot export the language tag {literal.language!r}")
        return f"{text}@{literal.language}"
    if literal.datatype is None or literal.datatype == XSD.string:
        return text
    return f"{text}^^{iri(literal.datatype)}"


def _sort_key(node: Node) -> tuple[int, str, str, str]:
    if isinstance(node, URIRef):
        return (0, str(node), "", "")
    if isinstance(node, BNode):
        return (1, str(node), "", "")
    if isinstance(node, Literal):
        return (2, str(node), str(node.datatype or ""), node.language or "")
    raise ExportError(f"cannot export the term {node!r}")


def _predicate_key(node: Node) -> tuple[int, str]:
    return (0, "") if node == RDF.type else (1, str(node))


def _check_triple(triple: Triple) -> None:
    subject, predicate, _ = triple
    if isinstance(subject, Literal):
        raise ExportError(f"cannot export a triple whose subject is the literal {str(subject)!r}")
    if not isinstance(predicate, URIRef):
        raise ExportError(f"cannot export a triple whose predicate is {predicate!r}")


# ---------------------------------------------------------------- N-Triples


def _nt_term(node: Node, blank_prefix: str = "") -> str:
    if isinstance(node, URIRef):
        return f"<{_checked_iri(node)}>"
    if isinstance(node, BNode):
        return _blank_label(node, blank_prefix)
    if isinstance(node, Literal):
        return _literal(node, lambda datatype: f"<{_checked_iri(datatype)}>")
    raise ExportError(f"cannot export the term {node!r}")


def to_ntriples(graph: Graph) -> bytes:
    """N-Triples, one triple a line, lines sorted; canonical blank-node labels."""
    lines = []
    for triple in canonical_triples(graph):
        _check_triple(triple)
        lines.append(" ".join(_nt_term(term) for term in triple) + " .\n")
    lines.sort()
    return "".join(lines).encode("utf-8")


# ---------------------------------------------------------------- Turtle and TriG

INDENT = "    "
MAX_NESTING = 32  # deeper blank-node nesting is written with labels (no recursion blow-up)


class _Namer:
    """Renders IRIs as prefixed names where a project prefix fits, and records which were used."""

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self._namespaces = sorted(namespaces.items(), key=lambda item: -len(item[1]))
        self._cache: dict[URIRef, str] = {}
        self.used: dict[str, str] = {}

    def iri(self, node: URIRef) -> str:
        cached = self._cache.get(node)
        if cached is not None:
            return cached
        text = _checked_iri(node)
        rendered = f"<{text}>"
        for prefix, namespace in self._namespaces:
            if text.startswith(namespace):
                local = text[len(namespace) :]
                if local == "" or _LOCAL_NAME.fullmatch(local):
                    rendered = f"{prefix}:{local}"
                    self.used[prefix] = namespace
                    break
        self._cache[node] = rendered
        return rendered

    def header(self) -> str:
        return "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in sorted(self.used.items()))


class _TurtleBody:
    """The statements of one graph in Turtle: sorted, blank nodes nested where used once."""

    def __init__(self, triples: Iterable[Triple], namer: _Namer, blank_prefix: str = "") -> None:
        self.namer = namer
        self.blank_prefix = blank_prefix
        self._rendered: dict[Node, str] = {}
        self.statements: dict[Node, dict[Node, list[Node]]] = {}
        references: Counter[Node] = Counter()
        self.referrer: dict[Node, tuple[Node, Node]] = {}
        for triple in triples:
            _check_triple(triple)
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
        for node in sorted(self.nested, key=_sort_key):
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

        for root in sorted((s for s in self.statements if s not in self.nested), key=_sort_key):
            queue.append((root, 0))
        walk()
        for node in sorted(self.nested, key=_sort_key):
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
            datatype = node.datatype
            shape = _SHORT_FORMS.get(datatype) if datatype is not None else None
            if shape is not None and not node.language and shape.fullmatch(str(node)):
                return str(node)
            return _literal(node, self.namer.iri)
        raise ExportError(f"cannot export the term {node!r}")

    def _object_key(self, node: Node) -> tuple[int, str, str, str]:
        """Nested blank nodes sort by what they say (readable), then by their canonical label."""
        if node in self.nested:
            text = self._rendered.get(node)
            if text is None:
                text = self._rendered[node] = self._object(node, 0)
            return (1, text, str(node), "")
        return _sort_key(node)

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
        for predicate in sorted(self.statements[node], key=_predicate_key):
            verb = "a" if predicate == RDF.type else self.term(predicate)
            objects = sorted(self.statements[node][predicate], key=self._object_key)
            if len(objects) == 1:
                parts.append(f"{pad}{verb} {self._object(objects[0], level)}")
            else:
                inner = INDENT * (level + 1)
                rendered = f",\n{inner}".join(self._object(o, level + 1) for o in objects)
                parts.append(f"{pad}{verb}\n{inner}{rendered}")
        return " ;\n".join(parts)

    def blocks(self) -> list[str]:
        """One block per top-level subject, in a stable order."""
        roots = sorted((s for s in self.statements if s not in self.nested), key=_sort_key)
        blocks = []
        for subject in roots:
            body = self._properties(subject, 1)
            if isinstance(subject, BNode) and not self.references[subject]:
                blocks.append(f"[\n{body}\n] .\n")
            else:
                blocks.append(f"{self.term(subject)}\n{body} .\n")
        return blocks


def to_turtle(graph: Graph, namespaces: Mapping[str, str] | None = None) -> bytes:
    """Byte-stable Turtle: the project's prefixes only, sorted statements, canonical blank nodes."""
    namer = _Namer(prefixes() if namespaces is None else namespaces)
    body = "\n".join(_TurtleBody(canonical_triples(graph), namer).blocks())
    header = namer.header()
    text = header + ("\n" if header and body else "") + body
    return text.encode("utf-8")


def _graph_label_prefix(name: URIRef, taken: set[str]) -> str:
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
    namer = _Namer(prefixes() if namespaces is None else namespaces)
    taken: set[str] = set()
    sections = []
    for name in sorted(graphs, key=str):
        body = _TurtleBody(canonical_triples(graphs[name]), namer, _graph_label_prefix(name, taken))
        lines = "\n".join(body.blocks()).splitlines()
        indented = "\n".join(INDENT + line if line else line for line in lines)
        sections.append(
            f"{namer.iri(name)} {{\n{indented}\n}}\n" if lines else f"{namer.iri(name)} {{ }}\n"
        )
    header = namer.header()
    text = header + ("\n" if header and sections else "") + "\n".join(sections)
    return text.encode("utf-8")


# ---------------------------------------------------------------- JSON-LD


def _sorted_json(value: Any) -> Any:
    """Sort the (unordered) value arrays of a JSON-LD document; keep `@list` order."""
    if isinstance(value, dict):
        return {
            key: (
                [_sorted_json(item) for item in inner]
                if key == "@list" and isinstance(inner, list)
                else _sorted_json(inner)
            )
            for key, inner in value.items()
        }
    if isinstance(value, list):
        items = [_sorted_json(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))
    return value


def to_jsonld(graph: Graph) -> bytes:
    """Compact JSON-LD with the project's curated @context, nodes and values in a stable order."""
    canonical = Graph(bind_namespaces="none")
    for triple in canonical_triples(graph):
        _check_triple(triple)
        canonical.add(triple)
    context = context_document()["@context"]
    try:
        text = canonical.serialize(format="json-ld", context=context)
    except Exception as error:  # rdflib raises assorted types for unserialisable terms
        raise ExportError(f"cannot write JSON-LD: {error}") from error
    document = json.loads(text)
    if "@graph" in document:
        nodes = document["@graph"]
    else:
        node = {key: value for key, value in document.items() if key != "@context"}
        nodes = [node] if node else []
    ordered = sorted(
        (_sorted_json(node) for node in nodes),
        key=lambda node: (str(node.get("@id", "")), json.dumps(node, sort_keys=True)),
    )
    result = {"@context": context, "@graph": ordered}
    return (json.dumps(result, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
