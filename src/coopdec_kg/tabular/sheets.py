"""Read a spreadsheet (CSV, XLSX, ODS) into plain rows of cell values, or say in one line why not.

CSV is decoded as UTF-8 (with or without a byte-order mark) or, failing that, as Windows-1252,
what French spreadsheet programs write; a file that mixes both is refused rather than guessed.
The delimiter is `;` (French Excel), `,` or a tab, read from the header line. XLSX is read with
openpyxl, ODS with odfpy: merged cells are refused (a merged cell means one value for several
rows, which a row-by-row import would misread), and a formula gives the value its program saved
with it, or is refused when none was saved. Files over the size and row limits are refused
before their rows are read; a workbook's uncompressed size is checked before it is unpacked.
Text that a leading `'` keeps from running as a formula (`'=x`, as this tool's CSV answers
write it) is read as spreadsheets read it: the text without the `'`.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from coopdec_kg.engines.results import formula_unguarded
from coopdec_kg.errors import InputError

Value = str | int | float | Decimal | bool | date | datetime
Row = tuple[int, tuple[Value | None, ...]]  # the row's number in the sheet, and its cells

# The rows of one import: its bound (with the file's bytes), in place of the triples a
# submission of RDF text may hold, since the import's triples are written by its own mapping.
MAX_ROWS = 10_000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
SUFFIXES = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".ods": "ods"}
_BOM = b"\xef\xbb\xbf"
_LATIN = re.compile("[\u00a0-\u024f\u2000-\u20cf]")
_DELIMITERS = (";", ",", "\t")


@dataclass(frozen=True)
class Sheet:
    """One sheet: its name and its non-empty rows (the first is the header)."""

    name: str
    rows: tuple[Row, ...]


def sheet_format(path: Path) -> str:
    """csv, xlsx or ods, from the file name's extension."""
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise InputError(
            f"{path}: not a spreadsheet this tool reads (give a .csv, .xlsx or .ods file)"
        )
    return found


def read_sheets(path: Path, payload: bytes, fmt: str, max_rows: int = MAX_ROWS) -> list[Sheet]:
    """Every sheet of the file (a CSV file is one sheet named after the file)."""
    if not payload.strip():
        raise InputError(f"{path}: the file is empty")
    if fmt == "csv":
        return [read_csv(path, payload, max_rows)]
    _check_zip(path, payload, fmt)
    return (
        _read_xlsx(path, payload, max_rows) if fmt == "xlsx" else _read_ods(path, payload, max_rows)
    )


# ---------------------------------------------------------------- CSV


def decode(path: Path, payload: bytes) -> str:
    """UTF-8 (a byte-order mark is dropped), else Windows-1252; never a guess between both:
    a file with lines of each is refused, naming the first line that is not UTF-8."""
    if b"\x00" in payload:
        raise InputError(
            f"{path}: not a text file (it holds NUL bytes): is it a spreadsheet saved as CSV?"
        )
    body = payload[len(_BOM) :] if payload.startswith(_BOM) else payload
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        first_bad = _line_of(body, error.start)
        if payload.startswith(_BOM) or _french_utf8_line(body):
            raise InputError(
                f"{path}: mixed encodings: UTF-8 text, and bytes that are not UTF-8 on line "
                f"{first_bad}; save the file again as « CSV UTF-8 »"
            ) from None
    try:
        return body.decode("cp1252")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: neither UTF-8 nor Windows-1252 text (line {_line_of(body, error.start)}); "
            "save the file again as « CSV UTF-8 »"
        ) from None


def _french_utf8_line(body: bytes) -> bool:
    """Whether a line reads as UTF-8 text that French could write (accented Latin letters,
    typographic punctuation, €): Windows-1252 bytes almost never form such a line by chance."""
    for line in body.split(b"\n"):
        if line.isascii():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if all(char.isascii() or _LATIN.match(char) for char in text):
            return True
    return False


def _line_of(payload: bytes, offset: int) -> int:
    return payload.count(b"\n", 0, offset) + 1


def delimiter_of(header: str) -> str:
    """The delimiter the header line uses most, outside quotes (`,` when it has none)."""
    bare = re.sub(r'"[^"]*"', "", header)
    counts = {candidate: bare.count(candidate) for candidate in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


def read_csv(path: Path, payload: bytes, max_rows: int = MAX_ROWS) -> Sheet:
    """The rows of a CSV file, numbered by the line they start on."""
    text = decode(path, payload)
    header = text.lstrip("\r\n").split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(header))
    rows: list[Row] = []
    start = 1
    try:
        for record in reader:
            cells = tuple(_cell(cell) for cell in record)
            if any(cell is not None for cell in cells):
                rows.append((start, cells))
                _check_count(path, path.name, len(rows), max_rows)
            start = reader.line_num + 1
    except csv.Error as error:
        raise InputError(f"{path}, line {reader.line_num}: not readable as CSV ({error})") from None
    return Sheet(path.name, tuple(rows))


def _check_count(path: Path, sheet: str, count: int, max_rows: int) -> None:
    if count > max_rows + 1:
        limit = f"{max_rows:_}".replace("_", " ")
        raise InputError(
            f"{path}: sheet « {sheet} » has more than {limit} rows, the limit of one import; "
            "split it into several files"
        )


# ---------------------------------------------------------------- workbooks


def _check_zip(path: Path, payload: bytes, fmt: str) -> None:
    """A workbook is a zip archive: check it is one, and that it unpacks to a sane size."""
    what = "an Excel workbook (.xlsx)" if fmt == "xlsx" else "an OpenDocument spreadsheet (.ods)"
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            entries = archive.infolist()
            names = {entry.filename for entry in entries}
            if (
                fmt == "ods"
                and archive.read("mimetype") != b"application/vnd.oasis.opendocument.spreadsheet"
            ):
                raise KeyError("mimetype")
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise InputError(f"{path}: not {what}") from None
    if fmt == "xlsx" and "xl/workbook.xml" not in names:
        raise InputError(f"{path}: not {what}")
    if sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
        raise InputError(
            f"{path}: unpacks to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MiB, the limit"
        )


def _read_xlsx(path: Path, payload: bytes, max_rows: int) -> list[Sheet]:
    import warnings

    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it skips
            book = load_workbook(io.BytesIO(payload), data_only=False)
            saved = None
            sheets = []
            for sheet in book.worksheets:
                if sheet.merged_cells.ranges:
                    first = sorted(str(cells) for cells in sheet.merged_cells.ranges)[0]
                    raise InputError(
                        f"{path}: sheet « {sheet.title} », cells {first} are merged: unmerge "
                        "them and give each row its own value"
                    )
                rows: list[Row] = []
                for cells in sheet.iter_rows():
                    values = []
                    for cell in cells:
                        value = cell.value
                        if cell.data_type == "f":
                            if saved is None:
                                saved = load_workbook(io.BytesIO(payload), data_only=True)
                            value = saved[sheet.title][cell.coordinate].value
                            if value is None:
                                raise InputError(
                                    f"{path}: sheet « {sheet.title} », cell {cell.coordinate} "
                                    "holds a formula with no saved value: type the value "
                                    "instead, or open and save the file in a spreadsheet program"
                                )
                        values.append(_cell(value))
                    if any(value is not None for value in values):
                        rows.append((int(cells[0].row or 0), tuple(values)))
                        _check_count(path, sheet.title, len(rows), max_rows)
                sheets.append(Sheet(sheet.title, tuple(rows)))
    except InputError:
        raise
    except Exception as error:  # openpyxl raises many kinds on a damaged workbook
        raise InputError(
            f"{path}: not a readable Excel workbook ({type(error).__name__})"
        ) from None
    return sheets


def _cell(value: Any) -> Value | None:
    if isinstance(value, str):
        return formula_unguarded(value) if value.strip() else None
    if value is None or isinstance(value, int | float | Decimal | bool | date | datetime):
        return value
    return str(value)


def _read_ods(path: Path, payload: bytes, max_rows: int) -> list[Sheet]:
    from odf.opendocument import load
    from odf.table import Table

    try:
        document = load(io.BytesIO(payload))
    except Exception as error:  # odfpy raises many kinds on a damaged file
        raise InputError(
            f"{path}: not a readable OpenDocument spreadsheet ({type(error).__name__})"
        ) from None
    return [
        Sheet(str(table.getAttribute("name")), tuple(_ods_rows(path, table, max_rows)))
        for table in document.spreadsheet.getElementsByType(Table)
    ]


def _ods_rows(path: Path, table: Any, max_rows: int) -> list[Row]:
    from odf.table import TableRow

    name = str(table.getAttribute("name"))
    rows: list[Row] = []
    number = 0
    for row in table.getElementsByType(TableRow):
        repeat = int(row.getAttribute("numberrowsrepeated") or 1)
        values = _ods_cells(path, name, number + 1, row)
        if any(value is not None for value in values):
            for offset in range(repeat):
                rows.append((number + 1 + offset, values))
                _check_count(path, name, len(rows), max_rows)
        number += repeat
    return rows


def _ods_cells(path: Path, sheet: str, number: int, row: Any) -> tuple[Value | None, ...]:
    from odf import teletype

    values: list[Value | None] = []
    for cell in row.childNodes:
        kind = cell.qname[1]
        if kind not in ("table-cell", "covered-table-cell"):
            continue
        repeat = int(cell.getAttribute("numbercolumnsrepeated") or 1)
        place = f"{column_letters(len(values))}{number}"
        if (
            kind == "covered-table-cell"
            or int(cell.getAttribute("numbercolumnsspanned") or 1) > 1
            or int(cell.getAttribute("numberrowsspanned") or 1) > 1
        ):
            raise InputError(
                f"{path}: sheet « {sheet} », cell {place} is merged with its neighbours: unmerge "
                "the cells and give each row its own value"
            )
        kind_of_value = cell.getAttribute("valuetype")
        if cell.getAttribute("formula") and not kind_of_value:
            raise InputError(
                f"{path}: sheet « {sheet} », cell {place} holds a formula with no saved value: "
                "type the value instead"
            )
        value: Value | None
        if kind_of_value in ("float", "percentage", "currency"):
            number_text = str(cell.getAttribute("value"))
            value = (
                int(number_text) if re.fullmatch(r"-?\d+", number_text) else Decimal(number_text)
            )
        elif kind_of_value == "date":
            text = str(cell.getAttribute("datevalue"))
            value = datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
        elif kind_of_value == "boolean":
            value = str(cell.getAttribute("booleanvalue")) == "true"
        else:
            text = "\n".join(teletype.extractText(p) for p in cell.childNodes if p.qname[1] == "p")
            value = _cell(text)
        if value is None and len(values) + repeat > 1024:
            break  # the empty cells that fill a row to the sheet's width
        values.extend([value] * repeat)
    while values and values[-1] is None:
        values.pop()
    return tuple(values)


@cache  # asked for every cell of every row
def column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: how spreadsheets name a column."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters
