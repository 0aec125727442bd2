"""Answers people open in a spreadsheet never hold a formula, and still read back exact.

The rule (issue 19): a CSV cell written for people (`query` and `sparql --format csv`,
`template --format csv`) that is text and begins with `=`, `+`, `-`, `@`, a tab or a carriage
return starts with `'`; numbers and IRIs are left as they are; TSV, JSON and the protocol's
answers stay exact; XLSX writes text as text (test_tabular_import.py proves it); the import
reads `'=x` back as `=x`. `sparql --format xlsx -o` writes the workbook `query` writes.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyoxigraph
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

from conftest import REPO
from coopdec_kg.cli import app
from coopdec_kg.content.graph import SUBMISSION_NAMESPACE
from coopdec_kg.content.project import Project
from coopdec_kg.engines.results import (
    QueryResult,
    formula_guarded,
    formula_unguarded,
    render,
    to_csv,
)
from coopdec_kg.tabular.importer import import_sheet
from coopdec_kg.tabular.sheets import read_csv
from test_tabular_import import ABOMEY_LINK, content_copy, fill, run, template

XSD = "http://www.w3.org/2001/XMLSchema#"
CERGY = "https://w3id.org/coopdec-kg/id/authority/ca-cergy-pontoise"
RUNS = ("=", "+", "-", "@", "\t", "\r")


def _literal(value: str, datatype: str | None = None, lang: str | None = None) -> object:
    if lang is not None:
        return pyoxigraph.Literal(value, language=lang)
    if datatype is not None:
        return pyoxigraph.Literal(value, datatype=pyoxigraph.NamedNode(XSD + datatype))
    return pyoxigraph.Literal(value)


# ------------------------------------------------------------------ the guard


@pytest.mark.parametrize("first", RUNS)
def test_text_that_would_run_gets_an_apostrophe(first: str) -> None:
    assert formula_guarded(first + "x") == "'" + first + "x"
    assert formula_unguarded("'" + first + "x") == first + "x"


def test_other_text_is_left_as_it_is() -> None:
    for text in ("Porto-Novo", "", "'", "'apostrophe", "x=1", " =1", "1-2"):
        assert formula_guarded(text) == text
        assert formula_unguarded(text) == text


def test_text_already_beginning_with_an_apostrophe_keeps_it() -> None:
    assert formula_guarded("'=x") == "''=x"
    assert formula_unguarded("''=x") == "'=x"


@given(st.text())
def test_unguarding_gives_back_every_text(text: str) -> None:
    guarded = formula_guarded(text)
    assert formula_unguarded(guarded) == text
    assert not guarded.startswith(RUNS)


@given(st.text())
def test_a_guarded_cell_read_from_a_csv_file_is_the_text(text: str) -> None:
    """The guard survives CSV quoting, and the import's reader undoes it."""
    if not text.strip() or "\x00" in text:
        return  # an empty cell is no cell; NUL is refused as not text
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(
        [["Nom", "Autre"], [formula_guarded(text), "x"]]
    )
    sheet = read_csv(Path("x.csv"), buffer.getvalue().encode("utf-8"))
    assert sheet.rows[1][1][0] == text


def test_csv_guards_text_never_numbers_or_iris() -> None:
    cells = [
        _literal('=HYPERLINK("http://x")'),
        _literal("-solde", lang="fr"),
        _literal("-5", datatype="integer"),
        _literal("-1.5E3", datatype="double"),
        _literal("-12", datatype="gYear"),
        _literal("=1+1", datatype="integer"),  # ill-typed: text, not a number
        _literal("-P1Y", datatype="duration"),
        _literal("-5"),  # a string that looks like a number is text
        pyoxigraph.NamedNode(CERGY),
        _literal("@tab", lang="en"),
    ]
    result = QueryResult(tuple(f"v{i}" for i in range(len(cells))), [tuple(cells)])  # type: ignore[arg-type]
    (row,) = list(csv.reader(io.StringIO(to_csv(result, guarded=True))))[1:]
    assert row == [
        '\'=HYPERLINK("http://x")',
        "'-solde",
        "-5",
        "-1500.0",
        "-12",
        "'=1+1",
        "'-P1Y",
        "'-5",
        CERGY,
        "'@tab",
    ]
    assert render(result, "csv") == to_csv(result)  # the protocol's CSV stays exact
    assert "=HYPERLINK" in render(result, "csv") and "'=" not in render(result, "csv")
    assert "'" not in render(result, "tsv").replace('\\"', "")
    bindings = json.loads(render(result, "json"))["results"]["bindings"]
    assert bindings[0]["v0"]["value"] == '=HYPERLINK("http://x")'


# ------------------------------------------------------------------ the commands


HOSTILE = (
    'SELECT ?t ?n ?ca WHERE { VALUES (?t ?n ?ca) { ("=1+1" -5 authority:ca-cergy-pontoise) } }'
)


def test_query_and_sparql_csv_are_guarded_on_stdout_and_in_a_file(
    runner: CliRunner, tmp_path: Path
) -> None:
    query_file = tmp_path / "hostile.rq"
    query_file.write_text(
        "#+ summary: des cellules qui ressemblent à des formules\n"
        "#+ summary_en: cells that look like formulas\n"
        "PREFIX authority: <https://w3id.org/coopdec-kg/id/authority/>\n" + HOSTILE
    )
    expected = [["t", "n", "ca"], ["'=1+1", "-5", CERGY]]
    for command in (["sparql", HOSTILE], ["query", str(query_file)]):
        result = runner.invoke(app, ["--root", str(REPO), *command, "--format", "csv"])
        assert result.exit_code == 0, result.stderr
        assert list(csv.reader(io.StringIO(result.stdout))) == expected
        written = tmp_path / "answer.csv"
        args = ["--root", str(REPO), *command, "--format", "csv", "-o", str(written)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.stderr
        assert list(csv.reader(io.StringIO(written.read_text("utf-8")))) == expected
        result = runner.invoke(app, ["--root", str(REPO), *command, "--format", "tsv"])
        assert result.stdout.splitlines()[1].startswith('"=1+1"\t')


def test_sparql_writes_the_workbook_query_writes(runner: CliRunner, tmp_path: Path) -> None:
    """The largest amounts of the report's actions, through `sparql`, typed as `query` writes
    them: numbers as numbers, IRIs as links, labels as text, the values of the CSV answer."""
    text = (
        "SELECT ?action ?amountMax ?label WHERE { ?action cdo:amountMax ?amountMax ; "
        'skos:prefLabel ?label FILTER(LANG(?label) = "fr") } ORDER BY ?action LIMIT 5'
    )
    book = tmp_path / "amounts.xlsx"
    result = runner.invoke(
        app, ["--root", str(REPO), "sparql", text, "--format", "xlsx", "-o", str(book)]
    )
    assert result.exit_code == 0, result.stderr
    assert f"Wrote {book} (2 rows)" in result.stderr
    sheet = load_workbook(book).active
    assert [cell.value for cell in sheet[1]] == ["action", "amountMax", "label"]
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 2  # the two actions of data/actions.ttl with a largest amount
    for action, amount, label in rows:
        assert action.hyperlink.target == action.value
        assert str(action.value).startswith("https://w3id.org/coopdec-kg/")
        assert amount.data_type == "n" and isinstance(amount.value, int | float)
        assert label.data_type == "s"
    csv_result = runner.invoke(app, ["--root", str(REPO), "sparql", text, "--format", "csv"])
    for (action, amount, label), line in zip(
        rows, list(csv.reader(io.StringIO(csv_result.stdout)))[1:], strict=True
    ):
        assert [action.value, label.value] == [line[0], line[2]]
        assert float(line[1]) == amount.value


def test_sparql_xlsx_needs_a_file_and_a_select(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["--root", str(REPO), "sparql", HOSTILE, "--format", "xlsx"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: --format xlsx writes a workbook, not text: give -o FILE.xlsx"
    )
    book = str(tmp_path / "a.xlsx")
    ask = ["sparql", "ASK { ?s ?p ?o }", "--format", "xlsx", "-o", book]
    result = runner.invoke(app, ["--root", str(REPO), *ask])
    assert result.exit_code == 2 and "ASK" in result.stderr
    table = ["sparql", HOSTILE, "-o", book]
    result = runner.invoke(app, ["--root", str(REPO), *table])
    assert result.exit_code == 2 and "a table is for the terminal" in result.stderr
    assert not Path(book).exists()


def test_help_of_format_states_the_guard(runner: CliRunner) -> None:
    for command in ("query", "sparql"):
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert "never runs it as a formula" in " ".join(result.stdout.split())


def test_template_import_query_csv_import_keeps_a_text_that_looks_like_a_formula(
    runner: CliRunner, project: Project, tmp_path: Path
) -> None:
    """A new partner whose name begins with « = » (typed `'=…`, as a spreadsheet wants it)
    is imported, comes back guarded in the CSV answer, and that cell names the same partner
    when imported again."""
    content = content_copy(project, tmp_path / "content")
    blank = template(runner, content, tmp_path / "blank.csv")
    first = {**ABOMEY_LINK, "partner": "'=Ville X"}
    filled = fill(blank, tmp_path / "first.csv", {"links": [first]})
    code, stdout, stderr = run(runner, content, "import", str(filled))
    assert code == 0, stdout + stderr
    asked = ("query", "partners-of-ca", "-p", "ca=authority:ca-cergy-pontoise", "--format", "csv")
    code, answer, stderr = run(runner, content, *asked)
    assert code == 0, stderr
    (cell,) = [
        r["partnerLabel"]
        for r in csv.DictReader(io.StringIO(answer))
        if "Ville X" in r["partnerLabel"]
    ]
    assert cell == "'=Ville X"
    (partner,) = [
        r["partner"] for r in csv.DictReader(io.StringIO(answer)) if r["partnerLabel"] == cell
    ]
    assert partner.startswith(SUBMISSION_NAMESPACE)

    again = {**ABOMEY_LINK, "identifier": "encore", "partner": cell, "start_year": 2007}
    refilled = fill(blank, tmp_path / "again.csv", {"links": [again]})
    outcome = import_sheet(content, refilled, dry_run=True)
    assert outcome.submission is not None
    partners = {
        str(o) for _, p, o in outcome.submission.triples if str(p).endswith("foreignPartner")
    }
    assert partners == {partner}


def test_the_csv_template_guards_its_titles_and_import_reads_them_back() -> None:
    """No title of the shipped mapping looks like a formula; one that did would be guarded,
    and the guarded header still names its column when the sheet is read."""
    from dataclasses import replace

    from coopdec_kg.tabular.mapping import load_mapping
    from coopdec_kg.tabular.template import _csv

    links = load_mapping().table("links")
    notes = links.column("notes")
    hostile = replace(notes, titles={"fr": "=Remarques", "en": "=Notes"})
    table = replace(links, columns=tuple(hostile if c is notes else c for c in links.columns))
    today = next(csv.reader(io.StringIO(_csv(links, "fr").decode("utf-8-sig")), delimiter=";"))
    assert today == [c.title("fr") for c in links.cells]  # nothing guarded today
    written = _csv(table, "fr")
    header = next(csv.reader(io.StringIO(written.decode("utf-8-sig")), delimiter=";"))
    assert "'=Remarques" in header
    assert "=Remarques" in read_csv(Path("liens.csv"), written).rows[0][1]
