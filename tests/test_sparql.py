"""`coopdec-kg sparql`: your own read-only question, the project's prefixes declared, on both
local engines (the endpoint is exercised in test_remote.py), and `query FILE.rq`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from rdflib import Graph
from typer.testing import CliRunner

from conftest import REPO
from coopdec_kg.cli import app
from coopdec_kg.engines.adhoc import read_query
from coopdec_kg.errors import QueryError

ROOT = ["--root", str(REPO)]
AUTHORITY = "https://w3id.org/coopdec-kg/id/authority/"
# The CA the report names in group E (l. 556-557) include Cergy-Pontoise.
CERGY_NAME = (
    "SELECT ?name WHERE { authority:ca-cergy-pontoise skos:prefLabel ?name "
    'FILTER(LANG(?name) = "fr") }'
)
ENGINES = ["rdflib", "store"]


def sparql(runner: CliRunner, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, [*ROOT, "sparql", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("engine", ENGINES)
def test_a_select_uses_the_projects_prefixes_on_each_engine(runner: CliRunner, engine: str) -> None:
    code, out, err = sparql(runner, CERGY_NAME, "--engine", engine, "--format", "csv")
    assert code == 0, err
    assert list(csv.reader(io.StringIO(out))) == [["name"], ["Cergy-Pontoise"]]


@pytest.mark.parametrize("engine", ENGINES)
def test_ask_and_construct_answer_in_their_shape(runner: CliRunner, engine: str) -> None:
    ask = "ASK { authority:ca-cergy-pontoise a cdo:AgglomerationCommunity }"
    code, out, err = sparql(runner, ask, "--engine", engine, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["boolean"] is True
    construct = (
        "CONSTRUCT { ?ca skos:prefLabel ?name } WHERE { "
        "?ca a cdo:AgglomerationCommunity ; skos:prefLabel ?name }"
    )
    code, out, err = sparql(runner, construct, "--engine", engine)
    assert code == 0, err
    graph = Graph().parse(data=out, format="turtle")
    names = {str(o) for o in graph.objects()}
    assert "Cergy-Pontoise" in names and len(names) >= 40  # the CA the report names


def test_the_query_comes_from_a_file_or_stdin(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "q.rq"
    path.write_text(CERGY_NAME, encoding="utf-8")
    for args, stdin in [(["-f", str(path)], None), ([], CERGY_NAME), (["-"], CERGY_NAME)]:
        code, out, err = sparql(runner, *args, "--format", "tsv", stdin=stdin)
        assert code == 0, (args, err)
        assert out.splitlines() == ["?name", '"Cergy-Pontoise"@fr'], args


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "is an update"),
        ("DELETE WHERE { ?s ?p ?o }", "is an update"),
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
        ("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", "FROM"),
        ("SELECT WHERE {", "SPARQL syntax error"),
    ],
)
def test_updates_and_reaching_out_are_refused_in_one_line(
    runner: CliRunner, text: str, said: str
) -> None:
    code, out, err = sparql(runner, text)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and said in err, err


def test_a_query_that_declares_a_prefix_keeps_it() -> None:
    query = read_query("PREFIX skos: <urn:other#> SELECT ?s WHERE { ?s skos:x ?o }")
    assert query.form == "select"
    assert "<urn:other#>" in query.text
    assert "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>" not in query.text


def test_an_empty_query_is_an_error() -> None:
    with pytest.raises(QueryError, match="empty"):
        read_query("  \n")


def test_query_runs_a_file_with_a_header_like_a_named_query(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "mine.rq"
    path.write_text(
        "#+ summary: Le nom d'une CA\n#+ summary_en: A CA's name\n"
        '#+ params:\n#+   ca: "La CA / The CA"\n'
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "SELECT ?name WHERE { ?_ca_iri skos:prefLabel ?name }\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app, [*ROOT, "query", str(path), "-p", "ca=authority:ca-cergy-pontoise", "-f", "csv"]
    )
    assert result.exit_code == 0, result.stderr
    assert "Cergy-Pontoise" in result.stdout
