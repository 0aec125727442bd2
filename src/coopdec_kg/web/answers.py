"""The whole answers of named queries, kept: by a query worker to cut pages from, and by the
serving process as the bytes of a whole download.

A named query is answered whole and ordered before a page is cut (its order is given in Python:
engines/ordering), so at national scale every page of a 75 000-row answer cost the whole answer
again (1–2 s). A worker keeps the answers it computed (`KeptAnswers`) and cuts later pages from
them; the serving process sends the requests for one answer to the worker that computed it
when that worker is free (`Workers.run`'s `affinity`). Writing a whole 75 000-row answer out
again (35–42 MB of SPARQL JSON) takes a worker 1–1.5 s, so the serving process keeps the bytes
of the whole answers it sent (`KeptBodies`), within a budget of memory.

Why a kept answer cannot go stale: the store `serve` queries is loaded into memory once, at
start, from files read then, and nothing writes to it while the server runs — the SPARQL
endpoint refuses updates (web/protocol) and pyoxigraph's `query` cannot write, the validation
page checks an upload in a store of its own (law/validation), and no route reloads the content.
The same query with the same values therefore has the same answer for the whole run; a changed
content is served by starting the server again, which starts with no kept answer.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING

from coopdec_kg.engines.engine import OnStore
from coopdec_kg.engines.queries import NamedQuery, bound_text, run_on_store
from coopdec_kg.engines.results import QueryResult

if TYPE_CHECKING:
    import pyoxigraph

    from coopdec_kg.web.jobs import Answer

# Rows a worker keeps in all: the three 75 000-row answers of a national atlas (about 40 MB of
# terms each), not more, so that two workers stay within the server's memory target.
MAX_KEPT_ROWS = 240_000
# Bytes of whole answers the serving process keeps: the three of a national atlas in one format.
MAX_KEPT_BYTES = 128 * 1024 * 1024


def answer_key(query: NamedQuery, values: Mapping[str, str]) -> tuple[str, str]:
    """What identifies an answer: the query and the text the store runs, its values written
    in it as RDF terms (so `authority:x` and its full IRI are one answer)."""
    return query.name, bound_text(query, values)


class KeptAnswers(OnStore):
    """The store as an engine (engines/engine) whose named queries' answers are kept, the most
    recently used last, up to `max_rows` rows in all; an answer larger than that is computed
    and not kept."""

    def __init__(self, store: pyoxigraph.Store, max_rows: int = MAX_KEPT_ROWS) -> None:
        super().__init__(store)
        self.max_rows = max_rows
        self._kept: OrderedDict[tuple[str, str], QueryResult] = OrderedDict()
        self._rows = 0

    def named(self, query: NamedQuery, values: Mapping[str, str]) -> QueryResult:
        key = answer_key(query, values)
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
            return found
        result = run_on_store(self.store, query, values)
        if len(result) <= self.max_rows:
            result = _shared(result)
            self._kept[key] = result
            self._rows += len(result)
            while self._rows > self.max_rows:
                _, dropped = self._kept.popitem(last=False)
                self._rows -= len(dropped)
        return result

    @property
    def kept(self) -> int:
        """How many answers are kept."""
        return len(self._kept)


def _shared(result: QueryResult) -> QueryResult:
    """The same answer with one object per distinct term: the store gives a new object for
    every cell, and a 75 000-row answer has 450 000 cells but 85 000 distinct terms (what is
    kept shrinks to about a third)."""
    one: dict[object, object] = {}
    rows = [tuple(one.setdefault(term, term) for term in row) for row in result.terms]
    return QueryResult(result.variables, rows)


class KeptBodies:
    """The whole answers (`jobs.Answer`: format, bytes, rows) the serving process sent, by
    answer and format, the most recently used last, up to `max_bytes` in all; a body larger
    than that is not kept."""

    def __init__(self, max_bytes: int = MAX_KEPT_BYTES) -> None:
        self.max_bytes = max_bytes
        self._kept: OrderedDict[tuple[str, str, str], Answer] = OrderedDict()
        self._bytes = 0

    def get(self, key: tuple[str, str, str]) -> Answer | None:
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
        return found

    def keep(self, key: tuple[str, str, str], answer: Answer) -> None:
        """Keep `answer` under `key` (answer_key + the format), dropping the oldest if need be."""
        if len(answer.body) > self.max_bytes or key in self._kept:
            return
        self._kept[key] = answer
        self._bytes += len(answer.body)
        while self._bytes > self.max_bytes:
            _, dropped = self._kept.popitem(last=False)
            self._bytes -= len(dropped.body)

    @property
    def size(self) -> int:
        """Bytes kept."""
        return self._bytes
