"""Search that forgives spellings, and unknown resources named with suggestions
(engines/search), through the library and the CLI."""

from __future__ import annotations

import csv
import io
from functools import cache

import pyoxigraph
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef
from typer.testing import CliRunner

from conftest import REPO
from coopdec_kg.cli import app
from coopdec_kg.content.folding import fold
from coopdec_kg.content.namespaces import CDO
from coopdec_kg.content.project import Project
from coopdec_kg.engines.engine import OnGraph
from coopdec_kg.engines.search import (
    _NAMES,
    _NO_MATCH,
    NameIndex,
    _rank,
    check_resources,
    search,
    suggest,
    unknown_message,
    unknown_resources,
)
from coopdec_kg.engines.store import load_in_memory, source_files
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
        check_resources(select, {"ca": pyoxigraph.NamedNode(str(typo))})  # as `bind` gives it


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


# ---------------------------------------------------------------------------- the index of names


@pytest.fixture(scope="module")
def store(project: Project) -> pyoxigraph.Store:
    return load_in_memory(source_files(project))


def _every_name_ranked(graph: Graph, text: str, lang: str) -> list[tuple[str, str, int]]:
    """The search as it was before the index: every name of every resource folded and ranked
    (the oracle for the index, which ranks only the names that hold the text's longest word)."""
    names: dict[str, dict[str, str]] = {}
    folded: dict[str, set[str]] = {}
    for entity, name, _ in OnGraph(graph).select(_NAMES).rows:
        if isinstance(entity, URIRef) and isinstance(name, Literal):
            names.setdefault(str(entity), {}).setdefault(name.language or "", str(name))
            folded.setdefault(str(entity), set()).add(fold(str(name)))
    wanted = fold(text)
    if not wanted:
        return []
    found = []
    for entity, spellings in folded.items():
        rank = min(_rank(wanted, spelling) for spelling in spellings)
        if rank < _NO_MATCH:
            shown = names[entity]
            language = next(t for t in (lang, "fr", "", *sorted(shown)) if t in shown)
            found.append((entity, shown[language], rank))
    found.sort(key=lambda f: (f[2], len(f[1]), fold(f[1]), f[0]))
    return found


TEXTS = [
    "senart",
    "Cergy Pontoise",
    "pontoise cergy",  # every word, in another order (rank 4)
    "de",  # in many names, in the middle of words too
    "communauté d'agglomération",
    "riviera",
    "zzzz-qqqq",
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_index_finds_what_ranking_every_name_finds(
    graph: Graph, store: pyoxigraph.Store, text: str, lang: str
) -> None:
    expected = _every_name_ranked(graph, text, lang)
    for index in (NameIndex.read(OnGraph(graph).select), NameIndex.of_store(store)):
        found = index.search(text, lang)
        assert [(str(f.entity), f.name, f.rank) for f in found] == expected
    assert text == "zzzz-qqqq" or expected  # each text but the last finds something


def test_the_index_read_from_the_store_is_the_one_read_from_any_engine(
    graph: Graph, store: pyoxigraph.Store
) -> None:
    from_graph = NameIndex.read(OnGraph(graph).select)
    from_store = NameIndex.of_store(store)
    assert len(from_graph) == len(from_store) > 100
    for text in TEXTS:
        assert from_graph.search(text, "en", 5) == from_store.search(text, "en", 5)
        groupings = [CDO.AgglomerationCommunity]
        assert from_graph.search(text, kinds=groupings) == from_store.search(text, kinds=groupings)
    assert from_graph.suggest(TYPO) == from_store.suggest(TYPO)
    assert from_store.suggest(AUTHORITY + "ca-cergy-pontoize")[0].name == "Cergy-Pontoise"


@given(
    st.lists(st.sampled_from(["sen", "art", "cergy", "e", "val", "d", "ca", "  -'"]), max_size=3)
)
def test_any_text_finds_with_the_index_what_every_name_ranked_finds(words: list[str]) -> None:
    graph = _small_graph()
    text = " ".join(words)
    found = NameIndex.read(OnGraph(graph).select).search(text, "fr")
    assert [(str(f.entity), f.name, f.rank) for f in found] == _every_name_ranked(graph, text, "fr")


@cache
def _small_graph() -> Graph:
    return Graph().parse(
        format="turtle",
        data="""
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        <urn:x:senart> skos:prefLabel "Sénart"@fr, "Senart"@en ; skos:altLabel "SAN de Sénart" .
        <urn:x:val> skos:prefLabel "Val de Sénart"@fr ; a <urn:x:Place> .
        <urn:x:cergy> skos:prefLabel "Cergy-Pontoise"@fr ; skos:altLabel "CA Cergy" .
        <urn:x:art> skos:prefLabel "Art d'Ève"@fr .
        """,
    )
