"""The named queries as an OpenAPI 3 description, generated from their `#+` headers.

One operation per query, at `/api/queries/{name}`: its summary and description (French, with the
English after them, as the headers give both), its tags, one query parameter per declared
parameter (typed, required or not, with its default and choices), and the paging and format
parameters every query takes. Nothing is written by hand: a new `.rq` file is a new operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from coopdec_kg import __version__
from coopdec_kg.engines.queries import NamedQuery, Parameter
from coopdec_kg.web import negotiation

RESERVED = ("limit", "offset", "format", "download")  # the API's own query parameters

_SCHEMAS: dict[str, dict[str, Any]] = {
    "iri": {"type": "string", "format": "uri"},
    "number": {"type": "number"},
    "literal": {"type": "string"},
    "language": {"type": "string"},
}
_DATATYPES: dict[str, dict[str, Any]] = {
    "integer": {"type": "integer"},
    "nonNegativeInteger": {"type": "integer", "minimum": 0},
    "positiveInteger": {"type": "integer", "minimum": 1},
    "decimal": {"type": "number"},
    "double": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "gYear": {"type": "string", "pattern": "^-?[0-9]{4,}"},
    "string": {"type": "string"},
}


def _schema(parameter: Parameter) -> dict[str, Any]:
    if parameter.kind == "datatype" and parameter.datatype is not None:
        local = parameter.datatype.rsplit("#", 1)[-1]
        schema = dict(_DATATYPES.get(local, {"type": "string"}))
    else:
        schema = dict(_SCHEMAS.get(parameter.kind, {"type": "string"}))
    if parameter.choices:
        schema["enum"] = [str(choice) for choice in parameter.choices]
    if parameter.default is not None:
        schema["default"] = parameter.default
    return schema


def _parameter(parameter: Parameter) -> dict[str, Any]:
    described = parameter.description
    if parameter.kind == "iri":
        described += (
            " — an IRI (https://…) or a CURIE with the project's prefixes "
            "(authority:ca-cergy-pontoise)"
        )
    return {
        "name": parameter.name,
        "in": "query",
        "required": parameter.required,
        "description": described,
        "schema": _schema(parameter),
    }


PAGING = [
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "At most this many rows, in the answer's order (default: every row).",
        "schema": {"type": "integer", "minimum": 1},
    },
    {
        "name": "offset",
        "in": "query",
        "required": False,
        "description": "Skip this many rows first (with limit, to page through the answer).",
        "schema": {"type": "integer", "minimum": 0, "default": 0},
    },
    {
        "name": "format",
        "in": "query",
        "required": False,
        "description": "json, csv or tsv; overrides the Accept header.",
        "schema": {"type": "string", "enum": [f.name for f in negotiation.TABLES]},
    },
    {
        "name": "download",
        "in": "query",
        "required": False,
        "description": "1: a file to save (Content-Disposition: attachment), made for people: "
        "in csv, a text cell that begins with =, +, -, @, a tab or a carriage return starts "
        "with ' so that a spreadsheet never runs it as a formula. Without it, the exact W3C "
        "format.",
        "schema": {"type": "integer", "enum": [0, 1], "default": 0},
    },
]


def _message(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _operation(query: NamedQuery) -> dict[str, Any]:
    text = "\n\n".join(
        part for part in (query.summary_en, query.description, query.description_en) if part.strip()
    )
    answer = {f.media_type: {"schema": {"type": "string"}} for f in negotiation.TABLES}
    answer[negotiation.SPARQL_JSON.media_type] = {
        "schema": {"$ref": "#/components/schemas/SparqlResults"}
    }
    return {
        "operationId": query.name,
        "summary": query.summary,
        "description": text,
        "tags": list(query.tags),
        "parameters": [_parameter(p) for p in query.parameters] + PAGING,
        "responses": {
            "200": {
                "description": f"The answer: columns {', '.join(query.columns)}. "
                "X-Total-Count gives the whole answer's rows; Link the next page.",
                "content": answer,
            },
            "400": _message("A missing, unknown or ill-typed parameter, or a bad limit/offset."),
            "406": _message("None of the accepted media types is offered."),
            "503": _message("The query ran past the server's time limit and was stopped."),
        },
    }


def document(queries: Sequence[NamedQuery], server_url: str = "/") -> dict[str, Any]:
    """The OpenAPI 3.0 description of the named queries (and of their list)."""
    paths: dict[str, Any] = {
        "/api/queries": {
            "get": {
                "operationId": "list-queries",
                "summary": "Les requêtes nommées / The named queries",
                "description": "Each query with its summaries (fr, en), description, columns "
                "and parameters.",
                "responses": {"200": {"description": "The list, as JSON."}},
            }
        }
    }
    for query in queries:
        paths[f"/api/queries/{query.name}"] = {"get": _operation(query)}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "coopdec-kg — les questions du rapport / the report's questions",
            "version": __version__,
            "description": "The named SPARQL queries of coopdec-kg (queries/*.rq) as a web API. "
            "Parameters are bound as typed RDF terms, never pasted into the query text.",
            "license": {"name": "Licence Ouverte 2.0 (data); MIT (code)"},
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}},
                    "required": ["error"],
                },
                "SparqlResults": {
                    "type": "object",
                    "description": "W3C SPARQL 1.1 Query Results JSON",
                    "properties": {
                        "head": {"type": "object"},
                        "results": {"type": "object"},
                    },
                },
            }
        },
    }
