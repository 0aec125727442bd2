"""`push`: the dump `export` makes, loaded into a SPARQL 1.1 Graph Store Protocol endpoint.

The upload itself (URL checks, one deadline, redirects, errors in one line) is the protocol
client's, engines/remote; what is sent, and what is told back, is decided here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from coopdec_kg.content.project import Project
from coopdec_kg.engines.remote import push, store_url
from coopdec_kg.publish.export import export


@dataclass(frozen=True)
class Pushed:
    """What `push` sent: how many triples, where, and whether they replaced the graph."""

    endpoint: str
    graph: str | None
    triples: int
    replaced: bool

    @property
    def target(self) -> str:
        where = f"the graph <{self.graph}>" if self.graph else "the default graph"
        return f"{where} of {self.endpoint}"


def push_project(
    project: Project,
    endpoint: str,
    graph: str | None = None,
    append: bool = False,
    timeout: float | None = None,
    extra: Sequence[Path] = (),
) -> Pushed:
    """Send what `export` dumps (ontology, data, dataset metadata, and the extra files given,
    e.g. the store's with `push --include-extra`) to a graph store.

    N-Triples: one triple a line, nothing a server must resolve (no prefixes, no base), so the
    line count is the triple count. The URL and graph are checked before the content is read.
    """
    store_url(endpoint, graph)
    payload = export(project, "ntriples", extra=extra)
    push(endpoint, payload, graph, replace=not append, timeout=timeout)
    return Pushed(endpoint, graph, payload.count(b"\n"), replaced=not append)
