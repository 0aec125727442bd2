"""Literals as the store keeps them and as rdflib (and so pySHACL) keeps them: the census of the
sources' typed literals gives every result its written form back.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

# ---------------------------------------------------------------- literals: store vs rdflib

PARALLEL_BYTES = 16 * 1024 * 1024
_INTEGER = str(XSD.integer)
# The store keeps these datatypes under another one (the value is kept, the type is not).
_STORED_AS = {
    **{
        str(XSD[name]): _INTEGER
        for name in [
            "int",
            "long",
            "short",
            "byte",
            "nonNegativeInteger",
            "positiveInteger",
            "nonPositiveInteger",
            "negativeInteger",
            "unsignedInt",
            "unsignedLong",
            "unsignedShort",
            "unsignedByte",
        ]
    },
    str(XSD.dateTimeStamp): str(XSD.dateTime),
}
# Datatypes whose lexical form rdflib rewrites into the canonical one, as the store does: for
# them the store's literal is the one rdflib holds (unless another datatype is stored as it).
_CANONICAL_IN_RDFLIB = frozenset(
    str(XSD[name])
    for name in ["string", "boolean", "integer", "double", "float", "date", "dateTime", "time"]
)
# Literals the store and rdflib compare the same way (plain strings and booleans).
_SAMETERM_SAFE = frozenset({str(XSD.string), str(XSD.boolean)})


def _literal_key(literal: Literal) -> tuple[str, str, object]:
    """What the store keeps of a typed literal: its datatype family and value (or text)."""
    datatype = str(literal.datatype or XSD.string)
    stored = _STORED_AS.get(datatype, datatype)
    value = literal.value
    if value is None or literal.ill_typed:
        return (stored, "text", str(literal))
    return (stored, "value", value)


class _Terms:
    """The rdflib terms for the store's, exactly as rdflib reads the source files.

    The typed literals of the sources are read once (graph.read_ntriples, ≈ 2.5 s at scale
    1.0): that tells which stored datatypes are certain (nothing else is stored as them), and
    gives the written form of the others ("1.50"^^xsd:decimal, "5"^^xsd:int…).
    """

    def __init__(self, sources: Sequence[Path]) -> None:
        from coopdec_kg.content.graph import read_ntriples

        self.forms: dict[tuple[str, str, object], set[Literal]] = defaultdict(set)
        self.files: dict[Path, set[tuple[str, str, object]]] = {}
        remapped: set[str] = set()
        for path in sources:
            keys = self.files[path] = set()
            for lexical, datatype in read_ntriples(path).typed_literals:
                literal = Literal(lexical, datatype=URIRef(datatype))
                key = _literal_key(literal)
                self.forms[key].add(literal)
                keys.add(key)
                if datatype in _STORED_AS:
                    remapped.add(_STORED_AS[datatype])
        self.uncertain = frozenset(remapped)
        self.ambiguous: set[tuple[Node, Literal]] = set()
        self.resolved: dict[tuple[Node, Literal], Literal] = {}

    def datatype_certain(self, datatype: str) -> bool:
        """Whether a stored literal of this datatype was written with this datatype."""
        return datatype not in self.uncertain

    def exact(self, literal: Literal) -> bool:
        datatype = str(literal.datatype or XSD.string)
        return datatype in _CANONICAL_IN_RDFLIB and self.datatype_certain(datatype)

    def need(self, value: Node, focus: Node) -> None:
        """Note a literal whose written form may have to be found beside its focus node."""
        if not isinstance(value, Literal) or not value.datatype or self.exact(value):
            return
        if len(self.forms.get(_literal_key(value), ())) > 1:
            self.ambiguous.add((focus, value))

    def resolve(self) -> None:
        """Find, in the files, which written form each ambiguous literal has on its node."""
        if not self.ambiguous:
            return
        from coopdec_kg.content.graph import read_ntriples

        wanted: dict[str, list[tuple[Node, Literal]]] = defaultdict(list)
        for focus, value in self.ambiguous:
            if isinstance(focus, URIRef):
                wanted[f"<{focus}>"].append((focus, value))
        keys = {_literal_key(value) for _, value in self.ambiguous}
        for path, held in self.files.items():
            if not keys & held:
                continue
            text = b"\n" + read_ntriples(path).text
            for subject, pairs in wanted.items():
                marker = b"\n" + subject.encode("utf-8") + b" "
                position = text.find(marker)
                while position >= 0:
                    end = text.find(b"\n", position + 1)
                    line = text[position + 1 : end if end >= 0 else len(text)].decode("utf-8")
                    written = line.split("> ", 2)[-1].removesuffix(" .")
                    for focus, value in pairs:
                        for form in self.forms[_literal_key(value)]:
                            if written == _nt_literal(form):
                                self.resolved.setdefault((focus, value), form)
                    position = text.find(marker, position + 1)
        self.ambiguous.clear()

    def original(self, value: Node, focus: Node) -> Node:
        if not isinstance(value, Literal) or not value.datatype or self.exact(value):
            return value
        found = self.resolved.get((focus, value))
        if found is not None:
            return found
        forms = self.forms.get(_literal_key(value))
        if not forms:
            return value  # computed by a query, not read from the sources
        return value if value in forms else min(forms, key=str)


@contextmanager
def _quiet_literals() -> Iterator[None]:
    """rdflib logs a warning with a traceback for each ill-typed literal: keep stderr clean."""
    logger = logging.getLogger("rdflib.term")
    previous, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = previous


def _nt_literal(literal: Literal) -> str:
    from coopdec_kg.content.graph import NT_ESCAPES

    text = "".join(NT_ESCAPES.get(c, c) for c in str(literal))
    return f'"{text}"^^<{literal.datatype}>'
