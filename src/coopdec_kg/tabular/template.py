"""`template`: a blank spreadsheet submission, drawn from the mapping and the graph.

One sheet per table of the mapping (links, actions) with its headers in the chosen language,
an instructions sheet (each column, whether it is required, what goes in it) and a lists sheet
of the names the graph knows (its authorities, countries, world areas, domains, roles, kinds of
agreement), offered as drop-down lists in XLSX and ODS. The lists help and do not bind: a new
partner, a country by its ISO code or several domains separated by « ; » are typed freely, and
`import` checks every cell. A CSV file holds one table (links unless told otherwise).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from coopdec_kg.content.folding import fold
from coopdec_kg.content.project import Project
from coopdec_kg.engines.results import formula_guarded
from coopdec_kg.tabular.mapping import Column, SheetMapping, Table, load_mapping
from coopdec_kg.tabular.names import Names, load_names

DATA_ROWS = 500  # rows offered with drop-down lists
_BOOLEAN = {"fr": ["oui", "non"], "en": ["yes", "no"]}
_WORDS = {
    "fr": {
        "instructions": "Instructions",
        "lists": "Listes",
        "sheet": "Feuille",
        "column": "Colonne",
        "required": "Obligatoire",
        "what": "Ce qu'on y écrit",
        "yes": "oui",
        "no": "non",
        "intro": "Remplir une ligne par lien ou par action, puis vérifier avec « coopdec-kg "
        "import FICHIER --dry-run » : chaque problème est signalé par sa ligne et sa colonne, "
        "avec la règle de droit qu'il enfreint. Sans --dry-run, une feuille sans violation est "
        "ajoutée au graphe. Les listes déroulantes proposent les noms que le graphe connaît ; "
        "un nouveau partenaire s'écrit librement (avec son pays et son statut), plusieurs "
        "domaines ou rôles se séparent par « ; ».",
    },
    "en": {
        "instructions": "Instructions",
        "lists": "Lists",
        "sheet": "Sheet",
        "column": "Column",
        "required": "Required",
        "what": "What goes in it",
        "yes": "yes",
        "no": "no",
        "intro": 'Fill one row per link or action, then check with "coopdec-kg import FILE '
        '--dry-run": each problem is reported by its row and column, with the legal rule it '
        "breaks. Without --dry-run, a sheet with no violation is added to the graph. The "
        "drop-down lists offer the names the graph knows; a new partner is typed freely (with "
        'its country and status), several domains or roles are separated by ";".',
    },
}


@dataclass(frozen=True)
class Choices:
    """The names offered for one column."""

    title: str
    names: tuple[str, ...]


def template_bytes(project: Project, fmt: str, lang: str, table: str = "links") -> bytes:
    """The blank submission as the bytes of an xlsx, ods or csv file."""
    mapping = load_mapping()
    if fmt == "csv":
        return _csv(mapping.table(table), lang)
    lists = _choices(mapping, load_names(project, mapping, lang), lang)
    if fmt == "xlsx":
        return _xlsx(mapping, lists, lang)
    return _ods(mapping, lists, lang)


def _choices(mapping: SheetMapping, names: Mapping[str, Names], lang: str) -> dict[str, Choices]:
    """Lookup (or `boolean`) → the names to offer, sorted as people read them."""
    found = {
        lookup: Choices(lookup, tuple(sorted(set(known.shown.values()), key=fold)))
        for lookup, known in names.items()
    }
    found["boolean"] = Choices("boolean", tuple(_BOOLEAN[lang]))
    titles = {c.lookup: c.title(lang) for t in mapping.tables for c in t.cells if c.lookup}
    return {
        key: Choices(titles.get(key, _WORDS[lang]["yes"] + " / " + _WORDS[lang]["no"]), c.names)
        for key, c in found.items()
    }


def _list_of(column: Column) -> str | None:
    if column.lookup:
        return column.lookup
    return "boolean" if column.datatype == "boolean" else None


def _instructions(mapping: SheetMapping, lang: str) -> list[list[str]]:
    words = _WORDS[lang]
    rows = [
        [words["intro"]],
        [],
        [words["sheet"], words["column"], words["required"], words["what"]],
    ]
    for table in mapping.tables:
        rows.append([table.title(lang), "", "", table.descriptions.get(lang, "")])
        for column in table.cells:
            rows.append(
                [
                    table.title(lang),
                    column.title(lang),
                    words["yes"] if column.required else words["no"],
                    column.descriptions.get(lang, ""),
                ]
            )
    return rows


def _csv(table: Table, lang: str) -> bytes:
    """The header of one table, as French spreadsheet programs open it: UTF-8 with a
    byte-order mark, `;` between cells, no title that could run as a formula."""
    text = io.StringIO()
    csv.writer(text, delimiter=";", lineterminator="\r\n").writerow(
        [formula_guarded(column.title(lang)) for column in table.cells]
    )
    return b"\xef\xbb\xbf" + text.getvalue().encode("utf-8")


def _xlsx(mapping: SheetMapping, lists: Mapping[str, Choices], lang: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from coopdec_kg.tabular.answers import set_text

    book = Workbook()
    first = book.worksheets[0]
    ranges: dict[str, str] = {}
    listed = book.create_sheet(_WORDS[lang]["lists"])
    for index, (key, choices) in enumerate(sorted(lists.items()), start=1):
        letter = get_column_letter(index)
        listed.cell(row=1, column=index, value=choices.title).font = Font(bold=True)
        for row, name in enumerate(choices.names, start=2):
            set_text(listed.cell(row=row, column=index), name)
        last = max(2, len(choices.names) + 1)
        ranges[key] = f"'{listed.title}'!${letter}$2:${letter}${last}"
        listed.column_dimensions[letter].width = 32
    for table in mapping.tables:
        sheet = book.create_sheet(table.title(lang), index=mapping.tables.index(table))
        for index, column in enumerate(table.cells, start=1):
            cell = sheet.cell(row=1, column=index)
            set_text(cell, column.title(lang))
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = 24
            listed_as = _list_of(column)
            if listed_as is not None and listed_as in ranges:
                check = DataValidation(type="list", formula1=ranges[listed_as], allow_blank=True)
                check.showErrorMessage = False  # the lists help; `import` checks every cell
                check.add(f"{letter}2:{letter}{DATA_ROWS + 1}")
                sheet.add_data_validation(check)
        sheet.freeze_panes = "A2"
    book.remove(first)
    guide = book.create_sheet(_WORDS[lang]["instructions"])
    for line in _instructions(mapping, lang):
        guide.append(line)
    guide.column_dimensions["A"].width = 14
    guide.column_dimensions["B"].width = 36
    guide.column_dimensions["D"].width = 90
    book.move_sheet(listed, offset=len(book.sheetnames))
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def _ods(mapping: SheetMapping, lists: Mapping[str, Choices], lang: str) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import (
        ContentValidation,
        ContentValidations,
        TableCell,
        TableColumn,
        TableRow,
    )
    from odf.table import (
        Table as OdsTable,
    )
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    validations = ContentValidations()
    list_sheet = _WORDS[lang]["lists"]
    names: dict[str, str] = {}
    ordered = sorted(lists.items())
    for index, (key, choices) in enumerate(ordered):
        letter = _letters(index)
        last = max(2, len(choices.names) + 1)
        names[key] = f"list-{key}"
        validations.addElement(
            ContentValidation(
                name=names[key],
                condition=f"of:cell-content-is-in-list([$'{list_sheet}'.${letter}$2:${letter}${last}])",
                allowemptycell="true",
                displaylist="sort-ascending",
            )
        )
    document.spreadsheet.addElement(validations)

    def text_cell(value: str, validation: str | None = None) -> TableCell:
        cell = TableCell(
            valuetype="string", **({"contentvalidationname": validation} if validation else {})
        )
        cell.addElement(P(text=value))
        return cell

    for table in mapping.tables:
        sheet = OdsTable(name=table.title(lang))
        for _ in table.cells:
            sheet.addElement(TableColumn())
        header = TableRow()
        for column in table.cells:
            header.addElement(text_cell(column.title(lang)))
        sheet.addElement(header)
        blank = TableRow(numberrowsrepeated=DATA_ROWS)
        for column in table.cells:
            key = _list_of(column) or ""
            blank.addElement(
                TableCell(**({"contentvalidationname": names[key]} if key in names else {}))
            )
        sheet.addElement(blank)
        document.spreadsheet.addElement(sheet)
    guide = OdsTable(name=_WORDS[lang]["instructions"])
    for row in _instructions(mapping, lang):
        line = TableRow()
        for value in row:
            line.addElement(text_cell(value))
        guide.addElement(line)
    document.spreadsheet.addElement(guide)
    document.spreadsheet.addElement(_ods_lists(list_sheet, [c for _, c in ordered], text_cell))
    stream = io.BytesIO()
    document.write(stream)
    return stream.getvalue()


def _ods_lists(name: str, columns: Sequence[Choices], text_cell: object) -> object:
    from odf.table import Table as OdsTable
    from odf.table import TableCell, TableRow

    sheet = OdsTable(name=name)
    depth = max(len(c.names) for c in columns) + 1
    for row in range(depth):
        line = TableRow()
        for choices in columns:
            values = (choices.title, *choices.names)
            line.addElement(text_cell(values[row]) if row < len(values) else TableCell())  # type: ignore[operator]
        sheet.addElement(line)
    return sheet


def _letters(index: int) -> str:
    from coopdec_kg.tabular.sheets import column_letters

    return column_letters(index)
