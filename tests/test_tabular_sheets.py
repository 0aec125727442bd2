"""Reading spreadsheets: CSV encodings and delimiters, workbooks, and bad input in one line."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from coopdec_kg.engines.results import formula_unguarded
from coopdec_kg.errors import InputError
from coopdec_kg.tabular import sheets
from coopdec_kg.tabular.mapping import load_mapping
from coopdec_kg.tabular.sheets import column_letters, decode, delimiter_of, read_csv, read_sheets

# Text a French spreadsheet holds: accents, « », €, œ, apostrophes, quotes, delimiters inside
# cells; everything Windows-1252 can encode, so that every case can be written in both encodings.
CELL = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 éèàçôœ€«»'\"-;,.:/\n")), min_size=1, max_size=12
).filter(lambda text: text.strip() != "")


def _csv_bytes(rows: list[list[str]], delimiter: str, encoding: str) -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode(encoding)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=6),
    delimiter=st.sampled_from([";", ",", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_a_csv_file_reads_back_its_cells_whatever_its_encoding_and_delimiter(
    rows: list[list[str]], delimiter: str, encoding: str
) -> None:
    header = ["Partie française", "Partenaire étranger", "Pays du partenaire"]
    payload = _csv_bytes([header, *rows], delimiter, encoding)
    sheet = read_csv(Path("liens.csv"), payload)
    # a cell guarded against formulas ('-…) reads as the text it guards (test_formula_guard.py)
    expected = [[formula_unguarded(cell) for cell in row] for row in rows]
    assert [list(cells) for _, cells in sheet.rows] == [header, *expected]


TITLES = sorted(
    {title for table in load_mapping().tables for c in table.cells for title in c.titles.values()}
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(TITLES), min_size=2, max_size=8, unique=True),
    st.sampled_from([";", ",", "\t"]),
)
def test_the_delimiter_is_the_one_between_the_template_headers(
    titles: list[str], delimiter: str
) -> None:
    line = _csv_bytes([titles], delimiter, "utf-8").decode().splitlines()[0]
    assert delimiter_of(line) == delimiter


def test_rows_are_numbered_by_the_line_they_start_on() -> None:
    payload = b'a;b\n"one\nline";x\n\n;\nz;y\n'
    sheet = read_csv(Path("x.csv"), payload)
    assert [number for number, _ in sheet.rows] == [1, 2, 6]


def test_mixed_encodings_are_refused_not_guessed() -> None:
    payload = "Partie française;Pays\n".encode() + "Sénart;Bénin\n".encode("cp1252")
    with pytest.raises(InputError, match=r"mixed encodings.*line 2"):
        decode(Path("x.csv"), payload)


def test_windows_1252_is_read_as_french_programs_write_it() -> None:
    assert decode(Path("x.csv"), "Bénin;œuvre;12 €".encode("cp1252")) == "Bénin;œuvre;12 €"


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"", "empty"),
        (b"  \n\n", "empty"),
        (b"a;b\x00\n", "NUL"),
        ("a;b\n".encode("utf-16"), "NUL"),
        (b"\x81\x8d;\x8f\n", "neither UTF-8 nor Windows-1252"),
    ],
)
def test_unreadable_csv_is_one_line(payload: bytes, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment) as error:
        read_sheets(Path("x.csv"), payload, "csv")
    assert "\n" not in str(error.value)


def test_too_many_rows_are_refused_before_they_are_mapped() -> None:
    payload = b"a;b\n" + b"x;y\n" * 11
    with pytest.raises(InputError, match="more than 10 rows"):
        read_sheets(Path("x.csv"), payload, "csv", max_rows=10)


def test_one_import_takes_10_000_rows_and_refuses_more_in_one_line() -> None:
    """The limit was 5 000 rows while an import was held to `add`'s 50 000 triples of RDF
    text; the rows are now its bound (test_tabular_import.py imports 5 001 rows)."""
    assert sheets.MAX_ROWS == 10_000
    rows = b"".join(b"x;%d\n" % n for n in range(10_000))
    (sheet,) = read_sheets(Path("x.csv"), b"a;b\n" + rows, "csv")
    assert len(sheet.rows) == 10_001  # with the header
    with pytest.raises(InputError) as refused:
        read_sheets(Path("x.csv"), b"a;b\n" + rows + b"x;y\n", "csv")
    assert str(refused.value) == (
        "x.csv: sheet « x.csv » has more than 10 000 rows, the limit of one import; "
        "split it into several files"
    )


def _workbook(fill: object) -> bytes:
    book = Workbook()
    fill(book.active)  # type: ignore[operator]
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def test_a_workbook_gives_typed_cells() -> None:
    def fill(sheet: object) -> None:
        sheet.title = "Liens"  # type: ignore[attr-defined]
        sheet.append(["Année", "Date", "Nom"])  # type: ignore[attr-defined]
        sheet.append([2006, datetime(2006, 6, 30), "Abomey"])  # type: ignore[attr-defined]

    (sheet,) = read_sheets(Path("x.xlsx"), _workbook(fill), "xlsx")
    assert sheet.name == "Liens"
    assert sheet.rows[1] == (2, (2006, datetime(2006, 6, 30), "Abomey"))


def test_merged_cells_are_refused_naming_them() -> None:
    def fill(sheet: object) -> None:
        sheet.append(["a", "b"])  # type: ignore[attr-defined]
        sheet.append(["x", "y"])  # type: ignore[attr-defined]
        sheet.merge_cells("A2:B2")  # type: ignore[attr-defined]

    with pytest.raises(InputError, match="cells A2:B2 are merged"):
        read_sheets(Path("x.xlsx"), _workbook(fill), "xlsx")


def test_a_formula_without_its_saved_value_is_refused_naming_the_cell() -> None:
    def fill(sheet: object) -> None:
        sheet.append(["a", "b"])  # type: ignore[attr-defined]
        sheet.append([1, "=A2+1"])  # type: ignore[attr-defined]

    with pytest.raises(InputError, match="cell B2 holds a formula"):
        read_sheets(Path("x.xlsx"), _workbook(fill), "xlsx")


@pytest.mark.parametrize(
    ("name", "payload", "fmt", "fragment"),
    [
        ("x.xlsx", b"not a zip at all", "xlsx", "not an Excel workbook"),
        ("x.ods", b"PK\x03\x04 broken", "ods", "not an OpenDocument spreadsheet"),
    ],
)
def test_a_file_that_is_not_a_spreadsheet_is_one_line(
    name: str, payload: bytes, fmt: str, fragment: str
) -> None:
    with pytest.raises(InputError, match=fragment):
        read_sheets(Path(name), payload, fmt)


def test_a_workbook_that_unpacks_too_large_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b" " * 2_000_000)
    monkeypatch.setattr(sheets, "MAX_UNPACKED_BYTES", 1_000_000)
    with pytest.raises(InputError, match="unpacks to more than"):
        read_sheets(Path("x.xlsx"), stream.getvalue(), "xlsx")


def test_an_unknown_extension_is_refused() -> None:
    with pytest.raises(InputError, match=r"give a \.csv, \.xlsx or \.ods file"):
        sheets.sheet_format(Path("data.pdf"))


def test_column_letters() -> None:
    assert [column_letters(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_ods_dates_and_numbers() -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Actions")
    header = TableRow()
    for title in ("Année", "Montant", "Date", "Nom"):
        cell = TableCell(valuetype="string")
        cell.addElement(P(text=title))
        header.addElement(cell)
    table.addElement(header)
    row = TableRow()
    row.addElement(TableCell(valuetype="float", value="2006"))
    row.addElement(TableCell(valuetype="float", value="1500.5"))
    row.addElement(TableCell(valuetype="date", datevalue="2005-03-12"))
    named = TableCell(valuetype="string")
    named.addElement(P(text="Kayes"))
    row.addElement(named)
    table.addElement(row)
    table.addElement(TableRow(numberrowsrepeated=1000))
    document.spreadsheet.addElement(table)
    stream = io.BytesIO()
    document.write(stream)
    (sheet,) = read_sheets(Path("x.ods"), stream.getvalue(), "ods")
    from decimal import Decimal

    assert sheet.rows[1] == (2, (2006, Decimal("1500.5"), date(2005, 3, 12), "Kayes"))
