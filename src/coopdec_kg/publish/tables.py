"""An answer laid out for people to read, in French or in English.

A query's answer is made for programs: IRIs, variable names, codes, labels in the language the
query picked, numbers as `2165` and `1.8`. A table for people shows instead each column's title
in the reader's language (the query's `#+ columns` header), a resource by its name rather than
its IRI (the IRI columns a name column stands for, and the identifiers marked `code`, appear
only when asked), names, definitions and codes in the reader's language where the graph or the
header has them, yes/no for booleans, and numbers with the language's separators (`2 165`,
`1,8`; `2,165`, `1.8`). The machine formats (CSV, TSV, JSON: coopdec_kg.engines.results) never
change.

The names and texts a table shows are read from the engine that gave the answer, in one small
query (`lay_out` asks it only for the rows shown), so the table says what that graph says. The
answer is read in the engine's own terms (coopdec_kg.engines.terms), so a table of the store's
answer imports no rdflib.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from coopdec_kg.engines import terms
from coopdec_kg.engines.queries import ColumnHeader, Pivot
from coopdec_kg.engines.results import NUMERIC_TYPES, QueryResult, shorten
from coopdec_kg.engines.terms import Term
from coopdec_kg.publish import reading
from coopdec_kg.publish.reading import NAME_PROPERTIES, Select, number

LANGUAGES = ("fr", "en")
BOOLEANS = {"fr": ("non", "oui"), "en": ("no", "yes")}
CHUNK = 500  # resources per lookup query
TOTAL = {"fr": "Total", "en": "Total"}


@dataclass(frozen=True)
class Column:
    """A column as people read it: its title, and whether it holds numbers (right-aligned)."""

    title: str
    numeric: bool


@dataclass(frozen=True)
class Layout:
    """A table for people: a title, columns, and rows of text (not yet escaped for a terminal or
    a page: each renderer escapes for its medium)."""

    title: str | None
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    # the resource each cell names (its IRI, or the IRI its name column stands for), for a
    # renderer that links (a page); None for a cell that names none
    resources: tuple[tuple[str | None, ...], ...] = ()


class Texts:
    """Texts the graph holds about resources (by IRI): (resource, property) → language → text."""

    def __init__(self, found: Mapping[tuple[str, str], Mapping[str, str]]) -> None:
        self._found = found

    @classmethod
    def read(cls, select: Select, resources: Iterable[str], properties: Sequence[str]) -> Texts:
        """The literal values of these properties of these resources, in every language."""
        wanted = sorted(set(resources))
        found: dict[tuple[str, str], dict[str, str]] = {}
        if not properties:
            return cls(found)
        for start in range(0, len(wanted), CHUNK):
            answer = select(
                reading.texts_query(wanted[start : start + CHUNK], dict.fromkeys(properties))
            )
            for subject, predicate, value in answer.terms:
                if subject is None or predicate is None or not _is_literal(value):
                    continue
                found.setdefault((terms.text(subject), terms.text(predicate)), {}).setdefault(
                    terms.language(value) or "", terms.text(value)
                )
        return cls(found)

    def text(
        self, resource: str, properties: Sequence[str], lang: str, strict: bool = False
    ) -> str | None:
        """The first property's text in `lang`; unless `strict`, else an untagged one, else
        one in another language."""
        choices = (lang,) if strict else (lang, "", *LANGUAGES)
        for candidate in choices:
            for predicate in properties:
                text = self._found.get((resource, predicate), {}).get(candidate)
                if text is not None:
                    return text
        return None


def lay_out(
    result: QueryResult,
    headers: Mapping[str, ColumnHeader],
    lang: str,
    select: Select,
    iris: bool = False,
    title: str | None = None,
) -> Layout:
    """The answer as a table for people (see the module docstring); `iris` shows the IRI and
    code columns too, and IRIs as CURIEs rather than names."""
    shown = _shown_columns(result.variables, headers, iris)
    index = {name: position for position, name in enumerate(result.variables)}
    texts = Texts.read(select, _resources(result, shown, headers, lang, iris), _properties(headers))
    rows = []
    resources = []
    for row in result.terms:
        rows.append(
            tuple(_cell(row, index, name, headers.get(name), lang, texts, iris) for name in shown)
        )
        resources.append(tuple(_resource(row, index, name, headers.get(name)) for name in shown))
    named = {header.of for header in headers.values() if header.of and header.via is None}
    columns = tuple(
        Column(
            _title(name, headers.get(name), lang, name in named),
            _numeric(result, index[name], headers.get(name)),
        )
        for name in shown
    )
    return Layout(title, columns, tuple(rows), tuple(resources))


def _resource(
    row: tuple[Term, ...], index: Mapping[str, int], name: str, header: ColumnHeader | None
) -> str | None:
    """The IRI a cell names: its own value, or the resource its name column stands for."""
    value = row[index[name]]
    if _is_iri(value):
        return terms.text(value)
    if header is not None and header.of is not None and header.via is None:
        described = row[index[header.of]]
        if _is_iri(described):
            return terms.text(described)
    return None


def _is_iri(value: Term) -> bool:
    return value is not None and terms.kind(value) == "uri"


def _is_literal(value: Term) -> bool:
    return value is not None and terms.kind(value) == "literal"


def _is_number(value: Term) -> bool:
    return _is_literal(value) and terms.datatype(value) in NUMERIC_TYPES


def lay_out_pivot(
    result: QueryResult,
    headers: Mapping[str, ColumnHeader],
    pivot: Pivot,
    lang: str,
    select: Select,
    title: str | None = None,
) -> Layout:
    """The answer in its other shape (a query's `#+ pivot`): one row per value of `pivot.rows`,
    one column per value of `pivot.columns` (both in the answer's order, each by its name),
    `pivot.value` in the cells, a total per row and per column, then the `keep` columns. A cell
    the answer has no row for is blank; a total counts the numbers only."""
    flat = lay_out(result, headers, lang, select)
    shown = _shown_columns(result.variables, headers, iris=False)
    index = {name: position for position, name in enumerate(result.variables)}

    def text_of(name: str) -> int:
        """Where the column `name` (or the name column standing for it) is in `flat`."""
        if name in shown:
            return shown.index(name)
        return next(i for i, n in enumerate(shown) if (h := headers.get(n)) and h.of == name)

    row_keys: dict[Term, str] = {}
    column_keys: dict[Term, str] = {}
    cells: dict[tuple[Term, Term], tuple[str, Decimal | None]] = {}
    kept: dict[Term, tuple[str, ...]] = {}
    for raw, texts in zip(result.terms, flat.rows, strict=True):
        row_key, column_key = raw[index[pivot.rows]], raw[index[pivot.columns]]
        row_keys.setdefault(row_key, texts[text_of(pivot.rows)])
        column_keys.setdefault(column_key, texts[text_of(pivot.columns)])
        cells[row_key, column_key] = (
            texts[text_of(pivot.value)],
            _decimal(raw[index[pivot.value]]),
        )
        kept.setdefault(row_key, tuple(texts[text_of(name)] for name in pivot.keep))

    def total(values: Iterable[Decimal | None]) -> str:
        numbers = [value for value in values if value is not None]
        return number(str(sum(numbers)), lang) if numbers else ""

    rows = []
    for row_key, name in row_keys.items():
        found = [cells.get((row_key, column_key), ("", None)) for column_key in column_keys]
        rows.append((name, *(t for t, _ in found), total(v for _, v in found), *kept[row_key]))
    sums = [total(cells.get((r, c), ("", None))[1] for r in row_keys) for c in column_keys]
    grand = total(value for _, value in cells.values())
    rows.append((TOTAL[lang], *sums, grand, *("" for _ in pivot.keep)))
    columns = (
        Column(flat.columns[text_of(pivot.rows)].title, False),
        *(Column(name, True) for name in column_keys.values()),
        Column(TOTAL[lang], True),
        *(flat.columns[text_of(name)] for name in pivot.keep),
    )
    return Layout(title, columns, tuple(rows))


def _decimal(value: Term) -> Decimal | None:
    if not _is_number(value):
        return None
    try:
        return Decimal(terms.text(value))
    except InvalidOperation:
        return None


def _title(name: str, header: ColumnHeader | None, lang: str, iri_column: bool) -> str:
    """The column's title (its variable name when the query gives none); an IRI column that
    a name column stands for, shown with --iris, says so."""
    if header is None:
        return name
    return f"{header.title(lang)} (IRI)" if iri_column else header.title(lang)


def _shown_columns(
    variables: Sequence[str], headers: Mapping[str, ColumnHeader], iris: bool
) -> list[str]:
    """The columns a table shows: without `iris`, not the code columns, not the IRI columns a
    name column stands for, and one name column per resource (the first)."""
    if iris:
        return list(variables)
    named: set[str] = set()
    shown = []
    for name in variables:
        header = headers.get(name)
        if header is not None and header.of is not None and header.via is None:
            if header.of in named:
                continue  # the same name in another language
            named.add(header.of)
        shown.append(name)
    return [name for name in shown if name not in named and not _is_code(headers.get(name))]


def _is_code(header: ColumnHeader | None) -> bool:
    return header is not None and header.code


def _properties(headers: Mapping[str, ColumnHeader]) -> list[str]:
    described = [header.via for header in headers.values() if header.via is not None]
    return [*NAME_PROPERTIES, *described]


def _resources(
    result: QueryResult,
    shown: Sequence[str],
    headers: Mapping[str, ColumnHeader],
    lang: str,
    iris: bool,
) -> set[str]:
    """The resources whose names or texts the shown rows need."""
    index = {name: position for position, name in enumerate(result.variables)}
    wanted: set[str] = set()
    for name in shown:
        header = headers.get(name)
        translated = header is not None and header.of is not None
        for row in result.terms:
            value = row[index[name]]
            if _is_iri(value) and not iris:
                wanted.add(terms.text(value))
            elif translated and _other_language(value, lang):
                assert header is not None and header.of is not None
                described = row[index[header.of]]
                if _is_iri(described):
                    wanted.add(terms.text(described))
    return wanted


def _other_language(value: Term, lang: str) -> bool:
    if not _is_literal(value):
        return False
    language = terms.language(value)
    return bool(language) and language != lang


def _cell(
    row: tuple[Term, ...],
    index: Mapping[str, int],
    name: str,
    header: ColumnHeader | None,
    lang: str,
    texts: Texts,
    iris: bool,
) -> str:
    value = row[index[name]]
    if value is None:
        return ""
    kind, text = terms.kind(value), terms.text(value)
    if kind == "uri":
        return shorten(text) if iris else texts.text(text, NAME_PROPERTIES, lang) or shorten(text)
    if kind == "bnode":
        return f"_:{text}"
    if header is not None and header.of is not None and _other_language(value, lang):
        described = row[index[header.of]]
        properties = (header.via,) if header.via is not None else NAME_PROPERTIES
        if described is not None:
            return texts.text(terms.text(described), properties, lang, strict=True) or text
    if header is not None and header.values:
        return header.value(text, lang)
    datatype = terms.datatype(value)
    if datatype == _BOOLEAN:
        return BOOLEANS[lang][text in _TRUE] if text in _BOOLEAN_FORMS else text
    if datatype in NUMERIC_TYPES and not (header is not None and header.plain):
        return number(text, lang)
    return text


_BOOLEAN = terms.XSD + "boolean"
_BOOLEAN_FORMS = frozenset({"true", "false", "1", "0"})
_TRUE = frozenset({"true", "1"})


def _numeric(result: QueryResult, position: int, header: ColumnHeader | None) -> bool:
    """A column of numbers (and blanks) only, to right-align."""
    if header is not None and header.values:
        return False
    values = [row[position] for row in result.terms if row[position] is not None]
    return bool(values) and all(_is_number(value) for value in values)
