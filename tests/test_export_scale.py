"""Exports at national scale: the store's extra files are dumped, and the writers that work on
N-Triples lines (pyoxigraph, no rdflib graph) give the same bytes as the rdflib writers."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyoxigraph
import pytest
from hypothesis import HealthCheck, given, settings
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, XSD
from typer.testing import CliRunner

from coopdec_kg.cli import app
from coopdec_kg.content.files import write_atomic
from coopdec_kg.content.graph import load_graph, read_ntriples
from coopdec_kg.content.project import Project
from coopdec_kg.content.synth import SYNTH, write_atlas
from coopdec_kg.content.turtle import to_ntriples, to_trig, to_turtle
from coopdec_kg.engines import store
from coopdec_kg.errors import CoopdecError, RdfSyntaxError
from coopdec_kg.publish import export as export_module
from coopdec_kg.publish.export import (
    DATA_GRAPH,
    FORMATS,
    METADATA_GRAPH,
    ONTOLOGY_GRAPH,
    Dump,
    collect,
    export,
    export_file,
    serialize,
    serialize_at_scale,
    to_jsonld,
)
from coopdec_kg.publish.metadata import countries_of_lines, standards_of_lines
from test_export_writers import NAMESPACES, graphs

# rdflib warns about the ill-typed literals the strategies make on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:(Serializing|Parsing) weird:UserWarning")

DAY = date(2026, 1, 15)
SYNTH_ATLAS = URIRef(SYNTH + "atlas")
RDFLIB_FORMAT = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld"}
OXIGRAPH_FORMAT = {
    "turtle": pyoxigraph.RdfFormat.TURTLE,
    "ntriples": pyoxigraph.RdfFormat.N_TRIPLES,
    "jsonld": pyoxigraph.RdfFormat.JSON_LD,
    "trig": pyoxigraph.RdfFormat.TRIG,
}


@pytest.fixture(scope="module")
def atlas(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic atlas (about 8 000 triples, no blank nodes)."""
    folder = tmp_path_factory.mktemp("atlas")
    (path,) = write_atlas(project, load_graph(project), folder, 0.005, 1, 0).paths
    return path


@pytest.fixture(scope="module")
def reference(project: Project, atlas: Path) -> Dump:
    """The rdflib reference: ontology, data and the atlas loaded by rdflib."""
    return collect(project, DAY, [atlas])


@pytest.fixture
def store_with_atlas(
    project: Project, atlas: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A persistent store built with the atlas as an extra file (`build --extra`)."""
    location = tmp_path / "store"
    monkeypatch.setenv(store.STORE_VARIABLE, str(location))
    store.build(project, [atlas], location)
    return location


# ---------------------------------------------------------------- the same bytes as rdflib


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_lines_writers_give_the_rdflib_bytes_with_an_atlas(
    project: Project, atlas: Path, reference: Dump, name: str
) -> None:
    expected = serialize(reference, FORMATS[name])
    assert serialize_at_scale(project, FORMATS[name], [atlas], DAY) == expected


@pytest.mark.parametrize("name", ["ntriples", "trig"])
def test_an_atlas_in_parts_gives_the_same_bytes_as_in_one_file(
    project: Project, atlas: Path, reference: Dump, name: str, tmp_path: Path
) -> None:
    # several big parts (synth's output at scale): their lines are merged, not looked up
    parts = write_atlas(project, load_graph(project), tmp_path, 0.005, 1, 0, 2_000).paths
    assert len(parts) > 2
    expected = serialize(reference, FORMATS[name])
    assert serialize_at_scale(project, FORMATS[name], parts, DAY) == expected


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_lines_writers_give_the_rdflib_bytes_for_the_report_alone(
    project: Project, name: str
) -> None:
    # The report's content has blank nodes (OWL restrictions, qb components, lists, nested
    # nodes) and the metadata has more (class partitions): the hard cases of the line writers.
    expected = serialize(collect(project, DAY), FORMATS[name])
    assert serialize_at_scale(project, FORMATS[name], (), DAY) == expected


def test_big_content_goes_through_the_line_writers_with_the_same_bytes(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(store.STORE_VARIABLE, str(tmp_path / "no-store"))
    names = ("ntriples", "turtle")  # every format is compared above
    small = {name: export(project, name, modified=DAY) for name in names}
    assert not export_module.at_scale(project, ())
    monkeypatch.setattr(export_module, "SCALE_BYTES", 0)
    assert export_module.at_scale(project, ())
    for name in names:
        assert export(project, name, modified=DAY) == small[name], name


# ---------------------------------------------------------------- the store's extra files


def test_export_includes_the_extra_files_of_the_store_when_asked(
    project: Project,
    atlas: Path,
    store_with_atlas: Path,
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    assert store.extra_files(project) == (atlas,)
    target = tmp_path / "dump.nt"
    root = ["--root", str(project.root)]
    result = runner.invoke(app, [*root, "export", "--include-extra", "-o", str(target)])
    assert result.exit_code == 0, result.stderr
    assert f"Wrote {target} (ntriples, {target.stat().st_size} bytes)." in result.stderr
    assert "this includes them" in result.stderr
    dumped = {str(q.subject) for q in pyoxigraph.parse(path=str(target))}
    assert f"<{SYNTH_ATLAS}>" in dumped
    atlas_subjects = {str(q.subject) for q in pyoxigraph.parse(path=str(atlas))}
    assert atlas_subjects <= dumped
    printed = runner.invoke(app, [*root, "export", "--include-extra", "-f", "ntriples"])
    assert printed.exit_code == 0, printed.stderr
    assert printed.stdout_bytes == target.read_bytes()
    left_out = runner.invoke(app, [*root, "export", "-f", "ntriples"])
    assert f"<{SYNTH_ATLAS}>".encode() not in left_out.stdout_bytes
    assert "--include-extra adds them" in left_out.stderr

    monkeypatch.setenv(store.STORE_VARIABLE, str(tmp_path / "store-without-extras"))
    assert store.extra_files(project) == ()
    alone = export(project, "ntriples")
    assert f"<{SYNTH_ATLAS}>".encode() not in alone


def test_the_dump_describes_the_extra_files_too(reference: Dump, project: Project) -> None:
    without = collect(project, DAY)
    dataset = URIRef("https://w3id.org/coopdec-kg/dataset")
    triples = URIRef("http://rdfs.org/ns/void#triples")
    assert reference.metadata.value(dataset, triples).toPython() == (
        len(reference.ontology + reference.data)
    )
    assert reference.metadata.value(dataset, triples).toPython() > (
        without.metadata.value(dataset, triples).toPython()
    )


def test_a_missing_extra_file_is_left_out_as_the_store_leaves_it_out(
    project: Project, atlas: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "atlas.ttl"
    copy.write_bytes(atlas.read_bytes())
    monkeypatch.setenv(store.STORE_VARIABLE, str(tmp_path / "store"))
    store.build(project, [copy], tmp_path / "store")
    assert store.extra_files(project) == (copy,)
    copy.unlink()
    assert store.extra_files(project) == ()


# ---------------------------------------------------------------- stable, faithful, atomic


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_exports_with_an_atlas_are_byte_stable_and_round_trip(
    project: Project, store_with_atlas: Path, reference: Dump, tmp_path: Path, name: str
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    export_file(project, first, name, DAY)
    export_file(project, second, name, DAY)
    payload = first.read_bytes()
    assert payload == second.read_bytes()
    quads = list(pyoxigraph.parse(payload, format=OXIGRAPH_FORMAT[name]))
    union = reference.union()
    assert len(quads) == len(union)
    if name == "trig":
        dataset = Dataset()
        dataset.parse(data=payload.decode("utf-8"), format="trig")
        for graph_name, part in reference.named_graphs().items():
            assert isomorphic(dataset.graph(graph_name), part), graph_name
    else:
        parsed = Graph().parse(data=payload.decode("utf-8"), format=RDFLIB_FORMAT[name])
        assert isomorphic(parsed, union)


def test_trig_with_an_atlas_keeps_it_in_the_data_graph(project: Project, atlas: Path) -> None:
    payload = serialize_at_scale(project, FORMATS["trig"], [atlas], DAY)
    dataset = Dataset()
    dataset.parse(data=payload.decode("utf-8"), format="trig")
    assert (SYNTH_ATLAS, None, None) in dataset.graph(DATA_GRAPH)
    assert (SYNTH_ATLAS, None, None) not in dataset.graph(ONTOLOGY_GRAPH)
    assert (SYNTH_ATLAS, None, None) not in dataset.graph(METADATA_GRAPH)


def test_jsonld_with_an_atlas_keeps_the_curated_context(project: Project, atlas: Path) -> None:
    from coopdec_kg.content.namespaces import context_document

    document = json.loads(serialize_at_scale(project, FORMATS["jsonld"], [atlas], DAY))
    assert document["@context"] == context_document()["@context"]
    ids = [node["id"] for node in document["@graph"]]  # the context aliases @id as id
    assert ids == sorted(ids)
    assert SYNTH + "atlas" in ids  # no prefix of the context covers the synthetic namespace


def test_a_broken_extra_file_keeps_the_previous_dump_and_leaves_no_temporary(
    project: Project, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.ttl"
    broken.write_text("<https://e.org/s> <https://e.org/p> .\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    target = out / "dump.nt"
    target.write_bytes(b"previous good dump\n")
    with pytest.raises(RdfSyntaxError, match=r"broken\.ttl"):
        export_file(project, target, "ntriples", DAY, [broken])
    assert target.read_bytes() == b"previous good dump\n"
    assert [p.name for p in out.iterdir()] == ["dump.nt"]


def test_chunks_are_written_as_they_come_and_a_failure_keeps_the_old_file(
    tmp_path: Path,
) -> None:
    target = tmp_path / "dump.nt"
    assert write_atomic(target, iter([b"a", b"bc"])) == 3
    assert target.read_bytes() == b"abc"

    def failing() -> Iterator[bytes]:
        yield b"half of a dump"
        raise CoopdecError("the content changed while it was exported")

    with pytest.raises(CoopdecError):
        write_atomic(target, failing())
    assert target.read_bytes() == b"abc"
    assert [p.name for p in tmp_path.iterdir()] == ["dump.nt"]


def test_cli_export_of_a_broken_extra_file_exits_2(
    project: Project, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = tmp_path / "extra.ttl"
    extra.write_text("<https://e.org/s> <https://e.org/p> <https://e.org/o> .\n")
    location = tmp_path / "store"
    monkeypatch.setenv(store.STORE_VARIABLE, str(location))
    store.build(project, [extra], location)
    extra.write_text("<https://e.org/s> <https://e.org/p> .\n")  # broken after the build
    root = ["--root", str(project.root)]
    result = runner.invoke(app, [*root, "export", "--include-extra", "-o", str(tmp_path / "d.ttl")])
    assert result.exit_code == 2
    assert "extra.ttl" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "d.ttl").exists()
    # without --include-extra the extra file is not read
    assert runner.invoke(app, [*root, "export", "-o", str(tmp_path / "d.ttl")]).exit_code == 0


# ---------------------------------------------------------------- reading files as lines


def test_read_ntriples_gives_the_terms_rdflib_reads(tmp_path: Path) -> None:
    source = tmp_path / "a.ttl"
    source.write_text(
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        '<https://e.org/s> <https://e.org/p> "01"^^xsd:integer, "5000"^^xsd:decimal, 1e3,\n'
        '    "1"^^xsd:boolean, "2006-02-01"^^xsd:date, "x\\u0001\\"y", "a\\\\b"^^xsd:integer,\n'
        '    " 7 "^^xsd:integer, "not a date"^^xsd:date, "é"@fr, [ <https://e.org/q> 1 ] .\n',
        encoding="utf-8",
    )
    read = read_ntriples(source)
    ours = Graph().parse(data=read.text.decode("utf-8"), format="nt")
    theirs = Graph().parse(source, format="turtle")
    assert isomorphic(ours, theirs)
    assert ("2006-02-01", str(XSD.date)) in read.typed_literals
    assert ("1", str(XSD.integer)) in read.typed_literals  # as rdflib reads "01"
    assert ("1000.0", str(XSD.double)) in read.typed_literals  # and 1e3
    assert b'"01"' not in read.text and b'"1e3"' not in read.text


def test_blank_nodes_of_two_files_stay_apart(project: Project, tmp_path: Path) -> None:
    first, second = tmp_path / "first.ttl", tmp_path / "second.ttl"
    first.write_text('_:b <https://e.org/p> "1" .\n')
    second.write_text('_:b <https://e.org/p> "2" .\n')
    graph = Graph().parse(
        data=b"".join(read_ntriples(p).text for p in (first, second)).decode(), format="nt"
    )
    assert len(set(graph.subjects())) == 2
    payload = serialize_at_scale(project, FORMATS["ntriples"], [first, second], DAY)
    assert payload == serialize(collect(project, DAY, [first, second]), FORMATS["ntriples"])


def test_only_the_default_graph_of_a_trig_file_is_read(tmp_path: Path) -> None:
    source = tmp_path / "extra.trig"
    source.write_text(
        "<https://e.org/a> <https://e.org/p> 1 .\n"
        "<https://e.org/g> { <https://e.org/b> <https://e.org/p> 2 . }\n"
    )
    text = read_ntriples(source).text
    assert b"https://e.org/a" in text and b"https://e.org/b" not in text


def test_figures_from_lines_ignore_lookalikes() -> None:
    country = "http://publications.europa.eu/resource/authority/country/"
    text = (
        f"<{country}FRA> <https://e.org/p> <https://e.org/o> .\n"  # a subject
        f"<https://e.org/s> <{country}DEU> <https://e.org/o> .\n"  # a predicate
        f'<https://e.org/s> <https://e.org/p> "<{country}ITA> .\\n" .\n'  # inside a literal
        f"<https://e.org/s> <https://e.org/p> <{country}ESP> .\n"  # an object: the only one
        "<https://e.org/o> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        "<http://www.w3.org/2002/07/owl#Ontology> .\n"
        "_:b <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        "<http://www.w3.org/2002/07/owl#Ontology> .\n"
    ).encode()
    assert countries_of_lines(text) == {URIRef(country + "ESP")}
    assert standards_of_lines(text) == [URIRef("https://e.org/o")]


# ---------------------------------------------------------------- the line writers, any graph


def _lines(graph: Graph) -> export_module._Lines:
    return export_module._lines_of(to_ntriples(graph))


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_line_writers_match_the_graph_writers_on_any_graph(graph: Graph) -> None:
    lines = _lines(graph)
    assert b"".join(export_module._lines_to_ntriples(lines)) == to_ntriples(graph)
    assert export_module._lines_to_turtle(lines, NAMESPACES) == to_turtle(graph, NAMESPACES)
    assert b"".join(export_module._lines_to_jsonld(lines)) == to_jsonld(graph)


@settings(max_examples=60, deadline=None)
@given(graphs(), graphs())
def test_line_writers_match_the_graph_writers_on_named_graphs(first: Graph, second: Graph) -> None:
    names = [URIRef("https://example.org/g/one"), URIRef("https://example.org/g/two")]
    expected = to_trig(dict(zip(names, (first, second), strict=True)), NAMESPACES)
    parts = {name: _lines(graph) for name, graph in zip(names, (first, second), strict=True)}
    assert export_module._lines_to_trig(parts, NAMESPACES) == expected


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(graphs())
def test_line_writers_match_on_what_oxigraph_writes(graph: Graph) -> None:
    # Oxigraph escapes U+FFFE and U+FFFF, lowercases language tags and keeps lexical forms:
    # read_ntriples gives what rdflib reads from the same text, and the writers agree on it.
    text = pyoxigraph.serialize(
        pyoxigraph.parse(to_ntriples(graph), format=pyoxigraph.RdfFormat.N_TRIPLES),
        format=pyoxigraph.RdfFormat.N_TRIPLES,
    )
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "graph.nt"
        source.write_bytes(text or b"")
        read = read_ntriples(source)
    reread = Graph().parse(data=read.text.decode("utf-8"), format="nt")
    lines = export_module._lines_of(read.text)
    assert b"".join(export_module._lines_to_ntriples(lines)) == to_ntriples(reread)
    assert export_module._lines_to_turtle(lines, NAMESPACES) == to_turtle(reread, NAMESPACES)


@pytest.mark.parametrize(
    "text",
    [
        "a\u2028b",  # a line separator that str.splitlines would break at
        "a\x85b",
        "\ufffe\uffff",  # noncharacters Oxigraph escapes
        'quote " and backslash \\',
        "\x00nul",
    ],
)
def test_awkward_literals_round_trip_in_every_writer(text: str) -> None:
    graph = Graph()
    subject = URIRef("https://example.org/ns#s")
    graph.add((subject, RDF.value, Literal(text)))
    graph.add((subject, RDF.value, Literal(text + "x", lang="fr")))
    graph.add((subject, RDF.type, BNode()))
    trig = to_trig({URIRef("https://example.org/g/one"): graph}, NAMESPACES)
    dataset = Dataset()
    dataset.parse(data=trig.decode("utf-8"), format="trig")
    assert isomorphic(dataset.graph(URIRef("https://example.org/g/one")), graph)
    lines = _lines(graph)
    assert export_module._lines_to_turtle(lines, NAMESPACES) == to_turtle(graph, NAMESPACES)
    assert b"".join(export_module._lines_to_jsonld(lines)) == to_jsonld(graph)


def test_jsonld_keeps_the_values_python_holds_false() -> None:
    # rdflib's converter replaced a first value that is false in Python ("", 0, false) with
    # the next value of the same property: the dump lost it.
    # Which value came first depended on hashing: many properties make the loss certain.
    graph = Graph()
    subject = URIRef("https://example.org/ns#s")
    pairs = [(Literal(""), Literal("x")), (Literal(0), Literal(7)), (Literal(False), Literal(True))]
    pairs.append((Literal(0.0), Literal(1.5)))
    for index in range(12):
        for falsy, truthy in pairs:
            predicate = URIRef(f"https://example.org/ns#p{index}-{truthy}")
            graph.add((subject, predicate, falsy))
            graph.add((subject, predicate, truthy))
    parsed = Graph().parse(data=to_jsonld(graph), format="json-ld")
    assert isomorphic(parsed, graph)
    assert b"".join(export_module._lines_to_jsonld(_lines(graph))) == to_jsonld(graph)


def test_stdout_export_at_scale_is_what_the_file_holds(
    project: Project, store_with_atlas: Path, tmp_path: Path
) -> None:
    target = tmp_path / "dump.ttl"
    size = export_file(project, target, None, DAY)
    assert size == target.stat().st_size
    assert target.read_bytes() == export(project, "turtle", modified=DAY)
