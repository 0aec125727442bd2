"""The report's figures are a well-formed RDF Data Cube: the W3C integrity constraints IC-0 to
IC-21 (tests/datacube/, one ASK query per constraint, as the specification gives them) find no
violation in the normalized graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal, URIRef

from coopdec_kg.content.graph import new_graph

FOLDER = Path(__file__).parent / "datacube"
QB = "http://purl.org/linked-data/cube#"
CONSTRAINTS = sorted(FOLDER.glob("ic-*.rq"))
TEMPLATES = {"ic-20.rq", "ic-21.rq"}  # instantiated for each qb:parentChildProperty


@pytest.fixture(scope="module")
def normalized(graph: Graph) -> Graph:
    """A copy of ontology + data, normalized as §10.2 of the specification requires."""
    copy = new_graph()
    for triple in graph:
        copy.add(triple)
    copy.update((FOLDER / "normalize.ru").read_text(encoding="utf-8"))
    return copy


def violated(graph: Graph, text: str) -> bool:
    return bool(graph.query(text).askAnswer)


def test_there_are_twenty_one_constraints() -> None:
    assert [path.stem for path in CONSTRAINTS] == [f"ic-{n:02d}" for n in range(1, 22)]


@pytest.mark.parametrize("path", CONSTRAINTS, ids=lambda path: path.stem)
def test_integrity_constraint(normalized: Graph, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.name in TEMPLATES:
        children = set(normalized.objects(None, URIRef(QB + "parentChildProperty")))
        for child in children:  # none today: no hierarchical code list
            assert not violated(normalized, text.replace("$p", str(child))), (path.stem, child)
        return
    assert not violated(normalized, text), path.stem


def test_ic_0_datatype_consistency(normalized: Graph) -> None:
    """IC-0: every typed literal of the cube is a valid lexical form of its datatype."""
    observations = set(normalized.subjects(RDF.type, URIRef(QB + "Observation")))
    assert len(observations) > 50
    for observation in observations:
        for value in normalized.objects(observation, None):
            if isinstance(value, Literal) and value.datatype is not None:
                assert value.ill_typed is not True, (observation, value)


def test_the_constraints_do_find_violations(normalized: Graph) -> None:
    """The queries can fail: an observation without its data set's dimensions, and a duplicate."""
    broken = new_graph()
    for triple in normalized:
        broken.add(triple)
    dataset = next(normalized.subjects(RDF.type, URIRef(QB + "DataSet")))
    first = next(normalized.subjects(URIRef(QB + "dataSet"), dataset))
    twin, bare = URIRef("https://example.org/twin"), URIRef("https://example.org/bare")
    for predicate, value in normalized.predicate_objects(first):
        broken.add((twin, predicate, value))
    broken.add((bare, URIRef(QB + "dataSet"), dataset))
    broken.add((bare, RDF.type, URIRef(QB + "Observation")))
    assert violated(broken, (FOLDER / "ic-11.rq").read_text(encoding="utf-8"))
    assert violated(broken, (FOLDER / "ic-12.rq").read_text(encoding="utf-8"))
