"""ORDER BY moved to Python for the store: the same rows in the same order as rdflib gives."""

from __future__ import annotations

from decimal import Decimal

import pyoxigraph
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.term import Identifier

from coopdec_kg.engines.ordering import LocalOrder, SortKey, plan
from coopdec_kg.engines.store import solutions
from coopdec_kg.engines.terms import to_rdflib

EX = Namespace("https://example.org/")
XSD_ = Namespace("http://www.w3.org/2001/XMLSchema#")  # (rdflib's XSD warns when pytest probes it)
PREFIX = "PREFIX ex: <https://example.org/>\n"


def rdflib_answer(graph: Graph, query: str) -> tuple[tuple[str, ...], list[tuple[object, ...]]]:
    result = graph.query(query)
    columns = tuple(str(v) for v in result.vars or ())
    return columns, [tuple(row) for row in result]  # type: ignore[arg-type]


def moved(graph: Graph, query: str) -> list[tuple[object, ...]]:
    """The query run unordered on the graph in a pyoxigraph store, then ordered by the plan
    (as rdflib terms, compared by value: the store writes some numbers in another form)."""
    local = plan(query)
    assert local is not None
    store = pyoxigraph.Store()
    store.load(graph.serialize(format="nt", encoding="utf-8"), pyoxigraph.RdfFormat.N_TRIPLES)
    rows = local.apply(solutions(store, local.query))[1]
    return [tuple(value(to_rdflib(term)) for term in row) for row in rows]


def value(term: object) -> object:
    """A term as its kind and value: the same for "1.50" and "1.5"^^xsd:decimal."""
    if isinstance(term, Literal):  # the store types "x" xsd:string
        datatype = None if term.datatype == XSD_.string else term.datatype
        return (datatype, term.language, term.toPython())
    if isinstance(term, BNode):  # the store labels it anew (the examples hold one blank node)
        return BNode
    return term


def expected(graph: Graph, query: str) -> list[tuple[object, ...]]:
    return [tuple(value(term) for term in row) for row in rdflib_answer(graph, query)[1]]


numbers = st.one_of(
    st.integers(-1000, 1000).map(Literal),
    st.decimals(-100, 100, places=2, allow_nan=False).map(lambda d: Literal(Decimal(d))),
    st.floats(-100, 100, allow_nan=False).map(lambda f: Literal(f, datatype=XSD_.double)),
)
strings = st.one_of(
    st.text("abAB é", max_size=3).map(Literal),
    st.text("ab", max_size=2).map(lambda s: Literal(s, datatype=XSD_.string)),
)
others = st.one_of(
    st.text("ab", max_size=2).map(lambda s: Literal(s, lang="fr")),
    st.text("ab", max_size=2).map(lambda s: URIRef(f"https://example.org/{s}")),
    st.booleans().map(Literal),
    st.just(BNode("b1")),
    st.none(),
)


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.lists(numbers, max_size=12), st.lists(strings, max_size=12),
                 st.lists(st.one_of(numbers, strings, others), max_size=12)))  # fmt: skip
def test_rows_are_ordered_as_rdflib_orders_them(values: list[Identifier | None]) -> None:
    graph = Graph()
    for index, value in enumerate(values):
        graph.add((EX[f"s{index:02d}"], EX.kind, EX.thing))
        if value is not None:
            graph.add((EX[f"s{index:02d}"], EX.value, value))
    for order in ("?o ?s", "DESC(?o) ?s", "DESC(?o) DESC(?s)"):
        query = (
            PREFIX + "SELECT ?s ?o WHERE { ?s ex:kind ex:thing OPTIONAL { ?s ex:value ?o } } "
            f"ORDER BY {order}"
        )
        assert moved(graph, query) == expected(graph, query), order


def test_expression_keys_are_hidden_columns_dropped_after_sorting() -> None:
    graph = Graph()
    for name, low, high in [("a", 5, None), ("b", 1, 9), ("c", None, 7)]:
        if low is not None:
            graph.add((EX[name], EX.low, Literal(low)))
        if high is not None:
            graph.add((EX[name], EX.high, Literal(high)))
    query = PREFIX + (
        "SELECT ?s ?low WHERE { ?s ?p ?any OPTIONAL { ?s ex:low ?low }"
        " OPTIONAL { ?s ex:high ?high } } ORDER BY DESC(COALESCE(?high, ?low)) ?s"
    )
    local = plan(query)
    assert local is not None and local.hidden == 1
    assert "(COALESCE(?high, ?low) AS ?__order1)" in local.query
    assert "ORDER BY" not in local.query
    assert moved(graph, query) == expected(graph, query)
    assert [row[0] for row in moved(graph, query)] == [EX.b, EX.b, EX.c, EX.a]


def test_limit_and_offset_are_applied_after_the_sort() -> None:
    graph = Graph()
    for index in range(10):
        graph.add((EX[f"s{index}"], EX.value, Literal(index)))
    query = PREFIX + "SELECT ?s WHERE { ?s ex:value ?v } ORDER BY DESC(?v) LIMIT 3 OFFSET 2"
    local = plan(query)
    assert local is not None and (local.offset, local.limit) == (2, 3)
    assert moved(graph, query) == [(EX.s7,), (EX.s6,), (EX.s5,)]


def test_a_hidden_column_never_takes_a_name_the_query_uses() -> None:
    local = plan("SELECT ?__order1 WHERE { ?__order1 ?p ?o } ORDER BY STR(?o)")
    assert local is not None
    assert "AS ?__order1_)" in local.query


def test_orders_that_cannot_move_are_left_to_the_engine() -> None:
    unmovable = [
        "SELECT ?s WHERE { ?s ?p ?o }",  # nothing to order
        "SELECT * WHERE { ?s ?p ?o } ORDER BY ?s",  # the projection is not spelled out
        "SELECT DISTINCT ?s WHERE { ?s ?p ?o } ORDER BY ?o",  # a hidden ?o would undo DISTINCT
        "SELECT ?s (COUNT(?o) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s ORDER BY STR(?s)",
        "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s VALUES ?s { <https://example.org/a> }",
        "ASK { ?s ?p ?o }",
    ]
    for query in unmovable:
        assert plan(query) is None, query


def test_sub_select_orders_stay_where_they_are() -> None:
    query = "SELECT ?s WHERE { { SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?o LIMIT 1 } } ORDER BY ?s"
    local = plan(query)
    assert local is not None
    assert "ORDER BY ?o LIMIT 1" in local.query
    assert local.keys == (SortKey("s", False),)


def test_apply_keeps_the_engine_order_of_ties() -> None:
    integer = pyoxigraph.NamedNode(str(XSD_.integer))
    rows: list[tuple[object, ...]] = [
        (pyoxigraph.NamedNode(EX.b), pyoxigraph.Literal("1", datatype=integer)),
        (pyoxigraph.NamedNode(EX.a), pyoxigraph.Literal("1", datatype=integer)),
        (pyoxigraph.NamedNode(EX.c), pyoxigraph.Literal("0", datatype=integer)),
    ]
    local = LocalOrder("", (SortKey("v", False),), 0, 0, None)
    assert local.apply((("s", "v"), rows))[1] == [rows[2], rows[0], rows[1]]
