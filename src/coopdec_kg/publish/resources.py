"""One resource of the graph as a document: its RDF description, and what a person reads of it.

The description of a resource (what its IRI answers in RDF) is its Concise Bounded Description
(every triple of which it is the subject, following blank nodes) plus the triples that point at
it, so that a reader sees both its properties and the resources that refer to it. The view for
people gives the same statements with labels in the reader's language: the label of each
property (from the ontology), of each linked resource, and of the resource's kinds.

Both read a pyoxigraph store (the `serve` command's in-memory one, or the persistent store).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS
from rdflib.term import Identifier

from coopdec_kg.content.graph import new_graph
from coopdec_kg.content.namespaces import CDO
from coopdec_kg.engines.results import shorten
from coopdec_kg.engines.store import select

if TYPE_CHECKING:
    import pyoxigraph

LABELS = (SKOS.prefLabel, RDFS.label, DCTERMS.title)
MAX_INCOMING = 500  # statements pointing at a resource, shown and described (a country has many)
MAX_BLANK_DEPTH = 8  # blank nodes followed from the resource (restrictions, lists)


def exists(store: pyoxigraph.Store, iri: str) -> bool:
    """Whether the graph says anything about this IRI, as subject or object."""
    node = _iri(iri)
    found = select(
        store, f"SELECT ?x WHERE {{ {{ {node} ?p ?x }} UNION {{ ?x ?p {node} }} }} LIMIT 1"
    )
    return bool(found[1])


def description(store: pyoxigraph.Store, iri: str) -> Graph:
    """The resource's triples: its CBD (blank nodes followed) and the triples pointing at it."""
    graph = new_graph()
    node = URIRef(iri)
    for predicate, obj in _outgoing(store, node):
        graph.add((node, predicate, obj))
    # the blank nodes hanging from it, one hop further at each step (a query cannot name a
    # blank node of the store, so each step walks the path again from the resource)
    path = f"{_iri(iri)} ?p0 ?b0 FILTER(isBlank(?b0))"
    for depth in range(1, MAX_BLANK_DEPTH + 1):
        _, rows = select(
            store, f"SELECT ?b{depth - 1} ?p ?o WHERE {{ {path} ?b{depth - 1} ?p ?o }}"
        )
        if not rows:
            break
        for blank, hop, value in rows:
            if blank is not None and hop is not None and value is not None:
                graph.add((blank, hop, value))
        path += f" ?b{depth - 1} ?p{depth} ?b{depth} FILTER(isBlank(?b{depth}))"
    for subject, predicate in _incoming(store, iri):
        graph.add((subject, predicate, node))
    return graph


def _iri(iri: str) -> str:
    return URIRef(iri).n3()


def _outgoing(store: pyoxigraph.Store, node: URIRef) -> list[tuple[URIRef, Identifier]]:
    _, rows = select(store, f"SELECT ?p ?o WHERE {{ {_iri(str(node))} ?p ?o }}")
    return [(p, o) for p, o in rows if isinstance(p, URIRef) and o is not None]


def _incoming(store: pyoxigraph.Store, iri: str) -> list[tuple[URIRef, URIRef]]:
    _, rows = select(
        store, f"SELECT ?s ?p WHERE {{ ?s ?p {_iri(iri)} FILTER(isIRI(?s)) }} LIMIT {MAX_INCOMING}"
    )
    return [(s, p) for s, p in rows if isinstance(s, URIRef) and isinstance(p, URIRef)]


# ---------------------------------------------------------------------------- for people


@dataclass(frozen=True)
class Value:
    """A value as a page shows it: its text (a label where one exists), and what it is."""

    text: str
    iri: str | None = None  # set for an IRI
    language: str | None = None  # of a literal, or of a label in another language
    datatype: str | None = None  # of a typed literal, as a CURIE


@dataclass(frozen=True)
class Statement:
    """One property of a resource (or pointing at it) with its values."""

    property: Value
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Source:
    """A passage of the report that a resource cites (dct:source): where it is in the report."""

    passage: str  # its IRI
    section: Value | None  # the section it is part of, titled
    number: str | None  # the section's number (« III.B.2 »)
    first_line: int
    last_line: int


@dataclass(frozen=True)
class Resource:
    """A resource as its page shows it."""

    iri: str
    label: Value
    other_names: tuple[Value, ...]
    kinds: tuple[Value, ...]
    properties: tuple[Statement, ...]
    incoming: tuple[Statement, ...]
    incoming_capped: bool = False
    sources: tuple[Source, ...] = ()  # the report's passages it cites, in the report's order
    citation: Value | None = None  # how to cite the report those passages are from


def view(store: pyoxigraph.Store, iri: str, lang: str) -> Resource:
    """The resource in the reader's language `lang`: labels instead of IRIs wherever the graph
    has one (falling back to another language, then to a CURIE)."""
    node = URIRef(iri)
    outgoing = _outgoing(store, node)
    incoming = _incoming(store, iri)
    named = {node, *(p for p, _ in outgoing), *(p for _, p in incoming)}
    named |= {o for _, o in outgoing if isinstance(o, URIRef)}
    named |= {s for s, _ in incoming}
    labels = _labels(store, sorted(named, key=str), lang)

    def shown(term: Identifier) -> Value:
        if isinstance(term, URIRef):
            text, language = labels.get(term, (shorten(str(term)), None))
            return Value(text, iri=str(term), language=language)
        if isinstance(term, Literal):
            datatype = shorten(str(term.datatype)) if term.datatype is not None else None
            return Value(str(term), language=term.language, datatype=datatype)
        return Value(f"_:{term}")

    names: list[Literal] = []
    for predicate, obj in outgoing:
        if predicate in LABELS and isinstance(obj, Literal):
            names.append(obj)
    label = shown(node)
    others = tuple(
        Value(str(n), language=n.language)
        for n in sorted(names, key=lambda n: (str(n).casefold(), str(n)))
        if str(n) != label.text
    )
    kinds = tuple(shown(o) for p, o in outgoing if p == RDF.type)
    properties = _grouped(((p, o) for p, o in outgoing if p != RDF.type and p not in LABELS), shown)
    pointing = _grouped(((p, s) for s, p in incoming), shown)
    return Resource(
        iri=iri,
        label=label,
        other_names=others,
        kinds=tuple(sorted(kinds, key=lambda v: v.text.casefold())),
        properties=properties,
        incoming=pointing,
        incoming_capped=len(incoming) >= MAX_INCOMING,
        sources=_sources(store, iri, lang),
        citation=_citation(store, iri, lang),
    )


def _sources(store: pyoxigraph.Store, iri: str, lang: str) -> tuple[Source, ...]:
    """The passages the resource cites, with their section (number and title) and lines."""
    _, rows = select(
        store,
        f"SELECT ?passage ?section ?number ?start ?end WHERE {{ "
        f"{_iri(iri)} {DCTERMS.source.n3()} ?passage . "
        f"?passage {CDO.startLine.n3()} ?start ; {CDO.endLine.n3()} ?end . "
        f"OPTIONAL {{ ?passage {DCTERMS.isPartOf.n3()} ?section . "
        f"OPTIONAL {{ ?section {CDO.sectionNumber.n3()} ?number }} }} }}",
    )
    sections = sorted({row[1] for row in rows if isinstance(row[1], URIRef)}, key=str)
    titles = _labels(store, sections, lang)
    found = []
    for passage, section, number, start, end in rows:
        if not isinstance(start, Literal) or not isinstance(end, Literal):
            continue
        shown = None
        if isinstance(section, URIRef):
            text, language = titles.get(section, (shorten(str(section)), None))
            shown = Value(text, iri=str(section), language=language)
        found.append(
            Source(
                str(passage),
                shown,
                str(number) if number is not None else None,
                int(start),
                int(end),
            )
        )
    return tuple(sorted(set(found), key=lambda s: (s.first_line, s.last_line, s.passage)))


def _citation(store: pyoxigraph.Store, iri: str, lang: str) -> Value | None:
    """The bibliographic citation of the report the resource's passages belong to, in `lang`
    when it has one."""
    _, rows = select(
        store,
        f"SELECT DISTINCT ?citation WHERE {{ {_iri(iri)} {DCTERMS.source.n3()} ?passage . "
        f"?passage {DCTERMS.isPartOf.n3()}+ ?report . "
        f"?report {DCTERMS.bibliographicCitation.n3()} ?citation }}",
    )
    citations = [row[0] for row in rows if isinstance(row[0], Literal)]
    if not citations:
        return None
    best = min(citations, key=lambda c: (c.language != lang, bool(c.language), str(c)))
    return Value(str(best), language=best.language)


def labels(store: pyoxigraph.Store, iris: Sequence[str], lang: str) -> dict[str, Value]:
    """Each IRI as a page names it: its best label in `lang` (see `view`), else a CURIE."""
    nodes = sorted({URIRef(iri) for iri in iris}, key=str)
    found = _labels(store, nodes, lang)
    shown = {}
    for node in nodes:
        text, language = found.get(node, (shorten(str(node)), None))
        shown[str(node)] = Value(text, iri=str(node), language=language)
    return shown


def _grouped(
    pairs: Iterable[tuple[URIRef, Identifier]], shown: Callable[[Identifier], Value]
) -> tuple[Statement, ...]:
    """Statements by property (sorted by the property's label), values sorted by their text."""
    by_property: dict[URIRef, list[Identifier]] = {}
    for predicate, value in pairs:
        by_property.setdefault(predicate, []).append(value)
    statements = [
        Statement(
            shown(predicate),
            tuple(sorted((shown(v) for v in values), key=lambda v: (v.text.casefold(), v.text))),
        )
        for predicate, values in by_property.items()
    ]
    return tuple(sorted(statements, key=lambda s: (s.property.text.casefold(), s.property.iri)))


def _labels(
    store: pyoxigraph.Store, nodes: Sequence[URIRef], lang: str
) -> dict[URIRef, tuple[str, str | None]]:
    """The best label of each node: in `lang`, else without a language, else any (its language
    given, so that a page can mark it); among those, by the order of LABELS (skos:prefLabel
    first)."""
    best: dict[URIRef, tuple[int, int, str, str | None]] = {}
    predicates = ", ".join(p.n3() for p in LABELS)  # FILTER IN: see engines.store.labels_of
    for start in range(0, len(nodes), 500):
        chunk = " ".join(n.n3() for n in nodes[start : start + 500])
        _, rows = select(
            store,
            f"SELECT ?x ?p ?label WHERE {{ VALUES ?x {{ {chunk} }} ?x ?p ?label "
            f"FILTER(?p IN ({predicates}) && isLiteral(?label)) }}",
        )
        for node, predicate, label in rows:
            if not isinstance(node, URIRef) or not isinstance(label, Literal):
                continue
            rank = 0 if label.language == lang else 1 if not label.language else 2
            candidate = (
                rank,
                LABELS.index(predicate),
                str(label),
                None if rank < 2 else label.language,
            )
            if node not in best or candidate < best[node]:
                best[node] = candidate
    return {node: (text, language) for node, (_, _, text, language) in best.items()}
