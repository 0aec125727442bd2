"""The row → RDF mapping: `mapping.json`, W3C CSVW metadata, read by a small, strict reader.

Why CSVW and not RML: the mapping has to stay data that people can read beside the template,
and the alternative engine for RML (morph-kgc) brings pandas and its start-up time into every
import for what is, here, a dozen columns per sheet. CSVW's table-schema vocabulary (`titles`,
`required`, `datatype`, `separator`, `aboutUrl`, `propertyUrl`, `valueUrl`, `virtual`,
`suppressOutput`, `lang`) says almost all of it; what it cannot say is added as common properties in
the `cdk:` namespace, and named in `mapping.json`'s own description:

* `cdk:lookup` — the cell names an existing resource (resolved by coopdec_kg.tabular.names):
  `cdk:lookups` says among what (a class, a SKOS scheme, the EU country table, another sheet);
* `cdk:new` — on a lookup, the template of a new resource when the name is unknown; on a
  column, the lookup column whose resource must be new for the column to be written;
* `cdk:when` — the columns that must be filled (and not « non ») for the column to be written;
* `cdk:text` — a literal from a template over the cells' text; `cdk:copy` — another cell's value;
* the datatype `cdk:iriOrText` — a web address becomes an IRI, anything else a text.

The reader accepts only these keys and fails on any other, so that the file cannot silently
say something the code does not do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from rdflib import URIRef

from coopdec_kg.content.namespaces import prefixes
from coopdec_kg.errors import ContentError

LANGUAGES = ("fr", "en")
DATATYPES = frozenset(
    {"string", "langString", "integer", "decimal", "date", "boolean", "cdk:iriOrText"}
)
VARIABLE = re.compile(r"\{(\w+)\}")
_CURIE = re.compile(r"^([A-Za-z][\w-]*):([^/].*)?$")
_COLUMN_KEYS = frozenset(
    {
        "name", "titles", "dc:description", "required", "propertyUrl", "valueUrl", "aboutUrl",
        "datatype", "separator", "suppressOutput", "virtual", "lang", "cdk:lookup", "cdk:new",
        "cdk:when", "cdk:text", "cdk:copy",
    }
)  # fmt: skip
_LOOKUP_KEYS = frozenset(
    {"cdk:class", "cdk:new", "cdk:namespace", "cdk:code", "cdk:scheme", "cdk:subClassOf",
     "cdk:table", "cdk:column"}
)  # fmt: skip


@dataclass(frozen=True)
class Lookup:
    """Among what a cell's name is looked up (exactly one of class, scheme, namespace,
    subclass_of, table)."""

    name: str
    of_class: URIRef | None = None
    new: str | None = None
    namespace: str | None = None
    code: re.Pattern[str] | None = None
    scheme: URIRef | None = None
    subclass_of: URIRef | None = None
    table: str | None = None
    column: str | None = None


@dataclass(frozen=True)
class Column:
    """One column of a sheet (or a virtual column: a triple written for every row)."""

    name: str
    titles: Mapping[str, str]
    descriptions: Mapping[str, str]
    required: bool
    about: str
    property: URIRef | None
    value: str | None
    datatype: str
    separator: str | None
    lookup: str | None
    new: str | None
    when: tuple[str, ...]
    text: str | None
    copy: str | None
    virtual: bool
    lang: str | None  # the language of its texts, when not the sheet's

    def title(self, lang: str) -> str:
        return self.titles.get(lang) or self.titles.get("fr") or self.name


@dataclass(frozen=True)
class Table:
    """One sheet: its key (CSVW `url`), its names and its columns, real ones first."""

    key: str
    titles: Mapping[str, str]
    descriptions: Mapping[str, str]
    about: str
    columns: tuple[Column, ...]

    @property
    def cells(self) -> tuple[Column, ...]:
        """The columns a person fills, in the template's order."""
        return tuple(column for column in self.columns if not column.virtual)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name and not column.virtual:
                return column
        raise KeyError(name)

    def title(self, lang: str) -> str:
        return self.titles.get(lang) or self.titles["fr"]


@dataclass(frozen=True)
class SheetMapping:
    """The whole mapping: its sheets and its lookups."""

    tables: tuple[Table, ...]
    lookups: Mapping[str, Lookup]

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)


@cache
def load_mapping() -> SheetMapping:
    """The mapping shipped with the package (read once)."""
    text = files("coopdec_kg.tabular").joinpath("mapping.json").read_text(encoding="utf-8")
    return read_mapping(json.loads(text))


def read_mapping(document: Mapping[str, Any]) -> SheetMapping:
    """Check and read a CSVW metadata document of the subset described above."""
    names = dict(prefixes())
    for entry in document.get("@context", []):
        if isinstance(entry, dict):
            names.update({k: v for k, v in entry.items() if not k.startswith("@")})
    lookups = {
        name: _lookup(name, spec, names) for name, spec in document.get("cdk:lookups", {}).items()
    }
    tables = tuple(_table(spec, names, lookups) for spec in document.get("tables", []))
    if not tables:
        raise ContentError("the sheet mapping has no tables")
    return SheetMapping(tables, lookups)


def expand(name: str, names: Mapping[str, str]) -> str:
    """A CURIE with a known prefix, as a full IRI (anything else unchanged)."""
    match = _CURIE.match(name)
    if match and match.group(1) in names:
        return names[match.group(1)] + (match.group(2) or "")
    return name


def _lookup(name: str, spec: Mapping[str, Any], names: Mapping[str, str]) -> Lookup:
    _only(spec, _LOOKUP_KEYS, f"lookup {name}")

    def iri(key: str) -> URIRef | None:
        return URIRef(expand(spec[key], names)) if key in spec else None

    code = spec.get("cdk:code")
    found = Lookup(
        name,
        of_class=iri("cdk:class"),
        new=spec.get("cdk:new"),
        namespace=spec.get("cdk:namespace"),
        code=re.compile(code) if code else None,
        scheme=iri("cdk:scheme"),
        subclass_of=iri("cdk:subClassOf"),
        table=spec.get("cdk:table"),
        column=spec.get("cdk:column"),
    )
    kinds = [found.of_class, found.namespace, found.scheme, found.subclass_of, found.table]
    if sum(kind is not None for kind in kinds) != 1:
        raise ContentError(f"the sheet mapping's lookup {name} names no single kind of resource")
    return found


def _table(
    spec: Mapping[str, Any], names: Mapping[str, str], lookups: Mapping[str, Lookup]
) -> Table:
    schema = spec["tableSchema"]
    about = schema["aboutUrl"]
    columns = tuple(_column(c, about, names) for c in schema["columns"])
    table = Table(
        spec["url"], _texts(spec["dc:title"]), _texts(spec["dc:description"]), about, columns
    )
    known = {c.name for c in table.cells} | {"_row"}
    for column in columns:
        used = {
            *column.when,
            *(
                v
                for t in (column.about, column.value, column.text)
                if t
                for v in VARIABLE.findall(t)
            ),
            *([column.new] if column.new else []),
            *([column.copy] if column.copy else []),
        }
        if used - known:
            raise ContentError(
                f"the sheet mapping's table {table.key} uses unknown columns {sorted(used - known)}"
            )
        if column.value and VARIABLE.search(column.value) and not VARIABLE.fullmatch(column.value):
            raise ContentError(
                f"the sheet mapping's valueUrl {column.value} is neither a constant nor one column"
            )
        if column.lookup and column.lookup not in lookups:
            raise ContentError(f"the sheet mapping names an unknown lookup {column.lookup}")
    return table


def _column(spec: Mapping[str, Any], about: str, names: Mapping[str, str]) -> Column:
    _only(spec, _COLUMN_KEYS, f"column {spec.get('name', spec.get('propertyUrl'))}")
    virtual = bool(spec.get("virtual", False))
    datatype = spec.get("datatype", "string")
    if datatype not in DATATYPES:
        raise ContentError(f"the sheet mapping uses an unknown datatype {datatype}")
    when = spec.get("cdk:when", ())
    value = spec.get("valueUrl")
    return Column(
        name=spec.get("name", ""),
        titles=_texts(spec.get("titles", {})),
        descriptions=_texts(spec.get("dc:description", {})),
        required=bool(spec.get("required", False)),
        about=spec.get("aboutUrl", about),
        property=(
            None if spec.get("suppressOutput") else URIRef(expand(spec["propertyUrl"], names))
        ),
        value=expand(value, names) if value else None,
        datatype=datatype,
        separator=spec.get("separator"),
        lookup=spec.get("cdk:lookup"),
        new=spec.get("cdk:new"),
        when=(when,) if isinstance(when, str) else tuple(when),
        text=spec.get("cdk:text"),
        copy=spec.get("cdk:copy"),
        virtual=virtual,
        lang=spec.get("lang"),
    )


def _texts(value: Any) -> dict[str, str]:
    """A CSVW natural-language property: a string (French) or one string per language."""
    if isinstance(value, str):
        return {"fr": value}
    return {lang: text if isinstance(text, str) else text[0] for lang, text in value.items()}


def _only(spec: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = set(spec) - allowed
    if unknown:
        raise ContentError(f"the sheet mapping's {where} uses unsupported keys {sorted(unknown)}")
