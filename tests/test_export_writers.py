"""The Turtle and N-Triples writers on random graphs: isomorphic round trip, byte-stable output,
accepted by a strict parser (Oxigraph) too."""

from __future__ import annotations

import itertools
import random

import pyoxigraph
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, XSD

from coopdec_kg.content.turtle import INDENT, MAX_NESTING, to_ntriples, to_trig, to_turtle

# rdflib warns about the ill-typed literals the strategies make on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:(Serializing|Parsing) weird:UserWarning")

NAMESPACES = {
    "ex": "https://example.org/ns#",
    "authority": "https://w3id.org/coopdec-kg/id/authority/",
    "cdr": "https://w3id.org/coopdec-kg/id/",
}
LOCAL_NAMES = ["a", "b", "ca-sicoval", "l1-2", "x.y", "trailing.", "-dash", "1st", "é", "a%20b", ""]
IRIS = [URIRef(ns + local) for ns in NAMESPACES.values() for local in LOCAL_NAMES] + [
    URIRef("urn:isbn:0451450523"),
    URIRef("https://w3id.org/coopdec-kg/id/other/kind"),
    URIRef("http://example.com/a(b)"),
]
PREDICATES = [RDF.type, RDF.first, RDF.rest, *IRIS[:6]]
DATATYPES = [XSD.integer, XSD.decimal, XSD.double, XSD.boolean, XSD.date, XSD.gYear, IRIS[0]]
LEXICAL = ["0", "-12", "+3", "01", "1.50", ".5", "1e5", "-2.5E-3", "true", "false", "2006-02-14",
           "2006", "abc", "", " 7 "]  # fmt: skip
# Any Unicode scalar value: rdflib cannot encode lone surrogates, which are not characters anyway.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)

iris = st.sampled_from(IRIS)
blank_labels = st.integers(min_value=0, max_value=5).map(lambda n: BNode(f"b{n}"))
literals = st.one_of(
    TEXT.map(Literal),
    st.tuples(TEXT, st.sampled_from(["fr", "en", "fr-FR", "en-GB"])).map(
        lambda t: Literal(t[0], lang=t[1])
    ),
    st.tuples(st.sampled_from(LEXICAL), st.sampled_from(DATATYPES)).map(
        lambda t: Literal(t[0], datatype=t[1])
    ),
)
triples = st.tuples(
    st.one_of(iris, blank_labels),
    st.sampled_from(PREDICATES),
    st.one_of(iris, blank_labels, literals),
)


@st.composite
def graphs(draw: st.DrawFn) -> Graph:
    graph = Graph()
    for triple in draw(st.lists(triples, max_size=25)):
        graph.add(triple)
    # Some well-formed RDF lists, which the Turtle writer turns into ( … ).
    for items in draw(st.lists(st.lists(st.one_of(iris, literals), max_size=4), max_size=2)):
        head: URIRef | BNode = RDF.nil
        for item in reversed(items):
            cell = BNode()
            graph.add((cell, RDF.first, item))
            graph.add((cell, RDF.rest, head))
            head = cell
        graph.add((draw(iris), draw(st.sampled_from(PREDICATES[3:])), head))
    return graph


def relabelled(graph: Graph, seed: int) -> Graph:
    """The same graph with other blank-node labels and another insertion order."""
    rename: dict[BNode, BNode] = {}

    def fresh(node: object) -> object:
        if isinstance(node, BNode):
            return rename.setdefault(node, BNode())
        return node

    items = list(graph)
    random.Random(seed).shuffle(items)
    copy = Graph()
    for s, p, o in items:
        copy.add((fresh(s), p, fresh(o)))  # type: ignore[arg-type]
    return copy


@settings(max_examples=150, deadline=None)
@given(graphs(), st.integers())
def test_turtle_round_trips_and_is_byte_stable(graph: Graph, seed: int) -> None:
    payload = to_turtle(graph, NAMESPACES)
    parsed = Graph().parse(data=payload.decode("utf-8"), format="turtle")
    assert isomorphic(parsed, graph), payload.decode("utf-8")
    assert to_turtle(relabelled(graph, seed), NAMESPACES) == payload
    assert to_turtle(parsed, NAMESPACES) == payload
    assert len(list(pyoxigraph.parse(payload, format=pyoxigraph.RdfFormat.TURTLE))) == len(graph)


@settings(max_examples=150, deadline=None)
@given(graphs(), st.integers())
def test_ntriples_round_trips_and_is_byte_stable(graph: Graph, seed: int) -> None:
    payload = to_ntriples(graph)
    parsed = Graph().parse(data=payload.decode("utf-8"), format="nt")
    assert isomorphic(parsed, graph), payload.decode("utf-8")
    assert to_ntriples(relabelled(graph, seed)) == payload
    assert len(list(pyoxigraph.parse(payload, format=pyoxigraph.RdfFormat.N_TRIPLES))) == len(graph)


def _chain(length: int, cyclic: bool = False) -> Graph:
    graph = Graph()
    nodes = [BNode() for _ in range(length)]
    graph.add((URIRef("https://example.org/ns#root"), RDF.value, nodes[0]))
    for here, there in itertools.pairwise(nodes):
        graph.add((here, RDF.value, there))
    if cyclic:
        graph.remove((URIRef("https://example.org/ns#root"), RDF.value, nodes[0]))
        graph.add((nodes[-1], RDF.value, nodes[0]))
    return graph


def test_deep_nesting_is_bounded_and_long_lists_round_trip() -> None:
    deep = _chain(120)
    long_list = Graph()
    head: URIRef | BNode = RDF.nil
    for item in reversed(range(120)):
        cell = BNode()
        long_list.add((cell, RDF.first, Literal(item)))
        long_list.add((cell, RDF.rest, head))
        head = cell
    long_list.add((URIRef("https://example.org/ns#l"), RDF.value, head))
    for graph in (deep, _chain(50, cyclic=True), long_list):
        text = to_turtle(graph, NAMESPACES).decode()
        assert isomorphic(Graph().parse(data=text, format="turtle"), graph)
        deepest = max(len(line) - len(line.lstrip(" ")) for line in text.splitlines())
        assert deepest <= len(INDENT) * (MAX_NESTING + 2)
    assert "( 0 1 2 " in to_turtle(long_list, NAMESPACES).decode()


def test_a_short_list_is_written_as_a_collection() -> None:
    graph = Graph()
    head: URIRef | BNode = RDF.nil
    for item in reversed([Literal(1), Literal("deux", lang="fr")]):
        cell = BNode()
        graph.add((cell, RDF.first, item))
        graph.add((cell, RDF.rest, head))
        head = cell
    graph.add((URIRef("https://example.org/ns#s"), URIRef("https://example.org/ns#p"), head))
    assert to_turtle(graph, NAMESPACES).decode().endswith('ex:s\n    ex:p ( 1 "deux"@fr ) .\n')


def test_trig_round_trips_each_named_graph() -> None:
    from rdflib import Dataset

    first, second = Graph(), Graph()
    shared = BNode("same-label")
    first.add((URIRef("https://example.org/ns#a"), RDF.value, shared))
    second.add((URIRef("https://example.org/ns#a"), RDF.value, shared))
    names = [URIRef("https://example.org/g/one"), URIRef("https://example.org/g/two")]
    payload = to_trig(dict(zip(names, (first, second), strict=True)), NAMESPACES).decode()
    dataset = Dataset()
    dataset.parse(data=payload, format="trig")
    for name, graph in zip(names, (first, second), strict=True):
        assert isomorphic(dataset.graph(name), graph)
    subjects = {o for _, _, o, _ in dataset.quads((None, RDF.value, None, None))}
    assert len(subjects) == 2, "a blank node must not be shared between named graphs"
