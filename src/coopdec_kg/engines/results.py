"""A neutral query result (column names and rows of RDF terms) and its writers.

Whatever engine ran the query (the store, rdflib, a remote endpoint), it returns a
`QueryResult` holding the terms as that engine gave them; `rows` gives them as rdflib terms,
made the first time they are asked for (a table for people). The writers turn it into the W3C
SPARQL 1.1 result formats (JSON, CSV, TSV) straight from the engine's terms (engines/terms.py:
the same bytes whatever the engine), text for programs. A table for people is
coopdec_kg.publish.tables' job; printing is the CLI's.

CSV written for people to open in a spreadsheet is guarded against formula injection (OWASP's
advice): a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
leading `'`, so a spreadsheet shows it and never runs it (`formula_guarded`; the spreadsheet
import reads it back with `formula_unguarded`). Numbers and IRIs are written as they are.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import pyoxigraph

from coopdec_kg.content.namespaces import prefixes
from coopdec_kg.engines.terms import (
    XSD_STRING,
    Term,
    converter,
    datatype,
    kind,
    language,
    lexical,
    text,
)

if TYPE_CHECKING:
    from rdflib.term import Identifier

# A row as rdflib terms (None where a variable is unbound).
Row = tuple["Identifier | None", ...]

FORMATS = ("table", "csv", "tsv", "json")
NUMERIC_TYPES = frozenset(
    "http://www.w3.org/2001/XMLSchema#" + local
    for local in ("integer", "decimal", "double", "float", "nonNegativeInteger", "positiveInteger")
)
CURIE_LOCAL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# Text a spreadsheet would take for a formula, after any apostrophes already guarding it.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_GUARDED_FORMULA = re.compile(r"'+[=+\-@\t\r]")
_FORMULA_FIRST = frozenset("'=+-@\t\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass(frozen=True)
class QueryResult:
    """The answer of a SELECT query: its columns in order, and one tuple of terms per row, as
    the engine gave them (pyoxigraph's or rdflib's; None where a variable is unbound)."""

    variables: tuple[str, ...]
    terms: Sequence[tuple[Term, ...]]

    @cached_property
    def rows(self) -> tuple[Row, ...]:
        """The rows as rdflib terms (each distinct term converted once)."""
        convert = converter()
        return tuple(tuple(map(convert, row)) for row in self.terms)

    def __len__(self) -> int:
        return len(self.terms)

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
        return QueryResult(self.variables, self.terms[offset:end])


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


def plain(term: Term | None) -> str:
    """The text a person reads: a CURIE for an IRI, the lexical form of a literal, '' if unbound."""
    if term is None:
        return ""
    found = kind(term)
    if found == "uri":
        return shorten(text(term))
    if found == "bnode":
        return f"_:{text(term)}"
    return text(term)


def formula_guarded(value: str) -> str:
    """Text as a spreadsheet cell that shows it and never runs it: a leading `'` when it begins
    with `=`, `+`, `-`, `@`, a tab or a carriage return (or with apostrophes then one of them,
    so that `formula_unguarded` gives every text back).

    >>> formula_guarded("=1+2"), formula_guarded("-5 €"), formula_guarded("Porto-Novo")
    ("'=1+2", "'-5 €", 'Porto-Novo')
    """
    return "'" + value if _FORMULA.match(value) else value


def formula_unguarded(value: str) -> str:
    """The text a guarded cell stands for, as spreadsheets read it: `'=x` is the text `=x`."""
    return value[1:] if _GUARDED_FORMULA.match(value) else value


def is_text(term: Term) -> bool:
    """Whether a spreadsheet should read the term as text: a string literal (plain or with a
    language), or a literal whose value is not a number. IRIs and blank nodes are not text."""
    if kind(term) != "literal":
        return False
    if language(term) or datatype(term) in (None, XSD_STRING):
        return True
    return _NUMBER.fullmatch(text(term)) is None


# ---------------------------------------------------------------------------- SPARQL 1.1 JSON


def json_term(term: Term) -> dict[str, str]:
    """One RDF term in the SPARQL 1.1 Query Results JSON format."""
    found = kind(term)
    encoded = {"type": found, "value": text(term)}
    if found == "literal":
        tag = language(term)
        if tag:
            encoded["xml:lang"] = tag
        else:
            typed = datatype(term)
            if typed is not None:
                encoded["datatype"] = typed
    return encoded


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
        for row in result.terms
    )
    listed = f"\n    {bindings}\n  " if bindings else ""
    return f'{{\n  "head": {head},\n  "results": {{"bindings": [{listed}]}}\n}}\n'


# ---------------------------------------------------------------------------- SPARQL 1.1 CSV/TSV


def to_csv(result: QueryResult, guarded: bool = False) -> str:
    """W3C SPARQL 1.1 CSV results: lexical forms only, CRLF line ends, RFC 4180 quoting.
    `guarded`: for people, every text cell `formula_guarded` (headers are variable names)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(result.variables)
    cell = _guarded_csv_value if guarded else _csv_value
    writer.writerows([cell(term) for term in row] for row in result.terms)
    return buffer.getvalue()


def _guarded_csv_value(term: Term) -> str:
    """A term's text in a CSV cell for people: text that could run as a formula is guarded."""
    value = _csv_value(term)
    if value[:1] in _FORMULA_FIRST and is_text(term):
        return formula_guarded(value)
    return value


def _csv_value(term: Term) -> str:
    """A term's text in a CSV cell; the cases that fill answers first."""
    if isinstance(term, pyoxigraph.NamedNode):
        return term.value
    if isinstance(term, pyoxigraph.Literal):
        return term.value if term.language else lexical(term.value, term.datatype.value)
    if term is None:
        return ""
    return f"_:{text(term)}" if kind(term) == "bnode" else text(term)


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def tsv_term(term: Term) -> str:
    """One RDF term in SPARQL/Turtle syntax on a single line, as SPARQL 1.1 TSV wants it."""
    found = kind(term)
    if found == "uri":
        return f"<{text(term)}>"
    if found == "bnode":
        return f"_:{text(term)}"
    quoted = '"' + text(term).translate(_TSV_ESCAPES) + '"'
    tag = language(term)
    if tag:
        return f"{quoted}@{tag}"
    typed = datatype(term)
    return quoted if typed is None else f"{quoted}^^<{typed}>"


def to_tsv(result: QueryResult) -> str:
    """W3C SPARQL 1.1 TSV results: `?name` headers, terms in SPARQL syntax, '' when unbound."""
    lines = ["\t".join(f"?{name}" for name in result.variables)]
    lines += [
        "\t".join("" if term is None else tsv_term(term) for term in row) for row in result.terms
    ]
    return "\n".join(lines) + "\n"


def render(result: QueryResult, output_format: str, for_people: bool = False) -> str:
    """The result as text in one of the machine formats (csv, tsv, json). `for_people`: a
    CSV file people open in a spreadsheet, its text cells guarded against formulas (TSV and
    JSON are read by programs and stay exact)."""
    if output_format == "csv":
        return to_csv(result, guarded=for_people)
    writers = {"tsv": to_tsv, "json": to_json}
    if output_format not in writers:
        raise ValueError(f"unknown result format {output_format!r}")
    return writers[output_format](result)


def boolean_json(answer: bool) -> str:
    """An ASK query's answer in the W3C SPARQL 1.1 Query Results JSON format."""
    return json.dumps({"head": {}, "boolean": answer}) + "\n"
