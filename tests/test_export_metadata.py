"""The dataset description: DCAT-AP 3.0.0 conformance, what portals harvest, VoID figures."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import FOAF, RDF, RDFS, XSD, Namespace
from typer.testing import CliRunner

from conftest import REPO
from coopdec_kg.cli import app
from coopdec_kg.content.changes import RECORD, committed
from coopdec_kg.content.graph import new_graph
from coopdec_kg.content.project import Project
from coopdec_kg.errors import ExportError
from coopdec_kg.publish.export import FORMATS, export_file
from coopdec_kg.publish.metadata import (
    DATA_GRAPH,
    METADATA_GRAPH,
    ONTOLOGY_GRAPH,
    content_date,
    describe,
    temporal_coverage,
)
from report_text import SHARED

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
VOID = Namespace("http://rdfs.org/ns/void#")
DCAT_AP_SHAPES = SHARED / "reference" / "dcat-ap-3.0.0" / "dcat-ap-SHACL.ttl"
ETALAB = URIRef("https://www.etalab.gouv.fr/licence-ouverte-open-licence/")
FRANCE = URIRef("http://publications.europa.eu/resource/authority/country/FRA")
IANA = "https://www.iana.org/assignments/media-types/"
DAY = date(2026, 1, 15)


@pytest.fixture(scope="module")
def content(ontology: Graph, data: Graph) -> Graph:
    graph = new_graph()
    for part in (ontology, data):
        for triple in part:
            graph.add(triple)
    return graph


@pytest.fixture(scope="module")
def metadata(ontology: Graph, data: Graph) -> Graph:
    return describe(ontology, data, DAY)


@pytest.fixture(scope="module")
def dataset(metadata: Graph) -> URIRef:
    (node,) = metadata.subjects(RDF.type, DCAT.Dataset)
    assert isinstance(node, URIRef)
    return node


# ---------------------------------------------------------------- DCAT-AP 3.0.0


@pytest.fixture(scope="module")
def dcat_ap_shapes() -> Graph:
    if not DCAT_AP_SHAPES.is_file():
        pytest.skip(f"DCAT-AP 3.0.0 shapes not found at {DCAT_AP_SHAPES} (../shared is absent)")
    return Graph().parse(DCAT_AP_SHAPES, format="turtle")


def _violations(metadata: Graph, shapes: Graph) -> list[str]:
    from pyshacl import validate

    _, report, _ = validate(metadata, shacl_graph=shapes, inference="none")
    sh = Namespace("http://www.w3.org/ns/shacl#")
    return sorted(
        f"{report.value(r, sh.focusNode)} {report.value(r, sh.resultPath)}: "
        f"{report.value(r, sh.resultMessage)}"
        for r in report.subjects(RDF.type, sh.ValidationResult)
    )


def test_metadata_conforms_to_the_dcat_ap_3_shapes(metadata: Graph, dcat_ap_shapes: Graph) -> None:
    assert _violations(metadata, dcat_ap_shapes) == []


def test_the_whole_turtle_export_conforms_to_the_dcat_ap_3_shapes(
    project: Project, dcat_ap_shapes: Graph, tmp_path: Path
) -> None:
    """The exported file itself, ontology, data and description together: every SKOS scheme of
    the data has a dct:title (issue 13: 21 schemes had none)."""
    dump = tmp_path / "coopdec-kg.ttl"
    export_file(project, dump, "turtle", DAY, extra=())
    assert _violations(Graph().parse(dump, format="turtle"), dcat_ap_shapes) == []


def test_the_dcat_ap_check_can_fail(
    metadata: Graph, dataset: URIRef, dcat_ap_shapes: Graph
) -> None:
    """Negative control: the shapes do target our nodes (a mandatory title removed is caught)."""
    broken = Graph()
    for triple in metadata:
        if triple[0] != dataset or triple[1] != DCT["title"]:
            broken.add(triple)
    assert any(str(dataset) in v and "title" in v for v in _violations(broken, dcat_ap_shapes))


# ---------------------------------------------------------------- what portals harvest


def _languages(graph: Graph, node: URIRef, predicate: URIRef) -> set[str | None]:
    return {o.language for o in graph.objects(node, predicate) if isinstance(o, Literal)}


def test_catalog_dataset_and_distributions_are_described_in_french_and_english(
    metadata: Graph, dataset: URIRef
) -> None:
    (catalog,) = metadata.subjects(RDF.type, DCAT.Catalog)
    assert (catalog, DCAT.dataset, dataset) in metadata
    distributions = list(metadata.objects(dataset, DCAT.distribution))
    for node in (catalog, dataset, *distributions):
        assert {"fr", "en"} <= _languages(metadata, node, DCT["title"]), node
        assert {"fr", "en"} <= _languages(metadata, node, DCT["description"]), node
    assert {"fr", "en"} <= _languages(metadata, dataset, DCAT.keyword)
    publisher = metadata.value(dataset, DCT.publisher)
    assert publisher is not None and metadata.value(publisher, FOAF.name) is not None
    assert metadata.value(dataset, DCT.issued) is not None
    assert metadata.value(dataset, DCT.modified) == Literal(DAY.isoformat(), datatype=XSD.date)


def test_one_distribution_per_export_format_with_licence_and_urls(
    metadata: Graph, dataset: URIRef
) -> None:
    distributions = list(metadata.objects(dataset, DCAT.distribution))
    media = {str(metadata.value(d, DCAT.mediaType)) for d in distributions}
    assert media == {IANA + fmt.media_type for fmt in FORMATS.values()}
    downloads = set()
    for distribution in distributions:
        assert metadata.value(distribution, DCT.license) == ETALAB
        assert metadata.value(distribution, DCT["format"]) is not None
        access = metadata.value(distribution, DCAT.accessURL)
        download = metadata.value(distribution, DCAT.downloadURL)
        assert str(access).startswith("https://w3id.org/coopdec-kg/")
        assert str(download).startswith("https://w3id.org/coopdec-kg/")
        downloads.add(str(download).rsplit(".", 1)[-1])
        assert (dataset, VOID.dataDump, download) in metadata
    assert downloads == {fmt.extension for fmt in FORMATS.values()}


def test_coverage_version_and_conformance(metadata: Graph, dataset: URIRef, data: Graph) -> None:
    period = metadata.value(dataset, DCT.temporal)
    start = metadata.value(period, DCAT.startDate).toPython()  # type: ignore[union-attr]
    end = metadata.value(period, DCAT.endDate).toPython()  # type: ignore[union-attr]
    # report l.907: the report is dated February 2006, and data/report.ttl says so.
    assert start <= date(2006, 2, 1) and end >= date(2006, 2, 28)
    spatial = set(metadata.objects(dataset, DCT.spatial))
    assert FRANCE in spatial
    assert spatial > {FRANCE}, "the partner countries the data names are part of the coverage"
    assert metadata.value(dataset, DCAT.version) is not None
    assert (dataset, DCT.conformsTo, URIRef("https://w3id.org/coopdec-kg/ontology")) in metadata
    (record,) = metadata.subjects(RDF.type, DCAT.CatalogRecord)
    assert (record, DCT.conformsTo, URIRef("https://semiceu.github.io/DCAT-AP/releases/3.0.0")) in (
        metadata
    )


def test_temporal_coverage_spans_years_months_and_days() -> None:
    graph = Graph()
    s = URIRef("https://e.org/s")
    graph.add((s, DCT.date, Literal("1970", datatype=XSD.gYear)))
    graph.add((s, DCT.date, Literal("2006-02", datatype=XSD.gYearMonth)))
    graph.add((s, DCT.date, Literal("2005-07-14", datatype=XSD.date)))
    graph.add((s, DCT.date, Literal("not a date", datatype=XSD.date)))
    assert temporal_coverage(graph) == (date(1970, 1, 1), date(2006, 2, 28))
    assert temporal_coverage(Graph()) is None


def test_the_dataset_carries_its_licence_too(metadata: Graph, dataset: URIRef) -> None:
    assert metadata.value(dataset, DCT.license) == ETALAB


def test_void_says_what_it_counts_one_subset_per_named_graph(
    metadata: Graph, dataset: URIRef, ontology: Graph, data: Graph
) -> None:
    subsets = set(metadata.objects(dataset, VOID.subset))
    assert subsets == {ONTOLOGY_GRAPH, DATA_GRAPH, METADATA_GRAPH}
    count = {graph: metadata.value(graph, VOID.triples).toPython() for graph in subsets}  # type: ignore[union-attr]
    assert count[ONTOLOGY_GRAPH] == len(ontology)
    assert count[DATA_GRAPH] == len(data)
    assert count[METADATA_GRAPH] == len(metadata)  # the description counts itself
    for graph in subsets:
        assert {"fr", "en"} <= _languages(metadata, graph, DCT["title"])
    comments = " ".join(str(c) for c in metadata.objects(dataset, RDFS.comment))
    assert "void:triples" in comments and "N-Triples" in comments


def test_an_ntriples_dump_has_the_lines_void_announces(project: Project, tmp_path: Path) -> None:
    dump = tmp_path / "coopdec-kg.nt"
    export_file(project, dump, "ntriples", DAY, extra=())
    lines = dump.read_bytes().splitlines()
    graph = Graph().parse(dump, format="nt")
    dataset = URIRef("https://w3id.org/coopdec-kg/dataset")

    def triples(node: URIRef) -> int:
        return int(graph.value(node, VOID.triples))  # type: ignore[arg-type]

    assert len(lines) == triples(dataset) + triples(METADATA_GRAPH)


def test_export_metadata_writes_the_catalogue_description_alone(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--root", str(REPO), "export", "--metadata", "-f", "ntriples"])
    assert result.exit_code == 0, result.stderr
    description = Graph().parse(data=result.stdout, format="nt")
    assert (None, RDF.type, DCAT.Catalog) in description
    assert (None, RDF.type, DCAT.Dataset) in description
    cdo = "https://w3id.org/coopdec-kg/ontology#"
    assert not [t for t in description if any(str(term).startswith(cdo) for term in t[1:2])]
    count = description.value(METADATA_GRAPH, VOID.triples)
    assert count is not None and int(count) == len(description)


def test_content_date_is_the_last_commit_of_the_content_never_a_file_time(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    when = committed(project.root)
    if when is None:
        pytest.skip("the checkout has no git history (git missing, or not a work tree)")
    assert content_date(project) == when


def test_an_installed_package_dates_its_content_by_the_date_its_build_recorded(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    copy = tmp_path / "content"
    for name in ("ontology", "data", "queries"):
        shutil.copytree(project.root / name, copy / name)
    (copy / RECORD).write_text("2007-03-01\n", encoding="utf-8")
    os.utime(copy / "data" / "report.ttl", (0, 0))  # file times never count
    assert content_date(Project.at(copy)) == date(2007, 3, 1)


def test_two_clones_made_on_different_days_export_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    if committed(REPO) is None:
        pytest.skip("the checkout has no git history (git missing, or not a work tree)")
    dumps = []
    for day, name in [(86_400 * 10_000, "first"), (86_400 * 20_000, "second")]:
        clone = tmp_path / name
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=120)
        for path in clone.rglob("*.ttl"):
            os.utime(path, (day, day))  # a clone made on another day
        dumps.append(export_file(Project.at(clone), tmp_path / f"{name}.ttl", extra=()))
    assert (tmp_path / "first.ttl").read_bytes() == (tmp_path / "second.ttl").read_bytes()
    assert dumps[0] > 0


def test_content_date_follows_source_date_epoch(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1139184000")
    assert content_date(project) == date(2006, 2, 6)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ExportError, match="SOURCE_DATE_EPOCH"):
        content_date(project)


# ---------------------------------------------------------------- VoID, counted independently


def _count(graph: Graph, where: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"
    (row,) = graph.query(query)
    return int(row[0])  # type: ignore[index]


def test_void_statistics_match_independent_counts(
    metadata: Graph, dataset: URIRef, content: Graph
) -> None:
    space = str(metadata.value(dataset, VOID.uriSpace))
    expected = {
        VOID.triples: len(content),
        VOID.entities: _count(
            content,
            "SELECT DISTINCT ?s WHERE { ?s ?p ?o "
            f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{space}")) }}',
        ),
        VOID.classes: _count(content, "SELECT DISTINCT ?c WHERE { ?s a ?c }"),
        VOID.properties: _count(content, "SELECT DISTINCT ?p WHERE { ?s ?p ?o }"),
        VOID.distinctSubjects: _count(content, "SELECT DISTINCT ?s WHERE { ?s ?p ?o }"),
        VOID.distinctObjects: _count(content, "SELECT DISTINCT ?o WHERE { ?s ?p ?o }"),
    }
    found = {predicate: metadata.value(dataset, predicate).toPython() for predicate in expected}  # type: ignore[union-attr]
    assert found == expected
    assert expected[VOID.entities] > 500  # the data describes hundreds of resources


def test_void_class_partitions_count_each_class(
    metadata: Graph, dataset: URIRef, content: Graph
) -> None:
    partitions = list(metadata.objects(dataset, VOID.classPartition))
    assert len(partitions) == _count(content, "SELECT DISTINCT ?c WHERE { ?s a ?c }")
    for partition in partitions:
        assert isinstance(partition, BNode)
        cls = metadata.value(partition, VOID["class"])
        entities = metadata.value(partition, VOID.entities).toPython()  # type: ignore[union-attr]
        assert entities == _count(content, f"SELECT DISTINCT ?s WHERE {{ ?s a <{cls}> }}"), cls


def test_void_vocabularies_and_examples(metadata: Graph, dataset: URIRef, content: Graph) -> None:
    terms = set(content.predicates()) | set(content.objects(None, RDF.type))
    expected = {str(t)[: max(str(t).rfind("#"), str(t).rfind("/")) + 1] for t in terms}
    assert {str(v) for v in metadata.objects(dataset, VOID.vocabulary)} == expected
    assert "https://w3id.org/coopdec-kg/ontology#" in expected
    space = str(metadata.value(dataset, VOID.uriSpace))
    examples = list(metadata.objects(dataset, VOID.exampleResource))
    assert examples
    for example in examples:
        assert str(example).startswith(space)
        assert (example, RDF.type, None) in content
