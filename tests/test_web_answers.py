"""What a query worker keeps (web/answers) and where the server sends a job (workers'
affinity): a page cut from a kept answer is the page computed alone, and the search on the
kept index of names is the library's search. On the report's graph, in this process."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pyoxigraph
import pytest

from coopdec_kg.content.project import Project
from coopdec_kg.engines.engine import OnStore
from coopdec_kg.engines.queries import load_queries, run_on_store
from coopdec_kg.engines.results import render
from coopdec_kg.engines.search import search
from coopdec_kg.engines.store import load_in_memory, source_files
from coopdec_kg.web import answers, jobs
from coopdec_kg.web.answers import KeptAnswers, KeptBodies, answer_key
from coopdec_kg.web.workers import Workers, _Worker

CERGY = "https://w3id.org/coopdec-kg/id/authority/ca-cergy-pontoise"
PAGES = [(0, 3), (2, 5), (7, None), (0, None), (10_000, 5)]


@pytest.fixture(scope="module")
def store(project: Project) -> pyoxigraph.Store:
    return load_in_memory(source_files(project))


def _served(project: Project, store: pyoxigraph.Store) -> jobs.Served:
    """A worker's state, as the spawner loads it (without preparing the law)."""
    queries = {query.name: query for query in load_queries(project)}
    return jobs.Served(project, (), queries, store)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The named queries the kept answers ran on the store."""
    ran: list[str] = []

    def counting(store: pyoxigraph.Store, query: object, values: object) -> object:
        ran.append(query.name)  # type: ignore[attr-defined]
        return run_on_store(store, query, values)  # type: ignore[arg-type]

    monkeypatch.setattr(answers, "run_on_store", counting)
    return ran


@pytest.mark.parametrize(
    ("name", "values"),
    [("actions-by-domain", {}), ("links-by-area", {}), ("partners-of-ca", {"ca": CERGY})],
)
def test_every_page_cut_from_a_kept_answer_is_the_page_computed_alone(
    project: Project, store: pyoxigraph.Store, counted: list[str], name: str, values: dict[str, str]
) -> None:
    served = _served(project, store)
    query = served.queries[name]
    for offset, limit in PAGES:
        for fmt in ("json", "csv"):
            kept = jobs.named_query(served, name, values, fmt, offset, limit, 10**8)
            alone = run_on_store(store, query, values)
            assert kept.body == render(alone.page(offset, limit), fmt).encode("utf-8")
            assert kept.rows == len(alone) > 0
    assert counted == [name]  # the store answered once; every other page was cut from it


def test_a_page_laid_out_for_people_from_a_kept_answer_is_the_page_laid_out_alone(
    project: Project, store: pyoxigraph.Store, counted: list[str]
) -> None:
    served = _served(project, store)
    for offset in (0, 20, 40):
        kept = jobs.named_table(served, "actions-by-domain", {}, offset, 20, "en")
        alone = jobs.named_table(_served(project, store), "actions-by-domain", {}, offset, 20, "en")
        assert kept == alone and kept.rows
    assert counted.count("actions-by-domain") == 4  # once for the kept, once per page alone


def test_one_answer_whatever_way_its_values_are_written(
    project: Project, store: pyoxigraph.Store, counted: list[str]
) -> None:
    query = _served(project, store).queries["partners-of-ca"]
    assert answer_key(query, {"ca": CERGY}) == answer_key(
        query, {"ca": "authority:ca-cergy-pontoise"}
    )
    kept = KeptAnswers(store)
    first = kept.named(query, {"ca": CERGY})
    assert kept.named(query, {"ca": "authority:ca-cergy-pontoise"}) is first
    assert counted == ["partners-of-ca"] and kept.kept == 1


def test_the_oldest_answers_go_first_and_one_too_large_is_not_kept(
    project: Project, store: pyoxigraph.Store, counted: list[str]
) -> None:
    queries = _served(project, store).queries
    sizes = {
        name: len(run_on_store(store, queries[name]))
        for name in ("legal-texts", "engagement-levels", "links-by-area")
    }
    kept = KeptAnswers(store, max_rows=sizes["legal-texts"] + sizes["engagement-levels"])
    counted.clear()
    kept.named(queries["legal-texts"], {})
    kept.named(queries["engagement-levels"], {})
    kept.named(queries["legal-texts"], {})  # used again: now the newest
    assert counted == ["legal-texts", "engagement-levels"] and kept.kept == 2
    assert sizes["links-by-area"] > kept.max_rows
    assert len(kept.named(queries["links-by-area"], {})) == sizes["links-by-area"]
    assert kept.kept == 2  # answered, not kept: larger than all the room there is
    kept.max_rows = sizes["legal-texts"]  # room for one: a new answer drops the oldest
    kept.named(queries["engagement-levels"], {})
    kept.named(queries["national-context"], {})
    counted.clear()
    kept.named(queries["national-context"], {})
    assert counted == [] and kept.kept == 1


def test_the_search_page_finds_what_the_cli_finds(
    project: Project, store: pyoxigraph.Store
) -> None:
    served = _served(project, store)
    for text in ("senart", "Cergy Pontoise", "de"):
        shown = jobs.search(served, text, "fr", 50)
        found = search(OnStore(store).select, text, "fr", 50)
        assert [value.iri for value, _ in shown] == [str(f.entity) for f in found]
        assert shown
    assert served.names is served.names  # read once per worker


# ---------------------------------------------------------------------------- affinity


@pytest.fixture
def pool() -> Iterator[tuple[Workers, list[_Worker]]]:
    """A pool of three idle workers that are not processes (the choice of a worker only)."""
    ends = [socket.socketpair() for _ in range(4)]
    workers = Workers(0, ends[0][0], {}, 3)
    workers._starting = [_Worker(pid, ends[pid][0]) for pid in (1, 2, 3)]
    try:
        yield workers, workers._starting[:]
    finally:
        for pair in ends:
            for end in pair:
                end.close()


def test_a_job_goes_to_the_free_worker_that_last_ran_its_affinity(
    pool: tuple[Workers, list[_Worker]],
) -> None:
    workers, (one, two, three) = pool

    async def scenario() -> None:
        assert workers.idle == 3
        assert workers._take(None) is one  # free the longest
        workers._ran("answer", two)
        assert workers._take("answer") is two  # not the one free the longest (three)
        workers._give_back(one)
        workers._give_back(two)
        assert workers._take("answer") is two
        assert workers._take("answer") is three  # busy: any free worker
        assert workers._take("other") is one
        assert workers._free == []

    asyncio.run(scenario())


def test_remembered_affinities_are_bounded(pool: tuple[Workers, list[_Worker]]) -> None:
    workers, (one, _, _) = pool
    for number in range(3000):
        workers._ran(number, one)
    assert (
        len(workers._last_ran) == 1024
        and 2999 in workers._last_ran
        and 0 not in (workers._last_ran)
    )


# ---------------------------------------------------------------------------- whole bodies


def test_whole_bodies_are_kept_within_their_budget_the_oldest_dropped_first() -> None:
    bodies = KeptBodies(max_bytes=10)
    four, five, three = (jobs.Answer("text/csv", b"x" * n, n) for n in (4, 5, 3))
    bodies.keep(("q", "a", "csv"), four)
    bodies.keep(("q", "b", "csv"), five)
    assert bodies.get(("q", "a", "csv")) is four  # used again: now the newest
    bodies.keep(("q", "c", "csv"), three)  # 12 bytes: the oldest (b) goes
    assert bodies.get(("q", "b", "csv")) is None
    assert bodies.get(("q", "a", "csv")) is four and bodies.get(("q", "c", "csv")) is three
    assert bodies.size == 7
    bodies.keep(("q", "d", "json"), jobs.Answer("application/json", b"x" * 11, 1))  # too large
    assert bodies.get(("q", "d", "json")) is None and bodies.size == 7


def test_a_whole_body_kept_is_the_body_a_worker_writes(
    project: Project, store: pyoxigraph.Store
) -> None:
    served = _served(project, store)
    query = served.queries["actions-by-domain"]
    bodies = KeptBodies()
    sent = jobs.named_query(served, query.name, {}, "json", 0, None, 10**8)
    bodies.keep((*answer_key(query, {}), "json"), sent)
    again = jobs.named_query(_served(project, store), query.name, {}, "json", 0, None, 10**8)
    assert bodies.get((*answer_key(query, {}), "json")) == again
