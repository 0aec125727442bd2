"""Named SPARQL queries: one `.rq` file per query, a grlc-compatible `#+` YAML header, safe binding.

A query file is plain SPARQL whose first lines are `#+ key: value` comments (YAML), so any grlc
server can publish the folder too. Unlike grlc, the header is strict: a malformed header, an
unknown key, or a parameter that the header and the body do not both declare is an error.

Parameters follow grlc's naming of variables: `?_name` (required), `?__name` (optional, left
unbound when not given), with an optional type suffix: `?_ca_iri`, `?__year_integer`,
`?_label_fr` (language), `?_text_literal`, `?_n_number`, `?_d_xsd_date`. Each one is declared
in the header under `params` with a description. Values given by the user are parsed into RDF
terms of the declared type (pyoxigraph's terms, which check IRIs and language tags), and each
term is written, in its N-Triples form, where its variable stood (sparql_text.with_terms): the
same text for every engine, which each plans with the value known. The user's text is never
pasted into the query, so a value such as `x" } ; DROP ALL #` is one literal that matches
nothing.

Loading a query reads its header and parses its SPARQL once per text: the outline (columns,
variables, the checked header) is remembered on disk (query_outline), so that running a named
query needs neither rdflib nor a YAML parser.
"""

from __future__ import annotations

import datetime
import difflib
import gc
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pyoxigraph

from coopdec_kg.content.namespaces import expand_curie, prefixes
from coopdec_kg.content.project import Project
from coopdec_kg.engines.query_outline import Outline, recall, remember
from coopdec_kg.engines.results import QueryResult
from coopdec_kg.engines.sparql_text import term_text, with_terms
from coopdec_kg.errors import BadQueryHeader, ContentError, ParameterError, QueryError, UnknownQuery

if TYPE_CHECKING:
    from rdflib import Graph

    from coopdec_kg.engines.ordering import LocalOrder

# A parameter's value: an IRI or a literal.
Term = pyoxigraph.NamedNode | pyoxigraph.Literal

XSD = "http://www.w3.org/2001/XMLSchema#"

# Header keys grlc reads (summary, description, tags, defaults, enumerate, method, pagination)
# plus ours, which grlc ignores: English summary and description, the parameter declarations and
# the columns as people read them.
REQUIRED_KEYS = ("summary", "summary_en")
KNOWN_KEYS = frozenset(
    {
        "summary",
        "summary_en",
        "description",
        "description_en",
        "tags",
        "params",
        "columns",
        "pivot",
        "defaults",
        "enumerate",
        "method",
        "pagination",
    }
)
LANGUAGES = ("fr", "en")
# What a column's entry under `#+ columns` may say besides its title in each language.
COLUMN_KEYS = frozenset({*LANGUAGES, "of", "via", "code", "plain", "values"})
PIVOT_KEYS = frozenset({"rows", "columns", "value", "keep"})

# grlc's BASIL-style variable names: ?_name, ?__name, ?_name_type, ?_name_prefix_datatype.
PARAMETER_VARIABLE = re.compile(
    r"^(?P<marks>_{1,2})(?P<name>[A-Za-z0-9]+)(?:_(?P<type>[A-Za-z0-9]+)(?:_(?P<local>[A-Za-z0-9]+))?)?$"
)
AGGREGATE_VARIABLE = re.compile(r"^__agg_\d+__$")  # rdflib's internal names for aggregates
LANGUAGE_TYPE = re.compile(r"^[a-z]{2}$")

# Lexical forms accepted for the XSD types a parameter may declare (XML Schema 1.1 part 2).
_TIMEZONE = r"(?:Z|[+-]\d{2}:\d{2})?"
LEXICAL_FORMS: dict[str, re.Pattern[str]] = {
    "string": re.compile(r"^.*$", re.DOTALL),
    "integer": re.compile(r"^[+-]?\d+$"),
    "nonNegativeInteger": re.compile(r"^(?:\+?\d+|-0+)$"),
    "positiveInteger": re.compile(r"^\+?0*[1-9]\d*$"),
    "decimal": re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$"),
    "double": re.compile(r"^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?INF|NaN)$"),
    "boolean": re.compile(r"^(?:true|false|1|0)$"),
    "gYear": re.compile(rf"^-?\d{{4,}}{_TIMEZONE}$"),
    "date": re.compile(rf"^-?(?P<y>\d{{4,}})-(?P<m>\d{{2}})-(?P<d>\d{{2}}){_TIMEZONE}$"),
}
NUMBER_FORMS = (("integer", LEXICAL_FORMS["integer"]), ("decimal", LEXICAL_FORMS["decimal"]))
# A valid value of each of those types (to check where a query uses a parameter).
SAMPLE_VALUES = {
    "string": "x",
    "integer": "1",
    "nonNegativeInteger": "1",
    "positiveInteger": "1",
    "decimal": "1.0",
    "double": "1.0",
    "boolean": "true",
    "gYear": "2000",
    "date": "2000-01-01",
}

# What an IRI parameter may look like once expanded: an absolute http(s) or urn IRI without the
# characters that RFC 3987 / SPARQL's IRIREF exclude.
IRI_VALUE = re.compile(r"^(?:https?://[^\s<>\"{}|\\^`]+|urn:[A-Za-z0-9][^\s<>\"{}|\\^`]*)$")
CURIE_VALUE = re.compile(r"^(?P<prefix>[A-Za-z][A-Za-z0-9_.-]*):(?P<local>[^\s<>\"{}|\\^`]*)$")


@dataclass(frozen=True)
class Parameter:
    """A parameter of a named query, as its variable name and the header declare it."""

    name: str
    variable: str
    required: bool
    kind: str  # "iri", "literal", "number", "language" or "datatype"
    datatype: str | None  # full IRI, when kind == "datatype"
    language: str | None  # when kind == "language"
    description: str
    default: str | None = None
    choices: tuple[Term, ...] = ()

    @property
    def type_label(self) -> str:
        """A short word for the type, as listings show it."""
        if self.kind == "datatype" and self.datatype is not None:
            return "xsd:" + self.datatype.removeprefix(XSD)
        if self.kind == "language":
            return f"@{self.language}"
        return self.kind


@dataclass(frozen=True)
class ColumnHeader:
    """How people read one column of the answer (its entry under `#+ columns`).

    A table shows `titles` in the reader's language. A column `of` another names or describes
    the resource in that column, through `via` (a property IRI) or, without it, a label: a table
    shows that text in the reader's language, and shows a resource through its name rather than
    its IRI. A `code` column (an identifier for programs) and the IRI columns are shown only
    when asked. `plain` numbers (line numbers, years) have no thousands separator; `values`
    translates the codes a column holds.
    """

    name: str
    titles: Mapping[str, str]
    of: str | None = None
    via: str | None = None  # a property's IRI (text: no rdflib import to load a query)
    code: bool = False
    plain: bool = False
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def title(self, lang: str) -> str:
        return self.titles.get(lang) or self.titles["en"]

    def value(self, text: str, lang: str) -> str:
        """A code of the column in the reader's language (the code itself when not listed)."""
        words = self.values.get(text)
        return text if words is None else words.get(lang) or words["en"]


@dataclass(frozen=True)
class Pivot:
    """The answer's other shape, for people (`#+ pivot`, `query --pivot`): one row per value of
    `rows`, one column per value of `columns`, `value` in the cells, the columns in `keep`
    (one value per row) after them."""

    rows: str
    columns: str
    value: str
    keep: tuple[str, ...] = ()


@dataclass(frozen=True)
class NamedQuery:
    """One query file: its metadata, parameters, result columns and SPARQL text."""

    name: str
    path: Path
    summary: str
    summary_en: str
    description: str
    description_en: str
    tags: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    columns: tuple[str, ...]
    text: str
    headers: Mapping[str, ColumnHeader] = field(default_factory=dict)
    pivot: Pivot | None = None

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    def title(self, lang: str) -> str:
        """The summary in the reader's language."""
        return self.summary if lang == "fr" else self.summary_en


# ------------------------------------------------------------------------------------ loading


def query_names(project: Project) -> list[str]:
    """The names of the project's queries (file stems), without parsing them: cheap enough for
    shell completion."""
    return [path.stem for path in project.query_files]


def load_queries(project: Project) -> list[NamedQuery]:
    """Every query of the project, validated; the first broken file raises."""
    return [load_query(path) for path in project.query_files]


def find_query(project: Project, name: str) -> NamedQuery:
    """The query called `name`, or UnknownQuery naming the closest existing names."""
    names = query_names(project)
    if name in names:
        return load_query(project.queries_dir / f"{name}.rq")
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    close += [n for n in names if name and name in n and n not in close][: 3 - len(close)]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UnknownQuery(f"unknown query {name!r}{hint} (`coopdec-kg queries` lists them)")


def load_query(path: Path) -> NamedQuery:
    """Parse and check one query file (see the module docstring for the format)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise QueryError(f"{path}: cannot read query file: {error}") from error
    outline = recall(text)
    if outline is None:
        header = parse_header(text, path)
        prepared = _prepare(text, path)
        columns = tuple(str(v) for v in prepared.algebra["PV"])
        variables = frozenset(_variables(prepared.algebra))
        _check_bindable(text, columns, _declare_parameters(header, variables, path), path)
        outline = Outline(columns, variables, header)
        remember(text, outline)
    header = dict(outline.header)
    parameters = _declare_parameters(header, outline.variables, path)
    headers = _column_headers(header.get("columns"), outline.columns, path)
    return NamedQuery(
        name=path.stem,
        path=path,
        summary=header["summary"],
        summary_en=header["summary_en"],
        description=header.get("description", ""),
        description_en=header.get("description_en", ""),
        tags=tuple(header.get("tags", ())),
        parameters=parameters,
        columns=outline.columns,
        text=text,
        headers=headers,
        pivot=_pivot(header.get("pivot"), outline.columns, path),
    )


def split_header(text: str) -> tuple[str, str]:
    """The `#+` header as YAML text, and the rest. Header lines must all come first."""
    lines = text.splitlines()
    count = 0
    while count < len(lines) and lines[count].startswith("#+"):
        count += 1
    for number, line in enumerate(lines[count:], start=count + 1):
        if line.startswith("#+"):
            raise BadQueryHeader(f"line {number}: `#+` header lines must all come first")
    yaml_text = "\n".join(line[2:] for line in lines[:count])
    return yaml_text, "\n".join(lines[count:])


def parse_header(text: str, path: Path | str = "<query>") -> dict[str, Any]:
    """The header of a query file as a checked mapping; BadQueryHeader when it is not valid."""
    try:
        yaml_text, _ = split_header(text)
    except BadQueryHeader as error:
        raise BadQueryHeader(f"{path}: {error}") from None
    import yaml

    try:
        header = yaml.safe_load(yaml_text) if yaml_text.strip() else None
    except yaml.YAMLError as error:
        problem = " ".join(str(error).split())
        raise BadQueryHeader(f"{path}: the #+ header is not valid YAML: {problem}") from None
    if not isinstance(header, dict):
        raise BadQueryHeader(f"{path}: the #+ header must be a YAML mapping with at least summary")
    _check_header(header, path)
    return header


def _check_header(header: dict[Any, Any], path: Path | str) -> None:
    unknown = sorted(str(key) for key in header if key not in KNOWN_KEYS)
    if unknown:
        raise BadQueryHeader(
            f"{path}: unknown #+ header key(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(KNOWN_KEYS))})"
        )
    for key in REQUIRED_KEYS:
        if key not in header:
            raise BadQueryHeader(f"{path}: the #+ header has no {key}")
    for key in ("summary", "summary_en", "description", "description_en"):
        if key in header and not (isinstance(header[key], str) and header[key].strip()):
            raise BadQueryHeader(f"{path}: #+ {key} must be a non-empty text")
    for key in ("summary", "summary_en"):
        if "\n" in header[key].strip():
            raise BadQueryHeader(f"{path}: #+ {key} must fit on one line")
    if "tags" in header and not _is_list_of_texts(header["tags"]):
        raise BadQueryHeader(f"{path}: #+ tags must be a list of texts")
    params = header.get("params", {})
    if not isinstance(params, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in params.items()
    ):
        raise BadQueryHeader(f"{path}: #+ params must map each parameter name to a description")
    if "method" in header and header["method"] not in ("GET", "POST"):
        raise BadQueryHeader(f"{path}: #+ method must be GET or POST")
    pagination = header.get("pagination", 1)
    if not isinstance(pagination, int) or isinstance(pagination, bool) or pagination < 1:
        raise BadQueryHeader(f"{path}: #+ pagination must be a positive integer")
    for key in ("defaults", "enumerate"):
        if key in header:
            _single_key_items(header[key], key, path)


def _is_list_of_texts(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _single_key_items(value: object, key: str, path: Path | str) -> dict[str, object]:
    """grlc writes `defaults` and `enumerate` as a list of one-key mappings: `- name: value`."""
    if not isinstance(value, list):
        raise BadQueryHeader(f"{path}: #+ {key} must be a list of `- name: value` items")
    merged: dict[str, object] = {}
    for item in value:
        if isinstance(item, str) and key == "enumerate":
            raise BadQueryHeader(
                f"{path}: #+ enumerate: {item!r} asks for values from an endpoint; "
                "list the values instead (`- {item}: [value, …]`)"
            )
        if not (isinstance(item, dict) and len(item) == 1):
            raise BadQueryHeader(f"{path}: #+ {key} must be a list of `- name: value` items")
        ((name, entry),) = item.items()
        if name in merged:
            raise BadQueryHeader(f"{path}: #+ {key} names {name!r} twice")
        if key == "defaults" and not isinstance(entry, (str, int, float)):
            raise BadQueryHeader(f"{path}: #+ defaults: {name} must have one value")
        if key == "enumerate" and not (
            isinstance(entry, list) and entry and all(isinstance(v, (str, int)) for v in entry)
        ):
            raise BadQueryHeader(f"{path}: #+ enumerate: {name} must list its values")
        merged[str(name)] = entry
    return merged


def _check_bindable(
    text: str, columns: tuple[str, ...], parameters: Sequence[Parameter], path: Path
) -> None:
    """Refuse a query whose parameters cannot be written as terms where they stand (a literal
    parameter as a predicate, a parameter assigned with AS…) or whose columns would change."""
    for parameter in parameters:
        try:
            bound = with_terms(text, {parameter.variable: term_text(_sample(parameter))}, str(path))
            prepared = _prepare(bound, path)
        except (ContentError, QueryError) as error:
            raise BadQueryHeader(
                f"{path}: the value of parameter {parameter.name!r} cannot be written in place "
                f"of ?{parameter.variable} ({error})"
            ) from None
        if tuple(str(v) for v in prepared.algebra["PV"]) != columns:
            raise BadQueryHeader(
                f"{path}: binding ?{parameter.variable} changes the columns: list them after SELECT"
            )


def _sample(parameter: Parameter) -> Term:
    """A value of the parameter's kind, for checking where the query uses it."""
    if parameter.kind == "iri":
        return pyoxigraph.NamedNode("https://example.org/parameter")
    if parameter.kind == "language":
        return pyoxigraph.Literal("x", language=parameter.language)
    if parameter.kind == "number":
        return pyoxigraph.Literal("1", datatype=pyoxigraph.NamedNode(XSD + "integer"))
    if parameter.kind == "datatype" and parameter.datatype is not None:
        lexical = SAMPLE_VALUES[parameter.datatype.removeprefix(XSD)]
        return pyoxigraph.Literal(lexical, datatype=pyoxigraph.NamedNode(parameter.datatype))
    return pyoxigraph.Literal("x")


def _column_headers(
    declared: object, columns: Sequence[str], path: Path | str
) -> dict[str, ColumnHeader]:
    """The `#+ columns` header, checked against the query's columns: when present, it gives
    every column a title in French and in English, and names no other column."""
    if declared is None:
        return {}
    if not isinstance(declared, dict) or not all(isinstance(k, str) for k in declared):
        raise BadQueryHeader(f"{path}: #+ columns must map each column to its titles")
    missing = [name for name in columns if name not in declared]
    if missing:
        raise BadQueryHeader(f"{path}: #+ columns gives no title to {', '.join(missing)}")
    strangers = sorted(set(declared) - set(columns))
    if strangers:
        raise BadQueryHeader(f"{path}: #+ columns names {', '.join(strangers)}, not a column")
    return {name: _column_header(name, declared[name], columns, path) for name in columns}


def _pivot(declared: object, columns: Sequence[str], path: Path | str) -> Pivot | None:
    """The `#+ pivot` header, checked against the query's columns."""
    if declared is None:
        return None
    where = f"{path}: #+ pivot"
    if not isinstance(declared, dict) or set(declared) - PIVOT_KEYS:
        raise BadQueryHeader(f"{where} must give rows, columns, value (and keep) columns")
    keep = declared.get("keep", [])
    named = [declared.get(key) for key in ("rows", "columns", "value")]
    if not isinstance(keep, list) or not all(n in columns for n in [*named, *keep]):
        raise BadQueryHeader(f"{where}: rows, columns, value and keep must name query columns")
    rows, pivoted, value = (str(name) for name in named)
    return Pivot(rows, pivoted, value, tuple(str(name) for name in keep))


def _column_header(
    name: str, entry: object, columns: Sequence[str], path: Path | str
) -> ColumnHeader:
    where = f"{path}: #+ columns: {name}"
    if not isinstance(entry, dict):
        raise BadQueryHeader(f"{where} must give its titles (fr: …, en: …)")
    unknown = sorted(str(key) for key in entry if key not in COLUMN_KEYS)
    if unknown:
        known = ", ".join(sorted(COLUMN_KEYS))
        raise BadQueryHeader(f"{where}: unknown key(s) {', '.join(unknown)} (known: {known})")
    titles = {lang: entry.get(lang) for lang in LANGUAGES}
    if not all(_one_line_text(title) for title in titles.values()):
        raise BadQueryHeader(f"{where} needs a one-line title in fr and in en")
    of = entry.get("of")
    if of is not None and (of not in columns or of == name):
        raise BadQueryHeader(f"{where}: of must name another column of the query")
    via = entry.get("via")
    if via is not None:
        expanded = expand_curie(via) if isinstance(via, str) else None
        if of is None or expanded is None:
            raise BadQueryHeader(f"{where}: via must be a property CURIE, with of")
        via = expanded
    for flag in ("code", "plain"):
        if not isinstance(entry.get(flag, False), bool):
            raise BadQueryHeader(f"{where}: {flag} must be true or false")
    values = entry.get("values", {})
    if not isinstance(values, dict) or not all(
        isinstance(code, str)
        and isinstance(words, dict)
        and set(words) == set(LANGUAGES)
        and all(_one_line_text(word) for word in words.values())
        for code, words in values.items()
    ):
        raise BadQueryHeader(f"{where}: values must map each code to its words (fr: …, en: …)")
    return ColumnHeader(
        name=name,
        titles={lang: str(title).strip() for lang, title in titles.items()},
        of=of,
        via=via,
        code=entry.get("code", False),
        plain=entry.get("plain", False),
        values={code: dict(words) for code, words in values.items()},
    )


def _one_line_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip()) and "\n" not in value.strip()


def _prepare(text: str, path: Path | str) -> Any:
    """Parse the SPARQL (prefixes must be declared in the file) and refuse unsafe features."""
    from pyparsing import ParseException
    from rdflib.plugins.sparql import prepareQuery

    try:
        prepared = prepareQuery(text)
    except ParseException as error:
        raise QueryError(
            f"{path}: SPARQL syntax error at line {error.lineno}: {error.msg}"
        ) from None
    except Exception as error:  # rdflib reports undeclared prefixes and the like as plain errors
        raise QueryError(f"{path}: invalid SPARQL: {' '.join(str(error).split())}") from None
    algebra = prepared.algebra
    if algebra.name != "SelectQuery":
        raise QueryError(f"{path}: a named query must be a SELECT query")
    if algebra.datasetClause or "ServiceGraphPattern" in _node_names(algebra):
        raise QueryError(f"{path}: a named query may not use FROM, FROM NAMED or SERVICE")
    return prepared


def _walk(node: object) -> Iterator[object]:
    yield node
    if isinstance(node, dict):  # rdflib's CompValue is a dict of its parts
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, (list, tuple, set, frozenset)):
        for value in node:
            yield from _walk(value)


def _node_names(algebra: object) -> set[str]:
    return {str(getattr(n, "name", "")) for n in _walk(algebra) if isinstance(n, dict)}


def _variables(algebra: object) -> set[str]:
    from rdflib import Variable

    return {str(n) for n in _walk(algebra) if isinstance(n, Variable)}


def _declare_parameters(
    header: dict[str, Any], variables: Iterable[str], path: Path
) -> tuple[Parameter, ...]:
    """Match the parameter variables of the body with the header's `params`, both ways."""
    declared: dict[str, str] = header.get("params", {})
    found: dict[str, tuple[str, re.Match[str]]] = {}
    for variable in sorted(variables):
        if not variable.startswith("_") or AGGREGATE_VARIABLE.match(variable):
            continue
        match = PARAMETER_VARIABLE.match(variable)
        if match is None:
            raise BadQueryHeader(
                f"{path}: ?{variable} is not a valid parameter variable "
                "(?_name, ?__name, ?_name_type; a name has no underscore)"
            )
        name = match["name"]
        if name in found and found[name][0] != variable:
            raise BadQueryHeader(
                f"{path}: parameter {name!r} is written both ?{found[name][0]} and ?{variable}"
            )
        found[name] = (variable, match)
    undeclared = sorted(set(found) - set(declared))
    if undeclared:
        variable = found[undeclared[0]][0]
        raise BadQueryHeader(f"{path}: ?{variable} is not declared in the #+ params header")
    unused = sorted(set(declared) - set(found))
    if unused:
        name = unused[0]
        raise BadQueryHeader(
            f"{path}: #+ params declares {name!r} but the query uses no ?_{name} or ?__{name}"
        )
    defaults = _single_key_items(header.get("defaults", []), "defaults", path)
    choices = _single_key_items(header.get("enumerate", []), "enumerate", path)
    for key, names in (("defaults", defaults), ("enumerate", choices)):
        strangers = sorted(set(names) - set(found))
        if strangers:
            raise BadQueryHeader(f"{path}: #+ {key} names {strangers[0]!r}, not a parameter")
    parameters = []
    for name in sorted(found):
        variable, match = found[name]
        parameter = _parameter(name, variable, match, declared[name], path)
        listed = cast(list[object], choices.get(name, []))
        default = str(defaults[name]) if name in defaults else None
        try:
            allowed = tuple(parse_value(parameter, str(v)) for v in listed)
            if default is not None:
                parse_value(parameter, default)
        except ParameterError as error:
            raise BadQueryHeader(f"{path}: #+ defaults or enumerate: {error}") from None
        parameters.append(replace(parameter, default=default, choices=allowed))
    return tuple(parameters)


def _parameter(
    name: str, variable: str, match: re.Match[str], description: str, path: Path
) -> Parameter:
    """Read a parameter's type from its variable name, as grlc does."""
    kind, datatype, language = "literal", None, None
    type_, local = match["type"], match["local"]
    if local is not None:
        expanded = expand_curie(f"{type_}:{local}")
        if expanded is None or not expanded.startswith(XSD) or local not in LEXICAL_FORMS:
            raise BadQueryHeader(f"{path}: ?{variable}: unsupported datatype {type_}:{local}")
        kind, datatype = "datatype", expanded
    elif type_ in ("iri", "literal", "number"):
        kind = type_
    elif type_ == "string":
        kind = "literal"
    elif type_ in LEXICAL_FORMS:
        kind, datatype = "datatype", XSD + type_
    elif type_ is not None and LANGUAGE_TYPE.match(type_):
        kind, language = "language", type_
    elif type_ is not None:
        supported = ", ".join(["iri", "literal", "number", *LEXICAL_FORMS, "a language tag"])
        raise BadQueryHeader(f"{path}: ?{variable}: unsupported type {type_!r} ({supported})")
    return Parameter(
        name=name,
        variable=variable,
        required=match["marks"] == "_",
        kind=kind,
        datatype=datatype,
        language=language,
        description=description.strip(),
    )


# ------------------------------------------------------------------------------------ binding


def parse_assignments(assignments: Sequence[str]) -> dict[str, str]:
    """`KEY=VALUE` strings (the CLI's `-p`) as a mapping; each key at most once."""
    values: dict[str, str] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"parameter {assignment!r} is not of the form KEY=VALUE")
        if key in values:
            raise ParameterError(f"parameter {key!r} is given twice")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # an undecodable byte of the command line (lone surrogate)
            raise ParameterError(f"parameter {key!r} is not valid Unicode text") from None
        values[key] = value
    return values


def parse_iri(text: str) -> pyoxigraph.NamedNode:
    """An IRI from `<…>`, an absolute http(s)/urn IRI, or a CURIE with the project's prefixes.

    >>> parse_iri("authority:ca-cergy-pontoise").value
    'https://w3id.org/coopdec-kg/id/authority/ca-cergy-pontoise'
    >>> parse_iri("cdr:authority/ca-cergy-pontoise").value
    'https://w3id.org/coopdec-kg/id/authority/ca-cergy-pontoise'
    """
    value = text.strip()
    bracketed = value.startswith("<") and value.endswith(">")
    if bracketed:
        value = value[1:-1]
    else:
        curie = CURIE_VALUE.match(value)
        if curie and curie["prefix"] in prefixes() and not curie["local"].startswith("//"):
            value = expand_curie(value) or value
        elif curie and not IRI_VALUE.match(value):
            raise ParameterError(
                f"{text!r}: unknown prefix {curie['prefix']!r} "
                "(use a project prefix such as authority: or a full https:// IRI)"
            )
    if IRI_VALUE.match(value):
        try:
            return pyoxigraph.NamedNode(value)
        except ValueError:  # e.g. a bad %-escape: pyoxigraph checks the IRI's syntax
            pass
    raise ParameterError(
        f"{text!r} is not an IRI (give <https://…>, https://… or a CURIE such as "
        "authority:ca-cergy-pontoise)"
    )


def parse_value(parameter: Parameter, text: str) -> Term:
    """The RDF term for a value given as text, checked against the parameter's type."""
    if text == "":
        raise ParameterError(f"parameter {parameter.name!r} has an empty value")
    if parameter.kind == "iri":
        try:
            return parse_iri(text)
        except ParameterError as error:
            raise ParameterError(f"parameter {parameter.name!r}: {error}") from None
    if parameter.kind == "literal":
        return pyoxigraph.Literal(text)
    if parameter.kind == "language":
        return pyoxigraph.Literal(text, language=parameter.language)
    if parameter.kind == "number":
        for local, form in NUMBER_FORMS:
            if form.match(text):
                return _typed(text, XSD + local)
        if LEXICAL_FORMS["double"].match(text):
            return _typed(text, XSD + "double")
        raise ParameterError(f"parameter {parameter.name!r}: {text!r} is not a number")
    assert parameter.datatype is not None
    local = parameter.datatype[len(XSD) :]
    match = LEXICAL_FORMS[local].match(text)
    if match is None or (local == "date" and not _real_date(match)):
        raise ParameterError(f"parameter {parameter.name!r}: {text!r} is not a valid xsd:{local}")
    return _typed(text, parameter.datatype)


def _typed(text: str, datatype: str) -> pyoxigraph.Literal:
    return pyoxigraph.Literal(text, datatype=pyoxigraph.NamedNode(datatype))


def _real_date(match: re.Match[str]) -> bool:
    try:
        datetime.date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return False
    return True


def bind(query: NamedQuery, values: Mapping[str, str]) -> dict[str, Term]:
    """Variable → RDF term for the given values; defaults fill gaps; optional ones stay unbound."""
    for name in values:
        if query.parameter(name) is None:
            known = ", ".join(p.name for p in query.parameters) or "none"
            raise ParameterError(
                f"query {query.name!r} has no parameter {name!r} (parameters: {known})"
            )
    bindings: dict[str, Term] = {}
    for parameter in query.parameters:
        text = values.get(parameter.name, parameter.default)
        if text is None:
            if parameter.required:
                needed = f"-p {parameter.name}=VALUE ({parameter.description})"
                raise ParameterError(f"query {query.name!r} needs {needed}")
            continue
        term = parse_value(parameter, text)
        if parameter.choices and term not in parameter.choices:
            allowed = ", ".join(c.value for c in parameter.choices)
            raise ParameterError(f"parameter {parameter.name!r} must be one of: {allowed}")
        bindings[parameter.variable] = term
    return bindings


def bound_text(query: NamedQuery, values: Mapping[str, str] | None = None) -> str:
    """The query's text with the given values written as RDF terms where their variables stand
    (checked by `bind`; optional parameters left out stay unbound variables)."""
    terms = {name: term_text(term) for name, term in bind(query, values or {}).items()}
    try:
        return with_terms(query.text, terms, str(query.path))
    except ContentError as error:  # pragma: no cover - load_query checked where each one stands
        raise QueryError(str(error)) from None


# ------------------------------------------------------------------------------------ running


def run(graph: Graph, query: NamedQuery, values: Mapping[str, str] | None = None) -> QueryResult:
    """Run a named query with rdflib on a graph, the values written as RDF terms."""
    prepared = _prepare(bound_text(query, values), query.path)
    result = graph.query(prepared)
    columns = tuple(str(v) for v in result.vars or ())
    return QueryResult(columns, tuple(tuple(cast(Sequence[Any], row)) for row in result))


def describe(query: NamedQuery) -> dict[str, object]:
    """A JSON-ready description of a query (what `coopdec-kg queries --format json` prints)."""
    return {
        "name": query.name,
        "summary": query.summary,
        "summary_en": query.summary_en,
        "description": query.description,
        "description_en": query.description_en,
        "tags": list(query.tags),
        "columns": list(query.columns),
        "parameters": [
            {
                "name": p.name,
                "type": p.type_label,
                "required": p.required,
                "description": p.description,
                **({"default": p.default} if p.default is not None else {}),
                **({"choices": [c.value for c in p.choices]} if p.choices else {}),
            }
            for p in query.parameters
        ],
    }


def run_on_store(
    store: pyoxigraph.Store, query: NamedQuery, values: Mapping[str, str] | None = None
) -> QueryResult:
    """Run a named query on the persistent store, the values written as RDF terms.

    The rows are ordered in Python when the query allows it (see ordering.py: Oxigraph's sort
    is the slowest part of large answers). They hold the store's terms: the result writers
    read them as they are, and rdflib terms are made only if `rows` is asked for.
    """
    from coopdec_kg.engines.store import solutions

    text, local = store_text(query, values)
    with _cycle_collector_paused():
        answer = solutions(store, text)
        columns, rows = answer if local is None else local.apply(answer)
    return QueryResult(columns, tuple(rows))


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while an answer is built: its rows hold no cycles, and
    on an answer of 75 000 rows the collector's repeated scans of every row built so far cost
    0.2-0.4 s (memory is still freed as usual, by reference counting)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def store_text(
    query: NamedQuery, values: Mapping[str, str] | None = None
) -> tuple[str, LocalOrder | None]:
    """The text the store runs for a named query, and the order to give its rows afterwards
    (None when the store orders them itself)."""
    from coopdec_kg.engines.ordering import plan

    text = bound_text(query, values)
    local = plan(text)
    return (text, None) if local is None else (local.query, local)


def run_remote(
    endpoint: str,
    query: NamedQuery,
    values: Mapping[str, str] | None = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
) -> QueryResult:
    """Run a named query on a remote SPARQL 1.1 endpoint, the values written as RDF terms
    (within `timeout` seconds in all, an answer of at most `max_bytes`: see
    coopdec_kg.engines.remote). The answer is asked for as TSV, the smallest SPARQL results
    format that keeps every term (JSON accepted too): the writers give the same bytes from it
    whatever format they write."""
    from coopdec_kg.engines.remote import RESULTS_TSV, select

    text = bound_text(query, values)
    columns, rows = select(endpoint, text, timeout, max_bytes, RESULTS_TSV)
    return QueryResult(tuple(columns), rows)


def choices_query(query: NamedQuery, parameter: Parameter) -> str | None:
    """A SELECT of the values an IRI parameter can usefully take: the resources in the place
    the query puts it, in each triple pattern with a fixed predicate (`?link cdo:frenchParty
    ?_ca_iri` → whatever is a cdo:frenchParty). None for another kind of parameter, or when no
    pattern fixes a predicate."""
    if parameter.kind != "iri":
        return None
    from rdflib import URIRef, Variable

    variable = Variable(parameter.variable)
    patterns: set[str] = set()
    for node in _walk(_prepare(query.text, query.path).algebra):
        if not isinstance(node, dict) or getattr(node, "name", "") != "BGP":
            continue
        for subject, predicate, obj in node.get("triples", ()):
            if not isinstance(predicate, URIRef):
                continue
            if obj == variable:
                patterns.add(f"{{ [] {predicate.n3()} ?value }}")
            if subject == variable:
                patterns.add(f"{{ ?value {predicate.n3()} [] }}")
    if not patterns:
        return None
    union = " UNION ".join(sorted(patterns))
    return f"SELECT DISTINCT ?value WHERE {{ {union} FILTER(isIRI(?value)) }}"
