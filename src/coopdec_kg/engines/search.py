"""Finding resources by the names people type, and naming the ones that do not exist.

People write "senart" for « Sénart », "Cergy Pontoise" for « Cergy-Pontoise » and "riviera" for
« Riviera française »; every name is compared through the project's one folding rule
(coopdec_kg.content.folding), so that search, the spreadsheet import's name resolution and
the web atlas's suggestions find the same resources. Whatever engine answers
(coopdec_kg.engines.engine), the names are read with one SELECT and matched here, in Python:
SPARQL has no accent folding. Reading and folding every name is most of the work (7 s for the
152 000 names of a national atlas), so a process that asks many questions of a graph that does
not change (`serve`) keeps a `NameIndex` and asks it instead.

    search(select, text)           ranked resources whose name contains the text
    suggest(select, text)          the closest resources to a misspelt name or IRI
    NameIndex.read(select) / .of_store(store)   the names folded once, searched many times
    unknown_resources(select, iris)  the IRIs that are in no triple
    answer(engine, query, values)  a named query's answer, its IRIs checked, `search` by folding
"""

from __future__ import annotations

import bisect
import difflib
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from coopdec_kg.content.folding import fold
from coopdec_kg.content.namespaces import NAMESPACES, prefixes
from coopdec_kg.engines.results import QueryResult, shorten
from coopdec_kg.errors import UnknownResource

if TYPE_CHECKING:
    import pyoxigraph
    from rdflib import URIRef

    from coopdec_kg.engines.engine import Engine
    from coopdec_kg.engines.queries import NamedQuery

# Runs a SELECT query on some engine: `OnGraph(graph).select`, `OnStore(store).select`, ….
Select = Callable[[str], QueryResult]

SKOS = "http://www.w3.org/2004/02/skos/core#"

# The named query `search` is answered here (its text is what a grlc server runs).
SEARCH_QUERY = "search"

_NAMES = f"""SELECT ?entity ?name ?kind WHERE {{
  {{ ?entity <{SKOS}prefLabel> ?name }} UNION {{ ?entity <{SKOS}altLabel> ?name }}
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


# One row of the names: entity IRI, name, its language ("" for none), a class IRI or None.
NameRow = tuple[str, str, str, str | None]


class NameIndex:
    """Every name of a graph, folded once, and the resources they name: what `search` and
    `suggest` compare a text with. Built from the graph as it is: a graph that changes needs a
    new index.

    All folded names are kept end to end in one text (one name a line), so that a search finds
    the names holding the text's longest word with `str.find`, in C, and ranks only those:
    every name that matches holds that word. The rest is kept in flat lists and arrays indexed
    by a resource's number (a national atlas has 150 000 named resources: an object per
    resource would take four times the memory)."""

    def __init__(self, rows: Iterable[NameRow]) -> None:
        shown: dict[str, dict[str, str]] = {}  # IRI → language → the first name seen in it
        spellings: dict[str, dict[str, None]] = {}  # IRI → its folded names, in order
        kinds: dict[str, set[str]] = {}
        folding: dict[str, str] = {}
        words: dict[str, str] = {}  # one string per language tag and class IRI
        for entity, name, language, kind in rows:
            language = words.setdefault(language, language)
            shown.setdefault(entity, {}).setdefault(language, name)
            folded = folding.get(name)
            if folded is None:
                folded = folding[name] = fold(name)
            spellings.setdefault(entity, {})[folded] = None
            classes = kinds.setdefault(entity, set())
            if kind is not None:
                classes.add(words.setdefault(kind, kind))
        same: dict[frozenset[str], frozenset[str]] = {}
        self._iris = list(shown)
        # per resource: (language, its first name, that name folded), and its classes
        self._names = [
            tuple((lang, name, folding[name]) for lang, name in shown[iri].items())
            for iri in self._iris
        ]
        self._kinds = [same.setdefault(frozenset(k), frozenset(k)) for k in kinds.values()]
        lines = [name for iri in self._iris for name in spellings[iri]]
        self._first_line = array("l", [0])  # resource n's lines: first_line[n] to [n + 1]
        self._owners = array("l")  # the resource of each line
        for number, iri in enumerate(self._iris):
            self._owners.extend([number] * len(spellings[iri]))
            self._first_line.append(self._first_line[-1] + len(spellings[iri]))
        self._starts = array("l")  # where each line starts in the text
        position = 0
        for name in lines:
            self._starts.append(position)
            position += len(name) + 1
        self._text = "\n".join(lines)

    @classmethod
    def read(cls, select: Select) -> NameIndex:
        """The names as any engine gives them (rdflib's terms)."""
        from rdflib import Literal, URIRef

        return cls(
            (str(entity), str(name), name.language or "", str(kind) if kind else None)
            for entity, name, kind in select(_NAMES).rows
            if isinstance(entity, URIRef) and isinstance(name, Literal)
            for kind in (kind if isinstance(kind, URIRef) else None,)
        )

    @classmethod
    def of_store(cls, store: pyoxigraph.Store) -> NameIndex:
        """The names read from a pyoxigraph store as its own terms, one row at a time (no
        rdflib term is made, which was half of a search at national scale, and the 150 000
        rows are never all in memory)."""
        import pyoxigraph

        return cls(
            (entity.value, name.value, name.language or "", kind.value if kind else None)
            for entity, name, kind in cast(Iterable[tuple[Any, Any, Any]], store.query(_NAMES))
            if isinstance(entity, pyoxigraph.NamedNode) and isinstance(name, pyoxigraph.Literal)
            for kind in (kind if isinstance(kind, pyoxigraph.NamedNode) else None,)
        )

    def __len__(self) -> int:
        """How many resources have a name."""
        return len(self._iris)

    def search(
        self,
        text: str,
        lang: str = "fr",
        limit: int | None = None,
        kinds: Iterable[URIRef] = (),
    ) -> list[Found]:
        """See the module function `search`."""
        wanted = fold(text)
        if not wanted:
            return []
        allowed = {str(kind) for kind in kinds}
        ranks: dict[int, int] = {}  # resource → its best rank
        for line in self._holding(max(wanted.split(), key=len)):
            rank = _rank(wanted, self._line(line))
            number = self._owners[line]
            if rank < ranks.get(number, _NO_MATCH):
                ranks[number] = rank
        ranked = sorted(
            (rank, len(name), folded, self._iris[number], number)
            for number, rank in ranks.items()
            if not allowed or self._kinds[number] & allowed
            for name, folded in (self._name(number, lang),)
        )
        return [
            self._found(number, lang, rank)
            for rank, _, _, _, number in (ranked if limit is None else ranked[:limit])
        ]

    def _holding(self, word: str) -> list[int]:
        """The lines (names) that hold `word`, each once, in order."""
        lines = []
        position = self._text.find(word)
        while position >= 0:
            line = bisect.bisect_right(self._starts, position) - 1
            lines.append(line)
            if line + 1 >= len(self._starts):
                break
            position = self._text.find(word, self._starts[line + 1])
        return lines

    def _line(self, line: int) -> str:
        end = self._starts[line + 1] - 1 if line + 1 < len(self._starts) else len(self._text)
        return self._text[self._starts[line] : end]

    def _name(self, number: int, lang: str) -> tuple[str, str]:
        """A resource's name in `lang` (else French, else untagged, else any), and folded."""
        names = {language: (name, folded) for language, name, folded in self._names[number]}
        for language in (lang, "fr", "", *sorted(names)):
            if language in names:
                return names[language]
        return "", ""  # pragma: no cover - a resource is indexed by one of its names

    def _found(self, number: int, lang: str, rank: int) -> Found:
        from rdflib import URIRef

        name, _ = self._name(number, lang)
        return Found(URIRef(self._iris[number]), name, _ordered(self._kinds[number]), rank)

    def suggest(self, text: str, count: int = 3) -> list[Found]:
        """See the module function `suggest`."""
        wanted = fold(_local_name(text))
        namespace = text.strip("<>")[: -len(_local_name(text))] if "/" in text else ""
        in_namespace = [n for n, iri in enumerate(self._iris) if iri.startswith(namespace)]
        numbers: Sequence[int] = in_namespace if namespace and in_namespace else range(len(self))
        scored: list[tuple[float, str, int]] = []
        for number in numbers:
            iri = self._iris[number]
            lines = range(self._first_line[number], self._first_line[number + 1])
            spellings = {*map(self._line, lines), fold(_local_name(iri))}
            best = max(difflib.SequenceMatcher(None, wanted, s).ratio() for s in spellings)
            if any(wanted and _rank(wanted, s) < _NO_MATCH for s in spellings):
                best += 1  # a name that holds the text beats a near spelling
            if best >= 0.6:
                scored.append((best, iri, number))
        scored.sort(key=lambda found: (-found[0], found[1]))
        return [self._found(number, "fr", 0) for _, _, number in scored[:count]]


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
    if not fold(text):
        return []
    return NameIndex.read(select).search(text, lang, limit, kinds)


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
    return NameIndex.read(select).suggest(text, count)


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
    gives them: name → pyoxigraph term)."""
    import pyoxigraph

    iris = {n: t.value for n, t in values.items() if isinstance(t, pyoxigraph.NamedNode)}
    if not iris:  # (no rdflib import for a query without IRI values)
        return
    from rdflib import URIRef

    given = {name: URIRef(iri) for name, iri in iris.items()}
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
    engine: Engine,
    query: NamedQuery,
    values: Mapping[str, str],
    lang: str = "fr",
    names: NameIndex | None = None,
) -> QueryResult:
    """A named query's answer on `engine`, once every IRI among `values` is known to the graph
    (else `UnknownResource`); the named query `search` is answered by `search` (or by `names`,
    the engine's names already indexed), so the CLI forgives spellings that SPARQL's CONTAINS
    would miss."""
    from coopdec_kg.engines.queries import bind

    bound = bind(query, values)
    check_resources(
        engine.select, {p.name: bound[p.variable] for p in query.parameters if p.variable in bound}
    )
    if query.name == SEARCH_QUERY and "text" in values:
        if names is not None:
            return as_result(names.search(values["text"], lang))
        return as_result(search(engine.select, values["text"], lang))
    return engine.named(query, values)


def as_result(found: list[Found]) -> QueryResult:
    """Search results in the columns of the named query `search` (entity, label, type): one row
    per resource, its main kind — the project's own class first — as `type`."""
    from rdflib import Literal

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


def _ordered(kinds: frozenset[str]) -> tuple[URIRef, ...]:
    """The project's own classes first, then the others, each group alphabetically."""
    from rdflib import URIRef

    own = NAMESPACES["CDO"]
    return tuple(URIRef(kind) for kind in sorted(kinds, key=lambda k: (not k.startswith(own), k)))


def _local_name(text: str) -> str:
    """What names a resource in an IRI or CURIE: the part after the last '/', '#' or prefix."""
    text = text.strip("<>")
    for separator in ("/", "#"):
        text = text.rsplit(separator, 1)[-1]
    prefix, colon, rest = text.partition(":")
    return rest if colon and prefix in prefixes() else text
