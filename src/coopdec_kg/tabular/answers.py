"""A query's answer as an XLSX workbook, for people who read answers in a spreadsheet.

The header row holds the answer's column names; numbers are numbers, dates are dates, booleans
are booleans; an IRI is written whole, as a link to itself. Text is always written as text,
never as a formula, whatever it begins with (`=`, `+`, `-`, `@`): a label cannot run code in
the reader's spreadsheet. Control characters, which a workbook cannot hold, are shown escaped.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Identifier

from coopdec_kg.engines.results import QueryResult
from coopdec_kg.errors import ExportError
from coopdec_kg.terminal import printable

MAX_ROWS = 1_048_575  # a worksheet's rows, less the header
_INTEGERS = {
    XSD.integer,
    XSD.int,
    XSD.long,
    XSD.short,
    XSD.nonNegativeInteger,
    XSD.positiveInteger,
    XSD.gYear,
}
_DECIMALS = {XSD.decimal, XSD.double, XSD.float}
_SHEET_NAME = re.compile(r"[\[\]:*?/\\']")


def answer_xlsx(result: QueryResult, name: str) -> bytes:
    """The answer as the bytes of an .xlsx file, on one sheet named after the query."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    if len(result) > MAX_ROWS:
        raise ExportError(f"{len(result)} rows: more than a worksheet holds ({MAX_ROWS})")
    book = Workbook()
    book.remove(book.worksheets[0])
    sheet = book.create_sheet(_SHEET_NAME.sub("-", name)[:31] or "answer")
    for index, variable in enumerate(result.variables, start=1):
        cell = sheet.cell(row=1, column=index)
        set_text(cell, variable)
        cell.font = Font(bold=True)
    link = Font(color="0563C1", underline="single")
    for number, row in enumerate(result.rows, start=2):
        for index, term in enumerate(row, start=1):
            if term is None:
                continue
            cell = sheet.cell(row=number, column=index)
            value, kind = cell_value(term)
            if kind == "s":
                set_text(cell, str(value))
            else:
                cell.value = value
            if kind == "d":
                cell.number_format = "yyyy-mm-dd" if type(value) is date else "yyyy-mm-dd hh:mm:ss"
            if isinstance(term, URIRef):
                cell.hyperlink = str(term)
                cell.font = link
    sheet.freeze_panes = "A2"
    if result.variables:
        sheet.auto_filter.ref = sheet.dimensions
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def set_text(cell: Any, text: str) -> None:
    """Write text as text: openpyxl takes a string that begins with « = » for a formula."""
    cell.value = text
    cell.data_type = "s"


def cell_value(term: Identifier) -> tuple[object, str]:
    """The value a cell holds for a term, and its kind: n number, d date, b boolean, s text."""
    if isinstance(term, Literal) and term.datatype is not None and not term.language:
        text = str(term)
        try:
            if term.datatype in _INTEGERS and re.fullmatch(r"[+-]?\d{1,15}", text):
                return int(text), "n"
            if term.datatype in _DECIMALS and Decimal(text).is_finite():
                return Decimal(text), "n"
            if term.datatype == XSD.date:
                return date.fromisoformat(text[:10]), "d"
            if term.datatype == XSD.dateTime:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
                if moment.tzinfo is not None:
                    moment = moment.astimezone(UTC).replace(tzinfo=None)
                return moment, "d"
            if term.datatype == XSD.boolean and text in ("true", "false", "1", "0"):
                return text in ("true", "1"), "b"
        except (ValueError, InvalidOperation):
            pass  # an ill-typed literal stays text, as written
    if isinstance(term, BNode):
        return f"_:{term}", "s"
    return printable(str(term), keep="\n\t"), "s"
