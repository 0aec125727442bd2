"""The `queries` and `query` commands: what goes to stdout and stderr, and the exit codes."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from rdflib.query import Result
from typer.testing import CliRunner

from conftest import REPO
from coopdec_kg.cli import app
from coopdec_kg.content.project import Project

ROOT = ["--root", str(REPO)]


def test_queries_lists_every_query(runner: CliRunner, project: Project) -> None:
    result = runner.invoke(app, [*ROOT, "queries"])
    assert result.exit_code == 0, result.stderr
    for path in project.query_files:
        assert path.stem in result.stdout
    assert "ca (iri, required)" in result.stdout


def test_queries_as_json(runner: CliRunner, project: Project) -> None:
    result = runner.invoke(app, [*ROOT, "queries", "--format", "json"])
    assert result.exit_code == 0
    listing = {item["name"]: item for item in json.loads(result.stdout)}
    assert set(listing) == {path.stem for path in project.query_files}
    partners = listing["partners-of-ca"]
    assert partners["summary"] and partners["summary_en"]
    assert partners["parameters"] == [
        {
            "name": "ca",
            "type": "iri",
            "required": True,
            "description": partners["parameters"][0]["description"],
        }
    ]
    assert "level" in [p["name"] for p in listing["ca-by-level"]["parameters"]]
    assert len(listing["ca-by-level"]["parameters"][0]["choices"]) == 6


def test_query_prints_a_table_and_counts_rows_on_stderr(runner: CliRunner) -> None:
    result = runner.invoke(app, [*ROOT, "query", "engagement-levels"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert "CA according to the report" in result.stdout and "74" in result.stdout
    assert "statedCount" not in result.stdout and "engagement-level:" not in result.stdout
    assert result.stderr.splitlines()[-1] == "6 rows"  # after a note if the store was built


def test_query_json_is_sparql_results_json(runner: CliRunner) -> None:
    result = runner.invoke(app, [*ROOT, "query", "engagement-levels", "-f", "json"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["head"]["vars"][:2] == ["level", "label"]
    counts = [row["statedCount"]["value"] for row in document["results"]["bindings"]]
    assert counts == ["74", "12", "18", "14", "8", "5"]  # report l. 318, 377, 389, 442, 556, 562
    parsed = Result.parse(io.BytesIO(result.stdout.encode()), format="json")
    assert len(parsed) == 6


def test_query_csv_and_tsv(runner: CliRunner) -> None:
    args = [*ROOT, "query", "partners-of-ca", "-p", "ca=authority:ca-cergy-pontoise"]
    as_csv = runner.invoke(app, [*args, "--format", "csv"])
    assert as_csv.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout, newline="")))
    assert {"partner": "https://w3id.org/coopdec-kg/id/authority/porto-novo"}.items() <= rows[
        0
    ].items()
    as_tsv = runner.invoke(app, [*args, "--format", "tsv"])
    assert as_tsv.exit_code == 0
    parsed = Result.parse(io.BytesIO(as_tsv.stdout.encode()), format="tsv")
    assert len(parsed) == len(rows)


def test_limit_and_offset_page_through_the_answer_in_its_order(runner: CliRunner) -> None:
    whole = runner.invoke(app, [*ROOT, "query", "engagement-levels", "-f", "csv"])
    paged = runner.invoke(
        app, [*ROOT, "query", "engagement-levels", "-f", "csv", "--offset", "1", "--limit", "2"]
    )
    assert paged.exit_code == 0, paged.stderr
    rows = list(csv.DictReader(io.StringIO(paged.stdout, newline="")))
    assert [row["statedCount"] for row in rows] == ["12", "18"]  # report l. 377, 389
    assert paged.stdout.splitlines() == [whole.stdout.splitlines()[i] for i in (0, 2, 3)]


def test_a_page_past_the_end_is_an_empty_answer(runner: CliRunner) -> None:
    args = [*ROOT, "query", "engagement-levels", "--offset", "6"]
    as_json = runner.invoke(app, [*args, "-f", "json"])
    assert as_json.exit_code == 0
    assert len(Result.parse(io.BytesIO(as_json.stdout.encode()), format="json")) == 0
    as_table = runner.invoke(app, args)
    assert as_table.stderr.strip() == "no row after the first 6: the answer has 6"


def test_a_table_shows_the_first_rows_of_a_long_answer_and_says_so(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("coopdec_kg.cli.query_commands.TABLE_ROWS", 4)
    wide = {"COLUMNS": "200"}  # one line per row
    cut = runner.invoke(app, [*ROOT, "query", "engagement-levels", "--lang", "fr"], env=wide)
    assert cut.exit_code == 0
    assert "Coopération décentralisée naissante" in cut.stdout  # the 4th level, report l. 442
    assert "avancée" not in cut.stdout
    assert cut.stderr.startswith("lignes 1 à 4 sur 6 (un tableau en montre 4 : --limit et")
    asked = runner.invoke(app, [*ROOT, "query", "engagement-levels", "--limit", "6"], env=wide)
    assert "Advanced" in asked.stdout and asked.stderr.strip() == "6 rows"
    whole_csv = runner.invoke(app, [*ROOT, "query", "engagement-levels", "-f", "csv"])
    assert len(whole_csv.stdout.splitlines()) == 1 + 6


@pytest.mark.parametrize("option", [["--limit", "0"], ["--offset", "-1"], ["--limit", "x"]])
def test_a_bad_limit_or_offset_is_a_usage_error(runner: CliRunner, option: list[str]) -> None:
    result = runner.invoke(app, [*ROOT, "query", "engagement-levels", *option])
    assert result.exit_code == 2
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "engagement-level"], "did you mean engagement-levels"),
        (["query", "partners-of-ca"], "needs -p ca=VALUE"),
        (["query", "engagement-levels", "-p", "level=x"], "has no parameter 'level'"),
        (["query", "partners-of-ca", "-p", 'ca=x" } ; DROP ALL #'], "is not an IRI"),
        (["query", "partners-of-ca", "-p", "ca=unknown:thing"], "unknown prefix"),
        (["query", "partners-of-ca", "-p", "authority:ca-cergy-pontoise"], "KEY=VALUE"),
        (["query", "ca-by-level", "-p", "level=authority:ca-cergy-pontoise"], "must be one of"),
    ],
)
def test_user_errors_exit_2_with_one_line_on_stderr(
    runner: CliRunner, args: list[str], message: str
) -> None:
    result = runner.invoke(app, [*ROOT, *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_unknown_format_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(app, [*ROOT, "query", "engagement-levels", "-f", "xml"])
    assert result.exit_code == 2


def test_a_broken_query_file_is_named(runner: CliRunner, tmp_path: Path) -> None:
    for folder in ("ontology", "data", "queries"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    (tmp_path / "queries" / "broken.rq").write_text(
        "#+ summary: x\n#+ summary_en: x\n#+ colour: red\nSELECT ?s WHERE { ?s ?p ?o }\n",
        encoding="utf-8",
    )
    listing = runner.invoke(app, ["--root", str(tmp_path), "queries"])
    assert listing.exit_code == 2
    assert "broken.rq" in listing.stderr and "colour" in listing.stderr
    running = runner.invoke(app, ["--root", str(tmp_path), "query", "broken"])
    assert running.exit_code == 2
    fine = runner.invoke(app, ["--root", str(tmp_path), "query", "stakes", "-f", "csv"])
    assert fine.exit_code == 0


def test_shell_completion_of_query_names(runner: CliRunner) -> None:
    """What bash gets back for `coopdec-kg --root DIR query partner<TAB>`."""
    words = f"coopdec-kg --root {REPO} query partner"
    result = runner.invoke(
        app,
        [],
        prog_name="coopdec-kg",
        env={"_COOPDEC_KG_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": "4"},
    )
    assert result.exit_code == 0
    assert result.stdout.split() == ["partner-countries", "partners-of-ca"]
