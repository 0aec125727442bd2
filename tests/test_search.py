"""Search that forgives spellings, and unknown resources named with suggestions
(engines/search), through the library and the CLI."""

from __future__ import annotations

import csv
import io

import pytest
from rdflib import Graph, URIRef
from typer.testing import CliRunner

from conftest import REPO
from coopdec_kg.cli import app
from coopdec_kg.content.namespaces import CDO
from coopdec_kg.engines.engine import OnGraph
from coopdec_kg.engines.search import (
    check_resources,
    search,
    suggest,
    unknown_message,
    unknown_resources,
)
from coopdec_kg.errors import UnknownResource
from report_text import Said

AUTHORITY = "https://w3id.org/coopdec-kg/id/authority/"
ROOT = ["--root", str(REPO)]
TYPO = "authority:ca-cergy-pontoize"


@pytest.mark.parametrize(
    ("typed", "entity"),
    [
        ("senart", "san-senart"),  # report l. 559: « Sénart »
        ("SÉNART", "san-senart"),
        ("Cergy Pontoise", "ca-cergy-pontoise"),  # report l. 559: « Cergy-Pontoise »
        ("cergy-pontoise", "ca-cergy-pontoise"),
        ("riviera", "ca-riviera-francaise"),  # report l. 565: « la Rivièria française »
    ],
)
def test_search_forgives_accents_case_hyphens_and_ranks_the_name_first(
    graph: Graph, said: Said, typed: str, entity: str
) -> None:
    said(559, "Cergy-Pontoise", "Sénart")
    said(565, "la Rivièria française")
    found = search(OnGraph(graph).select, typed)
    assert found, typed
    assert str(found[0].entity) == AUTHORITY + entity, [str(f.entity) for f in found[:3]]
    assert len({f.entity for f in found}) == len(found)  # one row per entity
    assert [f.rank for f in found] == sorted(f.rank for f in found)


def test_an_entity_with_several_kinds_is_one_result_with_all_of_them(graph: Graph) -> None:
    found = search(OnGraph(graph).select, "statuts de la CA de Cergy-Pontoise")
    agreement = found[0]
    assert agreement.rank == 0
    assert len(agreement.kinds) >= 2, agreement.kinds  # a document and a prov:Entity


def test_the_projects_own_class_comes_first(graph: Graph) -> None:
    found = search(OnGraph(graph).select, "Cergy Pontoise")[0]
    assert found.kinds[0] == CDO.AgglomerationCommunity
    assert found.name == "Cergy-Pontoise"


def test_kinds_keep_the_resources_of_those_classes(graph: Graph) -> None:
    select = OnGraph(graph).select
    everything = search(select, "cergy")
    groupings = search(select, "cergy", kinds=[CDO.AgglomerationCommunity])
    assert [str(f.entity) for f in groupings] == [AUTHORITY + "ca-cergy-pontoise"]
    assert len(everything) > len(groupings)


def test_nothing_to_look_for_finds_nothing(graph: Graph) -> None:
    assert search(OnGraph(graph).select, " - ' ") == []
    assert search(OnGraph(graph).select, "zzzz-qqqq") == []


def test_a_misspelt_iri_gets_the_resource_it_meant(graph: Graph) -> None:
    select = OnGraph(graph).select
    typo = URIRef(AUTHORITY + "ca-cergy-pontoize")
    assert unknown_resources(select, [typo, URIRef(AUTHORITY + "ca-cergy-pontoise")]) == [typo]
    assert str(suggest(select, str(typo))[0].entity) == AUTHORITY + "ca-cergy-pontoise"
    with pytest.raises(UnknownResource, match=r"did you mean authority:ca-cergy-pontoise \("):
        check_resources(select, {"ca": typo})


def test_an_iri_far_from_every_name_is_said_unknown_without_a_guess() -> None:
    assert unknown_message("ca=authority:nope", []) == (
        "no such resource ca=authority:nope: it is in no triple of the graph"
    )


def test_query_search_through_the_cli_is_forgiving_and_one_row_per_entity(
    runner: CliRunner,
) -> None:
    result = runner.invoke(
        app, [*ROOT, "query", "search", "-p", "text=Cergy Pontoise", "--format", "csv"]
    )
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0] == {
        "entity": AUTHORITY + "ca-cergy-pontoise",
        "label": "Cergy-Pontoise",
        "type": str(CDO.AgglomerationCommunity),
    }
    assert len({row["entity"] for row in rows}) == len(rows)


@pytest.mark.parametrize("engine", ["rdflib", "store"])
def test_an_unknown_resource_is_exit_2_with_a_suggestion(runner: CliRunner, engine: str) -> None:
    result = runner.invoke(
        app,
        [*ROOT, "query", "partners-of-ca", "--engine", engine, "-p", f"ca={TYPO}"],
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    line = result.stderr.strip().splitlines()[-1]
    assert "no such resource ca=authority:ca-cergy-pontoize" in line
    assert "did you mean authority:ca-cergy-pontoise (Cergy-Pontoise)" in line
