"""The only module that parses RDF: it loads the ontology and the data into the embedded store.

rdflib is the engine today; callers get an `rdflib.Graph` through these functions only, so a
faster store can replace it here without touching them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import Any
from xml.parsers import expat

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Node

from coopdec_kg.content.namespaces import CDR, prefixes
from coopdec_kg.content.project import Project
from coopdec_kg.errors import InputError, RdfSyntaxError


def new_graph() -> Graph:
    """An empty graph that knows the project's prefixes (and only those)."""
    graph = Graph(bind_namespaces="none")
    for prefix, namespace in prefixes().items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph


def parse_turtle(path: Path, into: Graph | None = None) -> Graph:
    """Parse one trusted Turtle file of the content folder."""
    graph = new_graph() if into is None else into
    try:
        graph.parse(path, format="turtle")
    except Exception as error:  # rdflib raises many unrelated types for bad syntax
        raise RdfSyntaxError(path, str(error)) from error
    return graph


def parse_package_turtle(package: str, name: str) -> Graph:
    """Parse a Turtle template shipped inside a package (e.g. the dataset metadata)."""
    resource = files(package).joinpath(name)
    graph = new_graph()
    try:
        graph.parse(data=resource.read_text(encoding="utf-8"), format="turtle")
    except Exception as error:  # same reason as parse_turtle
        raise RdfSyntaxError(str(resource), str(error)) from error
    return graph


def load_ontology(project: Project) -> Graph:
    """The OWL ontology alone (TBox)."""
    return parse_turtle(project.ontology_file)


def load_data(project: Project) -> Graph:
    """Every file of data/ (ABox), merged."""
    graph = new_graph()
    for path in project.data_files:
        parse_turtle(path, into=graph)
    return graph


def load_graph(project: Project) -> Graph:
    """Ontology and data together: the graph that queries and exports see."""
    graph = load_ontology(project)
    for path in project.data_files:
        parse_turtle(path, into=graph)
    return graph


RDFLIB_FORMAT_BY_SUFFIX = {".ttl": "turtle", ".nt": "nt", ".nq": "nquads", ".trig": "trig"}


def load_graph_with(project: Project, extra: Sequence[Path]) -> Graph:
    """Ontology, data and extra trusted files (e.g. a synthetic atlas): the rdflib reference."""
    return _parse_extra(load_graph(project), extra)


def load_data_with(project: Project, extra: Sequence[Path]) -> Graph:
    """The data and the extra trusted files, without the ontology (what a dump calls data)."""
    return _parse_extra(load_data(project), extra)


def _parse_extra(graph: Graph, extra: Sequence[Path]) -> Graph:
    for path in extra:
        try:
            graph.parse(path, format=RDFLIB_FORMAT_BY_SUFFIX.get(path.suffix, "turtle"))
        except Exception as error:  # rdflib raises many unrelated types for bad syntax
            raise RdfSyntaxError(path, str(error)) from error
    return graph


# ---------------------------------------------------------------- trusted files as N-Triples
#
# At national scale rdflib is too slow to read the content (≈ 40 s and 2 GB for 1.5 M triples);
# pyoxigraph's parser reads it in about 1.5 s. Exports consume its N-Triples text directly, so
# the terms must be those rdflib would have read: rdflib rewrites a typed literal in the canonical
# form of its value ("01"^^xsd:integer becomes "1", "1e3"^^xsd:double "1000.0"), and so
# does `read_ntriples`. The one difference left is that Oxigraph lowercases language tags.

_OXIGRAPH_FILE_FORMATS = {".ttl": "TURTLE", ".nt": "N_TRIPLES", ".nq": "N_QUADS", ".trig": "TRIG"}
# A typed literal at the end of an N-Triples line: its escaped lexical form and its datatype.
_TYPED_LITERAL = re.compile(rb'"([^"\\\n]*(?:\\.[^"\\\n]*)*)"\^\^<([^>\n]*)> \.$', re.MULTILINE)
_NT_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)
_NT_SIMPLE_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f"}
_NT_TO_ESCAPE = re.compile('[\\\\"\x00-\x1f\x7f\ufffe\uffff]')
NT_ESCAPES = {  # what N-Triples and Turtle strings escape with a short form
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def unescape_ntriples(text: str) -> str:
    """The characters an N-Triples string escapes stand for."""

    def replace(match: re.Match[str]) -> str:
        short, long, char = match.groups()
        if short or long:
            return chr(int(short or long, 16))
        return _NT_SIMPLE_ESCAPES.get(char, char)

    return _NT_ESCAPE.sub(replace, text) if "\\" in text else text


def ntriples_term(node: Node) -> str:
    """One term in N-Triples syntax (IRIs as checked by the parser that produced them)."""
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, BNode):
        return f"_:{node}"
    if isinstance(node, Literal):
        quoted = f'"{_escape_ntriples(str(node))}"'
        if node.language:
            return f"{quoted}@{node.language}"
        if node.datatype is not None and node.datatype != XSD.string:
            return f"{quoted}^^<{node.datatype}>"
        return quoted
    raise TypeError(f"not an RDF term: {node!r}")


def _escape_ntriples(text: str) -> str:
    """A string's content as Oxigraph writes it in N-Triples."""

    def replace(match: re.Match[str]) -> str:
        char = match.group()
        return NT_ESCAPES.get(char) or f"\\u{ord(char):04X}"

    return _NT_TO_ESCAPE.sub(replace, text)


@dataclass(frozen=True)
class NTriples:
    """A file read as N-Triples text, and the typed literals it holds (lexical form, datatype
    IRI), which come for free with the reading (e.g. for the dates a dataset covers)."""

    text: bytes
    typed_literals: frozenset[tuple[str, str]]


def read_ntriples(path: Path) -> NTriples:
    """A trusted content file as N-Triples (one triple a line, unsorted), parsed by pyoxigraph.

    Blank nodes get fresh labels, so two files never share one (as when rdflib parses them);
    only the triples of the default graph of a TriG or N-Quads file are kept (what the store's
    queries see). Typed literals are in the lexical form rdflib would give them (see above).
    """
    import pyoxigraph

    rdf_format = getattr(pyoxigraph.RdfFormat, _OXIGRAPH_FILE_FORMATS.get(path.suffix, "TURTLE"))
    try:
        parsed = pyoxigraph.parse(path=str(path), format=rdf_format, rename_blank_nodes=True)
        quads: Iterable[Any] = parsed
        if path.suffix in (".nq", ".trig"):
            default = pyoxigraph.DefaultGraph()
            quads = (quad for quad in parsed if quad.graph_name == default)
        payload = pyoxigraph.serialize(quads, format=pyoxigraph.RdfFormat.N_TRIPLES)
    except (SyntaxError, ValueError) as error:
        raise RdfSyntaxError(path, str(error)) from error
    except MemoryError as error:
        raise RdfSyntaxError(path, _too_long(error)) from None
    except OSError as error:
        raise RdfSyntaxError(path, f"cannot read ({error.strerror or error})") from error
    return _as_rdflib_reads(payload or b"")


def parse_ntriples(payload: bytes) -> Graph:
    """Parse N-Triples this tool has produced (e.g. lines `read_ntriples` gave) with rdflib."""
    graph = Graph(bind_namespaces="none")
    try:
        with quiet_literal_warnings():
            graph.parse(data=payload.decode("utf-8"), format="nt")
    except Exception as error:  # same reason as parse_turtle
        raise RdfSyntaxError("N-Triples", str(error)) from error
    return graph


def _typed_literals(payload: bytes) -> set[tuple[bytes, bytes]]:
    """The (escaped lexical form, datatype) of every typed literal of N-Triples text.

    A byte search for the end of each literal, twice as fast as `_TYPED_LITERAL.findall`; a
    line whose literal holds an escaped quote is left to the regular expression.
    """
    found: set[tuple[bytes, bytes]] = set()
    end = payload.find(b'"^^<')
    while end >= 0:
        line_end = payload.find(b"\n", end)
        if line_end < 0:
            line_end = len(payload)
        start = payload.rfind(b'> "', 0, end)  # the predicate, then the opening quote
        if payload[end - 1] == 0x5C or payload.find(b"\\", start, end) >= 0:  # backslash
            line_start = payload.rfind(b"\n", 0, end) + 1
            match = _TYPED_LITERAL.search(payload, line_start, line_end + 1)
            if match:
                found.add((match.group(1), match.group(2)))
        else:
            close = payload.find(b"> .", end)
            found.add((payload[start + 3 : end], payload[end + 4 : close]))
        end = payload.find(b'"^^<', line_end)
    return found


def _as_rdflib_reads(payload: bytes) -> NTriples:
    """Rewrite the typed literals whose lexical form rdflib would normalise."""
    changes: dict[tuple[bytes, bytes], bytes] = {}
    typed = set()
    with quiet_literal_warnings():
        for lexical, datatype in _typed_literals(payload):
            text = unescape_ntriples(lexical.decode("utf-8"))
            kind = datatype.decode("utf-8")
            normal = str(Literal(text, datatype=URIRef(kind)))
            typed.add((normal, kind))
            if normal != text:
                changes[lexical, datatype] = _escape_ntriples(normal).encode("utf-8")
    if not changes:
        return NTriples(payload, frozenset(typed))

    def rewrite(match: re.Match[bytes]) -> bytes:
        lexical, datatype = match.groups()
        normal = changes.get((lexical, datatype))
        return match.group() if normal is None else b'"%s"^^<%s> .' % (normal, datatype)

    return NTriples(_TYPED_LITERAL.sub(rewrite, payload), frozenset(typed))


# ---------------------------------------------------------------- untrusted submissions
#
# A submission is a file someone else wrote. Parsing it must never make the tool read another
# file or reach the network, nor let the file change the project's ontology or shapes. The
# parsers are pyoxigraph's (Turtle, N-Triples, JSON-LD, RDF/XML): they never fetch a remote
# JSON-LD @context, reject invalid IRIs, literal subjects and lone surrogates, and stay linear
# on deep nesting where rdflib recurses. The checks they lack are done here, before parsing:
# size, UTF-8, nesting depth (pyoxigraph's JSON-LD parser overflows its stack on deep
# nesting) and RDF/XML DTDs (entity expansion).

SUBMISSION_NAMESPACE = CDR + "submission/"
COUNTRY = "http://publications.europa.eu/resource/authority/country/"
SKOLEM_PATH = ".well-known/genid/"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_TRIPLES = 50_000
MAX_NESTING = 100
MAX_LITERAL_CHARS = 100_000
ALLOWED_SCHEMES = ("http", "https", "urn")
INPUT_FORMATS = {
    "turtle": "Turtle",
    "nt": "N-Triples",
    "jsonld": "JSON-LD",
    "xml": "RDF/XML",
}
# Spreadsheets that `import` maps to RDF (coopdec_kg.tabular): a submission's record names them.
SHEET_FORMATS = {"csv": "CSV", "xlsx": "XLSX", "ods": "ODS"}
FORMAT_NAMES = {**INPUT_FORMATS, **SHEET_FORMATS}
_FORMAT_BY_SUFFIX = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".nt": "nt",
    ".jsonld": "jsonld",
    ".json": "jsonld",
    ".rdf": "xml",
    ".owl": "xml",
    ".xml": "xml",
}
# Schema statements a submission may not make: it would change what the shapes see.
_SCHEMA_PREDICATES = frozenset(
    {
        RDFS.subClassOf,
        RDFS.subPropertyOf,
        RDFS.domain,
        RDFS.range,
        OWL.equivalentClass,
        OWL.equivalentProperty,
        OWL.inverseOf,
        OWL.imports,
        OWL.disjointWith,
        OWL.propertyDisjointWith,
    }
)
_INERT_TYPES = frozenset({OWL.NamedIndividual, OWL.Thing})
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# Control characters a literal of a submission may not hold (tab, line feed and carriage return
# are text): they would reach terminals and files raw (an ESC starts a terminal command).
_LITERAL_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


Triple = tuple[Node, URIRef, Node]


@dataclass(frozen=True)
class Submission:
    """One parsed submission: its distinct triples, blank nodes skolemised, foreign schema
    removed."""

    path: Path
    input_format: str
    digest: str
    triples: tuple[Triple, ...]
    ignored_triples: int
    normalised_literals: int

    @cached_property
    def graph(self) -> Graph:
        """The triples as an rdflib graph, built when first asked (a second for 50 000
        triples, which validating on the store does without)."""
        graph = new_graph()
        for triple in self.triples:
            graph.add(triple)
        return graph

    @property
    def identifier(self) -> str:
        """Short, stable id: the first 16 hex digits of the file's SHA-256."""
        return self.digest[:16]

    @property
    def iri(self) -> URIRef:
        """The submission record: the source every new node of the submission points to."""
        return URIRef(SUBMISSION_NAMESPACE + self.identifier)


def submission_format(path: Path, input_format: str | None = None) -> str:
    """The input format: explicit, else from the file name's extension."""
    if input_format is not None:
        if input_format not in INPUT_FORMATS:
            known = ", ".join(INPUT_FORMATS)
            raise InputError(f"unknown input format {input_format!r} (known: {known})")
        return input_format
    found = _FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if found is None:
        known = " ".join(sorted(_FORMAT_BY_SUFFIX))
        raise InputError(
            f"{path}: cannot tell the format from the extension (known: {known}); "
            "use --input-format"
        )
    return found


def parse_submission(
    path: Path,
    input_format: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_triples: int = DEFAULT_MAX_TRIPLES,
) -> Submission:
    """Parse one untrusted file (see the section comment); InputError or RdfSyntaxError if unfit.

    Relative IRIs resolve against the submission's own IRI (never a local path); blank nodes
    become IRIs under it, numbered in order of appearance, so that two submissions never
    share a node by accident and the same file always gives the same IRIs. SHACL shapes,
    owl:imports and statements about vocabulary terms are dropped (counted in
    `ignored_triples`): only the project's ontology and shapes apply.
    """
    fmt = submission_format(path, input_format)
    check_file_name(path)
    return parse_submission_bytes(path, read_bounded(path, max_bytes), fmt, max_triples)


def parse_submission_bytes(
    name: Path, payload: bytes, fmt: str, max_triples: int = DEFAULT_MAX_TRIPLES
) -> Submission:
    """`parse_submission` of a file already read (an upload to `serve`, held in memory): `name`
    only names it in messages and in the record, `fmt` is one of INPUT_FORMATS."""
    digest = hashlib.sha256(payload).hexdigest()
    return parse_submission_payload(name, payload, fmt, digest, max_triples)


def parse_submission_payload(
    path: Path,
    payload: bytes,
    fmt: str,
    digest: str,
    max_triples: int = DEFAULT_MAX_TRIPLES,
    recorded_format: str | None = None,
) -> Submission:
    """Parse a submission's RDF text, named after `path` and identified by `digest`, with the
    same checks as `parse_submission`. A spreadsheet import passes the Turtle its mapping
    wrote, the SHA-256 of the spreadsheet and its format (`recorded_format`, one of
    SHEET_FORMATS), so that the record names the file the person gave."""
    if payload.startswith(b"\xef\xbb\xbf"):
        payload = payload[3:]
    _check_text(path, payload, fmt)
    base = f"{SUBMISSION_NAMESPACE}{digest[:16]}/"
    triples, normalised = _parse_untrusted(path, payload, fmt, base, max_triples)
    kept, ignored = _without_foreign_schema(triples)
    if not kept:
        what = "no triples" if not triples else "only shapes, imports or vocabulary statements"
        raise InputError(f"{path}: nothing to validate ({what})")
    skolem: dict[BNode, URIRef] = {}
    distinct = dict.fromkeys(
        (_skolem(subject, skolem, base), predicate, _skolem(obj, skolem, base))
        for subject, predicate, obj in kept
    )
    recorded = recorded_format or fmt
    return Submission(path, recorded, digest, tuple(distinct), ignored, normalised)


def check_file_name(path: Path) -> None:
    """A submitted file's name goes into its record and into messages: it must be text.

    A name that is not UTF-8 (it reaches Python as lone surrogates) or holds a control character
    (a carriage return ends a Turtle comment for some parsers; an ESC drives terminals) is
    refused rather than altered, so that the record names the file exactly.
    """
    name = path.name
    shown = name.encode("utf-8", "backslashreplace").decode("utf-8")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"the file name {shown!r} is not UTF-8 text: rename the file") from None
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise InputError(f"the file name {shown!r} holds a control character: rename the file")


def reads_back(payload: bytes, triples: Iterable[tuple[Node, Node, Node]]) -> bool:
    """Whether Turtle this tool has just written reads back as exactly `triples`, proved before
    it is stored. The Turtle is read by pyoxigraph, the W3C-conformant parser that loads the
    store (rdflib's parser and graph comparison took most of a large commit), and written back
    as N-Triples lines, compared with the triples' own lines; the triples hold no blank node (a
    submission's are made IRIs), so the same graph is the same set of lines. Should a term be
    written otherwise than Oxigraph writes it (an escape), both sets of lines are read and
    compared as terms."""
    import pyoxigraph

    written: dict[Node, str] = {}  # IRIs repeat (predicates, classes, the record)

    def term(node: Node) -> str:
        if not isinstance(node, URIRef):  # rdflib's "01"^^xsd:integer equals "1"^^xsd:integer
            return ntriples_term(node)
        found = written.get(node)
        if found is None:
            found = written[node] = ntriples_term(node)
        return found

    expected = {f"{term(s)} {term(p)} {term(o)} ." for s, p, o in triples}
    nt = pyoxigraph.RdfFormat.N_TRIPLES
    try:
        parsed = pyoxigraph.parse(payload, format=pyoxigraph.RdfFormat.TURTLE)
        lines = pyoxigraph.serialize(parsed, format=nt) or b""
        read = set(lines.decode("utf-8").splitlines())
        if read == expected:
            return True
        return set(pyoxigraph.parse("\n".join(read).encode("utf-8"), format=nt)) == set(
            pyoxigraph.parse("\n".join(expected).encode("utf-8"), format=nt)
        )
    except (SyntaxError, ValueError):
        return False


def read_bounded(path: Path, max_bytes: int) -> bytes:
    try:
        status = path.stat()
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from error
    if not stat.S_ISREG(status.st_mode):
        raise InputError(f"{path}: not a regular file")
    if status.st_size > max_bytes:
        raise InputError(f"{path}: {status.st_size} bytes, more than the limit of {max_bytes}")
    try:
        with path.open("rb") as stream:
            payload = stream.read(max_bytes + 1)
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from error
    if len(payload) > max_bytes:
        raise InputError(f"{path}: more than the limit of {max_bytes} bytes")
    return payload


def _check_text(path: Path, payload: bytes, fmt: str) -> None:
    """What pyoxigraph does not check: UTF-8, RDF/XML DTDs, nesting depth."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text (byte {error.start})") from error
    if fmt == "xml":
        _check_rdfxml(path, payload)
    elif fmt == "jsonld":
        _check_jsonld(path, text)


def _check_rdfxml(path: Path, payload: bytes) -> None:
    declared = _XML_ENCODING.match(payload)
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise InputError(f"{path}: RDF/XML must be encoded in UTF-8")
    if _DTD.search(payload):
        raise InputError(
            f"{path}: RDF/XML with a DTD or entity declarations is refused "
            "(entity expansion and external entities are unsafe)"
        )
    parser = expat.ParserCreate()
    depth = 0

    def start(_name: str, _attributes: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_NESTING:
            raise InputError(f"{path}: XML elements nested more than {MAX_NESTING} deep")

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    def refuse(*_args: object) -> None:
        raise InputError(f"{path}: RDF/XML with a DTD is refused")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(payload, True)
    except expat.ExpatError as error:
        raise RdfSyntaxError(path, f"not well-formed XML: {error}") from error


def _check_jsonld(path: Path, text: str) -> None:
    try:
        document = json.loads(text)
    except RecursionError as error:
        raise InputError(f"{path}: JSON nested more than {MAX_NESTING} deep") from error
    except ValueError as error:
        raise RdfSyntaxError(path, f"not JSON: {error}") from error
    pending: list[tuple[object, int]] = [(document, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_NESTING:
            raise InputError(f"{path}: JSON nested more than {MAX_NESTING} deep")
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "@import" or (key == "@context" and _names_remote_context(value)):
                    raise InputError(
                        f"{path}: remote JSON-LD contexts are never fetched; "
                        "write the @context inline in the file"
                    )
                pending.append((value, depth + 1))
        elif isinstance(node, list):
            pending.extend((item, depth + 1) for item in node)


def _names_remote_context(value: object) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, list) and any(isinstance(item, str) for item in value)


_OXIGRAPH_FORMATS = {
    "turtle": "TURTLE",
    "nt": "N_TRIPLES",
    "jsonld": "JSON_LD",
    "xml": "RDF_XML",
}


def _parse_untrusted(
    path: Path, payload: bytes, fmt: str, base: str, max_triples: int
) -> tuple[list[tuple[Node, URIRef, Node]], int]:
    """Parse with pyoxigraph, convert to rdflib terms and check every term on the way."""
    import pyoxigraph

    converter = _TermConverter(path)
    triples: list[tuple[Node, URIRef, Node]] = []
    try:
        parsed = pyoxigraph.parse(
            payload,
            format=getattr(pyoxigraph.RdfFormat, _OXIGRAPH_FORMATS[fmt]),
            base_iri=base,
            without_named_graphs=True,
        )
        with quiet_literal_warnings():
            for quad in parsed:
                if len(triples) >= max_triples:
                    raise InputError(
                        f"{path}: more than {max_triples} triples; split the submission"
                    )
                triples.append(
                    (
                        converter.subject(quad.subject),
                        converter.iri(quad.predicate),
                        converter.object(quad.object),
                    )
                )
    except (SyntaxError, ValueError) as error:
        raise RdfSyntaxError(path, str(error)) from error
    except MemoryError as error:  # pyoxigraph: one token longer than its 16 MiB buffer
        raise InputError(f"{path}: {_too_long(error)}") from None
    return triples, converter.normalised


def _too_long(error: MemoryError) -> str:
    """What pyoxigraph's MemoryError means for the person who wrote the file."""
    return (
        "one token (a comment, a literal or an IRI) is too long for the parser "
        f"({' '.join(str(error).split()) or 'out of memory'})"
    )


class _TermConverter:
    """pyoxigraph terms → rdflib terms, refusing what must not enter the graph."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.blank_nodes: dict[str, BNode] = {}
        self.normalised = 0
        # Terms repeat (predicates, classes, the CA named on every line): each is checked once.
        self._iris: dict[str, URIRef] = {}
        self._literals: dict[Any, tuple[Literal, bool]] = {}

    def subject(self, term: Any) -> Node:
        import pyoxigraph

        if isinstance(term, pyoxigraph.BlankNode):
            return self.blank_nodes.setdefault(term.value, BNode())
        if isinstance(term, pyoxigraph.NamedNode):
            return self.iri(term)
        raise InputError(f"{self.path}: RDF 1.2 triple terms are not supported")

    def object(self, term: Any) -> Node:
        import pyoxigraph

        if isinstance(term, pyoxigraph.Literal):
            return self.literal(term)
        return self.subject(term)

    def iri(self, term: Any) -> URIRef:
        value = str(term.value)
        found = self._iris.get(value)
        if found is None:
            found = self._iris[value] = self._checked_iri(value)
        return found

    def _checked_iri(self, value: str) -> URIRef:
        scheme = value.split(":", 1)[0].lower()
        if scheme not in ALLOWED_SCHEMES:
            raise InputError(
                f"{self.path}: IRI <{value}> refused (allowed schemes: "
                f"{', '.join(ALLOWED_SCHEMES)})"
            )
        if unicodedata.normalize("NFC", value) != value:
            raise InputError(f"{self.path}: IRI <{value}> is not in Unicode NFC form")
        iri = URIRef(value)
        try:
            iri.n3()
        except Exception as error:  # rdflib raises a bare Exception for invalid IRIs
            raise InputError(f"{self.path}: invalid IRI <{value}>") from error
        return iri

    def literal(self, term: Any) -> Literal:
        found = self._literals.get(term)
        if found is None:
            before = self.normalised
            found = self._literals[term] = (self._checked_literal(term), self.normalised > before)
        elif found[1]:
            self.normalised += 1
        return found[0]

    def _checked_literal(self, term: Any) -> Literal:
        if term.direction is not None:
            raise InputError(f"{self.path}: literals with a base direction are not supported")
        value = term.value
        if len(value) > MAX_LITERAL_CHARS:
            raise InputError(f"{self.path}: literal longer than {MAX_LITERAL_CHARS} characters")
        control = _LITERAL_CONTROL.search(value)
        if control:
            raise InputError(
                f"{self.path}: a literal holds the control character "
                f"U+{ord(control.group()):04X} ({value[: control.start()][-40:]!r}…); "
                "only tab, line feed and carriage return are allowed in text"
            )
        normal = unicodedata.normalize("NFC", value)
        if normal != value:
            self.normalised += 1
        if term.language is not None:
            return Literal(normal, lang=term.language)
        datatype = self.iri(term.datatype)
        if datatype == XSD.string:
            return Literal(normal)
        literal = Literal(normal, datatype=datatype)
        if literal.ill_typed:
            short = datatype.n3(new_graph().namespace_manager)
            raise InputError(f'{self.path}: ill-typed literal "{value[:80]}"^^{short}')
        return literal


def _without_foreign_schema(
    triples: list[tuple[Node, URIRef, Node]],
) -> tuple[list[tuple[Node, URIRef, Node]], int]:
    """Drop shapes, owl:imports and statements about vocabulary terms; count what was dropped."""
    vocabulary = _vocabulary_namespaces()
    shacl = str(SH)
    rdf_type = RDF.type  # compared on every triple

    def is_vocabulary(node: Node) -> bool:
        return isinstance(node, URIRef) and str(node).startswith(vocabulary)

    # Predicates and subjects repeat: each is judged once.
    schema_predicate = {
        p: p in _SCHEMA_PREDICATES or str(p).startswith(shacl) for p in {p for _, p, _ in triples}
    }
    schema_subjects = {
        s
        for s, p, o in triples
        if str(p).startswith(shacl)
        or (p == rdf_type and is_vocabulary(o) and o not in _INERT_TYPES and not _is_data_class(o))
    }
    foreign_subject: dict[Node, bool] = {}
    kept: list[tuple[Node, URIRef, Node]] = []
    dropped_blank: set[Node] = set()
    for triple in triples:
        s, p, o = triple
        foreign = foreign_subject.get(s)
        if foreign is None:
            foreign = foreign_subject[s] = s in schema_subjects or is_vocabulary(s)
        drop = (
            foreign
            or schema_predicate[p]
            or (isinstance(o, URIRef) and str(o).startswith(shacl))
            or (p == rdf_type and o in _INERT_TYPES)
        )
        if drop:
            if isinstance(o, BNode):
                dropped_blank.add(o)
        else:
            kept.append(triple)
    # blank nodes that only the dropped statements pointed to (e.g. a shape's sh:property) go too
    while dropped_blank:
        referenced = {o for _, _, o in kept}
        orphans = {b for b in dropped_blank if b not in referenced}
        if not orphans:
            break
        dropped_blank = {o for s, _, o in kept if s in orphans and isinstance(o, BNode)}
        kept = [t for t in kept if t[0] not in orphans]
    return kept, len(triples) - len(kept)


def _vocabulary_namespaces() -> tuple[str, ...]:
    """The project's vocabulary namespaces: every prefix of the context but the data ones."""
    return tuple(
        namespace
        for namespace in prefixes().values()
        if not namespace.startswith(str(CDR)) and namespace != COUNTRY
    )


def _is_data_class(node: Node) -> bool:
    """A class whose instances are data (cdo:CooperationAction…), not schema (owl:Class…)."""
    return not str(node).startswith((str(OWL), str(RDFS), str(RDF), str(SH)))


def _skolem(node: Node, skolem: dict[BNode, URIRef], base: str) -> Node:
    if not isinstance(node, BNode):
        return node
    found = skolem.get(node)
    if found is None:
        found = skolem[node] = URIRef(f"{base}{SKOLEM_PATH}b{len(skolem) + 1}")
    return found


@contextmanager
def quiet_literal_warnings() -> Iterator[None]:
    """rdflib logs a warning with a traceback for each ill-typed literal: keep stderr clean."""
    logger = logging.getLogger("rdflib.term")
    previous = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = previous
