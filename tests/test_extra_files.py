"""Extra files (build --extra) are explicit: every command reading the store says so once, dumps
leave them out unless --include-extra, and `query` and `report` answer alike."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coopdec_kg.cli import app
from coopdec_kg.content.project import Project

# One synthetic CA at level A, where the report names none (report l. 296-300: 74 CA "sans
# action ni réflexion", none named).
EXTRA = """@prefix cdo: <https://w3id.org/coopdec-kg/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix synth: <https://w3id.org/coopdec-kg/synthetic/> .
@prefix engagement-level: <https://w3id.org/coopdec-kg/id/engagement-level/> .
synth:ca-extra a cdo:AgglomerationCommunity ; skos:prefLabel "CA supplémentaire"@fr ;
    cdo:engagementLevel engagement-level:pas-d-action-pas-de-reflexion .
"""
LEVEL_A = "https://w3id.org/coopdec-kg/id/engagement-level/pas-d-action-pas-de-reflexion"
NOTE = "Note: the store holds 1 extra file"


@pytest.fixture
def content(project: Project, tmp_path: Path) -> Project:
    """A content copy whose store was built with one extra file."""
    root = tmp_path / "content"
    for name in ("ontology", "data", "queries"):
        shutil.copytree(project.root / name, root / name)
    (tmp_path / "extra.ttl").write_text(EXTRA, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["--root", str(root), "build", "--extra", str(tmp_path / "extra.ttl")]
    )
    assert result.exit_code == 0, result.stderr
    return Project.at(root)


def cli(content: Project, *args: str, code: int = 0) -> tuple[str, str]:
    result = CliRunner().invoke(app, ["--root", str(content.root), *args])
    assert result.exit_code == code, result.stderr
    return result.stdout, result.stderr


def named_at_level_a(csv_text: str) -> str:
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    return next(row["namedCount"] for row in rows if row["level"] == LEVEL_A)


@pytest.mark.parametrize("engine", ["store", "rdflib"])
def test_query_and_report_give_the_same_answer(content: Project, engine: str) -> None:
    answer, note = cli(content, "query", "engagement-levels", "-f", "csv", "--engine", engine)
    assert named_at_level_a(answer) == "1"
    assert note.count(NOTE) == 1 and "build` without --extra drops them" in note
    report, note = cli(content, "report", "--engine", engine)
    row = next(line for line in report.splitlines() if line.startswith("| A |"))
    assert row.rstrip().endswith("| 74 | 1 |")
    assert note.count(NOTE) == 1


def test_dumps_leave_extra_files_out_unless_asked(content: Project) -> None:
    dump, note = cli(content, "export", "-f", "ntriples")
    assert "synthetic/ca-extra" not in dump
    assert note.count(NOTE) == 1 and "--include-extra adds them" in note
    everything, note = cli(content, "export", "-f", "ntriples", "--include-extra")
    assert "<https://w3id.org/coopdec-kg/synthetic/ca-extra>" in everything
    assert note.count(NOTE) == 1 and "this includes them" in note


def test_validate_says_so_and_build_without_extra_drops_them(content: Project) -> None:
    # the synthetic CA cites no source: the content it is part of has violations
    report, note = cli(content, "validate", "--all", "--lang", "en", code=1)
    assert note.count(NOTE) == 1 and "synthetic/ca-extra" in report
    cli(content, "build")
    answer, note = cli(content, "query", "engagement-levels", "-f", "csv")
    assert named_at_level_a(answer) == "0"
    assert "extra file" not in note
