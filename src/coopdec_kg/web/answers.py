"""The whole answers of named queries a query worker has computed, kept to cut pages from.

A named query is answered whole and ordered before a page is cut (its order is given in Python:
engines/ordering), so at national scale every page of a 75 000-row answer cost the whole answer
again (1–2 s). A worker keeps the answers it computed and cuts later pages, and later
downloads, from them; the serving process sends the requests for one answer to the worker that
computed it when that worker is free (`Workers.run`'s `affinity`).

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

# Rows a worker keeps in all: the three 75 000-row answers of a national atlas (about 40 MB of
# terms each), not more, so that two workers stay within the server's memory target.
MAX_KEPT_ROWS = 240_000


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
