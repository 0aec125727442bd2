"""Your own question: an ad-hoc SPARQL query, read-only, the project's prefixes declared for it.

A query typed on the command line or read from a file is checked before any engine sees it. It
must be a SPARQL 1.1 query (SELECT, ASK, CONSTRUCT or DESCRIBE): an update (INSERT, DELETE,
LOAD, CLEAR, DROP …) is refused, for the graph is read-only here. It may not reach beyond the
graph either: SERVICE sends a request to another server (rdflib and pyoxigraph both federate,
rdflib without a timeout) and FROM / FROM NAMED make rdflib fetch the IRI, a local file
included (the research notes, security §1.1-1.2), so both are refused. The project's prefixes
(cdo:, cdr:, authority:, skos: …) are declared for it, unless it declares them itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coopdec_kg.content.namespaces import prefixes
from coopdec_kg.engines.sparql_text import keyword, significant, tokenize
from coopdec_kg.errors import ContentError, QueryError

# The forms of query, by the name rdflib's algebra gives them.
FORMS = {
    "SelectQuery": "select",
    "AskQuery": "ask",
    "ConstructQuery": "construct",
    "DescribeQuery": "describe",
}


@dataclass(frozen=True)
class AdhocQuery:
    """A checked ad-hoc query: the text the engines run (the project's prefixes first) and its
    form (select, ask, construct or describe)."""

    text: str
    form: str


def read_query(text: str, where: str = "the query") -> AdhocQuery:
    """The query checked as the module docstring says; QueryError (one line) otherwise."""
    from pyparsing import ParseException
    from rdflib.plugins.sparql import prepareQuery

    if not text.strip():
        raise QueryError(f"{where} is empty")
    prologue = _prologue(text)
    full = f"{prologue}\n{text}" if prologue else text
    shift = 1 if prologue else 0
    try:
        algebra = prepareQuery(full).algebra
    except ParseException as error:
        if _is_update(full):
            raise QueryError(
                f"{where} is an update (INSERT, DELETE, LOAD, CLEAR …): refused, the graph is "
                "read-only here"
            ) from None
        line = max(1, error.lineno - shift)
        raise QueryError(f"{where}: SPARQL syntax error at line {line}: {error.msg}") from None
    except Exception as error:  # rdflib reports undeclared prefixes and the like as plain errors
        raise QueryError(f"{where}: invalid SPARQL: {' '.join(str(error).split())}") from None
    form = FORMS.get(str(algebra.name))
    if form is None:  # pragma: no cover - rdflib parses no other form of query
        raise QueryError(f"{where}: not a SELECT, ASK, CONSTRUCT or DESCRIBE query")
    if algebra.datasetClause:
        raise QueryError(
            f"{where} uses FROM or FROM NAMED: refused (it would make the engine read another "
            "graph, a file or a web page); the query runs on the project's graph"
        )
    if "ServiceGraphPattern" in _node_names(algebra):
        raise QueryError(
            f"{where} uses SERVICE: refused (it would send a request to another server)"
        )
    return AdhocQuery(full, form)


def _prologue(text: str) -> str:
    """PREFIX declarations, on one line, for the project's prefixes the text does not declare."""
    try:
        tokens = tokenize(text, "the query")
    except ContentError:
        declared: set[str] = set()  # rdflib will say where the text cannot be read
    else:
        sig = significant(tokens)
        declared = {
            tokens[sig[i + 1]].text.rstrip(":")
            for i in range(len(sig) - 1)
            if keyword(tokens[sig[i]]) == "PREFIX" and tokens[sig[i + 1]].kind == "pname"
        }
    return " ".join(
        f"PREFIX {name}: <{namespace}>"
        for name, namespace in prefixes().items()
        if name not in declared
    )


def _is_update(text: str) -> bool:
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        parseUpdate(text)
    except Exception:
        return False
    return True


def _walk(node: object) -> list[Any]:
    found: list[Any] = []
    stack = [node]
    while stack:
        current = stack.pop()
        found.append(current)
        if isinstance(current, dict):  # rdflib's CompValue is a dict of its parts
            stack.extend(current.values())
        elif isinstance(current, (list, tuple, set, frozenset)):
            stack.extend(current)
    return found


def _node_names(algebra: object) -> set[str]:
    return {str(getattr(n, "name", "")) for n in _walk(algebra) if isinstance(n, dict)}
