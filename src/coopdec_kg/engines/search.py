"""Finding resources by the names people type, and naming the ones that do not exist.

People write "senart" for « Sénart », "Cergy Pontoise" for « Cergy-Pontoise » and "riviera" for
« Riviera française »; every name is compared through the project's one folding rule
(coopdec_kg.content.folding), so that search, the spreadsheet import's name resolution and
the web atlas's suggestions find the same resources. Whatever engine answers
(coopdec_kg.engines.engine), the names are read with one SELECT and matched here, in Python:
SPARQL has no accent folding.

    search(select, text)           ranked resources whose name contains the text
    suggest(select, text)          the closest resources to a misspelt name or IRI
    unknown_resources(select, iris)  the IRIs that are in no triple
    answer(engine, query, values)  a named query's answer, its IRIs checked, `search` by folding
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rdflib import Literal, URIRef
from rdflib.namespace import SKOS

from coopdec_kg.content.folding import fold
from coopdec_kg.content.namespaces import CDO, prefixes
from coopdec_kg.engines.results import QueryResult, shorten
from coopdec_kg.errors import UnknownResource

if TYPE_CHECKING:
    from coopdec_kg.engines.engine import Engine
    from coopdec_kg.engines.queries import NamedQuery

# Runs a SELECT query on some engine: `OnGraph(graph).select`, `OnStore(store).select`, ….
Select = Callable[[str], QueryResult]

# The named query `search` is answered here (its text is what a grlc server runs).
SEARCH_QUERY = "search"

_NAMES = f"""SELECT ?entity ?name ?kind WHERE {{
  {{ ?entity <{SKOS.prefLabel}> ?name }} UNION {{ ?entity <{SKOS.altLabel}> ?name }}
  OPTIONAL {{ ?entity a ?kind }}
}}"""


@dataclass(frozen=True)
class Found:
    """A resource found by name: its IRI, its name in the asked language (else French, else any
    name it has), every class it belongs to, and its rank (0 = the name itself, 1 = a name
    that starts with the text, 2 = a word that starts with it, 3 = anywhere in a name,
    4 = all the words of the text, in any order)."""

    entity: URIRef
    name: str
    kinds: tuple[URIRef, ...]
    rank: int


@dataclass
class _Entity:
    names: dict[str, str]  # language ("" for none) → the first name seen in it
    folded: set[str]  # every name and altLabel, folded
    kinds: set[URIRef]


def search(
    select: Select,
    text: str,
    lang: str = "fr",
    limit: int | None = None,
    kinds: Iterable[URIRef] = (),
) -> list[Found]:
    """The resources one of whose names (skos:prefLabel or skos:altLabel, any language) holds
    `text` once both are folded — accents, case, hyphens and apostrophes do not count — best
    first: by rank, then the shorter name, then alphabetically. One `Found` per resource, named
    in `lang` where it can be; with `kinds`, only the resources of one of these classes (as
    stated: rdf:type, no inference), e.g. `(CDO.AgglomerationCommunity,)` to resolve a CA.

    >>> from coopdec_kg.engines.engine import OnGraph
    >>> from rdflib import Graph
    >>> graph = Graph().parse(data='''
    ...     @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
    ...     <urn:x:senart> skos:prefLabel "Sénart"@fr ; a <urn:x:City>, <urn:x:Place> .
    ...     <urn:x:val> skos:prefLabel "Val de Sénart"@fr .''', format="turtle")
    >>> [(f.name, f.rank, len(f.kinds)) for f in search(OnGraph(graph).select, "SENART")]
    [('Sénart', 0, 2), ('Val de Sénart', 2, 0)]
    """
    wanted = fold(text)
    if not wanted:
        return []
    allowed = set(kinds)
    found = [
        Found(entity, _name(entity_names.names, lang), _ordered(entity_names.kinds), rank)
        for entity, entity_names in _entities(select).items()
        if not allowed or entity_names.kinds & allowed
        if (rank := min(_rank(wanted, name) for name in entity_names.folded)) < _NO_MATCH
    ]
    found.sort(key=lambda f: (f.rank, len(f.name), fold(f.name), str(f.entity)))
    return found if limit is None else found[:limit]


def suggest(select: Select, text: str, count: int = 3) -> list[Found]:
    """The `count` resources whose name or IRI is closest to `text` (a misspelt name or an
    IRI): names that hold it first, then the nearest spellings (difflib's ratio); for an IRI,
    resources of its namespace (`…/id/authority/`) when there are some.

    >>> from coopdec_kg.engines.engine import OnGraph
    >>> from rdflib import Graph
    >>> graph = Graph().parse(data='''
    ...     @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
    ...     <https://w3id.org/coopdec-kg/id/authority/ca-cergy-pontoise>
    ...         skos:prefLabel "Cergy-Pontoise"@fr .''', format="turtle")
    >>> [f.name for f in suggest(OnGraph(graph).select, "authority:ca-cergy-pontoize")]
    ['Cergy-Pontoise']
    """
    entities = _entities(select)
    wanted = fold(_local_name(text))
    namespace = text.strip("<>")[: -len(_local_name(text))] if "/" in text else ""
    if namespace and any(str(entity).startswith(namespace) for entity in entities):
        entities = {e: n for e, n in entities.items() if str(e).startswith(namespace)}
    scored: list[tuple[float, URIRef]] = []
    for entity, entity_names in entities.items():
        spellings = {*entity_names.folded, fold(_local_name(str(entity)))}
        best = max(difflib.SequenceMatcher(None, wanted, s).ratio() for s in spellings)
        if any(wanted and _rank(wanted, s) < _NO_MATCH for s in spellings):
            best += 1  # a name that holds the text beats a near spelling
        if best >= 0.6:
            scored.append((best, entity))
    scored.sort(key=lambda pair: (-pair[0], str(pair[1])))
    return [
        Found(entity, _name(entities[entity].names, "fr"), _ordered(entities[entity].kinds), 0)
        for _, entity in scored[:count]
    ]


def unknown_resources(select: Select, iris: Iterable[URIRef]) -> list[URIRef]:
    """Those of `iris` that are in no triple as subject, predicate or object (in given order)."""
    wanted = list(dict.fromkeys(iris))
    if not wanted:
        return []
    values = " ".join(f"<{iri}>" for iri in wanted)
    known = select(
        f"SELECT DISTINCT ?r WHERE {{ VALUES ?r {{ {values} }} "
        "{ ?r ?p ?o } UNION { ?s ?r ?o } UNION { ?s ?p ?r } }"
    )
    seen = {row[0] for row in known.rows}
    return [iri for iri in wanted if iri not in seen]


def check_resources(select: Select, values: Mapping[str, object]) -> None:
    """Raise `UnknownResource` when a value bound as an IRI names no resource of the graph,
    with the closest resources as suggestions (`values` as coopdec_kg.engines.queries.bind
    gives them: name → RDF term)."""
    given = {name: term for name, term in values.items() if isinstance(term, URIRef)}
    for iri in unknown_resources(select, given.values()):
        name = next(name for name, term in given.items() if term == iri)
        suggestions = suggest(select, str(iri))
        raise UnknownResource(unknown_message(f"{name}={shorten(str(iri))}", suggestions))


def unknown_message(what: str, suggestions: list[Found]) -> str:
    """One line: the unknown resource and, when some come close, which ones were meant."""
    if not suggestions:
        return f"no such resource {what}: it is in no triple of the graph"
    meant = ", ".join(f"{shorten(str(f.entity))} ({f.name})" for f in suggestions)
    return f"no such resource {what}: did you mean {meant}?"


def answer(
    engine: Engine, query: NamedQuery, values: Mapping[str, str], lang: str = "fr"
) -> QueryResult:
    """A named query's answer on `engine`, once every IRI among `values` is known to the graph
    (else `UnknownResource`); the named query `search` is answered by `search`, so the CLI
    forgives spellings that SPARQL's CONTAINS would miss."""
    from coopdec_kg.engines.queries import bind

    bound = bind(query, values)
    check_resources(
        engine.select, {p.name: bound[p.variable] for p in query.parameters if p.variable in bound}
    )
    if query.name == SEARCH_QUERY and "text" in values:
        return as_result(search(engine.select, values["text"], lang))
    return engine.named(query, values)


def as_result(found: list[Found]) -> QueryResult:
    """Search results in the columns of the named query `search` (entity, label, type): one row
    per resource, its main kind — the project's own class first — as `type`."""
    rows = tuple((f.entity, Literal(f.name), f.kinds[0] if f.kinds else None) for f in found)
    return QueryResult(("entity", "label", "type"), rows)


_NO_MATCH = 5


def _rank(wanted: str, name: str) -> int:
    """How well a folded name matches the folded text (see `Found.rank`); `_NO_MATCH` if not."""
    if name == wanted:
        return 0
    if name.startswith(wanted):
        return 1
    if f" {wanted}" in f" {name}":
        return 2
    if wanted in name:
        return 3
    if set(wanted.split()) <= set(name.split()):
        return 4
    return _NO_MATCH


def _entities(select: Select) -> dict[URIRef, _Entity]:
    entities: dict[URIRef, _Entity] = {}
    for entity, name, kind in select(_NAMES).rows:
        if not isinstance(entity, URIRef) or not isinstance(name, Literal):
            continue
        found = entities.setdefault(entity, _Entity({}, set(), set()))
        found.names.setdefault(name.language or "", str(name))
        found.folded.add(fold(str(name)))
        if isinstance(kind, URIRef):
            found.kinds.add(kind)
    return entities


def _name(names: Mapping[str, str], lang: str) -> str:
    for language in (lang, "fr", "", *sorted(names)):
        if language in names:
            return names[language]
    return ""  # pragma: no cover - an entity is found by one of its names


def _ordered(kinds: set[URIRef]) -> tuple[URIRef, ...]:
    """The project's own classes first, then the others, each group alphabetically."""
    return tuple(sorted(kinds, key=lambda kind: (not str(kind).startswith(str(CDO)), str(kind))))


def _local_name(text: str) -> str:
    """What names a resource in an IRI or CURIE: the part after the last '/', '#' or prefix."""
    text = text.strip("<>")
    for separator in ("/", "#"):
        text = text.rsplit(separator, 1)[-1]
    prefix, colon, rest = text.partition(":")
    return rest if colon and prefix in prefixes() else text
