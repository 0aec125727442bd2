"""`coopdec-kg export`: every format round-trips, Turtle is byte-stable, writes are atomic."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF
from typer.testing import CliRunner

from coopdec_kg.cli import app
from coopdec_kg.content import files as files_module
from coopdec_kg.content.files import write_atomic
from coopdec_kg.content.namespaces import context_document, prefixes
from coopdec_kg.content.project import Project
from coopdec_kg.content.turtle import to_ntriples, to_turtle
from coopdec_kg.errors import ExportError
from coopdec_kg.publish.export import (
    DATA_GRAPH,
    FORMATS,
    METADATA_GRAPH,
    ONTOLOGY_GRAPH,
    Dump,
    collect,
    export,
    format_for,
    frames,
    serialize,
    to_framed_jsonld,
    to_jsonld,
)
from coopdec_kg.publish.metadata import GRAPH_BASE

DAY = date(2026, 1, 15)
DCAT_DATASET = URIRef("http://www.w3.org/ns/dcat#Dataset")
RDFLIB_FORMAT = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld"}


@pytest.fixture(scope="module")
def dump(project: Project) -> Dump:
    return collect(project, DAY)


@pytest.fixture(scope="module")
def union(dump: Dump) -> Graph:
    return dump.union()


@pytest.fixture(scope="module")
def turtle(dump: Dump) -> bytes:
    return serialize(dump, FORMATS["turtle"])


@pytest.mark.parametrize("name", ["turtle", "ntriples", "jsonld"])
def test_each_single_graph_format_round_trips(dump: Dump, union: Graph, name: str) -> None:
    payload = serialize(dump, FORMATS[name])
    parsed = Graph().parse(data=payload.decode("utf-8"), format=RDFLIB_FORMAT[name])
    assert len(parsed) == len(union)
    assert isomorphic(parsed, union)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_format_is_accepted_by_a_strict_parser(dump: Dump, union: Graph, name: str) -> None:
    import pyoxigraph

    formats = {
        "turtle": pyoxigraph.RdfFormat.TURTLE,
        "ntriples": pyoxigraph.RdfFormat.N_TRIPLES,
        "jsonld": pyoxigraph.RdfFormat.JSON_LD,
        "trig": pyoxigraph.RdfFormat.TRIG,
    }
    quads = list(pyoxigraph.parse(serialize(dump, FORMATS[name]), format=formats[name]))
    assert len(quads) == len(union)


def test_the_dump_holds_ontology_data_and_metadata(dump: Dump, union: Graph) -> None:
    for part in (dump.ontology, dump.data, dump.metadata):
        assert len(part) > 0
        assert all(triple in union for triple in part)
    assert (None, RDF.type, DCAT_DATASET) in union


def test_trig_keeps_ontology_data_and_metadata_in_separate_named_graphs(dump: Dump) -> None:
    payload = serialize(dump, FORMATS["trig"])
    dataset = Dataset()
    dataset.parse(data=payload.decode("utf-8"), format="trig")
    named = {g.identifier for g in dataset.graphs() if len(g)}
    assert named == {ONTOLOGY_GRAPH, DATA_GRAPH, METADATA_GRAPH}
    assert all(str(name).startswith(GRAPH_BASE) for name in named)
    for name, part in dump.named_graphs().items():
        assert isomorphic(dataset.graph(name), part), name
    assert (None, RDF.type, DCAT_DATASET) in dataset.graph(METADATA_GRAPH)
    assert (None, RDF.type, DCAT_DATASET) not in dataset.graph(DATA_GRAPH)
    union = Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        union.add((s, p, o))
    assert isomorphic(union, dump.union())


def test_trig_blank_nodes_stay_in_their_graph(dump: Dump) -> None:
    text = serialize(dump, FORMATS["trig"]).decode("utf-8")
    blocks = re.split(r"^<https://w3id\.org/coopdec-kg/graph/[a-z]+> \{$", text, flags=re.M)[1:]
    labels = [set(re.findall(r"_:([A-Za-z0-9_.-]+)", block)) for block in blocks]
    for i, first in enumerate(labels):
        for second in labels[i + 1 :]:
            assert not first & second


def test_turtle_is_byte_stable_across_runs(project: Project, turtle: bytes) -> None:
    again = serialize(collect(project, DAY), FORMATS["turtle"])
    assert again == turtle


def test_turtle_does_not_depend_on_load_order_or_blank_node_labels(
    union: Graph, turtle: bytes
) -> None:
    # Reloading shuffled N-Triples gives every blank node a fresh label and a new insertion order.
    lines = to_ntriples(union).decode("utf-8").splitlines(keepends=True)
    random.Random(2006).shuffle(lines)
    reloaded = Graph().parse(data="".join(lines), format="nt")
    assert to_turtle(reloaded) == turtle
    assert to_ntriples(reloaded) == to_ntriples(union)


def test_turtle_declares_only_the_projects_prefixes(turtle: bytes) -> None:
    declared = re.findall(r"^@prefix ([\w-]*): <([^>]*)> \.$", turtle.decode("utf-8"), flags=re.M)
    assert declared, "no prefix declared"
    assert all(prefixes().get(prefix) == namespace for prefix, namespace in declared)
    assert [p for p, _ in declared] == sorted(p for p, _ in declared)


def test_ntriples_lines_are_sorted(union: Graph) -> None:
    lines = to_ntriples(union).decode("utf-8").splitlines()
    assert lines == sorted(lines)
    assert len(lines) == len(union)


def test_jsonld_uses_the_curated_context_and_is_stable(union: Graph) -> None:
    payload = to_jsonld(union)
    document = json.loads(payload)
    assert document["@context"] == context_document()["@context"]
    assert to_jsonld(union) == payload
    ids = [node["id"] for node in document["@graph"]]  # the context aliases @id as id
    assert ids == sorted(ids)


def test_jsonld_reads_as_plain_keys_for_a_json_developer(union: Graph) -> None:
    """Links are compact IRIs under their term, texts are language maps, `id` and `type` are
    aliases (issue 13): the document still reads back as the same graph (tested above)."""
    document = json.loads(to_jsonld(union))
    nodes = {node["id"]: node for node in document["@graph"]}
    link = nodes["link:cergy-pontoise-afrique-subsaharienne"]
    assert link["type"] == "cdo:CooperationLink"
    assert link["frenchParty"] == "authority:ca-cergy-pontoise"
    assert link["foreignPartner"] == "authority:porto-novo"
    assert link["prefLabel"]["fr"] == "Cergy-Pontoise — Afrique subsaharienne"
    assert link["startYear"] == 1995 and link["inSurveyTable"] is True
    law = nodes["legal-text:loi-1992-02-06"]
    assert law["date_document"] == "1992-02-06"
    assert set(law["title"]) == {"fr"}


def test_the_context_defines_a_term_for_every_property_of_the_data(data: Graph) -> None:
    context = context_document()["@context"]
    assert (context["id"], context["type"]) == ("@id", "@type")
    names = prefixes()
    terms = {name: d for name, d in context.items() if isinstance(d, dict)}
    assert not set(terms) & set(names), "a term named like a prefix would shadow it"

    def expand(curie: str) -> str:
        prefix, _, local = curie.partition(":")
        return names[prefix] + local

    by_property = {expand(d["@id"]): d for d in terms.values()}
    for predicate in set(data.predicates()) - {RDF.type}:
        definition = by_property.get(str(predicate))
        assert definition is not None, f"no term for {predicate}"
        objects = list(data.objects(None, predicate))
        if all(isinstance(o, URIRef) for o in objects):
            assert definition.get("@type") == "@id", predicate
        if all(getattr(o, "language", None) for o in objects):
            assert definition.get("@container") == "@language", predicate


def test_format_from_the_name_or_the_extension() -> None:
    assert format_for(None).name == "turtle"
    assert format_for(None, Path("dump.nt")).name == "ntriples"
    assert format_for(None, Path("dump.jsonld")).name == "jsonld"
    assert format_for("trig", Path("dump.ttl")).name == "trig"
    with pytest.raises(ExportError, match="unknown format 'rdfxml'"):
        format_for("rdfxml")


# ---------------------------------------------------------------- CLI


def test_cli_export_to_stdout_and_to_a_file_give_the_same_bytes(
    runner: CliRunner, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01: same date in both runs
    root = ["--root", str(project.root)]
    printed = runner.invoke(app, [*root, "export", "--format", "ntriples"])
    assert printed.exit_code == 0, printed.stderr
    target = tmp_path / "coopdec-kg.nt"
    written = runner.invoke(app, [*root, "export", "-o", str(target)])
    assert written.exit_code == 0, written.stderr
    assert target.read_bytes() == printed.stdout_bytes
    assert "Wrote" in written.stderr and written.stdout == ""


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--format", "rdfxml"], "unknown format"),
        (["-o", "{tmp}/missing/dump.ttl"], "no such folder"),
        (["-o", "{tmp}"], "is a folder"),
    ],
)
def test_cli_export_user_errors_exit_2(
    runner: CliRunner, project: Project, tmp_path: Path, arguments: list[str], message: str
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in arguments]
    result = runner.invoke(app, ["--root", str(project.root), "export", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores folder modes")
def test_cli_export_into_an_unwritable_folder_exits_2(
    runner: CliRunner, project: Project, tmp_path: Path
) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        result = runner.invoke(
            app, ["--root", str(project.root), "export", "-o", str(folder / "d.ttl")]
        )
    finally:
        folder.chmod(0o700)
    assert result.exit_code == 2
    assert "cannot write" in result.stderr


# ---------------------------------------------------------------- atomic writes


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "dump.ttl"
    target.write_bytes(b"previous good dump\n")

    def broken_fsync(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files_module.os, "fsync", broken_fsync)
    with pytest.raises(ExportError, match="No space left"):
        write_atomic(target, b"x" * 100_000)
    assert target.read_bytes() == b"previous good dump\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dump.ttl"]


def test_an_unserialisable_graph_writes_nothing(tmp_path: Path, project: Project) -> None:
    content = tmp_path / "content"
    for folder in ("ontology", "data", "queries"):
        shutil.copytree(project.root / folder, content / folder)
    # A literal subject is accepted by rdflib's Turtle parser but cannot be written back.
    (content / "data" / "zz-bad.ttl").write_text('"not a subject" <https://e.org/p> "x" .\n')
    target = tmp_path / "dump.ttl"
    target.write_bytes(b"previous good dump\n")
    with pytest.raises(ExportError, match="literal"):
        export(Project.at(content), "turtle", target, DAY)
    assert target.read_bytes() == b"previous good dump\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "dump.ttl"]


def test_a_new_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    target = tmp_path / "dump.nt"
    write_atomic(target, b"")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


# ---------------------------------------------------------------- JSON-LD framed around one kind


@pytest.fixture(scope="module")
def graph_only(project: Project) -> Graph:
    from coopdec_kg.content.graph import load_graph

    return load_graph(project)


@pytest.mark.parametrize("kind", sorted(frames()))
def test_each_frame_says_only_what_the_graph_says(graph_only: Graph, kind: str) -> None:
    """A framed document reads back as triples of the graph (embedded and reverse nodes too)."""
    payload = to_framed_jsonld(graph_only, kind)
    assert to_framed_jsonld(graph_only, kind) == payload  # byte-stable
    framed = Graph().parse(data=payload, format="json-ld")
    assert len(framed) > 0
    ground = {t for t in framed if not any(isinstance(term, BNode) for term in t)}
    assert ground <= set(graph_only), sorted(ground - set(graph_only))[:3]


def test_groupings_frame_lists_each_grouping_with_its_links(graph_only: Graph) -> None:
    document = json.loads(to_framed_jsonld(graph_only, "groupings"))
    assert document["@context"][1]["links"] == {"@reverse": "cdo:frenchParty", "@type": "@id"}
    nodes = {node["id"]: node for node in document["@graph"]}
    grouping_types = {
        URIRef(f"https://w3id.org/coopdec-kg/ontology#{n}")
        for n in ("AgglomerationCommunity", "NewTownSyndicate")
    }
    groupings = {s for t in grouping_types for s in graph_only.subjects(RDF.type, t)}
    assert len(nodes) == len(groupings)
    sicoval = nodes["authority:ca-sicoval"]
    assert sorted(link["id"] for link in sicoval["links"]) == [
        "link:sicoval-afrique-subsaharienne-1",
        "link:sicoval-afrique-subsaharienne-2",
    ]
    cergy = nodes["authority:ca-cergy-pontoise"]
    partner = cergy["links"][0]["foreignPartner"]
    assert partner["id"] == "authority:porto-novo" and partner["prefLabel"]["fr"] == "Porto-Novo"


def test_cli_export_frame(runner: CliRunner, project: Project, tmp_path: Path) -> None:
    root = ["--root", str(project.root)]
    out = tmp_path / "links.jsonld"
    ok = runner.invoke(app, [*root, "export", "--frame", "links", "-o", str(out)])
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["@graph"]
    for options, message in [
        (["--frame", "nope"], "unknown frame 'nope'"),
        (["--frame", "links", "--format", "turtle"], "--frame"),
    ]:
        result = runner.invoke(app, [*root, "export", *options])
        assert result.exit_code == 2 and message in result.stderr, options
