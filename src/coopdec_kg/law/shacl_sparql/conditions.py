"""Conditions on a value (datatype, node kind, sh:in, patterns, languages, ranges) as SPARQL
expressions: exact where the store and pySHACL agree, else a sound first stage.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Node

from coopdec_kg.errors import ContentError
from coopdec_kg.law.shacl_sparql.literals import _SAMETERM_SAFE, _STORED_AS

# ---------------------------------------------------------------- conditions on a value


@dataclass(frozen=True)
class _Cond:
    """Whether a value conforms: exactly, or as sound approximations for a later decision."""

    exact: str | None
    sure_ok: str
    sure_bad: str
    graph: bool  # depends on the graph, not only on the value node

    @classmethod
    def of(cls, exact: str, graph: bool = False) -> _Cond:
        return cls(exact, exact, f"!({exact})", graph)


_TRUE = _Cond.of("true")


def _all(conds: Sequence[_Cond]) -> _Cond:
    if not conds:
        return _TRUE
    if len(conds) == 1:
        return conds[0]
    exact = None
    if all(c.exact is not None for c in conds):
        exact = " && ".join(f"({c.exact})" for c in conds)
    return _Cond(
        exact,
        " && ".join(f"({c.sure_ok})" for c in conds),
        " || ".join(f"({c.sure_bad})" for c in conds),
        any(c.graph for c in conds),
    )


def _any(conds: Sequence[_Cond]) -> _Cond:
    if len(conds) == 1:
        return conds[0]
    exact = None
    if all(c.exact is not None for c in conds):
        exact = " || ".join(f"({c.exact})" for c in conds)
    return _Cond(
        exact,
        " || ".join(f"({c.sure_ok})" for c in conds) or "false",
        " && ".join(f"({c.sure_bad})" for c in conds) or "true",
        any(c.graph for c in conds),
    )


def _negate(cond: _Cond) -> _Cond:
    exact = None if cond.exact is None else f"!({cond.exact})"
    return _Cond(exact, cond.sure_bad, cond.sure_ok, cond.graph)


def _n3(term: Node, where: str) -> str:
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        return str(term.n3())
    raise ContentError(f"{where}: blank nodes cannot be compared by the full-validation engine")


def _sameterm_safe(term: Node) -> bool:
    """Whether `sameTerm` in the store agrees with rdflib's equality for this term."""
    if isinstance(term, URIRef):
        return True
    return (
        isinstance(term, Literal)
        and not term.language
        and str(term.datatype or XSD.string) in _SAMETERM_SAFE
    )


_CERTAIN = re.compile(r"@@certain<([^>]*)>@@")
_CLOSURE = re.compile(r"@@closure<([^>]*)>@@")
_PLAIN_DATE = '"^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}$"'
_PLAIN_DATETIME = '"^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\\\.[0-9]+)?$"'
_CASTS = {str(XSD[name]): None for name in ["integer", "decimal", "double", "float", "boolean"]} | {
    str(XSD.date): _PLAIN_DATE,
    str(XSD.dateTime): _PLAIN_DATETIME,
}
_NUMERIC = frozenset({str(XSD[n]) for n in ("integer", "decimal", "double", "float")}) | set(
    _STORED_AS
)
# Regular expressions that mean the same to Python's re (pySHACL) and to the store's engine:
# literal characters, escapes of punctuation, \d, anchors, ASCII classes, groups, quantifiers.
_PORTABLE_REGEX = re.compile(
    r"^(?:[A-Za-z0-9 /:_\-^$|(){},@#=&%'\"]|\\[.\-/\\d^$|(){}\[\]?*+]"
    r"|\[\^?(?:[A-Za-z0-9_ ]|[A-Za-z0-9]-[A-Za-z0-9]|\\[.\-\\\]d])+\]|[?*+])*$"
)
_RANGES = {
    SH.minInclusive: ">=",
    SH.maxInclusive: "<=",
    SH.minExclusive: ">",
    SH.maxExclusive: "<",
}
_NODE_KINDS = {
    SH.IRI: "isIRI({v})",
    SH.BlankNode: "isBlank({v})",
    SH.Literal: "isLiteral({v})",
    SH.BlankNodeOrIRI: "(isIRI({v}) || isBlank({v}))",
    SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
    SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))",
}
# An IRI or a string whose text the store keeps as written; no line break, where Python's `$`
# also matches (before a final one).
_STRINGISH = (
    '(isIRI({v}) || (isLiteral({v}) && (DATATYPE({v}) = <{s}> || LANG({v}) != "") '
    '&& !CONTAINS(STR({v}), "\\n")))'
)


def _datatype_cond(datatype: Node, var: str, where: str) -> _Cond:
    """sh:datatype, with pySHACL's rules: rdflib's datatype, and no ill-typed literal."""
    if datatype == RDFS.Literal:
        return _Cond.of(f"isLiteral({var})")
    if datatype == XSD.string:
        return _Cond.of(f"(isLiteral({var}) && DATATYPE({var}) = <{XSD.string}>)")
    if datatype == RDF.langString:
        return _Cond.of(f'(isLiteral({var}) && LANG({var}) != "")')
    if not isinstance(datatype, URIRef) or datatype == RDFS.Datatype:
        raise ContentError(
            f"{where}: sh:datatype {datatype} cannot be checked on the store (pySHACL tells "
            "a plain literal from an xsd:string one, the store does not)"
        )
    text = str(datatype)
    # The store keeps xsd:int as xsd:integer: only another stored datatype is surely wrong.
    sure_bad = f"(!isLiteral({var}) || DATATYPE({var}) != <{_STORED_AS.get(text, text)}>)"
    if text not in _CASTS:
        return _Cond(None, "false", sure_bad, False)
    cast = f"sameTerm(<{datatype}>(STR({var})), {var})"
    form = _CASTS[text]
    shape = f" && REGEX(STR({var}), {form})" if form else ""
    sure_ok = (
        f"(@@certain<{datatype}>@@ && isLiteral({var}) && DATATYPE({var}) = <{datatype}>"
        f"{shape} && {cast})"
    )
    return _Cond(None, sure_ok, sure_bad, False)


def _members_cond(members: Sequence[Node], var: str, where: str) -> _Cond:
    """sh:in / a node's sh:hasValue: rdflib's term equality with one of the members."""
    for member in members:
        if isinstance(member, BNode):
            raise ContentError(f"{where}: blank nodes cannot be compared on the store")
    safe = [m for m in members if _sameterm_safe(m)]
    same = " || ".join(f"sameTerm({var}, {_n3(m, where)})" for m in safe) or "false"
    if len(safe) == len(members):
        return _Cond.of(f"({same})")
    iris = " || ".join(f"sameTerm({var}, <{m}>)" for m in members if isinstance(m, URIRef))
    sure_bad = f"(isBlank({var}) || (isIRI({var}) && !({iris or 'false'})))"
    return _Cond(None, f"({same})", sure_bad, False)


def _pattern_cond(pattern: Node, flags: Node | None, var: str, where: str) -> _Cond:
    if not isinstance(pattern, Literal) or (flags is not None and not isinstance(flags, Literal)):
        raise ContentError(f"{where}: sh:pattern and sh:flags must be strings")
    text, flag = str(pattern), str(flags or "")
    stringish = _STRINGISH.format(v=var, s=XSD.string)
    if not _PORTABLE_REGEX.match(text) or flag not in ("", "i"):
        return _Cond(None, "false", f"isBlank({var})", False)
    regex = f"REGEX(STR({var}), {Literal(text).n3()}, {Literal(flag).n3()})"
    return _Cond(
        None, f"({stringish} && {regex})", f"(isBlank({var}) || ({stringish} && !{regex}))", False
    )


def _languages_cond(languages: Sequence[Node], var: str, where: str) -> _Cond:
    needed = []
    for language in languages:
        if not isinstance(language, Literal) or not isinstance(language.value, str):
            raise ContentError(f"{where}: the members of sh:languageIn must be strings")
        if language.value:  # an empty range matches no tag, for pySHACL as here
            needed.append(str(language.value).lower())
    tagged = f'isLiteral({var}) && LANG({var}) != ""'
    if "*" in needed:
        return _Cond.of(f"({tagged})")
    if not needed:
        return _Cond.of("false")
    listed = ", ".join(Literal(n).n3() for n in needed)
    return _Cond.of(
        f"({tagged} && (LCASE(LANG({var})) IN ({listed}) || "
        f'LCASE(STRBEFORE(LANG({var}), "-")) IN ({listed})))'
    )


def _range_cond(operator: str, bound: Node, var: str, where: str) -> _Cond:
    """Value ranges: SPARQL clears plain numbers and dates; pySHACL decides the rest (rdflib
    orders values of different types in its own way)."""
    if not isinstance(bound, Literal):
        raise ContentError(f"{where}: a value range bound must be a literal")
    limit = bound.n3()
    other = f"(isIRI({var}) || isBlank({var}))"
    datatype = str(bound.datatype or XSD.string)
    if datatype in _NUMERIC and bound.value is not None and not bound.ill_typed:
        number = f"(isNumeric({var}) && {var} = {var})"
        return _Cond(
            None,
            f"({number} && {var} {operator} {limit})",
            f"({other} || ({number} && !({var} {operator} {limit})))",
            False,
        )
    if datatype == str(XSD.date) and bound.value is not None:
        plain = f"(DATATYPE({var}) = <{XSD.date}> && REGEX(STR({var}), {_PLAIN_DATE}))"
        return _Cond(None, f"({plain} && {var} {operator} {limit})", other, False)
    return _Cond(None, "false", other, False)
