"""Tables for people (publish/tables): titles in the reader's language, names instead of IRIs,
codes in words, numbers with the language's separators; the machine formats never change."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD
from typer.testing import CliRunner

from conftest import REPO
from coopdec_kg.cli import app
from coopdec_kg.content.namespaces import prefixes
from coopdec_kg.content.project import Project
from coopdec_kg.engines.engine import OnGraph, OnStore
from coopdec_kg.engines.queries import ColumnHeader, load_queries
from coopdec_kg.engines.results import QueryResult
from coopdec_kg.engines.store import load_in_memory, source_files
from coopdec_kg.publish.tables import lay_out, lay_out_pivot, number

AUTHORITY = "https://w3id.org/coopdec-kg/id/authority/"
PARAMETERS = {
    "partners-of-ca": {"ca": "authority:ca-cergy-pontoise"},
    "actions-of-ca": {"ca": "authority:ca-cergy-pontoise"},
    "search": {"text": "sénart"},
    "links-of-country": {"country": "country:MRT"},
}
CURIE = re.compile(rf"(?:{'|'.join(re.escape(p) for p in prefixes())}):\S*")  # a whole cell


@pytest.fixture(scope="module")
def on_store(project: Project) -> OnStore:
    """The store engine in memory: rdflib took minutes for every query's names in two languages,
    and test_store already proves both engines give the same answers."""
    return OnStore(load_in_memory(source_files(project)))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_named_query_reads_without_an_iri_or_a_variable_name(
    project: Project, on_store: OnStore, lang: str
) -> None:
    """The issue's test: an analyst, French- or English-speaking, reads every table."""
    engine = on_store
    for query in load_queries(project):
        result = engine.named(query, PARAMETERS.get(query.name, {}))
        layout = lay_out(result, query.headers, lang, engine.select)
        titles = [column.title for column in layout.columns]
        assert not set(titles) & set(query.columns), (query.name, titles)
        for row in layout.rows:
            for cell in row:
                assert not cell.startswith(("http://", "https://")), (query.name, cell)
                assert not CURIE.fullmatch(cell), (query.name, cell)


def test_names_come_in_the_readers_language(graph: Graph, project: Project) -> None:
    engine = OnGraph(graph)
    query = next(q for q in load_queries(project) if q.name == "engagement-levels")
    result = engine.named(query, {})
    french = lay_out(result, query.headers, "fr", engine.select)
    english = lay_out(result, query.headers, "en", engine.select)
    assert french.columns[0].title == "Niveau"
    assert english.columns[0].title == "Level"
    assert french.rows[0][0] == "Pas d'action, pas de réflexion"  # report l. 318
    assert english.rows[0][0] == "No action, no reflection"
    with_iris = lay_out(result, query.headers, "en", engine.select, iris=True)
    assert with_iris.columns[0].title == "Level (IRI)"
    assert with_iris.rows[0][0] == "engagement-level:pas-d-action-pas-de-reflexion"


def test_codes_booleans_and_numbers_are_words_of_the_language() -> None:
    headers = {
        "status": ColumnHeader(
            "status",
            {"fr": "Statut", "en": "Status"},
            values={"within": {"fr": "dedans", "en": "in"}},
        ),
        "agrees": ColumnHeader("agrees", {"fr": "Concorde", "en": "Agrees"}),
        "n": ColumnHeader("n", {"fr": "Nombre", "en": "Number"}),
        "line": ColumnHeader("line", {"fr": "Ligne", "en": "Line"}, plain=True),
    }
    result = QueryResult(
        ("status", "agrees", "n", "line"),
        (
            (
                Literal("within"),
                Literal(True),
                Literal("14885", datatype=XSD.integer),
                Literal("1196", datatype=XSD.integer),
            ),
            (Literal("other"), Literal(False), Literal("1.80", datatype=XSD.decimal), None),
        ),
    )
    fr = lay_out(result, headers, "fr", _no_lookup)
    en = lay_out(result, headers, "en", _no_lookup)
    assert fr.rows == (("dedans", "oui", "14\u00a0885", "1196"), ("other", "non", "1,8", ""))
    assert en.rows == (("in", "yes", "14,885", "1196"), ("other", "no", "1.8", ""))
    assert [c.numeric for c in fr.columns] == [False, False, True, True]


def test_a_query_without_titles_shows_its_variables_and_names(graph: Graph) -> None:
    engine = OnGraph(graph)
    result = engine.select(
        "SELECT ?ca ?n WHERE { VALUES (?ca ?n) "
        f"{{ (<{AUTHORITY}ca-cergy-pontoise> 2) (<{AUTHORITY}no-such-thing> 3) }} }}"
    )
    layout = lay_out(result, {}, "fr", engine.select)
    assert [c.title for c in layout.columns] == ["ca", "n"]
    assert layout.rows[0][0] == "Cergy-Pontoise"  # report l. 1730
    assert layout.rows[1][0] == "authority:no-such-thing"  # no name: its CURIE


def test_a_name_in_another_language_is_read_from_the_graph(graph: Graph) -> None:
    engine = OnGraph(graph)
    headers = {
        "level": ColumnHeader("level", {"fr": "Niveau", "en": "Level"}),
        "label": ColumnHeader("label", {"fr": "Niveau", "en": "Level"}, of="level"),
    }
    level = URIRef("https://w3id.org/coopdec-kg/id/engagement-level/cooperation-avancee")
    result = QueryResult(("level", "label"), ((level, Literal("as the query says", lang="fr")),))
    assert lay_out(result, headers, "fr", engine.select).rows == (("as the query says",),)
    english = lay_out(result, headers, "en", engine.select).rows[0][0]
    assert english == "Advanced decentralised cooperation"


def _no_lookup(text: str) -> QueryResult:
    return QueryResult(("s", "p", "o"), ())


@given(st.decimals(allow_nan=False, allow_infinity=False, places=3), st.sampled_from(["fr", "en"]))
def test_numbers_read_back_to_their_value(value: Decimal, lang: str) -> None:
    shown = number(str(value), lang)
    thousands, point = ("\u00a0", ",") if lang == "fr" else (",", ".")
    assert Decimal(shown.replace(thousands, "").replace(point, ".")) == value
    whole = shown.lstrip("-").split(point)[0]
    assert all(len(group) == 3 for group in whole.split(thousands)[1:])


def test_a_form_that_is_not_a_number_is_kept() -> None:
    assert number("INF", "fr") == "INF" and number("n/a", "en") == "n/a"


def test_links_by_area_pivots_to_the_reports_table_with_its_totals(
    graph: Graph, project: Project, report_lines: list[str]
) -> None:
    """Areas × levels, as the report prints « Aires d'intervention » (its `Total :` lines)."""
    from test_queries_golden import TOTAL_LINES

    engine = OnGraph(graph)
    query = next(q for q in load_queries(project) if q.name == "links-by-area")
    assert query.pivot is not None
    layout = lay_out_pivot(engine.named(query, {}), query.headers, query.pivot, "en", engine.select)
    titles = [column.title for column in layout.columns]
    assert titles[0] == "World area" and titles[-2:] == ["Total", "Rank printed"]
    assert len(titles) == 1 + 4 + 2  # four levels
    printed = sorted(int(report_lines[line - 1].split()[-1]) for line in TOTAL_LINES.values())
    *areas, total = layout.rows
    assert len(areas) == len(TOTAL_LINES)
    assert sorted(int(row[-2]) for row in areas) == printed
    assert total[0] == "Total" and int(total[-2]) == sum(printed)
    for position in range(1, 5):  # each level's total is the sum of its column
        assert int(total[position]) == sum(int(row[position]) for row in areas)


def test_pivot_is_refused_where_it_cannot_apply(runner: CliRunner) -> None:
    root = ["--root", str(REPO)]
    for args, message in [
        (["query", "engagement-levels", "--pivot"], "declares no other shape"),
        (["query", "links-by-area", "--pivot", "-f", "csv"], "lays out a table"),
    ]:
        result = runner.invoke(app, [*root, *args])
        assert result.exit_code == 2, args
        assert message in result.stderr
