"""The persistent pyoxigraph store.

It is reopened when fresh, rebuilt on change, never trusted half-built, and answers every named
query exactly as the rdflib reference engine does.
"""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.term import Identifier
from typer.testing import CliRunner

from coopdec_kg.cli import app
from coopdec_kg.content import locks
from coopdec_kg.content.project import Project
from coopdec_kg.engines import store
from coopdec_kg.engines.queries import NamedQuery, load_queries, run, run_on_store
from coopdec_kg.engines.results import QueryResult, to_csv
from coopdec_kg.errors import ContentError, RdfSyntaxError, StoreError

# Sample values for the queries that require a parameter (the report's best-documented CA).
REQUIRED_VALUES = {
    "ca": "authority:ca-cergy-pontoise",
    "text": "Sénart",
    "country": "country:MRT",
}


@pytest.fixture
def content(tmp_path: Path, project: Project) -> Project:
    """A private copy of the content folder, free to edit."""
    root = tmp_path / "content"
    for name in ("ontology", "data", "queries"):
        shutil.copytree(project.root / name, root / name)
    return Project.at(root)


def values_for(query: NamedQuery) -> dict[str, str]:
    return {p.name: REQUIRED_VALUES[p.name] for p in query.parameters if p.required}


def comparable(result: QueryResult) -> list[list[object]]:
    """Rows by value: oxigraph writes 200000 where rdflib writes 200000.0 for the same decimal."""

    def value(term: Identifier | None) -> object:
        return None if term is None else term.toPython()

    return [[value(term) for term in row] for row in result.rows]


def test_store_is_reopened_while_content_is_unchanged(content: Project, tmp_path: Path) -> None:
    location = tmp_path / "store"
    _, first = store.open_current(content, location)
    _, second = store.open_current(content, location)
    assert first.rebuilt and not second.rebuilt
    assert first.fingerprint == second.fingerprint


def test_store_is_rebuilt_when_a_data_file_changes(content: Project, tmp_path: Path) -> None:
    location = tmp_path / "store"
    _, before = store.open_current(content, location)
    extra = content.data_dir / "zz-extra.ttl"
    extra.write_text(
        "<https://w3id.org/coopdec-kg/id/authority/x> "
        "<http://www.w3.org/2004/02/skos/core#prefLabel> 'X'@fr .\n",
        encoding="utf-8",
    )
    opened, after = store.open_current(content, location)
    assert after.rebuilt and after.fingerprint != before.fingerprint
    assert len(opened) == sum(1 for _ in store.open_current(content, location)[0])
    assert before.path.is_dir(), "kept while a process that opened it (this one) runs"
    locks.release_read_lock(before.path)  # as if that process had ended
    store.open_current(content, location)
    assert not before.path.exists(), "then the stale store is removed"


def test_unchanged_files_are_not_read_again(
    content: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fingerprint is recalled while sizes, times and inodes are those recorded; a touch
    has the files hashed once (no rebuild), then recalled again."""
    location = tmp_path / "store"
    _, built = store.open_current(content, location)
    hashed: list[int] = []
    hashing = store.fingerprint

    def counted(files: object) -> str:
        hashed.append(1)
        return hashing(files)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "fingerprint", counted)
    _, again = store.open_current(content, location)
    assert hashed == [] and again.path == built.path and not again.rebuilt
    os.utime(content.ontology_file)  # touched: same bytes
    _, touched = store.open_current(content, location)
    assert hashed == [1] and touched.path == built.path and not touched.rebuilt
    store.open_current(content, location)
    assert hashed == [1], "the new stats were recorded"


def test_an_edit_that_keeps_size_and_time_is_still_seen(content: Project, tmp_path: Path) -> None:
    """Same size, modification time set back: the change time (which no user call sets) and
    the hash still tell."""
    location = tmp_path / "store"
    _, before = store.open_current(content, location)
    path = content.data_files[0]
    was = path.stat()
    text = path.read_bytes()
    position = text.index(b"@fr")
    path.write_bytes(text[:position] + b"@en" + text[position + 3 :])
    os.utime(path, ns=(was.st_atime_ns, was.st_mtime_ns))
    assert path.stat().st_size == was.st_size
    _, after = store.open_current(content, location)
    assert after.rebuilt and after.fingerprint != before.fingerprint


def test_a_crash_during_a_build_leaves_the_previous_store_trusted(
    content: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyoxigraph

    location = tmp_path / "store"
    _, good = store.open_current(content, location)
    (content.data_dir / "zz-new.ttl").write_text("", encoding="utf-8")

    def crash(self: pyoxigraph.Store) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pyoxigraph.Store, "optimize", crash)
    with pytest.raises(StoreError, match="disk full"):
        store.build(content, (), location)
    assert sorted(p.name for p in location.iterdir()) == [store.POINTER, good.path.name]
    assert '"fingerprint": "' + good.fingerprint in (location / store.POINTER).read_text()
    monkeypatch.undo()
    rebuilt = store.build(content, (), location)
    assert rebuilt.fingerprint != good.fingerprint


def test_extra_files_are_kept_by_later_opens(content: Project, tmp_path: Path) -> None:
    location = tmp_path / "store"
    atlas = tmp_path / "extra.nt"
    atlas.write_text(
        "<https://w3id.org/coopdec-kg/synthetic/a> "
        '<http://www.w3.org/2004/02/skos/core#prefLabel> "A"@fr .\n',
        encoding="utf-8",
    )
    built = store.build(content, [atlas], location)
    _, reopened = store.open_current(content, location)
    assert not reopened.rebuilt
    assert reopened.files == built.files and atlas.resolve() in reopened.files


def write_label(path: Path, name: str) -> None:
    path.write_text(
        f"<https://w3id.org/coopdec-kg/synthetic/{name}> "
        f'<http://www.w3.org/2004/02/skos/core#prefLabel> "{name}"@fr .\n',
        encoding="utf-8",
    )


def test_an_extra_folder_stands_for_its_rdf_files_read_again_when_they_change(
    content: Project, tmp_path: Path
) -> None:
    location, folder = tmp_path / "store", tmp_path / "atlas"
    folder.mkdir()
    for name in ("a", "b", "c"):
        write_label(folder / f"{name}.nt", name)
    (folder / "violations.json").write_text("[]\n", encoding="utf-8")
    built = store.build(content, [folder], location)
    parts = [folder / f"{name}.nt" for name in ("a", "b", "c")]
    assert built.files[-3:] == tuple(parts), "only the RDF files, by name"
    opened, _ = store.open_current(content, location)
    alone, _ = store.open_current(content, tmp_path / "without")
    assert len(opened) == len(alone) + 3, "every file loaded, on several threads"
    assert store.extra_files(content, location) == tuple(parts)

    write_label(folder / "d.nt", "d")
    opened, reopened = store.open_current(content, location)
    assert reopened.rebuilt and len(opened) == len(alone) + 4


def test_a_syntax_error_in_one_of_several_files_leaves_the_previous_store_trusted(
    content: Project, tmp_path: Path
) -> None:
    location, folder = tmp_path / "store", tmp_path / "atlas"
    folder.mkdir()
    for name in ("a", "b"):
        write_label(folder / f"{name}.nt", name)
    good = store.build(content, [folder], location)
    (folder / "b.nt").write_text("<https://w3id.org/broken> .\n", encoding="utf-8")
    with pytest.raises(RdfSyntaxError, match=r"b\.nt"):
        store.build(content, [folder], location)
    assert '"fingerprint": "' + good.fingerprint in (location / store.POINTER).read_text()
    assert sorted(p.name for p in location.iterdir()) == [store.POINTER, good.path.name], (
        "the half-built store is removed"
    )


def test_an_extra_folder_without_rdf_files_is_refused(
    runner: CliRunner, content: Project, tmp_path: Path
) -> None:
    (tmp_path / "atlas").mkdir()
    (tmp_path / "atlas" / "violations.json").write_text("[]\n", encoding="utf-8")
    result = runner.invoke(
        app, ["--root", str(content.root), "build", "--extra", str(tmp_path / "atlas")]
    )
    assert result.exit_code == 2
    assert "no RDF file (.ttl, .nt, .nq, .trig) in this folder" in result.stderr


def test_unknown_extra_file_kind_is_refused(content: Project, tmp_path: Path) -> None:
    odd = tmp_path / "extra.csv"
    odd.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"cannot load \.csv"):
        store.build(content, [odd], tmp_path / "store")


def test_every_named_query_answers_the_same_on_store_and_rdflib(
    project: Project, graph: Graph, tmp_path: Path
) -> None:
    opened, _ = store.open_current(project, tmp_path / "store")
    named = load_queries(project)
    assert len(named) >= 16
    for query in named:
        values = values_for(query)
        on_store, reference = run_on_store(opened, query, values), run(graph, query, values)
        assert on_store.variables == reference.variables, query.name
        assert comparable(on_store) == comparable(reference), query.name
        # no value of today's graph looks like a formula: the CSV for people is the W3C CSV
        for answer in (on_store, reference):
            assert to_csv(answer, guarded=True) == to_csv(answer), query.name


def test_a_store_query_leaves_the_cycle_collector_as_it_found_it(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The collector is paused while an answer is built (a speed-up), never left off after."""
    opened, _ = store.open_current(project, tmp_path / "store")
    query = next(q for q in load_queries(project) if q.name == "actions-by-domain")
    seen: list[bool] = []
    building = store.solutions

    def spying_solutions(*args: object) -> object:
        seen.append(gc.isenabled())
        return building(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "solutions", spying_solutions)
    assert gc.isenabled()
    # the report's 70 actions: 46 filed under a domain, 3 of them under two (issue 13: 24 have none)
    assert len(run_on_store(opened, query)) == 49
    assert seen == [False] and gc.isenabled()

    def failing_solutions(*args: object) -> object:
        raise RuntimeError("the engine failed")

    monkeypatch.setattr(store, "solutions", failing_solutions)
    with pytest.raises(RuntimeError):
        run_on_store(opened, query)
    assert gc.isenabled()
    gc.disable()
    try:
        monkeypatch.setattr(store, "solutions", building)
        run_on_store(opened, query)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("ca-by-level", {"level": "engagement-level:cooperation-avancee"}),
        ("partner-countries", {"area": "world-area:asie"}),
        ("actions-by-domain", {"domain": "domain:amenagement-de-l-espace"}),
        ("actions-by-domain", {"domain": "domain:eau"}),
        ("actions-of-ca", {"ca": "authority:ca-evry-centre-essonne"}),
        ("search", {"text": "cergy"}),
    ],
)
def test_optional_parameters_answer_the_same_on_store_and_rdflib(
    project: Project, graph: Graph, tmp_path: Path, name: str, values: dict[str, str]
) -> None:
    opened, _ = store.open_current(project, tmp_path / "store")
    query = next(q for q in load_queries(project) if q.name == name)
    on_store, reference = run_on_store(opened, query, values), run(graph, query, values)
    assert reference.rows, "the example should have an answer"
    assert comparable(on_store) == comparable(reference)


def test_cli_query_uses_the_store_with_its_extra_files(
    runner: CliRunner, content: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(store.STORE_VARIABLE, str(tmp_path / "store"))
    root = ["--root", str(content.root)]
    synth = runner.invoke(app, [*root, "synth", "-o", str(tmp_path), "--scale", "0.002"])
    assert synth.exit_code == 0, synth.stderr
    built = runner.invoke(app, [*root, "build", "--extra", str(tmp_path)])  # synth's folder
    assert built.exit_code == 0, built.stderr

    answers = {}
    for engine in ("store", "rdflib"):
        result = runner.invoke(
            app, [*root, "query", "ca-by-level", "--engine", engine, "--format", "csv"]
        )
        assert result.exit_code == 0, result.stderr
        answers[engine] = sorted(result.stdout.splitlines())
    assert answers["store"] == answers["rdflib"]
    assert any("/synthetic/" in line for line in answers["store"]), "the atlas is queried"


def test_cli_says_before_it_builds_or_rebuilds_the_store(
    runner: CliRunner, content: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild at national scale takes seconds: the query says why before it waits."""
    monkeypatch.setenv(store.STORE_VARIABLE, str(tmp_path / "store"))
    query = ["--root", str(content.root), "query", "engagement-levels"]
    files = len(store.source_files(content))
    first = runner.invoke(app, query)
    assert first.exit_code == 0, first.stderr
    assert first.stderr.splitlines() == [
        f"No store yet: building the store from {files} files…",
        "6 rows",
    ]
    assert runner.invoke(app, query).stderr.splitlines() == ["6 rows"]
    write_label(content.data_dir / "zz-new.ttl", "nouvelle-donnee")
    changed = runner.invoke(app, query)
    assert changed.stderr.splitlines() == [
        f"The content changed since the last build: building the store from {files + 1} files…",
        "6 rows",
    ]
