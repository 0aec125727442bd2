"""What people read of the graph, made without rdflib: numbers as their language writes them,
and a resource's name in their language, read from whatever engine answers in that engine's
own terms (coopdec_kg.engines.terms). `report` on the store needs nothing more, so it imports
no rdflib; the tables of publish.tables, read the same way, share these rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation

from coopdec_kg.engines import terms
from coopdec_kg.engines.results import QueryResult
from coopdec_kg.engines.terms import Term

# The properties that name a resource, in order of preference.
NAME_PROPERTIES = (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://purl.org/dc/terms/title",
)
# Thousands and decimal separators (French: a no-break space, so a number never wraps).
SEPARATORS = {"fr": ("\u00a0", ","), "en": (",", ".")}

# Runs a SELECT query on the engine that gave the answer (coopdec_kg.engines.engine).
Select = Callable[[str], QueryResult]


def texts_query(resources: Iterable[str], properties: Iterable[str]) -> str:
    """The SELECT that reads the literal values of these properties of these resources (the
    properties in a FILTER IN, not a second VALUES block: see engines.store.labels_of)."""
    subjects = " ".join(f"<{iri}>" for iri in resources)
    predicates = ", ".join(f"<{iri}>" for iri in properties)
    return (
        f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {subjects} }} ?s ?p ?o "
        f"FILTER(?p IN ({predicates}) && isLiteral(?o)) }}"
    )


def namer(select: Select, lang: str) -> Callable[[Term | None], str | None]:
    """A resource's name in `lang` (None when the graph has none in it): the first property of
    NAME_PROPERTIES that has a literal in `lang`, its first such value. Read when first asked
    and remembered: for texts that name a few resources here and there (publish.report)."""
    known: dict[str, str | None] = {}

    def name(resource: Term | None) -> str | None:
        if resource is None or terms.kind(resource) != "uri":
            return None
        iri = terms.text(resource)
        if iri not in known:
            found: dict[str, str] = {}
            for _, predicate, value in select(texts_query([iri], NAME_PROPERTIES)).terms:
                if predicate is None or value is None or terms.kind(value) != "literal":
                    continue
                if terms.language(value) == lang:
                    found.setdefault(terms.text(predicate), terms.text(value))
            known[iri] = next((found[p] for p in NAME_PROPERTIES if p in found), None)
        return known[iri]

    return name


def number(lexical: str, lang: str) -> str:
    """A number as the language writes it: `2165` → `2 165` (fr) or `2,165` (en); `1.80` →
    `1,8` or `1.8`; an integral decimal loses its `.0`. A form that is not a number is kept.

    >>> number("2165", "fr"), number("200000.0", "en"), number("1.80", "fr"), number("-3", "en")
    ('2\\xa0165', '200,000', '1,8', '-3')
    """
    try:
        value = Decimal(lexical.strip())
    except InvalidOperation:
        return lexical
    if not value.is_finite():
        return lexical
    thousands, point = SEPARATORS[lang]
    sign = "-" if value < 0 else ""
    digits = f"{value.copy_abs():f}"  # exact: abs() and normalize() round to 28 digits
    whole, _, fraction = digits.partition(".")
    fraction = fraction.rstrip("0")
    grouped = f"{int(whole):,}".replace(",", thousands)
    return f"{sign}{grouped}{point + fraction if fraction else ''}"
