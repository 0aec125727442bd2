"""Content negotiation: which of the formats a route offers a client asks for.

A client names formats in `Accept` (media ranges with `q` weights, RFC 9110 §12.5.1) or, where a
route allows it, by a short name (`?format=csv`, or a document URL's extension). The offer comes
first in its order: for `*/*` or no `Accept` at all, a route gets its first format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    """A format a route can answer in: its short name, media type, and other names for it."""

    name: str
    media_type: str
    extension: str
    aliases: tuple[str, ...] = ()

    @property
    def content_type(self) -> str:
        """The Content-Type header (UTF-8 for text formats, as every one of ours is)."""
        return f"{self.media_type}; charset=utf-8"

    def answers(self, media_type: str) -> bool:
        return media_type == self.media_type or media_type in self.aliases


SPARQL_JSON = Format("json", "application/sparql-results+json", "srj", ("application/json",))
SPARQL_XML = Format("xml", "application/sparql-results+xml", "srx", ("application/xml", "text/xml"))
CSV = Format("csv", "text/csv", "csv")
TSV = Format("tsv", "text/tab-separated-values", "tsv")
TURTLE = Format("turtle", "text/turtle", "ttl", ("application/x-turtle",))
NTRIPLES = Format("ntriples", "application/n-triples", "nt", ("text/plain",))
JSONLD = Format("jsonld", "application/ld+json", "jsonld")
RDFXML = Format("rdfxml", "application/rdf+xml", "rdf")
HTML = Format("html", "text/html", "html", ("application/xhtml+xml",))
JSON = Format("json", "application/json", "json")

RESULTS = (SPARQL_JSON, SPARQL_XML, CSV, TSV)  # SELECT and ASK answers
GRAPHS = (TURTLE, NTRIPLES, JSONLD, RDFXML)  # CONSTRUCT and DESCRIBE answers
DOCUMENTS = (TURTLE, NTRIPLES, JSONLD)  # a resource's description
TABLES = (SPARQL_JSON, CSV, TSV)  # a named query's answer: the CLI's machine formats


@dataclass(frozen=True)
class _Range:
    media_type: str  # "type/subtype", "type/*" or "*/*"
    quality: float
    order: int

    def specificity(self, media_type: str) -> int | None:
        """How closely the range matches a media type (None: not at all)."""
        if self.media_type == media_type:
            return 2
        kind, _, subtype = self.media_type.partition("/")
        if subtype == "*" and (kind == "*" or media_type.startswith(kind + "/")):
            return 0 if kind == "*" else 1
        return None


def _ranges(accept: str) -> list[_Range]:
    ranges = []
    for order, item in enumerate(accept.split(",")):
        media_type, *parameters = (part.strip() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        if media_type:
            ranges.append(_Range(media_type.lower(), quality, order))
    return ranges


def choose(accept: str | None, offered: Sequence[Format]) -> Format | None:
    """The offered format the `Accept` header prefers (ties: the offer's order), or None when
    it accepts none of them. No header, or an empty one, accepts the first."""
    if not accept or not accept.strip():
        return offered[0]
    ranges = _ranges(accept)
    best: tuple[float, int, int] | None = None
    chosen: Format | None = None
    for position, fmt in enumerate(offered):
        for media_type in (fmt.media_type, *fmt.aliases):
            # the most specific range that matches this media type decides its quality
            matching = [
                (r.specificity(media_type), r)
                for r in ranges
                if r.specificity(media_type) is not None
            ]
            if not matching:
                continue
            specificity, decisive = max(matching, key=lambda m: (m[0] or 0, -m[1].order))
            if decisive.quality <= 0:
                continue
            key = (decisive.quality, specificity or 0, -position)
            if best is None or key > best:
                best, chosen = key, fmt
    return chosen


def named(name: str, offered: Sequence[Format]) -> Format | None:
    """The offered format with this short name or extension (`csv`, `ttl`…), if any."""
    name = name.lower()
    return next((f for f in offered if name in (f.name, f.extension)), None)


def listing(offered: Sequence[Format]) -> str:
    """The offered media types, for a 406 message."""
    return ", ".join(f.media_type for f in offered)
