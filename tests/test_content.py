"""The content folder itself: every file parses; every fact is labelled and traced to the report."""

from __future__ import annotations

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, OWL, PROV, SKOS

from coopdec_kg.content.graph import new_graph, parse_turtle, reads_back
from coopdec_kg.content.namespaces import CDO, CDR
from coopdec_kg.content.project import Project
from coopdec_kg.content.turtle import to_turtle

QB = "http://purl.org/linked-data/cube#"
LABELS = (SKOS.prefLabel, RDFS.label, DCTERMS.title)
# Structural resources that describe the report or the cube itself rather than state a fact.
STRUCTURAL = {
    CDO.Passage,
    CDO.ReportSection,
    CDO.Report,
    URIRef(QB + "DataStructureDefinition"),
    URIRef(QB + "ComponentSpecification"),
}


SUBMISSION = CDR + "submission/"


def typed_subjects(graph: Graph) -> set[URIRef]:
    """Typed resources from the report: what `add` stored cites its submission, not a passage."""
    submitted = {
        s for s, o in graph.subject_objects(PROV.wasDerivedFrom) if str(o).startswith(SUBMISSION)
    }
    return {
        s
        for s in graph.subjects(RDF.type, None)
        if isinstance(s, URIRef) and s not in submitted and not str(s).startswith(SUBMISSION)
    }


def test_every_content_file_parses(project: Project) -> None:
    files = [project.ontology_file, *project.data_files]
    assert len(project.data_files) >= 2
    for path in files:
        assert len(parse_turtle(path)) > 0, path


def test_every_entity_has_a_french_label(data: Graph) -> None:
    missing = [
        s
        for s in typed_subjects(data)
        if str(s).startswith(str(CDR))
        and not set(data.objects(s, RDF.type)) & {CDO.Passage}
        and not any(
            isinstance(o, Literal) and o.language == "fr"
            for p in LABELS
            for o in data.objects(s, p)
        )
    ]
    assert not missing, f"no French label: {sorted(missing)[:10]}"


def test_every_fact_bearing_node_cites_a_passage_of_the_report(data: Graph) -> None:
    missing = []
    for subject in typed_subjects(data):
        if not str(subject).startswith(str(CDR)):
            continue
        if set(data.objects(subject, RDF.type)) & STRUCTURAL:
            continue
        sources = list(data.objects(subject, DCTERMS.source))
        if not any((source, RDF.type, CDO.Passage) in data for source in sources):
            missing.append(subject)
    assert not missing, f"no dct:source passage: {sorted(missing)[:10]}"


def test_passages_lie_inside_the_report_and_their_section(
    data: Graph, report_lines: list[str]
) -> None:
    for passage in data.subjects(RDF.type, CDO.Passage):
        start = int(data.value(passage, CDO.startLine))
        end = int(data.value(passage, CDO.endLine))
        assert 1 <= start <= end <= len(report_lines), passage
        section = data.value(passage, DCTERMS.isPartOf)
        assert section is not None, f"{passage} is part of no section"
        assert int(data.value(section, CDO.startLine)) <= start, passage
        assert end <= int(data.value(section, CDO.endLine)), passage


def test_data_uses_only_declared_ontology_terms(data: Graph, ontology: Graph) -> None:
    declared = {s for s in ontology.subjects() if str(s).startswith(str(CDO))}
    used = {
        term
        for triple in data
        for term in triple
        if isinstance(term, URIRef) and str(term).startswith(str(CDO))
    }
    assert not used - declared, f"undeclared ontology terms: {sorted(used - declared)}"


# The languages themselves: their terms are not redeclared in the ontology.
BUILT_IN = (str(RDF), str(RDFS), str(OWL), "http://www.w3.org/2001/XMLSchema#")


def test_every_external_term_the_data_uses_is_declared(data: Graph, ontology: Graph) -> None:
    """The ontology declares each class and property of other vocabularies that the data (or the
    ontology itself) uses, typed for OWL 2 DL (issue 13)."""
    used = {p for g in (data, ontology) for p in g.predicates()}
    used |= {o for o in data.objects(None, RDF.type) if isinstance(o, URIRef)}
    external = {t for t in used if not str(t).startswith((str(CDO), *BUILT_IN))}
    kinds = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty}
    undeclared = sorted(t for t in external if not set(ontology.objects(t, RDF.type)) & kinds)
    assert not undeclared, f"undeclared external terms: {undeclared}"
    assert len(external) > 40


def test_every_ontology_term_is_labelled_and_defined_in_french_and_english(
    ontology: Graph,
) -> None:
    terms = {
        s
        for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
        for s in ontology.subjects(RDF.type, kind)
        if str(s).startswith(str(CDO))
    }
    assert len(terms) > 50
    for term in terms:
        for predicate in (RDFS.label, SKOS.definition):
            languages = {
                o.language for o in ontology.objects(term, predicate) if isinstance(o, Literal)
            }
            assert {"fr", "en"} <= languages, f"{term} {predicate}"


def test_graph_round_trips_through_turtle(graph: Graph) -> None:
    text = graph.serialize(format="turtle")
    again = new_graph()
    again.parse(data=text, format="turtle")
    assert isomorphic(graph, again)


def test_stored_turtle_must_read_back_as_exactly_its_triples() -> None:
    """What `add` proves before it writes a submission: the Turtle means these triples, no more,
    no less, whatever escapes either writer chose."""
    link = CDR["submission/0123456789abcdef/lien-2"]
    triples = [
        (link, RDF.type, CDO.CooperationLink),
        (link, CDO.startYear, Literal("01995", datatype=CDO.year)),
        (link, SKOS.prefLabel, Literal('Cergy — « Porto-Novo » \\ "\u00e9"\n\t\x7f', lang="fr")),
        (link, CDO.startYear, Literal("1995", datatype=URIRef(str(RDF) + "x"))),
    ]
    payload = to_turtle(triples)
    assert reads_back(payload, triples)
    # Oxigraph writes a language tag in lower case: the lines differ, the terms do not
    tagged = [*triples, (link, SKOS.altLabel, Literal("Porto-Novo", lang="fr-BJ"))]
    assert reads_back(to_turtle(tagged), tagged)
    assert not reads_back(payload, triples[:-1])
    assert not reads_back(payload, [*triples, (link, RDF.type, CDO.Action)])
    assert not reads_back(payload.replace(b"01995", b"1995"), triples)
    assert not reads_back(payload[:-20], triples)
