"""publish/resources: a resource's RDF description and its view for people, on small stores.

The graph here is made up for the test (IRIs under urn:test:), so that each rule is seen alone:
the description follows blank nodes and keeps the triples pointing at the resource; the view
names everything by its label in the reader's language, falling back to another language, then
to a CURIE, and caps what points at a resource.
"""

from __future__ import annotations

import pyoxigraph
import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from coopdec_kg.publish import resources

THING = "urn:test:thing"
PREFIXES = f"""
@prefix skos: <{SKOS}> .
@prefix rdfs: <{RDFS}> .
@prefix t: <urn:test:> .
"""


def store_of(turtle: str) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load((PREFIXES + turtle).encode(), format=pyoxigraph.RdfFormat.TURTLE)
    return store


GRAPH = """
t:thing a t:Kind ; skos:prefLabel "la chose"@fr , "the thing"@en ; rdfs:label "chose"@fr ;
    t:near t:other ; t:size 3 ;
    t:shape [ t:side [ t:length 2 ] ] .
t:other skos:prefLabel "l'autre"@fr .
t:Kind rdfs:label "sorte"@fr , "kind"@en .
t:near rdfs:label "près de"@fr , "near"@en .
t:pointer t:points t:thing .
"""


def test_a_resource_exists_when_named_as_subject_or_object() -> None:
    store = store_of(GRAPH)
    assert resources.exists(store, THING)
    assert resources.exists(store, "urn:test:Kind"), "only ever an object"
    assert not resources.exists(store, "urn:test:nothing")


def test_the_description_follows_blank_nodes_and_keeps_what_points_at_it() -> None:
    description = resources.description(store_of(GRAPH), THING)
    thing = URIRef(THING)
    assert (thing, RDF.type, URIRef("urn:test:Kind")) in description
    assert (URIRef("urn:test:pointer"), URIRef("urn:test:points"), thing) in description
    (shape,) = description.objects(thing, URIRef("urn:test:shape"))
    (side,) = description.objects(shape, URIRef("urn:test:side"))
    assert isinstance(side, BNode)
    assert (side, URIRef("urn:test:length"), Literal(2)) in description, "two hops down"
    assert not list(description.triples((URIRef("urn:test:other"), None, None))), "not its CBD"


@pytest.mark.parametrize(
    ("lang", "title", "kind", "near"),
    [("fr", "la chose", "sorte", "près de"), ("en", "the thing", "kind", "near")],
)
def test_the_view_names_things_by_their_labels_in_the_readers_language(
    lang: str, title: str, kind: str, near: str
) -> None:
    view = resources.view(store_of(GRAPH), THING, lang)
    assert view.label.text == title and view.label.language is None
    assert [k.text for k in view.kinds] == [kind]
    by_property = {s.property.text: s.values for s in view.properties}
    assert [v.text for v in by_property[near]] == ["l'autre"]
    assert "chose" in [name.text for name in view.other_names]
    assert title not in [name.text for name in view.other_names]
    assert [s.property.text for s in view.incoming] == ["urn:test:points"]


def test_a_label_only_in_another_language_says_which_and_no_label_gives_the_iri() -> None:
    view = resources.view(store_of(GRAPH), THING, "en")
    (near,) = (s for s in view.properties if s.property.text == "near")
    assert [(v.text, v.language) for v in near.values] == [("l'autre", "fr")]
    (size,) = (s for s in view.properties if s.property.iri == "urn:test:size")
    assert size.property.text == "urn:test:size"
    assert [(v.text, v.datatype) for v in size.values] == [("3", "xsd:integer")]


def test_what_points_at_a_resource_is_capped() -> None:
    many = "\n".join(f"t:p{i} t:points t:thing ." for i in range(resources.MAX_INCOMING + 5))
    view = resources.view(store_of(many), THING, "fr")
    assert view.incoming_capped
    assert sum(len(s.values) for s in view.incoming) == resources.MAX_INCOMING
    assert not resources.view(store_of(GRAPH), THING, "fr").incoming_capped
