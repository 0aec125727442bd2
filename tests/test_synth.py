"""The synthetic atlas: deterministic, in its own namespace, sized by --scale, never in data/."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS
from typer.testing import CliRunner

from coopdec_kg.cli import app
from coopdec_kg.content.project import Project
from coopdec_kg.content.synth import PLANTABLE, SIZES, SYNTH, write_atlas
from coopdec_kg.errors import ExportError


def generate(runner: CliRunner, out: Path, *options: str) -> None:
    result = runner.invoke(app, ["synth", "-o", str(out), *options])
    assert result.exit_code == 0, result.stderr


def test_same_seed_same_bytes_other_seed_other_atlas(runner: CliRunner, tmp_path: Path) -> None:
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        (tmp_path / name).mkdir()
        generate(runner, tmp_path / name, "--scale", "0.002", "--seed", seed)
    first, again, other = ((tmp_path / n / "atlas-001.ttl").read_bytes() for n in "abc")
    assert first == again
    assert first != other


def test_atlas_is_synthetic_sized_and_sourced(
    runner: CliRunner, tmp_path: Path, graph: Graph
) -> None:
    generate(runner, tmp_path, "--scale", "0.004")
    atlas = Graph().parse(tmp_path / "atlas-001.ttl")
    subjects = {s for s in atlas.subjects() if isinstance(s, URIRef)}
    assert all(str(s).startswith(SYNTH) for s in subjects)
    assert not subjects & set(graph.subjects()), "no synthetic node collides with the report's"
    atlas_source = URIRef(SYNTH + "atlas")
    assert all((s, DCTERMS.source, atlas_source) in atlas for s in subjects if s != atlas_source)
    communes = {
        s
        for s in subjects
        if (s, None, URIRef("https://w3id.org/coopdec-kg/ontology#Commune")) in atlas
    }
    assert len(communes) == round(SIZES["communes"] * 0.004)


def test_planted_violations_are_listed(runner: CliRunner, tmp_path: Path) -> None:
    generate(runner, tmp_path, "--scale", "0.002", "--violations", str(len(PLANTABLE)))
    listed = (tmp_path / "violations.json").read_text(encoding="utf-8")
    atlas = (tmp_path / "atlas-001.ttl").read_text(encoding="utf-8")
    for rule in PLANTABLE:
        assert f'"rule": "{rule}"' in listed
    assert atlas.count("synth:violation-") >= len(PLANTABLE)


def test_synthetic_data_never_enters_data(project: Project, graph: Graph) -> None:
    with pytest.raises(ExportError, match="never enters data"):
        write_atlas(project, graph, project.data_dir, 0.001, 1, 0)


def test_the_output_folder_is_created_when_its_parent_exists(
    runner: CliRunner, tmp_path: Path
) -> None:
    """As README's `synth -o atlas/` on a fresh checkout."""
    made = runner.invoke(app, ["synth", "-o", str(tmp_path / "atlas"), "--scale", "0.001"])
    assert made.exit_code == 0, made.stderr
    assert (tmp_path / "atlas" / "atlas-001.ttl").is_file()
    result = runner.invoke(app, ["synth", "-o", str(tmp_path / "nowhere" / "atlas")])
    assert result.exit_code == 2
    assert "no such folder" in result.stderr


def test_a_large_atlas_is_written_in_whole_turtle_parts(
    project: Project, graph: Graph, tmp_path: Path
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "parts").mkdir()
    whole = write_atlas(project, graph, tmp_path / "one", 0.002, 5, 3)
    parts = write_atlas(project, graph, tmp_path / "parts", 0.002, 5, 3, part_triples=500)
    assert [p.name for p in whole.paths] == ["atlas-001.ttl"]
    assert len(parts.paths) > 2
    assert [p.name for p in parts.paths] == [
        f"atlas-{n:03d}.ttl" for n in range(1, len(parts.paths) + 1)
    ]
    union = Graph()
    for path in parts.paths:
        union += Graph().parse(path)  # each part is a whole Turtle file, prefixes included
    assert set(union) == set(Graph().parse(whole.paths[0]))
    assert len(union) == parts.triples == whole.triples
    assert parts.violations == whole.violations


def test_parts_of_an_earlier_larger_atlas_are_removed(
    project: Project, graph: Graph, tmp_path: Path
) -> None:
    (tmp_path / "notes.ttl").write_text("", encoding="utf-8")
    write_atlas(project, graph, tmp_path, 0.002, 1, 0, part_triples=500)
    assert len(list(tmp_path.glob("atlas-*.ttl"))) > 1
    again = write_atlas(project, graph, tmp_path, 0.002, 1, 0)
    assert sorted(tmp_path.glob("atlas-*.ttl")) == again.paths
    assert (tmp_path / "notes.ttl").exists(), "only the atlas's own parts"
    assert not list(tmp_path.glob(".atlas-*")), "no temporary file left"


def test_cli_says_where_and_how_much(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", "-o", str(tmp_path), "--scale", "0.002"])
    assert result.exit_code == 0, result.stderr
    triples = len(Graph().parse(tmp_path / "atlas-001.ttl"))
    communes = round(SIZES["communes"] * 0.002)
    assert f"{tmp_path.resolve()}: 1 file, {triples} triples ({communes} communes," in result.stderr
