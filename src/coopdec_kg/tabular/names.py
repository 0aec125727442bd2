"""Names people type in a sheet, resolved to the graph's resources.

« Cergy Pontoise », « cergy-pontoise » and « CA de Cergy-Pontoise » name one grouping; « Bénin »,
« benin » and « BEN » one country. Every label of a resource (skos:prefLabel, skos:altLabel,
skos:notation, rdfs:label) is folded with the project's one rule (coopdec_kg.content.folding),
and a name is found when it folds to a label, to whole words of exactly one resource's labels,
or holds one of its labels whole (« CA de Cergy-Pontoise »).
An unknown or ambiguous name comes back with suggestions. `resolve` is the one place that
matches names: a ranked search of the library can replace it without touching its callers.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rdflib import URIRef
from rdflib.term import Identifier

from coopdec_kg.content.folding import fold
from coopdec_kg.content.project import Project
from coopdec_kg.tabular.mapping import Lookup, SheetMapping

_LABELS = (
    "<http://www.w3.org/2004/02/skos/core#prefLabel>|<http://www.w3.org/2004/02/skos/core#altLabel>"
    "|<http://www.w3.org/2004/02/skos/core#notation>|<http://www.w3.org/2000/01/rdf-schema#label>"
)
_PREFERRED = "http://www.w3.org/2004/02/skos/core#prefLabel"
SUGGESTIONS = 3
MIN_INNER_LABEL = 5  # a shorter label (« CA », « Nord ») is no evidence inside a longer name


@dataclass
class Names:
    """The resources one lookup may name: their folded labels, and a label to show each by."""

    by_label: dict[str, set[URIRef]] = field(default_factory=dict)
    shown: dict[URIRef, str] = field(default_factory=dict)
    _rank: dict[URIRef, int] = field(default_factory=dict)
    answers: dict[str, URIRef | Unresolved] = field(default_factory=dict)  # kept by resolve

    def add(self, iri: URIRef, label: str, rank: int) -> None:
        """Add a label; the one of highest rank is the one shown."""
        self.by_label.setdefault(fold(label), set()).add(iri)
        self.answers.clear()
        if rank > self._rank.get(iri, -1):
            self.shown[iri] = label
            self._rank[iri] = rank


@dataclass(frozen=True)
class Unresolved:
    """A name that names no resource, or several: what to tell the person."""

    ambiguous: bool
    suggestions: tuple[str, ...]


def resolve(names: Names, text: str) -> URIRef | Unresolved:
    """The one resource `text` names, or why there is none (with suggestions); a sheet names
    the same few resources on many rows, so each answer is kept."""
    folded = fold(text)
    found = names.answers.get(folded)
    if found is None:
        found = names.answers[folded] = _resolve(names, folded)
    return found


def _resolve(names: Names, folded: str) -> URIRef | Unresolved:
    found = names.by_label.get(folded, set())
    words = f" {folded} "
    if not found and folded:  # « Cergy » for « Cergy-Pontoise »
        found = {
            iri for label, iris in names.by_label.items() if words in f" {label} " for iri in iris
        }
    if not found and folded:  # « CA de Cergy-Pontoise » for « Cergy-Pontoise »
        found = {
            iri
            for label, iris in names.by_label.items()
            if len(label) >= MIN_INNER_LABEL and f" {label} " in words
            for iri in iris
        }
    if len(found) == 1:
        return next(iter(found))
    if found:
        return Unresolved(True, tuple(sorted(names.shown[iri] for iri in found))[: SUGGESTIONS * 2])
    close = difflib.get_close_matches(folded, list(names.by_label), n=SUGGESTIONS, cutoff=0.6)
    shown = dict.fromkeys(
        names.shown[iri] for label in close for iri in sorted(names.by_label[label])
    )
    return Unresolved(False, tuple(shown)[:SUGGESTIONS])


def load_names(project: Project, mapping: SheetMapping, lang: str) -> dict[str, Names]:
    """The names of every lookup of the mapping that looks among the graph's resources,
    read from the persistent store (labels in `lang` are preferred for display)."""
    from coopdec_kg.engines.store import select, with_current

    wanted = {name: _query(lookup) for name, lookup in mapping.lookups.items()}
    queries = {name: query for name, query in wanted.items() if query is not None}

    def read(store: object) -> dict[str, Names]:
        return {
            name: _names(select(store, query)[1], lang)  # type: ignore[arg-type]
            for name, query in queries.items()
        }

    return with_current(project, read)


def _names(rows: Iterable[tuple[Identifier | None, ...]], lang: str) -> Names:
    names = Names()
    for iri, predicate, label in rows:
        if isinstance(iri, URIRef) and label is not None:
            language = getattr(label, "language", None)
            # Shown by a label in the sheet's language, a preferred label before another.
            rank = 2 * (language == lang) + (language is None) + (str(predicate) == _PREFERRED)
            names.add(iri, str(label), rank)
    return names


def _query(lookup: Lookup) -> str | None:
    """The SPARQL query that lists (resource, label property, label) for a lookup."""
    if lookup.of_class is not None:
        where = f"?s a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{lookup.of_class}> ."
    elif lookup.scheme is not None:
        where = f"?s <http://www.w3.org/2004/02/skos/core#inScheme> <{lookup.scheme}> ."
    elif lookup.subclass_of is not None:
        where = f"?s <http://www.w3.org/2000/01/rdf-schema#subClassOf>+ <{lookup.subclass_of}> ."
    elif lookup.namespace is not None:
        where = (
            "?s a <http://www.w3.org/2004/02/skos/core#Concept> . "
            f'FILTER(STRSTARTS(STR(?s), "{lookup.namespace}"))'
        )
    else:
        return None  # a lookup among the rows of another sheet
    return f"SELECT DISTINCT ?s ?p ?l WHERE {{ {where} ?s ?p ?l . VALUES ?p {{ {_values()} }} }}"


def _values() -> str:
    return " ".join(_LABELS.split("|"))


def table_names(values: Mapping[str, URIRef]) -> Names:
    """Names among the rows of a sheet (the links' identifiers), to the IRIs of those rows."""
    names = Names()
    for text, iri in values.items():
        names.add(iri, text, 0)
    return names
