"""RDF terms as the engines give them, read without making rdflib terms.

The store answers with pyoxigraph's terms; the rdflib engine and remote endpoints with rdflib's.
The result formats (CSV, TSV, SPARQL JSON) are written, and answers ordered, from either kind
directly: making an rdflib term of every value (rdflib parses each literal's value) took 0.5 s
of an answer of 75 000 rows, and importing rdflib a third of a small query's run.

The text is always rdflib's, so that every engine writes the same bytes: rdflib writes a typed
literal's value in its own canonical form ("8000.00"^^xsd:decimal reads "8000.00", where the
store reads "8000"; "1000"^^xsd:double reads "1000.0"). A lexical form rdflib keeps as it is
(checked by a pattern per datatype) is used as it is; any other is given to rdflib, imported
then, for that literal only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyoxigraph

if TYPE_CHECKING:
    from rdflib.term import Identifier

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD_STRING = XSD + "string"
RDF_LANG_STRING = RDF + "langString"

# A term as an engine gives it: pyoxigraph's or rdflib's (None where a variable is unbound).
Term = Any

_INTEGER = re.compile(r"0|-?[1-9][0-9]*")
# The datatypes whose lexical form rdflib rewrites when it makes a literal (rdflib.term's
# XSDToPython, plus the two whose whitespace it normalises), with the forms it keeps as they
# are; None: no form is known to be kept, rdflib is asked.
_KEPT: dict[str, re.Pattern[str] | None] = {
    **{
        XSD + local: _INTEGER
        for local in (
            "integer",
            "nonPositiveInteger",
            "long",
            "nonNegativeInteger",
            "negativeInteger",
            "int",
            "unsignedLong",
            "positiveInteger",
            "short",
            "unsignedInt",
            "byte",
            "unsignedShort",
            "unsignedByte",
        )
    },
    XSD + "decimal": re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?"),
    XSD + "boolean": re.compile(r"true|false"),
    XSD + "date": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
    XSD + "normalizedString": re.compile(r"[^\t\n\r]*"),
    XSD + "token": re.compile(r"(?:[^\t\n\r ]+(?: [^\t\n\r ]+)*)?"),
    **{
        XSD + local: None
        for local in (
            "time",
            "dateTime",
            "duration",
            "dayTimeDuration",
            "yearMonthDuration",
            "hexBinary",
            "base64Binary",
            "float",
            "double",
        )
    },
    RDF + "XMLLiteral": None,
    RDF + "HTML": None,
}

# How the order reads the value of the numeric forms it is sure of (others: rdflib decides).
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NUMBER_READERS: dict[str, tuple[re.Pattern[str], Callable[[str], object]]] = {
    XSD + "integer": (re.compile(r"[+-]?[0-9]+"), int),
    XSD + "decimal": (re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"), Decimal),
    XSD + "double": (_FLOAT, float),
    XSD + "float": (_FLOAT, float),
}


def kind(term: Term) -> str:
    """ "uri", "bnode" or "literal", as SPARQL JSON names them."""
    if isinstance(term, pyoxigraph.NamedNode):
        return "uri"
    if isinstance(term, pyoxigraph.Literal):
        return "literal"
    if isinstance(term, pyoxigraph.BlankNode):
        return "bnode"
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return "uri"
    if isinstance(term, Literal):
        return "literal"
    if isinstance(term, BNode):
        return "bnode"
    raise TypeError(f"not an RDF term: {term!r}")


def text(term: Term) -> str:
    """The IRI, the blank node's label or the literal's lexical form (rdflib's)."""
    if isinstance(term, pyoxigraph.Literal):
        language = term.language
        return term.value if language else lexical(term.value, term.datatype.value)
    if isinstance(term, pyoxigraph.NamedNode | pyoxigraph.BlankNode):
        return term.value
    return str(term)


def lexical(value: str, datatype: str) -> str:
    """The lexical form rdflib gives a literal of this value and datatype."""
    if datatype not in _KEPT:
        return value
    kept = _KEPT[datatype]
    if kept is not None and kept.fullmatch(value):
        return value
    return _rdflib_lexical(value, datatype)


_rewritten: dict[tuple[str, str], str] = {}


def _rdflib_lexical(value: str, datatype: str) -> str:
    key = (value, datatype)
    found = _rewritten.get(key)
    if found is None:
        from rdflib import Literal, URIRef

        from coopdec_kg.content.graph import quiet_literal_warnings

        with quiet_literal_warnings():  # an ill-typed literal is kept as it is, without a trace
            found = _rewritten[key] = str(Literal(value, datatype=URIRef(datatype)))
    return found


def language(term: Term) -> str | None:
    """A literal's language tag, else None."""
    found = term.language
    return found or None


def datatype(term: Term) -> str | None:
    """A literal's datatype IRI; None for a plain or language-tagged string (as rdflib reads
    "x", which the store types xsd:string)."""
    if isinstance(term, pyoxigraph.Literal):
        found = term.datatype.value
        return None if found in (XSD_STRING, RDF_LANG_STRING) else found
    found = term.datatype
    return None if found is None else str(found)


def number(term: Term) -> object | None:
    """The value of a numeric literal of a form this module reads as rdflib does, else None."""
    if not isinstance(term, pyoxigraph.Literal):
        return None
    reader = _NUMBER_READERS.get(term.datatype.value)
    if reader is None or not reader[0].fullmatch(term.value):
        return None
    return reader[1](term.value)


def is_plain_string(term: Term) -> bool:
    """A literal without language whose datatype is xsd:string (or none)."""
    if isinstance(term, pyoxigraph.Literal):
        return not term.language and term.datatype.value == XSD_STRING
    from rdflib import Literal

    return (
        isinstance(term, Literal) and term.language is None and datatype(term) in (None, XSD_STRING)
    )


def converter(
    known: dict[object, Identifier | None] | None = None,
) -> Callable[[Term], Identifier | None]:
    """`to_rdflib` converting each distinct term once (`known`: terms converted already, which
    several answers about the same nodes may share): building an rdflib Literal checks its
    language tag and parses its value, which dominated answers of 75 000 rows."""
    cache: dict[object, Identifier | None] = {} if known is None else known

    def convert(term: Term) -> Identifier | None:
        try:
            return cache[term]
        except KeyError:
            found = cache[term] = to_rdflib(term)
            return found

    return convert


def to_rdflib(term: Term) -> Identifier | None:
    """The rdflib term for an engine's term (rdflib's are returned as they are).

    A plain string comes back plain, as rdflib reads "x" (the store types it xsd:string).
    """
    from rdflib import BNode, Literal, URIRef

    if term is None:
        return None
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    if isinstance(term, URIRef | BNode | Literal):
        return term
    raise TypeError(f"unexpected term {term!r}")
