"""Remote SPARQL 1.1 engines: the Protocol for queries, the Graph Store Protocol for loading.

Parameters are never pasted into the query pattern: they travel as a trailing VALUES data block
whose terms are serialised by rdflib (quotes and escapes included), so a malicious literal is just
a literal that matches nothing.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

from coopdec_kg.errors import EndpointError

TIMEOUT_SECONDS = 60
RESULTS_JSON = "application/sparql-results+json"


def _check_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise EndpointError(f"not an http(s) endpoint URL: {url!r}")
    return url


_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def with_values(query: str, bindings: Mapping[str, Identifier]) -> str:
    """The query with its bound parameters as a VALUES block opening the outer WHERE group.

    Placed there, the block binds the parameters before the pattern is evaluated, like a local
    engine's substitution (a trailing VALUES would join after aggregation instead).
    """
    if not bindings:
        return query
    lines = query.splitlines(keepends=True)
    offset = 0
    for line in lines:  # skip comments, so a header mentioning "WHERE {" is not taken
        if not line.lstrip().startswith("#"):
            match = _WHERE.search(line)
            if match:
                offset += match.end()
                break
        offset += len(line)
    else:
        raise EndpointError("cannot bind parameters: the query has no WHERE { … } group")
    names = " ".join(f"?{name}" for name in bindings)
    terms = " ".join(term.n3() for term in bindings.values())
    return f"{query[:offset]}\n  VALUES ({names}) {{ ({terms}) }}\n{query[offset:]}"


def _term(binding: Mapping[str, Any]) -> Identifier:
    """An rdflib term from one SPARQL 1.1 Query Results JSON binding."""
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if kind in ("literal", "typed-literal"):
        datatype = binding.get("datatype")
        return Literal(
            value,
            lang=binding.get("xml:lang"),
            datatype=URIRef(datatype) if datatype and not binding.get("xml:lang") else None,
        )
    raise EndpointError(f"unknown term type in results: {kind!r}")


def _request(request: urllib.request.Request) -> bytes:
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as error:
        detail = error.read(500).decode("utf-8", "replace").strip().splitlines()
        reason = detail[0] if detail else error.reason
        raise EndpointError(f"{request.full_url} answered {error.code}: {reason}") from None
    except (urllib.error.URLError, OSError) as error:
        raise EndpointError(f"cannot reach {request.full_url}: {error}") from None


def select(
    endpoint: str, query: str, bindings: Mapping[str, Identifier]
) -> tuple[list[str], list[dict[str, Identifier]]]:
    """Run a SELECT query on a remote endpoint: its variables and rows of rdflib terms."""
    request = urllib.request.Request(
        _check_url(endpoint),
        data=with_values(query, bindings).encode("utf-8"),
        headers={"Content-Type": "application/sparql-query", "Accept": RESULTS_JSON},
        method="POST",
    )
    try:
        document = json.loads(_request(request))
        variables = list(document["head"]["vars"])
        rows = [
            {name: _term(value) for name, value in row.items()}
            for row in document["results"]["bindings"]
        ]
    except (ValueError, KeyError, TypeError) as error:
        raise EndpointError(f"{endpoint} did not return SPARQL JSON results: {error}") from None
    return variables, rows


def push(endpoint: str, ntriples: bytes, graph: str | None = None, replace: bool = True) -> None:
    """Load N-Triples into a Graph Store Protocol endpoint (PUT replaces the graph, POST adds)."""
    target = _check_url(endpoint)
    query = urllib.parse.urlencode({"graph": graph}) if graph else "default"
    separator = "&" if urllib.parse.urlsplit(target).query else "?"
    request = urllib.request.Request(
        f"{target}{separator}{query}",
        data=ntriples,
        headers={"Content-Type": "application/n-triples"},
        method="PUT" if replace else "POST",
    )
    _request(request)
