"""A sheet's rows as Turtle, through the mapping, remembering which cell gave each triple.

The header row says which column is which (its titles in French or English, accents and case
aside); each cell is read as its column's datatype and, for a name, resolved to a resource of
the graph (coopdec_kg.tabular.names). What cannot be read or resolved is a `Problem` at its row
and column, in the sheet's own words; all of them are collected before anything is validated.
The Turtle names new resources with relative IRIs (`<lien-3>`: the row's number), which the
submission parser places in the submission's own namespace, as for any submitted file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache

from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from coopdec_kg.content.folding import fold
from coopdec_kg.content.graph import ntriples_term
from coopdec_kg.errors import InputError
from coopdec_kg.tabular.mapping import LANGUAGES, VARIABLE, Column, SheetMapping, Table
from coopdec_kg.tabular.names import Names, resolve, table_names
from coopdec_kg.tabular.sheets import Sheet, Value, column_letters

_WEB_ADDRESS = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_EXCEL_EPOCH = date(1899, 12, 30)
# Control characters no submitted text may hold (tab and line breaks are text).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_TRUE = frozenset({"oui", "o", "yes", "y", "vrai", "true", "x", "1"})
_FALSE = frozenset({"non", "n", "no", "faux", "false", "0"})
_XSD = {"integer": XSD.integer, "decimal": XSD.decimal, "date": XSD.date, "boolean": XSD.boolean}


@dataclass(frozen=True)
class Cell:
    """Where a value comes from: the sheet, the row's number, the column (None: the row)."""

    sheet: str
    row: int
    column: str | None
    letter: str | None = None


@dataclass(frozen=True)
class Problem:
    """Something wrong at a cell, said in both languages."""

    cell: Cell
    texts: Mapping[str, str]


@dataclass
class Mapped:
    """The Turtle of the rows, the cell each (subject, property) comes from, and what went
    wrong or deserves a word."""

    turtle: list[str] = field(default_factory=list)
    origins: dict[tuple[str, str], Cell] = field(default_factory=dict)
    rows: dict[str, Cell] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    lang: str = "fr"


@dataclass
class _Row:
    number: int
    cells: dict[str, Value]
    values: dict[str, list[Node]] = field(default_factory=dict)
    new: set[str] = field(default_factory=set)


def match_table(mapping: SheetMapping, sheet: Sheet) -> Table | None:
    """The table whose title (fr or en) the sheet's name folds to."""
    for table in mapping.tables:
        if fold(sheet.name) in {fold(title) for title in table.titles.values()}:
            return table
    return None


def table_of_header(mapping: SheetMapping, sheet: Sheet) -> Table | None:
    """The table whose columns the sheet's header names most (for a CSV file, or a renamed
    sheet): its own problems, a missing or unknown column, are then told precisely."""
    if not sheet.rows:
        return None
    header = {fold(str(cell)) for cell in sheet.rows[0][1] if cell is not None}

    def known(table: Table) -> int:
        return sum(any(fold(t) in header for t in c.titles.values()) for c in table.cells)

    best = max(mapping.tables, key=known)
    return best if known(best) else None


def map_sheets(
    mapping: SheetMapping,
    sheets: Sequence[tuple[Table, Sheet]],
    names: Mapping[str, Names] | Callable[[], Mapping[str, Names]],
) -> Mapped:
    """Map every (table, sheet) pair; links first, so that actions can name them. The headers
    and rows are checked before `names` is called (when it is a function: reading the graph's
    names may build the store), so that a malformed sheet is refused at once."""
    ordered = sorted(sheets, key=lambda pair: mapping.tables.index(pair[0]))
    prepared = []
    for table, sheet in ordered:
        columns, lang = _header(table, sheet)
        prepared.append((table, sheet, columns, lang, _rows(sheet, columns)))
    mapped = Mapped()
    known = dict(names() if callable(names) else names)
    for table, sheet, columns, lang, rows in prepared:
        mapped.lang = lang
        for lookup in mapping.lookups.values():
            if lookup.table == table.key and lookup.column:
                ids = {
                    str(row.cells[lookup.column]): URIRef(str(_expand(table.about, row)))
                    for row in rows
                    if row.cells.get(lookup.column) is not None
                }
                known[lookup.name] = table_names(ids)
        for row in rows:
            _read_row(mapping, table, sheet, row, columns, known, lang, mapped)
            _write_row(table, sheet, row, columns, mapped)
    return mapped


def _header(table: Table, sheet: Sheet) -> tuple[dict[str, tuple[str, int]], str]:
    """Column name → the header as the sheet writes it and its position, and the sheet's
    language."""
    if not sheet.rows:
        raise InputError(f"sheet « {sheet.name} » is empty (no header row)")
    number, header = sheet.rows[0]
    by_title = {fold(t): (c, lang) for c in table.cells for lang, t in c.titles.items()}
    found: dict[str, tuple[str, int]] = {}
    votes = dict.fromkeys(LANGUAGES, 0)
    for index, cell in enumerate(header):
        where = f"sheet « {sheet.name} », cell {column_letters(index)}{number}"
        if cell is None:
            continue
        known = by_title.get(fold(str(cell)))
        if known is None:
            titles = " ; ".join(f"« {c.title('fr')} »" for c in table.cells)
            raise InputError(f"{where}: unknown column « {cell} » (the columns are {titles})")
        column, lang = known
        if column.name in found:
            raise InputError(f"{where}: the column « {cell} » is given twice")
        found[column.name] = (str(cell), index)
        votes[lang] += 1
    for column in table.cells:
        if column.required and column.name not in found:
            raise InputError(
                f"sheet « {sheet.name} »: the required column « {column.title('fr')} » "
                f"(« {column.title('en')} ») is missing"
            )
    lang = max(LANGUAGES, key=lambda candidate: votes[candidate])
    return found, lang


def _rows(sheet: Sheet, columns: Mapping[str, tuple[str, int]]) -> list[_Row]:
    """The data rows as cells by column name; a row repeated word for word is refused."""
    number, header = sheet.rows[0]
    positions = {name: index for name, (_, index) in columns.items()}
    seen: dict[tuple[Value | None, ...], int] = {}
    rows = []
    for number, cells in sheet.rows[1:]:
        extra = [i for i, cell in enumerate(cells) if cell is not None and i >= len(header)]
        extra += [
            i
            for i, cell in enumerate(cells[: len(header)])
            if cell is not None and header[i] is None
        ]
        if extra:
            letter = column_letters(extra[0])
            raise InputError(
                f"sheet « {sheet.name} », cell {letter}{number}: a value in a column with no header"
            )
        if cells in seen:
            raise InputError(
                f"sheet « {sheet.name} », row {number} repeats row {seen[cells]} word for word: "
                "remove one of them"
            )
        seen[cells] = number
        rows.append(
            _Row(
                number,
                {
                    n: value
                    for n, i in positions.items()
                    if i < len(cells) and (value := cells[i]) is not None
                },
            )
        )
    return rows


def _read_row(
    mapping: SheetMapping,
    table: Table,
    sheet: Sheet,
    row: _Row,
    columns: Mapping[str, tuple[str, int]],
    names: Mapping[str, Names],
    lang: str,
    mapped: Mapped,
) -> None:
    """Each cell of the row as RDF terms, or a problem at its cell."""
    for column in table.cells:
        value = row.cells.get(column.name)
        if value is None and not column.required:
            continue
        cell = _cell(sheet, row, columns, column.name) or Cell(
            sheet.name, row.number, column.title(lang)
        )
        if value is None:
            mapped.problems.append(_problem(cell, "required"))
            continue
        if isinstance(value, str) and _CONTROL.search(value):
            mapped.problems.append(_problem(cell, "control"))
            continue
        parts = (
            [p.strip() for p in str(value).split(column.separator) if p.strip()]
            if column.separator
            else [value]
        )
        terms: list[Node] = []
        for part in parts:
            if column.lookup:
                term = _lookup(mapping, column, str(part).strip(), row, names, cell, mapped)
            else:
                term = _literal(column.datatype, part, column.lang or lang, cell, mapped)
            if term is not None:
                terms.append(term)
        row.values[column.name] = terms


def _lookup(
    mapping: SheetMapping,
    column: Column,
    text: str,
    row: _Row,
    names: Mapping[str, Names],
    cell: Cell,
    mapped: Mapped,
) -> Node | None:
    lookup = mapping.lookups[column.lookup or ""]
    if lookup.code is not None and lookup.namespace and lookup.code.match(text.upper()):
        return URIRef(lookup.namespace + text.upper())
    found = resolve(names.get(lookup.name) or Names(), text)
    if isinstance(found, URIRef):
        return found
    suggestions = " ; ".join(f"« {s} »" for s in found.suggestions)
    if lookup.new and not found.ambiguous:
        if suggestions:
            mapped.notes.append(_problem(cell, "new", name=text, suggestions=suggestions))
        row.new.add(column.name)
        return URIRef(str(_expand(lookup.new, row)))
    key = "ambiguous" if found.ambiguous else ("unknown-suggest" if suggestions else "unknown")
    mapped.problems.append(_problem(cell, key, name=text, suggestions=suggestions))
    return None


def _literal(datatype: str, value: Value, lang: str, cell: Cell, mapped: Mapped) -> Node | None:
    """A cell as a literal of its column's datatype (or an IRI, for a web address)."""
    try:
        if datatype == "integer":
            return _made(str(_integer(value)), XSD.integer)
        if datatype == "decimal":
            return _made(str(_decimal(value)), XSD.decimal)
        if datatype == "date":
            return _made(_date(value).isoformat(), XSD.date)
        if datatype == "boolean":
            return _made("true" if _boolean(value) else "false", XSD.boolean)
    except (ValueError, InvalidOperation):
        mapped.problems.append(_problem(cell, datatype, value=_text(value)))
        return None
    text = _text(value).strip()
    if datatype == "cdk:iriOrText" and _WEB_ADDRESS.match(text):
        return URIRef(text)
    if datatype == "string":
        return _made(text)
    return _made(text, lang=lang)


@lru_cache(maxsize=4096)  # years, statuses, kinds repeat down a column; rdflib parses each value
def _made(text: str, datatype: URIRef | None = None, lang: str | None = None) -> Literal:
    return Literal(text, lang=lang, datatype=datatype)


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _integer(value: Value) -> int:
    if isinstance(value, bool | date):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        if value != int(value):
            raise ValueError(value)
        return int(value)
    return int(re.sub(r"[\s\u00a0\u202f]", "", value))


def _decimal(value: Value) -> Decimal:
    if isinstance(value, bool | date):
        raise ValueError(value)
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = re.sub(r"[\s\u00a0\u202f€]", "", value).replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        raise ValueError(value)
    return Decimal(text)


def _date(value: Value) -> date:
    """A date cell, the text « 31/12/2005 » (day first, as in French) or « 2005-12-31 », or an
    Excel serial number (days since 30 December 1899), as a CSV file keeps it."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if 1 <= value <= 2958465 and value == int(value):
            return _EXCEL_EPOCH + timedelta(days=int(value))
        raise ValueError(value)
    text = str(value).strip()
    if text.isdigit():
        return _date(int(text))
    french = _FRENCH_DATE.match(text)
    if french:
        day, month, year = (int(part) for part in french.groups())
        return date(year, month, day)
    return date.fromisoformat(text)


def _boolean(value: Value) -> bool:
    if isinstance(value, bool):
        return value
    text = fold(_text(value))
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(value)


# ---------------------------------------------------------------- triples


def _cell(
    sheet: Sheet, row: _Row, columns: Mapping[str, tuple[str, int]], name: str | None
) -> Cell | None:
    """The cell of a column in a row, named by its header and its letter."""
    if name is None or name not in columns:
        return None
    title, index = columns[name]
    return Cell(sheet.name, row.number, title, column_letters(index))


def _write_row(
    table: Table, sheet: Sheet, row: _Row, columns: Mapping[str, tuple[str, int]], mapped: Mapped
) -> None:
    """The triples of one row, each remembered with the cell it comes from."""
    row_cell = Cell(sheet.name, row.number, None)
    mapped.rows.setdefault(str(_expand(table.about, row)), row_cell)
    subjects: dict[str, str | None] = {}  # the row's few subjects, each named by many columns
    for column in table.columns:
        if column.property is None or not _wanted(column, row):
            continue
        if column.about not in subjects:
            subjects[column.about] = _expand(column.about, row, row.values)
        subject = subjects[column.about]
        if subject is None:
            continue
        cell = _cell(sheet, row, columns, _source_column(column))
        # Remembered even when the cell is empty: a missing value is fixed in that cell.
        mapped.origins.setdefault((subject, str(column.property)), cell or row_cell)
        verb = _written(column.property)
        for value in _objects(column, row, column.lang or mapped.lang):
            mapped.turtle.append(f"<{subject}> {verb} {ntriples_term(value)} .")
            mapped.rows.setdefault(subject, row_cell)


def _wanted(column: Column, row: _Row) -> bool:
    if column.new and column.new not in row.new:
        return False
    for name in column.when:
        value = row.cells.get(name)
        if value is None or row.values.get(name) == [] or value is False:
            return False
        if isinstance(value, str) and fold(value) in _FALSE:
            return False
    return True


def _objects(column: Column, row: _Row, lang: str) -> Iterator[Node]:
    if column.value is not None:
        names = _variables(column.value)
        if not names:
            yield _iri(column.value)
            return
        yield from row.values.get(names[0], [])  # the mapping's reader allows one, alone
        return
    if column.text is not None:
        names = _variables(column.text)
        if all(row.cells.get(name) is not None for name in names):
            yield Literal(
                VARIABLE.sub(lambda m: _text(row.cells[m.group(1)]).strip(), column.text),
                lang=lang,
            )
        return
    yield from row.values.get(column.copy or column.name, [])


def _expand(template: str, row: _Row, values: Mapping[str, list[Node]] | None = None) -> str | None:
    """A subject template: `_row` is the row's number, a lookup column its one resource."""
    parts = []
    for text, name in _template_parts(template):
        parts.append(text)
        if name == "_row":
            parts.append(str(row.number))
        elif name is not None:
            found = (values or {}).get(name) or []
            if len(found) != 1:
                return None
            parts.append(str(found[0]))
    return "".join(parts)


# A mapping has a few templates, properties and constant values, used on every row.


@cache
def _variables(template: str) -> tuple[str, ...]:
    return tuple(VARIABLE.findall(template))


@cache
def _iri(text: str) -> URIRef:
    return URIRef(text)


@cache
def _written(iri: URIRef) -> str:
    return ntriples_term(iri)


@cache
def _template_parts(template: str) -> tuple[tuple[str, str | None], ...]:
    """The template as (text, the variable after it or None) pairs."""
    pieces = VARIABLE.split(template)  # text, name, text, name, …, text
    names: list[str | None] = [*pieces[1::2], None]
    return tuple(zip(pieces[0::2], names, strict=True))


def _source_column(column: Column) -> str | None:
    """The cell a person would fix for this column's triples."""
    if not column.virtual:
        return column.name
    for template in (column.value, column.text, column.about):
        names: list[str] = VARIABLE.findall(template or "")
        for name in names:
            if name != "_row":
                return name
    return column.copy


# ---------------------------------------------------------------- words


_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "required": "cette colonne est obligatoire",
        "control": "la cellule contient un caractère de contrôle : retaper sa valeur",
        "new": "« {name} » n'est pas dans le graphe : un nouveau partenaire est créé "
        "(vouliez-vous dire {suggestions} ?)",
        "ambiguous": "« {name} » désigne plusieurs ressources : {suggestions} ; "
        "écrire le nom complet",
        "unknown-suggest": "« {name} » est inconnu ; vouliez-vous dire {suggestions} ?",
        "unknown": "« {name} » est inconnu",
        "integer": "« {value} » n'est pas un nombre entier",
        "decimal": "« {value} » n'est pas un nombre (par exemple 1 500,50)",
        "date": "« {value} » n'est pas une date (par exemple 31/12/2005)",
        "boolean": "« {value} » n'est ni « oui » ni « non »",
    },
    "en": {
        "required": "this column is required",
        "control": "the cell holds a control character: type its value again",
        "new": '"{name}" is not in the graph: a new partner is created '
        "(did you mean {suggestions}?)",
        "ambiguous": '"{name}" names several resources: {suggestions}; write the full name',
        "unknown-suggest": '"{name}" is unknown; did you mean {suggestions}?',
        "unknown": '"{name}" is unknown',
        "integer": '"{value}" is not a whole number',
        "decimal": '"{value}" is not a number (for example 1500.50)',
        "date": '"{value}" is not a date (for example 31/12/2005)',
        "boolean": '"{value}" is neither "yes" nor "no"',
    },
}


def _problem(cell: Cell, key: str, **values: str) -> Problem:
    texts = {}
    for lang in LANGUAGES:
        shown = dict(values)
        if "suggestions" in shown and lang == "en":
            shown["suggestions"] = shown["suggestions"].replace("« ", '"').replace(" »", '"')
        texts[lang] = _WORDS[lang][key].format(**shown)
    return Problem(cell, texts)
