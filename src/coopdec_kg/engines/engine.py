"""One interface over the three engines that answer SPARQL: rdflib on the parsed graph (the
reference), the persistent pyoxigraph store, and a remote SPARQL 1.1 endpoint.

Commands ask their questions through it whatever engine the user chose: a named query (its
parameters bound as RDF terms), an ad-hoc read-only query (coopdec_kg.engines.adhoc), and the
small lookups a table for people needs (the names of the resources it shows). Every answer is
made of rdflib terms: a `QueryResult` for SELECT, a boolean for ASK, a graph for CONSTRUCT and
DESCRIBE.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, TypeAlias

from coopdec_kg.engines.adhoc import AdhocQuery
from coopdec_kg.engines.results import QueryResult, Row

if TYPE_CHECKING:
    import pyoxigraph
    from rdflib import Graph

    from coopdec_kg.engines.queries import NamedQuery

# What an ad-hoc query answers: rows (SELECT), a boolean (ASK) or triples (CONSTRUCT, DESCRIBE).
Answer: TypeAlias = "QueryResult | bool | Graph"  # (text: no rdflib import to run a query)


class Engine(Protocol):
    """What every engine answers."""

    def named(self, query: NamedQuery, values: Mapping[str, str]) -> QueryResult:
        """A named query, the values bound as RDF terms of the declared types."""
        ...

    def select(self, text: str) -> QueryResult: ...

    def ask(self, text: str) -> bool: ...

    def construct(self, text: str) -> Graph:
        """The triples of a CONSTRUCT or DESCRIBE query."""
        ...


def answer(engine: Engine, query: AdhocQuery) -> Answer:
    """An ad-hoc query's answer, in the shape its form gives."""
    if query.form == "select":
        return engine.select(query.text)
    if query.form == "ask":
        return engine.ask(query.text)
    return engine.construct(query.text)


class OnGraph:
    """rdflib on a graph in memory: the reference engine."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def named(self, query: NamedQuery, values: Mapping[str, str]) -> QueryResult:
        from coopdec_kg.engines.queries import run

        return run(self.graph, query, values)

    def select(self, text: str) -> QueryResult:
        result = self.graph.query(text)
        columns = tuple(str(variable) for variable in result.vars or ())
        rows: tuple[Row, ...] = tuple(tuple(row) for row in result)  # type: ignore[arg-type]
        return QueryResult(columns, rows)

    def ask(self, text: str) -> bool:
        return bool(self.graph.query(text).askAnswer)

    def construct(self, text: str) -> Graph:
        found = self.graph.query(text).graph
        from coopdec_kg.content.graph import new_graph

        graph = new_graph()
        if found is not None:
            for triple in found:
                graph.add(triple)
        return graph


class OnStore:
    """The persistent pyoxigraph store (coopdec_kg.engines.store)."""

    def __init__(self, store: pyoxigraph.Store) -> None:
        self.store = store

    def named(self, query: NamedQuery, values: Mapping[str, str]) -> QueryResult:
        from coopdec_kg.engines.queries import run_on_store

        return run_on_store(self.store, query, values)

    def select(self, text: str) -> QueryResult:
        """The answer in the store's terms: rdflib's are made only if asked for (`rows`)."""
        from coopdec_kg.engines.store import solutions

        columns, rows = solutions(self.store, text)
        return QueryResult(columns, tuple(rows))

    def ask(self, text: str) -> bool:
        from coopdec_kg.engines.store import ask

        return ask(self.store, text)

    def construct(self, text: str) -> Graph:
        from coopdec_kg.content.graph import new_graph
        from coopdec_kg.engines.store import construct

        graph = new_graph()
        for triple in construct(self.store, text):
            graph.add(triple)  # type: ignore[arg-type]
        return graph


class OnEndpoint:
    """A remote SPARQL 1.1 endpoint (coopdec_kg.engines.remote): every exchange within
    `timeout` seconds, every answer under `max_bytes`."""

    def __init__(
        self, url: str, timeout: float | None = None, max_bytes: int | None = None
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.max_bytes = max_bytes

    def named(self, query: NamedQuery, values: Mapping[str, str]) -> QueryResult:
        from coopdec_kg.engines.queries import run_remote

        return run_remote(self.url, query, values, self.timeout, self.max_bytes)

    def select(self, text: str) -> QueryResult:
        from coopdec_kg.engines.remote import select

        columns, rows = select(self.url, text, self.timeout, self.max_bytes)
        return QueryResult(tuple(columns), rows)

    def ask(self, text: str) -> bool:
        from coopdec_kg.engines.remote import ask

        return ask(self.url, text, self.timeout, self.max_bytes)

    def construct(self, text: str) -> Graph:
        from coopdec_kg.engines.remote import construct

        return construct(self.url, text, self.timeout, self.max_bytes)
