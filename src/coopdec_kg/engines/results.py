"""A neutral query result (column names and rows of RDF terms) and its writers.

Whatever engine ran the query (rdflib, the pyoxigraph store or a remote endpoint), it returns a
`QueryResult`; the writers turn it into the W3C SPARQL 1.1 result formats (JSON, CSV, TSV), text
for programs. A table for people is coopdec_kg.publish.tables' job; printing is the CLI's.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

from coopdec_kg.content.namespaces import prefixes

FORMATS = ("table", "csv", "tsv", "json")
NUMERIC_TYPES = frozenset(
    "http://www.w3.org/2001/XMLSchema#" + local
    for local in ("integer", "decimal", "double", "float", "nonNegativeInteger", "positiveInteger")
)
CURIE_LOCAL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")

Row = tuple[Identifier | None, ...]


@dataclass(frozen=True)
class QueryResult:
    """The answer of a SELECT query: its columns in order, and one tuple of terms per row."""

    variables: tuple[str, ...]
    rows: tuple[Row, ...]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def records(self) -> list[dict[str, Identifier | None]]:
        """Each row as a mapping from column name to term (None when unbound)."""
        return [dict(zip(self.variables, row, strict=True)) for row in self.rows]

    def column(self, name: str) -> list[Identifier | None]:
        index = self.variables.index(name)
        return [row[index] for row in self.rows]

    def page(self, offset: int = 0, limit: int | None = None) -> QueryResult:
        """The rows from `offset` on, at most `limit` of them, in the answer's order."""
        end = None if limit is None else offset + limit
        return QueryResult(self.variables, self.rows[offset:end])


def shorten(iri: str) -> str:
    """A CURIE with the project's prefixes (the longest namespace wins), else the IRI itself.

    >>> shorten("https://w3id.org/coopdec-kg/id/authority/ca-cergy-pontoise")
    'authority:ca-cergy-pontoise'
    """
    best, longest = iri, 0
    for prefix, namespace in prefixes().items():
        local = iri[len(namespace) :]
        if iri.startswith(namespace) and len(namespace) > longest and CURIE_LOCAL.match(local):
            best, longest = f"{prefix}:{local}", len(namespace)
    return best


def plain(term: Identifier | None) -> str:
    """The text a person reads: a CURIE for an IRI, the lexical form of a literal, '' if unbound."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return shorten(str(term))
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


# ---------------------------------------------------------------------------- SPARQL 1.1 JSON


def json_term(term: Identifier) -> dict[str, str]:
    """One RDF term in the SPARQL 1.1 Query Results JSON format."""
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    if isinstance(term, Literal):
        encoded = {"type": "literal", "value": str(term)}
        if term.language:
            encoded["xml:lang"] = term.language
        elif term.datatype is not None:
            encoded["datatype"] = str(term.datatype)
        return encoded
    raise TypeError(f"not an RDF term: {term!r}")


def to_json(result: QueryResult) -> str:
    """W3C SPARQL 1.1 Query Results JSON, one binding per line; unbound variables are left out.

    Each binding is written by json's C encoder: `indent=` would send the whole document
    through the pure-Python one, three times slower on an answer of 75 000 rows.
    """
    head = json.dumps({"vars": list(result.variables)}, ensure_ascii=False)
    bindings = ",\n    ".join(
        json.dumps(
            {
                name: json_term(term)
                for name, term in zip(result.variables, row, strict=True)
                if term is not None
            },
            ensure_ascii=False,
        )
        for row in result.rows
    )
    listed = f"\n    {bindings}\n  " if bindings else ""
    return f'{{\n  "head": {head},\n  "results": {{"bindings": [{listed}]}}\n}}\n'


# ---------------------------------------------------------------------------- SPARQL 1.1 CSV/TSV


def to_csv(result: QueryResult) -> str:
    """W3C SPARQL 1.1 CSV results: lexical forms only, CRLF line ends, RFC 4180 quoting."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(result.variables)
    for row in result.rows:
        writer.writerow(["" if term is None else _csv_value(term) for term in row])
    return buffer.getvalue()


def _csv_value(term: Identifier) -> str:
    return f"_:{term}" if isinstance(term, BNode) else str(term)


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def tsv_term(term: Identifier) -> str:
    """One RDF term in SPARQL/Turtle syntax on a single line, as SPARQL 1.1 TSV wants it."""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        quoted = '"' + str(term).translate(_TSV_ESCAPES) + '"'
        if term.language:
            return f"{quoted}@{term.language}"
        if term.datatype is not None:
            return f"{quoted}^^<{term.datatype}>"
        return quoted
    raise TypeError(f"not an RDF term: {term!r}")


def to_tsv(result: QueryResult) -> str:
    """W3C SPARQL 1.1 TSV results: `?name` headers, terms in SPARQL syntax, '' when unbound."""
    lines = ["\t".join(f"?{name}" for name in result.variables)]
    lines += [
        "\t".join("" if term is None else tsv_term(term) for term in row) for row in result.rows
    ]
    return "\n".join(lines) + "\n"


def render(result: QueryResult, output_format: str) -> str:
    """The result as text in one of the machine formats (csv, tsv, json)."""
    writers = {"csv": to_csv, "tsv": to_tsv, "json": to_json}
    if output_format not in writers:
        raise ValueError(f"unknown result format {output_format!r}")
    return writers[output_format](result)


def boolean_json(answer: bool) -> str:
    """An ASK query's answer in the W3C SPARQL 1.1 Query Results JSON format."""
    return json.dumps({"head": {}, "boolean": answer}) + "\n"
