"""ontology/shapes.ttl itself: every rule is named, explained in French and English, and sourced."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SH
from rdflib.term import Node

from coopdec_kg.content.graph import parse_turtle
from coopdec_kg.content.namespaces import CDO, prefixes
from coopdec_kg.content.project import Project

LEGAL_RULE = prefixes()["legal-rule"]
LEGAL_TEXT = prefixes()["legal-text"]
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
CONSTRAINTS = (
    SH["class"],
    SH.datatype,
    SH.nodeKind,
    SH.minCount,
    SH.maxCount,
    SH.minInclusive,
    SH.maxInclusive,
    SH.lessThanOrEquals,
    SH.pattern,
    SH.languageIn,
    SH.uniqueLang,
    SH["in"],
    SH.hasValue,
    SH["not"],
    SH["or"],
    SH.node,
    SH.qualifiedValueShape,
    SH.sparql,
)


@pytest.fixture(scope="module")
def shapes(project: Project) -> Graph:
    return parse_turtle(project.shapes_file)


def reporting_shapes(shapes: Graph) -> set[Node]:
    """Shapes whose results pySHACL reports: targeted shapes with constraints, and their
    property shapes (not the helper shapes nested in sh:not, sh:or, sh:node…)."""
    targeted = {s for p in TARGETS for s in shapes.subjects(p, None)}
    found = {s for s in targeted if any((s, p, None) in shapes for p in CONSTRAINTS)}
    found |= {o for s in targeted for o in shapes.objects(s, SH.property)}
    return found


def languages(shapes: Graph, node: Node, predicate: URIRef) -> list[str | None]:
    return [o.language for o in shapes.objects(node, predicate) if isinstance(o, Literal)]


def test_shapes_are_many_and_named(shapes: Graph) -> None:
    found = reporting_shapes(shapes)
    assert len(found) > 60
    blank = [s for s in found if not isinstance(s, URIRef)]
    assert not blank, "every reporting shape has an IRI, so reports and tests can name it"


def test_every_shape_has_one_message_and_one_label_in_french_and_english(shapes: Graph) -> None:
    for shape in reporting_shapes(shapes):
        assert sorted(languages(shapes, shape, SH.message)) == ["en", "fr"], shape
        assert sorted(languages(shapes, shape, RDFS.label)) == ["en", "fr"], shape
    targeted = {s for p in TARGETS for s in shapes.subjects(p, None)}
    for shape in targeted:
        assert sorted(languages(shapes, shape, RDFS.label)) == ["en", "fr"], shape


def test_every_shape_states_its_severity(shapes: Graph) -> None:
    for shape in reporting_shapes(shapes):
        assert shapes.value(shape, SH.severity) in (SH.Violation, SH.Warning), shape


def test_every_shape_cites_its_source_and_the_sources_exist(
    shapes: Graph, graph: Graph, project: Project
) -> None:
    ontology = parse_turtle(project.ontology_file)
    for shape in reporting_shapes(shapes):
        defined_by = list(shapes.objects(shape, RDFS.isDefinedBy))
        assert defined_by, f"{shape}: no rdfs:isDefinedBy"
        rules = list(shapes.objects(shape, DCTERMS.source))
        for rule in rules:
            assert str(rule).startswith(LEGAL_RULE), shape
            assert (rule, RDF.type, CDO.LegalRule) in graph, f"{shape}: unknown rule {rule}"
        for source in defined_by:
            if str(source).startswith(LEGAL_TEXT):
                assert next(graph.objects(source, RDF.type), None) is not None, source
            else:
                assert not rules, f"{shape}: a legal rule but no legal text"
                assert (source, None, None) in ontology or str(source).startswith(
                    ("http://www.w3.org/", "http://purl.org/dc/terms/")
                ), source


def test_each_legal_rule_of_the_design_has_a_shape(shapes: Graph) -> None:
    used = {str(o).removeprefix(LEGAL_RULE) for o in shapes.objects(None, DCTERMS.source)}
    assert {
        "partenaires-collectivites-territoriales-etrangeres",
        "droit-de-conclure-des-conventions",
        "principe-de-specialite",
        "principe-d-exclusivite",
        "definition-communaute-d-agglomeration",
        "adoption-et-signature-des-conventions",
        "charte-d-amitie-sans-effet-juridique",
        "oudin-1-pourcent",
        "cooperation-n-est-pas-une-competence",
    } <= used


def test_soft_rules_are_warnings_and_prohibitions_violations(shapes: Graph) -> None:
    shape = URIRef("https://w3id.org/coopdec-kg/shapes#")
    warnings = {s for s in reporting_shapes(shapes) if shapes.value(s, SH.severity) == SH.Warning}
    assert warnings == {
        URIRef(shape + name)
        for name in (
            "Exclusivity",
            "CooperationIsNotACompetence",
            "SpecialityExtensiveReading",
            "SpecialityUnmappedDomain",
        )
    }
