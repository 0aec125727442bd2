"""The project's prefixes, read from the JSON-LD context shipped with the package.

The context file is the single list of prefixes: Turtle exports bind them, JSON-LD exports use
the file as their `@context`, and the CLI expands CURIEs with them. Beside the prefixes (the
entries whose value is a namespace IRI) it defines the `id`/`type` aliases and one term per
property, for JSON developers.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rdflib import Namespace

    CDO: Namespace
    CDR: Namespace

NAMESPACES = {
    "CDO": "https://w3id.org/coopdec-kg/ontology#",
    "CDR": "https://w3id.org/coopdec-kg/id/",
}


def __getattr__(name: str) -> Namespace:
    """CDO and CDR as rdflib namespaces, made when first asked for: importing rdflib costs
    more than a small query on the store, which needs only the prefixes."""
    if name not in NAMESPACES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rdflib import Namespace

    namespace = Namespace(NAMESPACES[name])
    globals()[name] = namespace
    return namespace


@cache
def context_document() -> dict[str, dict[str, Any]]:
    """The curated JSON-LD context, as shipped in the package."""
    text = files("coopdec_kg.content").joinpath("context.jsonld").read_text(encoding="utf-8")
    document: dict[str, dict[str, Any]] = json.loads(text)
    return document


@cache
def _prefixes() -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, value)
        for name, value in context_document()["@context"].items()
        if isinstance(value, str) and value.endswith(("/", "#"))
    )


def prefixes() -> dict[str, str]:
    """Prefix → namespace IRI, in the order of the context file (its terms left out)."""
    return dict(_prefixes())


def expand_curie(text: str) -> str | None:
    """Expand `prefix:local` with the project's prefixes; None when it is not such a CURIE.

    >>> expand_curie("authority:ca-cergy-pontoise")
    'https://w3id.org/coopdec-kg/id/authority/ca-cergy-pontoise'
    >>> expand_curie("cdr:authority/ca-cergy-pontoise")
    'https://w3id.org/coopdec-kg/id/authority/ca-cergy-pontoise'
    """
    prefix, sep, local = text.partition(":")
    if not sep or local.startswith("//"):
        return None
    namespace = prefixes().get(prefix)
    return None if namespace is None else namespace + local


def compact_iri(iri: str) -> str:
    """The shortest `prefix:local` for an IRI (local without '/' or '#'), else the IRI itself.

    >>> compact_iri("https://w3id.org/coopdec-kg/id/authority/ca-sicoval")
    'authority:ca-sicoval'
    >>> compact_iri("https://example.org/x")
    'https://example.org/x'
    """
    best = iri
    for prefix, namespace in prefixes().items():
        local = iri[len(namespace) :]
        if iri.startswith(namespace) and local and not set(local) & {"/", "#"}:
            candidate = f"{prefix}:{local}"
            if len(candidate) < len(best):
                best = candidate
    return best
