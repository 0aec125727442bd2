"""Dumps of the graph for portals: Turtle, N-Triples, JSON-LD and TriG, with dataset metadata.

Turtle and N-Triples are byte-stable, so committed dumps diff cleanly: subjects, predicates and
objects are sorted, blank nodes get canonical labels (rdflib.compare), and only the project's
prefixes are declared. JSON-LD uses the curated context shipped with the package. TriG keeps the
ontology, the data and the metadata in separate named graphs. Files are written atomically: a
temporary file in the destination folder, fsync, then os.replace, so an error never leaves a
truncated dump behind.

A dump holds what queries see: the ontology, the data and the extra files the persistent store
was built with (`build --extra`, e.g. a national atlas). At that scale the writers work on
N-Triples lines that pyoxigraph parses, not on an rdflib graph, and give the same bytes (see
"at scale" below); small content keeps the rdflib path.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files
from itertools import chain, compress, islice
from operator import ne
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

from coopdec_kg.content.files import check_output, write_atomic
from coopdec_kg.content.graph import (
    load_data,
    load_data_with,
    load_graph_with,
    load_ontology,
    new_graph,
    parse_ntriples,
    read_ntriples,
    unescape_ntriples,
)
from coopdec_kg.content.namespaces import context_document, prefixes
from coopdec_kg.content.project import Project
from coopdec_kg.content.turtle import (
    INDENT,
    SHORT_FORMS,
    SURROGATE,
    Namer,
    Triple,
    TurtleBody,
    canonical_triples,
    check_triple,
    checked_iri,
    graph_label_prefix,
    indented,
    nt_term,
    to_ntriples,
    to_trig,
    to_turtle,
)
from coopdec_kg.errors import ExportError
from coopdec_kg.publish.metadata import (
    DATA_GRAPH,
    METADATA_GRAPH,
    ONTOLOGY_GRAPH,
    VoidStatistics,
    content_date,
    countries_of_lines,
    describe,
    describe_content,
    standards_of_lines,
    temporal_coverage_of_literals,
    void_statistics_of_lines,
)


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

SCALE_BYTES = 8 * 1024 * 1024  # content bigger than this is dumped without rdflib


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


def collect(project: Project, modified: date | None = None, extra: Sequence[Path] = ()) -> Dump:
    """Load the ontology and the data (with any extra file) and describe them (DCAT + VoID).

    This is the rdflib reference; `serialize_at_scale` gives the same bytes without rdflib.
    """
    ontology = load_ontology(project)
    data = load_data_with(project, extra) if extra else load_data(project)
    metadata = describe(ontology, data, modified or content_date(project))
    return Dump(ontology, data, metadata)


def at_scale(project: Project, extra: Sequence[Path]) -> bool:
    """Whether to dump with `serialize_at_scale`: extra files (an atlas), or big content."""
    files = [project.ontology_file, *project.data_files]
    return bool(extra) or sum(path.stat().st_size for path in files) > SCALE_BYTES


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


def serialize_metadata(metadata: Graph, fmt: ExportFormat) -> bytes:
    """The catalogue description alone, for harvesters (in TriG, in its own named graph)."""
    if fmt.name == "trig":
        return to_trig({METADATA_GRAPH: metadata})
    return serialize(Dump(new_graph(), new_graph(), metadata), fmt)


def serialize_at_scale(
    project: Project, fmt: ExportFormat, extra: Sequence[Path] = (), modified: date | None = None
) -> bytes:
    """The bytes `serialize(collect(project, modified, extra), fmt)` gives, without rdflib for
    the bulk of the graph: the files are read as N-Triples lines (see "at scale" below)."""
    return b"".join(_chunks_at_scale(project, fmt, extra, modified))


def _chunks_at_scale(
    project: Project, fmt: ExportFormat, extra: Sequence[Path], modified: date | None
) -> Iterator[bytes]:
    when = modified or content_date(project)
    ontology, data, description = _read_lines(project, extra, when)
    metadata = _lines_of_graph(description)
    if fmt.name == "trig":
        graphs = {ONTOLOGY_GRAPH: ontology, DATA_GRAPH: data, METADATA_GRAPH: metadata}
        del ontology, data
        yield _lines_to_trig(graphs)
        return
    union = _union([ontology, data, metadata])
    del ontology, data
    if fmt.name == "ntriples":
        yield from _lines_to_ntriples(union)
    elif fmt.name == "jsonld":
        yield from _lines_to_jsonld(union)
    else:
        yield _lines_to_turtle(union)


def _read_lines(
    project: Project, extra: Sequence[Path], modified: date
) -> tuple[_Lines, _Lines, Graph]:
    """The ontology and the data (with the extra files) as lines (one file's text at a time in
    memory), and their description."""
    read = read_ntriples(project.ontology_file)
    standards = standards_of_lines(read.text)
    ontology = _lines_of(read.text)
    parts: list[_Lines] = []
    literals: set[tuple[str, str]] = set()
    countries: set[URIRef] = set()
    for path in (*project.data_files, *extra):
        read = read_ntriples(path)
        literals |= read.typed_literals
        countries |= countries_of_lines(read.text)
        parts.append(_lines_of(read.text))
    del read
    data = _union(parts)
    del parts

    def statistics(uri_space: str) -> VoidStatistics:
        # ontology + data, counted without merging their lines into one list (the order of
        # the lines does not matter to the counts)
        ontology_only = [line for line in ontology.ground if not _holds(data.ground, line)]
        others = Graph(bind_namespaces="none")
        for triple in (*ontology.others, *data.others):
            others.add(triple)
        lines = chain(data.ground, ontology_only)
        return void_statistics_of_lines(lines, _nt_terms(others), uri_space)

    coverage = temporal_coverage_of_literals(literals)
    sizes = {ONTOLOGY_GRAPH: _size(ontology), DATA_GRAPH: _size(data)}
    description = describe_content(standards, coverage, countries, statistics, modified, sizes)
    return ontology, data, description


def export(
    project: Project,
    format_name: str | None = None,
    output: Path | None = None,
    modified: date | None = None,
    extra: Sequence[Path] | None = None,
    metadata_only: bool = False,
    frame: str | None = None,
) -> bytes:
    """Serialise ontology + data (+ the store's extra files, unless `extra` says which) +
    metadata, or the metadata alone, or (JSON-LD) the graph framed around one kind of resource;
    write it atomically to `output` when given."""
    fmt = format_for(format_name, output)
    if output is not None:
        check_output(project, output)
    payload = b"".join(_chunks(project, fmt, modified, extra, metadata_only, frame))
    if output is not None:
        write_atomic(output, payload)
    return payload


def export_file(
    project: Project,
    output: Path,
    format_name: str | None = None,
    modified: date | None = None,
    extra: Sequence[Path] | None = None,
    metadata_only: bool = False,
    frame: str | None = None,
) -> int:
    """`export` to a file, written as it is produced (a national dump is hundreds of MB).
    Returns its size in bytes."""
    fmt = format_for(format_name, output)
    check_output(project, output)
    return write_atomic(output, _chunks(project, fmt, modified, extra, metadata_only, frame))


def _chunks(
    project: Project,
    fmt: ExportFormat,
    modified: date | None,
    extra: Sequence[Path] | None,
    metadata_only: bool = False,
    frame: str | None = None,
) -> Iterator[bytes]:
    if frame is not None and (fmt.name != "jsonld" or metadata_only):
        raise ExportError("--frame frames a JSON-LD dump: use it with --format jsonld alone")
    if extra is None:
        from coopdec_kg.engines.store import extra_files

        extra = extra_files(project)
    files = tuple(extra)
    if frame is not None:
        yield to_framed_jsonld(load_graph_with(project, files), frame)
        return
    when = modified or content_date(project)
    if metadata_only:
        if at_scale(project, files):
            description = _read_lines(project, files, when)[2]
        else:
            description = collect(project, when).metadata
        yield serialize_metadata(description, fmt)
        return
    if at_scale(project, files):
        yield from _chunks_at_scale(project, fmt, files, when)
    else:
        yield serialize(collect(project, when), fmt)


# ---------------------------------------------------------------- JSON-LD
#
# Compact JSON-LD with the curated context: its `id`/`type` aliases, and one term per property
# (`@type: @id` for links, a language map for texts, a datatype for dates). A value that does not
# fit its property's term is written under the property's compact IRI, in expanded form, so the
# document always reads back as the same graph. Both the rdflib writer and the writer from lines
# build each node with `_node_object`, from the same neutral description of its triples.

# (kind, text, datatype, language): kind is "iri", "blank" or "literal"; text is the IRI, the
# blank node's label (with "_:") or the literal's lexical form
_Value = tuple[str, str, str | None, str | None]
_RDF_TYPE = str(RDF.type)
_XSD_INTEGER = str(XSD.integer)
_XSD_BOOLEAN = str(XSD.boolean)
_XSD_STRING = str(XSD.string)
_CANONICAL_INTEGER = re.compile(r"0|-?[1-9][0-9]*")  # as json.dumps writes the int
LINK, LANGUAGE_MAP = "@id", "@language"  # the two term coercions besides a datatype


class _JsonTerms:
    """The context's terms, by the property they stand for, and the compaction of IRIs."""

    def __init__(self, context: Mapping[str, Any]) -> None:
        self._namespaces = {namespace: name for name, namespace in prefixes().items()}
        self.terms: dict[str, tuple[str, str]] = {}  # property IRI -> (term, coercion)
        for name, definition in context.items():
            if isinstance(definition, dict):
                coercion = definition.get("@type") or definition.get("@container") or ""
                if coercion not in (LINK, LANGUAGE_MAP, ""):
                    coercion = self.expand(coercion)
                self.terms[self.expand(definition["@id"])] = (name, coercion)
        self._compact: dict[str, str] = {}

    def expand(self, curie: str) -> str:
        prefix, _, local = curie.partition(":")
        return prefixes().get(prefix, prefix + ":") + local

    def compact(self, iri: str) -> str:
        """`prefix:local` with the longest namespace that leaves a local part, else the IRI.
        Namespaces end with "/" or "#": only the IRI's cuts after one of those are looked up."""
        found = self._compact.get(iri)
        if found is None:
            found = iri
            end = len(iri) - 1  # a cut that leaves a local part
            while end > 0:
                cut = max(iri.rfind("/", 0, end), iri.rfind("#", 0, end))
                if cut < 0:
                    break
                name = self._namespaces.get(iri[: cut + 1])
                if name is not None and not iri.startswith("//", cut + 1):
                    found = f"{name}:{iri[cut + 1 :]}"
                    break
                end = cut
            self._compact[iri] = found
        return found


@cache
def _json_terms() -> _JsonTerms:
    return _JsonTerms(context_document()["@context"])


def _json_value(value: _Value, coercion: str | None, terms: _JsonTerms) -> tuple[bool, Any]:
    """The value as its property's term writes it (True, …), or in expanded form (False, …)."""
    kind, text, datatype, language = value
    if kind != "literal":
        ident = text if kind == "blank" else terms.compact(text)
        return (True, ident) if coercion == LINK else (False, {"id": ident})
    if language:
        return False, {"@value": text, "@language": language}  # language maps: see below
    if datatype in (None, _XSD_STRING):
        return (True, text) if coercion == "" else (False, text)
    if datatype == _XSD_INTEGER and _CANONICAL_INTEGER.fullmatch(text):
        return coercion == "", int(text)
    if datatype == _XSD_BOOLEAN and text in ("true", "false"):
        return coercion == "", text == "true"
    if coercion == datatype:
        return True, text
    return False, {"@value": text, "@type": terms.compact(datatype)}


def _node_object(subject: str, pairs: Iterable[tuple[str, _Value]]) -> dict[str, Any]:
    """One node object: `id`, `type`, the properties under their terms (links as compact IRIs,
    texts as language maps), values sorted, a single value without its list."""
    terms = _json_terms()
    members: dict[str, list[Any]] = {}
    languages: dict[str, dict[str, list[str]]] = {}
    for predicate, value in pairs:
        if predicate == _RDF_TYPE and value[0] != "literal":
            kind, text = value[0], value[1]
            members.setdefault("type", []).append(text if kind == "blank" else terms.compact(text))
            continue
        term, coercion = terms.terms.get(predicate, (None, None))
        if value[3] and coercion == LANGUAGE_MAP and term is not None:
            languages.setdefault(term, {}).setdefault(value[3], []).append(value[1])
            continue
        fits, written = _json_value(value, coercion, terms)
        key = term if fits and term is not None else terms.compact(predicate)
        members.setdefault(key, []).append(written)
    node: dict[str, Any] = {"id": subject}
    for key, values in members.items():
        ordered = _sorted_values(values)
        node[key] = ordered[0] if len(ordered) == 1 else ordered
    for key, by_language in languages.items():
        node[key] = {
            language: texts[0] if len(texts) == 1 else sorted(texts)
            for language, texts in sorted(by_language.items())
        }
    return node


def _sorted_values(values: list[Any]) -> list[Any]:
    if all(isinstance(value, str) for value in values):  # most lists: IRIs (as json.dumps sorts)
        return sorted(values, key=_json_string)
    return sorted(values, key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))


_json_string: Callable[[str], str] = json.encoder.encode_basestring  # json.dumps of a str


def _rdflib_value(node: Node) -> _Value:
    if isinstance(node, URIRef):
        return ("iri", str(node), None, None)
    if isinstance(node, BNode):
        return ("blank", node.n3(), None, None)
    if isinstance(node, Literal):
        datatype = str(node.datatype) if node.datatype is not None else None
        return ("literal", str(node), datatype, node.language)
    raise ExportError(f"cannot export the term {node!r}")


def _subject_id(node: Node) -> str:
    if isinstance(node, URIRef):
        return _json_terms().compact(checked_iri(node))
    if isinstance(node, BNode):
        return node.n3()
    raise ExportError(f"cannot export a triple whose subject is {node!r}")


def to_jsonld(graph: Graph) -> bytes:
    """Compact JSON-LD with the project's curated @context, nodes and values in a stable order."""
    nodes = _jsonld_nodes(graph)
    return b"".join(_jsonld_document(_json_pretty(node, "    ") for node in nodes))


def _jsonld_nodes(graph: Graph) -> list[dict[str, Any]]:
    """The graph's node objects (canonical blank nodes, sorted values), sorted by `id`."""
    by_subject: dict[Node, list[tuple[str, _Value]]] = {}
    for triple in canonical_triples(graph):
        check_triple(triple)
        subject, predicate, obj = triple
        if isinstance(obj, Literal) and SURROGATE.search(str(obj)):
            raise ExportError(f"cannot write JSON-LD: the literal {str(obj)[:40]!r} is not Unicode")
        by_subject.setdefault(subject, []).append((str(predicate), _rdflib_value(obj)))
    nodes = [_node_object(_subject_id(s), pairs) for s, pairs in by_subject.items()]
    return sorted(nodes, key=_node_order)


def _node_order(node: dict[str, Any]) -> tuple[str, str]:
    return (str(node.get("id", "")), json.dumps(node, sort_keys=True))


def _json_pretty(value: Any, margin: str) -> str:
    """`value` as `json.dumps(indent=2)` writes it, every line but the first after `margin`."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
    return text.replace("\n", "\n" + margin)


def _jsonld_document(nodes: Iterable[str]) -> Iterator[bytes]:
    """The document around the node objects (written at their depth in it), in chunks: what
    `json.dumps({"@context": …, "@graph": nodes}, indent=2, sort_keys=True)` gives."""
    context = {"@context": context_document()["@context"]}
    head = json.dumps(context, indent=2, ensure_ascii=False, sort_keys=True)[: -len("\n}")]
    batch: list[str] = [head + ',\n  "@graph": [\n    ']
    empty = True
    for node in nodes:
        if not empty:
            batch.append(",\n    ")
        batch.append(node)
        empty = False
        if len(batch) >= _BATCH // 10:
            yield "".join(batch).encode("utf-8")
            batch = []
    if empty:
        yield (head + ',\n  "@graph": []\n}\n').encode("utf-8")
        return
    batch.append("\n  ]\n}\n")
    yield "".join(batch).encode("utf-8")


# ---------------------------------------------------------------- JSON-LD framed around one kind
#
# `export --format jsonld --frame KIND`: the top-level nodes are the resources of one class (and
# its subclasses), each with the nodes it points to embedded (`embed`) and the nodes that point
# to it listed under a reverse term (`reverse`: "links" for the links whose French party it is).
# The frames are data: frames.json in the package.


@dataclass(frozen=True)
class Frame:
    """How to lay out the nodes around one node: what to embed, which reverse links to list."""

    embed: Mapping[str, Frame]
    reverse: Mapping[str, tuple[str, Frame]]  # reverse term -> (property IRI, frame)

    @classmethod
    def read(cls, spec: Mapping[str, Any]) -> Frame:
        expand = _json_terms().expand
        return cls(
            {expand(p): cls.read(inner) for p, inner in spec.get("embed", {}).items()},
            {
                name: (expand(inner["property"]), cls.read(inner))
                for name, inner in spec.get("reverse", {}).items()
            },
        )


@cache
def frames() -> dict[str, dict[str, Any]]:
    """The frames shipped with the package, by name."""
    text = files("coopdec_kg.publish").joinpath("frames.json").read_text(encoding="utf-8")
    found: dict[str, dict[str, Any]] = json.loads(text)
    return found


def to_framed_jsonld(graph: Graph, kind: str) -> bytes:
    """JSON-LD framed around one kind of resource (see `frames`)."""
    spec = frames().get(kind)
    if spec is None:
        raise ExportError(f"unknown frame {kind!r}: choose one of {', '.join(sorted(frames()))}")
    frame = Frame.read(spec)
    canonical = new_graph()  # canonical blank-node labels: the same bytes at every run
    for triple in canonical_triples(graph):
        canonical.add(triple)
    graph = canonical
    cls = URIRef(_json_terms().expand(spec["type"]))
    classes = set(graph.transitive_subjects(RDFS.subClassOf, cls))
    tops = sorted({s for c in classes for s in graph.subjects(RDF.type, c)}, key=str)
    nodes = [_framed_node(graph, top, frame, frozenset({top})) for top in tops]
    reverse_terms = _reverse_terms(frame, {})
    context = [context_document()["@context"], dict(sorted(reverse_terms.items()))]
    document = {"@context": context, "@graph": nodes}
    text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    return text.encode("utf-8")


def _reverse_terms(frame: Frame, found: dict[str, Any]) -> dict[str, Any]:
    compact = _json_terms().compact
    for name, (prop, inner) in frame.reverse.items():
        found[name] = {"@reverse": compact(prop), "@type": LINK}
        _reverse_terms(inner, found)
    for inner in frame.embed.values():
        _reverse_terms(inner, found)
    return found


def _framed_node(graph: Graph, node: Node, frame: Frame, seen: frozenset[Node]) -> Any:
    """The node object of `node`, its embedded and reverse nodes laid out by `frame` (a node
    already above it in the tree is only named, so that cycles end)."""
    pairs = [
        (str(p), _rdflib_value(o))
        for p, o in graph.predicate_objects(node)
        if str(p) not in frame.embed
    ]
    written = _node_object(_subject_id(node), pairs)
    for prop, inner in frame.embed.items():
        values = sorted(graph.objects(node, URIRef(prop)), key=str)
        key = _json_terms().terms.get(prop, (_json_terms().compact(prop), ""))[0]
        embedded = [_embedded(graph, value, inner, seen) for value in values]
        if embedded:
            written[key] = embedded[0] if len(embedded) == 1 else embedded
    for name, (prop, inner) in frame.reverse.items():
        referrers = sorted(graph.subjects(URIRef(prop), node), key=str)
        if referrers:
            written[name] = [_embedded(graph, r, inner, seen) for r in referrers]
    return written


def _embedded(graph: Graph, node: Node, frame: Frame, seen: frozenset[Node]) -> Any:
    if isinstance(node, Literal):
        return _json_value(_rdflib_value(node), "", _json_terms())[1]
    if node in seen or not any(graph.predicate_objects(node)):
        return _subject_id(node)
    return _framed_node(graph, node, frame, seen | {node})


# ---------------------------------------------------------------- at scale: N-Triples lines
#
# A national atlas (1.5 M triples) is too big for rdflib: about 40 s and 2 GB just to read it.
# At that scale the dump is made from N-Triples text instead (pyoxigraph parses the files in
# about 1.5 s: graph.read_ntriples), and the writers below give, byte for byte, what the writers
# above give for the same graph. The lines without blank nodes ("ground" lines: all of the atlas)
# are sorted and written directly. The other triples (blank nodes, which need rdflib.compare's
# canonical labels, and text that Oxigraph escapes where `quoted` does not) go through the
# writers above, with every other triple of their subjects, and are merged in place.

_NT_TYPE = b"<" + str(RDF.type).encode() + b">"
# What ground lines never hold: blank nodes ("_:"), and the escapes Oxigraph writes where
# `quoted` writes the character itself (U+FFFE, U+FFFF; "\\U" for good measure). A false
# alarm (the same text inside an IRI or a literal) only sends a line to the reference writers.
_BLANK = b"_:"
_ESCAPES_NOT_QUOTED = (b"\\uFFF", b"\\U")
_BATCH = 100_000  # lines joined at a time
_AFTER_ANY_LINE = b"\xff"  # sorts after every UTF-8 byte: bounds the lines of one subject
_SHORT_FORMS_NT = {
    str(datatype).encode(): re.compile(shape.pattern.encode())
    for datatype, shape in SHORT_FORMS.items()
}


@dataclass(frozen=True)
class _Lines:
    """A graph as `ground` N-Triples lines (sorted, unique, no "\\n", no blank node, nothing
    `_ESCAPES_NOT_QUOTED` names) and the `others`, as an rdflib graph for the reference writers."""

    ground: list[bytes]
    others: Graph


def _occurrences(text: bytes, needle: bytes) -> Iterator[int]:
    position = text.find(needle)
    while position >= 0:
        yield position
        position = text.find(needle, position + 1)


def _holds(ordered: list[bytes], line: bytes) -> bool:
    at = bisect_left(ordered, line)
    return at < len(ordered) and ordered[at] == line


def _lines_of(payload: bytes) -> _Lines:
    """The lines of N-Triples text, one triple a line (as pyoxigraph writes it)."""
    special: set[bytes] = set()

    def line_at(found: int) -> bytes:
        start = payload.rfind(b"\n", 0, found) + 1
        end = payload.find(b"\n", found)
        return payload[start : end if end >= 0 else len(payload)]

    # Searches for one byte (memchr) are many times faster than for two.
    for found in _occurrences(payload, b"_"):
        if payload.startswith(_BLANK, found):
            special.add(line_at(found))
    for found in _occurrences(payload, b"\\"):
        if payload.startswith(_ESCAPES_NOT_QUOTED, found):
            special.add(line_at(found))
    lines = payload.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    if not lines:
        return _Lines([], Graph(bind_namespaces="none"))
    unique = _sorted_unique(lines)
    del lines
    if not special:
        return _Lines(unique, Graph(bind_namespaces="none"))
    ground = [line for line in unique if line not in special]
    return _Lines(ground, parse_ntriples(b"\n".join(sorted(special))))


def _size(lines: _Lines) -> int:
    """The triples of a graph given as lines."""
    return len(lines.ground) + len(lines.others)


def _nt_line(triple: Triple) -> bytes:
    check_triple(triple)
    return (" ".join(nt_term(term) for term in triple) + " .").encode("utf-8")


def _lines_of_graph(graph: Graph) -> _Lines:
    """A (small) rdflib graph as `_Lines`."""
    others = Graph(bind_namespaces="none")
    ground = set()
    for triple in graph:
        if any(isinstance(term, BNode) for term in triple):
            others.add(triple)
        else:
            ground.add(_nt_line(triple))
    return _Lines(sorted(ground), others)


def _sorted_unique(lines: list[bytes]) -> list[bytes]:
    """The lines sorted, each once (in place: `lines` is sorted too)."""
    if not lines:
        return []
    lines.sort()
    unique = list(compress(lines, map(ne, lines, islice(lines, 1, None))))  # all but the last
    unique.append(lines[-1])
    return unique


def _union(parts: Sequence[_Lines]) -> _Lines:
    """The union of graphs given as lines. Each part is sorted already: Python's sort finds those
    runs and merges them, in about linear time however many big parts there are (an atlas in
    parts)."""
    ground = _sorted_unique(list(chain.from_iterable(part.ground for part in parts)))
    others = Graph(bind_namespaces="none")
    for part in parts:
        for triple in part.others:
            others.add(triple)
    return _Lines(ground, others)


def _nt_terms(graph: Graph) -> list[tuple[bytes, bytes, bytes]]:
    """The triples of a (small) graph as N-Triples terms, for counting beside ground lines."""
    return [(nt_term(s).encode(), nt_term(p).encode(), nt_term(o).encode()) for s, p, o in graph]


def _subject_end(ground: list[bytes], start: int) -> int:
    """Where the lines of the subject of `ground[start]` end."""
    line = ground[start]
    prefix = line[: line.index(b" ") + 1]
    return bisect_left(ground, prefix + _AFTER_ANY_LINE, start + 1)


def _split_for_reference(lines: _Lines) -> tuple[list[bytes], Graph]:
    """The ground lines the line writers write, and a graph of every triple of the subjects the
    reference writers must write (those that have a triple among the others)."""
    if not len(lines.others):
        return lines.ground, lines.others
    ground = lines.ground
    spans = []
    for subject in sorted({s for s in lines.others.subjects() if isinstance(s, URIRef)}):
        prefix = b"<" + str(subject).encode("utf-8") + b"> "
        start = bisect_left(ground, prefix)
        if start < len(ground) and ground[start].startswith(prefix):
            spans.append((start, _subject_end(ground, start)))
    reference = Graph(bind_namespaces="none")
    for triple in lines.others:
        reference.add(triple)
    if not spans:
        return ground, reference
    for triple in parse_ntriples(b"\n".join(line for a, b in spans for line in ground[a:b])):
        reference.add(triple)
    kept: list[bytes] = []
    position = 0
    for start, end in sorted(spans):
        kept.extend(ground[position:start])
        position = end
    kept.extend(ground[position:])
    return kept, reference


# ---------------------------------------------------------------- N-Triples, from lines


def _lines_to_ntriples(lines: _Lines) -> Iterator[bytes]:
    """What `to_ntriples` writes for the same graph, in chunks."""
    others = sorted(_nt_line(triple) for triple in canonical_triples(lines.others))
    ground = lines.ground
    position = 0
    for line in [*others, None]:
        stop = len(ground) if line is None else bisect_right(ground, line, position)
        for start in range(position, stop, _BATCH):
            yield b"\n".join(ground[start : min(start + _BATCH, stop)])
            yield b"\n"
        if line is not None:
            yield line + b"\n"
        position = stop


# ---------------------------------------------------------------- Turtle and TriG, from lines


def _literal_key(literal: bytes) -> bytes:
    """`sort_key` of an N-Triples literal, as bytes that sort the same way: the lexical form,
    its datatype and its language, each ended by two NULs (a NUL of the text becomes NUL SOH)."""
    close = literal.rindex(b'"')
    lexical = literal[1:close]
    if b"\\" in lexical:
        lexical = unescape_ntriples(lexical.decode("utf-8")).encode("utf-8")
        lexical = lexical.replace(b"\x00", b"\x00\x01")
    suffix = literal[close + 1 :]
    if suffix[:2] == b"^^":
        return lexical + b"\x00\x00" + suffix[3:-1] + b"\x00\x00"
    return lexical + b"\x00\x00\x00\x00" + suffix[1:]


def _turtle_key(line: bytes) -> bytes:
    """The order `TurtleBody` writes a ground triple in: subject, then rdf:type first and the
    other predicates by IRI, then IRIs before literals (`predicate_key`, `sort_key`)."""
    subject, predicate, rest = line.split(b" ", 2)
    obj = rest[:-2]
    verb = b"" if predicate == _NT_TYPE else predicate[1:-1]
    if obj[:1] == b"<":
        return subject[1:-1] + b"\x00" + verb + b"\x00\x01" + obj[1:-1]
    return subject[1:-1] + b"\x00" + verb + b"\x00\x03" + _literal_key(obj)


def _ground_blocks(
    ordered: Iterable[bytes], namer: Namer, margin: str
) -> Iterator[tuple[bytes, bytes]]:
    """(subject IRI, block) for each subject of lines in `_turtle_key` order, written as
    `TurtleBody` writes a subject without blank nodes, each line after `margin`."""
    iris: dict[bytes, bytes] = {}

    def iri(term: bytes) -> bytes:
        found = iris.get(term)
        if found is None:
            found = iris[term] = namer.text(term[1:-1].decode("utf-8")).encode("utf-8")
        return found

    def obj(term: bytes) -> bytes:
        if term[:1] == b"<":
            return iri(term)
        close = term.rindex(b'"')
        suffix = term[close + 1 :]
        if suffix[:2] != b"^^":
            return term
        datatype = suffix[3:-1]
        shape = _SHORT_FORMS_NT.get(datatype)
        if shape is not None and shape.fullmatch(term, 1, close):
            return term[1:close]
        return term[: close + 1] + b"^^" + iri(suffix[2:])

    first = (margin + INDENT).encode()
    second = b",\n" + (margin + 2 * INDENT).encode()
    head = margin.encode()

    def part(verb: bytes, objects: list[bytes]) -> bytes:
        if len(objects) == 1:
            return first + verb + b" " + objects[0]
        return first + verb + second[1:] + second.join(objects)

    subject = predicate = verb = title = b""
    parts: list[bytes] = []
    objects: list[bytes] = []
    for line in ordered:
        s, p, rest = line.split(b" ", 2)
        if s != subject:
            if objects:
                parts.append(part(verb, objects))
                yield subject[1:-1], title + b" ;\n".join(parts) + b" .\n"
            subject, predicate, parts, objects = s, p, [], []
            title = head + namer.render(s[1:-1].decode("utf-8")).encode("utf-8") + b"\n"
            verb = b"a" if p == _NT_TYPE else iri(p)
        elif p != predicate:
            parts.append(part(verb, objects))
            predicate, objects = p, []
            verb = b"a" if p == _NT_TYPE else iri(p)
        objects.append(obj(rest[:-2]))
    if objects:
        parts.append(part(verb, objects))
        yield subject[1:-1], title + b" ;\n".join(parts) + b" .\n"


def _lines_to_blocks(
    lines: _Lines, namer: Namer, blank_prefix: str = "", margin: str = ""
) -> list[bytes]:
    """The blocks `TurtleBody(...).blocks()` gives for the same graph, each line after `margin`."""
    ground, reference = _split_for_reference(lines)
    keyed = TurtleBody(canonical_triples(reference), namer, blank_prefix).keyed_blocks()
    named = [
        (str(root).encode("utf-8"), indented(block, margin).encode("utf-8"))
        for root, block in keyed
        if isinstance(root, URIRef)
    ]
    blocks: list[bytes] = []
    waiting = 0
    for subject, block in _ground_blocks(sorted(ground, key=_turtle_key), namer, margin):
        while waiting < len(named) and named[waiting][0] < subject:
            blocks.append(named[waiting][1])
            waiting += 1
        blocks.append(block)
    blocks.extend(block for _, block in named[waiting:])
    blocks.extend(
        indented(block, margin).encode("utf-8")
        for root, block in keyed
        if not isinstance(root, URIRef)
    )
    return blocks


def _lines_to_turtle(lines: _Lines, namespaces: Mapping[str, str] | None = None) -> bytes:
    """What `to_turtle` writes for the same graph."""
    namer = Namer(prefixes() if namespaces is None else namespaces)
    body = b"\n".join(_lines_to_blocks(lines, namer))
    header = namer.header().encode("utf-8")
    return header + (b"\n" if header and body else b"") + body


def _lines_to_trig(
    graphs: Mapping[URIRef, _Lines], namespaces: Mapping[str, str] | None = None
) -> bytes:
    """What `to_trig` writes for the same named graphs."""
    namer = Namer(prefixes() if namespaces is None else namespaces)
    taken: set[str] = set()
    sections = []
    for name in sorted(graphs, key=str):
        prefix = graph_label_prefix(name, taken)
        body = b"\n".join(_lines_to_blocks(graphs[name], namer, prefix, INDENT))
        label = namer.iri(name).encode("utf-8")
        sections.append(label + (b" {\n" + body + b"}\n" if body else b" { }\n"))
    header = namer.header().encode("utf-8")
    return header + (b"\n" if header and sections else b"") + b"\n".join(sections)


# ---------------------------------------------------------------- JSON-LD, from lines


def _line_value(term: bytes) -> _Value:
    """An N-Triples object (IRI or literal: ground lines hold no blank node) as a `_Value`."""
    if term[:1] == b"<":
        return ("iri", term[1:-1].decode("utf-8"), None, None)
    close = term.rindex(b'"')
    lexical = term[1:close].decode("utf-8")
    if "\\" in lexical:
        lexical = unescape_ntriples(lexical)
    suffix = term[close + 1 :]
    if suffix[:2] == b"^^":
        return ("literal", lexical, suffix[3:-1].decode("utf-8"), None)
    if suffix[:1] == b"@":
        return ("literal", lexical, None, suffix[1:].decode("utf-8"))
    return ("literal", lexical, None, None)


def _ground_node(lines: list[bytes]) -> str:
    """The node object of one subject's ground lines, as `_json_pretty(node, "    ")` writes it."""
    pairs = []
    for line in lines:
        _, predicate, rest = line.split(b" ", 2)
        pairs.append((predicate[1:-1].decode("utf-8"), _line_value(rest[:-2])))
    subject = lines[0][1 : lines[0].index(b" ") - 1].decode("utf-8")
    return _json_pretty(_node_object(_json_terms().compact(subject), pairs), "    ")


def _lines_to_jsonld(lines: _Lines) -> Iterator[bytes]:
    """What `to_jsonld` writes for the same graph, in chunks."""
    ground, reference = _split_for_reference(lines)
    compact = _json_terms().compact
    nodes: list[tuple[str, int, int]] = []  # id, then where the lines are (or -1, index)
    start = 0
    while start < len(ground):
        end = _subject_end(ground, start)
        subject = ground[start][1 : ground[start].index(b" ") - 1].decode("utf-8")
        nodes.append((compact(subject), start, end))
        start = end
    others = _jsonld_nodes(reference) if len(reference) else []
    nodes.extend((str(node.get("id", "")), -1, index) for index, node in enumerate(others))
    nodes.sort()

    def texts() -> Iterator[str]:
        for _, first, last in nodes:
            if first < 0:
                yield _json_pretty(others[last], "    ")
            else:
                yield _ground_node(ground[first:last])

    yield from _jsonld_document(texts())
