"""What the SPARQL endpoint accepts: its limits, and the queries it refuses before running them.

The endpoint is read-only and never reaches the network on a query's behalf: an update (sent as
`update=`, as `application/sparql-update`, or as a query text) is refused with 403, and so is a
query that holds `SERVICE` (a federated query makes the server send requests wherever the query
says: see the project's security notes). The check reads the query as tokens (engines/
sparql_text): a keyword inside a string, an IRI or a comment is not a keyword, and a query that
cannot be read as tokens is refused rather than let through unchecked.
"""

from __future__ import annotations

from coopdec_kg.engines.sparql_text import keyword, significant, tokenize
from coopdec_kg.errors import ContentError, CoopdecError

MAX_QUERY_BYTES = 64 * 1024  # the longest query text accepted (UTF-8)
MAX_ANSWER_BYTES = 256 * 1024 * 1024  # the largest answer written (a whole national answer fits)
UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
)
PROLOGUE_KEYWORDS = frozenset({"PREFIX", "BASE"})


class BadRequest(CoopdecError):
    """The request is not a query the endpoint can run (400)."""


class Refused(CoopdecError):
    """The endpoint will not run this (403): an update, or a federated query."""


class QueryTooLong(CoopdecError):
    """A query longer than the server's limit (413)."""


class AnswerTooLarge(CoopdecError):
    """An answer larger than the server's limit (400: the same request will never fit)."""


class NotAcceptable(CoopdecError):
    """None of the formats the client accepts can hold this answer (406)."""


class NotFound(CoopdecError):
    """The graph says nothing about this resource (404)."""


class Unsupported(CoopdecError):
    """A POST whose body is neither a query nor a form (415)."""


UPDATES_REFUSED = (
    "this endpoint is read-only: SPARQL updates are refused (query the data with SELECT, ASK, "
    "CONSTRUCT or DESCRIBE)"
)


def check_query(text: str) -> None:
    """Refuse a query that is too long, empty, an update, or federated (SERVICE)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_QUERY_BYTES:
        raise QueryTooLong(
            f"the query has {size} bytes, more than the server's limit of {MAX_QUERY_BYTES}"
        )
    if not text.strip():
        raise BadRequest("the query is empty")
    try:
        tokens = tokenize(text, "the query")
    except ContentError as error:
        raise BadRequest(f"SPARQL syntax error: {error}") from None
    words = [keyword(tokens[i]) for i in significant(tokens)]
    position = 0  # past the prologue: PREFIX name: <iri>, BASE <iri>
    while position < len(words) and words[position] in PROLOGUE_KEYWORDS:
        position += 3 if words[position] == "PREFIX" else 2
    if position < len(words) and words[position] in UPDATE_KEYWORDS:
        raise Refused(UPDATES_REFUSED)
    if "SERVICE" in words:
        raise Refused(
            "federated queries (SERVICE) are refused: this endpoint queries its own graph only"
        )


def answer_too_large(limit: int) -> AnswerTooLarge:
    shown = f"{limit / 2**20:g} MiB" if limit >= 2**20 else f"{limit} bytes"
    return AnswerTooLarge(
        f"the answer is larger than the server's limit of {shown}: add a LIMIT (or, for a "
        "named query, page it with limit and offset)"
    )
