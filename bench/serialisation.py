"""Issue 16 item 2, measured before deciding: one serialisation path for Turtle and N-Triples.

Side by side in one process, on the same files, best of --repeats runs each:
- today's export (`publish.export.export`: on the report's graph, rdflib's serialisers; with
  an atlas, N-Triples lines that pyoxigraph parses, sorted and written by the project's line
  writers, the same bytes as rdflib's);
- the candidate of the issue: pyoxigraph parses the same files, the triples are sorted
  (by their N-Triples text) and pyoxigraph's serialiser writes them. Its figure is a floor: it
  leaves out what the candidate would still need (canonical blank-node labels, the dataset
  metadata, the rdflib path's grouping of a subject's objects), so if it is not faster than
  today's path, the full candidate cannot be.

Usage from the repository root; the content measured is the report's graph plus the extra
files of the current store (COOPDEC_KG_STORE; an atlas loaded by `build --extra`):

    python bench/serialisation.py --repeats 3
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import pyoxigraph

from coopdec_kg.content.namespaces import prefixes
from coopdec_kg.content.project import Project
from coopdec_kg.engines.store import extra_files
from coopdec_kg.publish.export import at_scale, collect, export

FORMATS = {"ntriples": pyoxigraph.RdfFormat.N_TRIPLES, "turtle": pyoxigraph.RdfFormat.TURTLE}
READERS = {".ttl": pyoxigraph.RdfFormat.TURTLE, ".nt": pyoxigraph.RdfFormat.N_TRIPLES}


def candidate(files: Sequence[Path], name: str) -> bytes:
    """pyoxigraph parses, Python sorts by N-Triples text (duplicates dropped), pyoxigraph writes."""
    triples: dict[str, pyoxigraph.Triple] = {}
    for path in files:
        for triple in pyoxigraph.parse(path=str(path), format=READERS[path.suffix]):
            triples[str(triple)] = triple
    ordered = [triples[key] for key in sorted(triples)]
    written = pyoxigraph.serialize(ordered, format=FORMATS[name], prefixes=prefixes())
    assert written is not None  # no output given: the bytes are returned
    return written


def best(work: Callable[[], bytes], repeats: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        size = len(work())
        times.append(time.perf_counter() - start)
    return min(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    project = Project.locate(None)
    extra = extra_files(project)
    files = [project.ontology_file, *project.data_files, *extra]
    print(f"{len(files)} files ({len(extra)} extra); best of {options.repeats}")
    if not at_scale(project, extra):  # today's figure includes reading and describing the graph
        reading, _ = best(lambda: bytes(len(collect(project).union())), options.repeats)
        print(f"of which reading the files and describing the dataset (collect): {reading:.2f} s")
    print("| format | today's path (s) | candidate floor (s) | today / candidate |")
    print("| --- | ---: | ---: | ---: |")
    for name in FORMATS:
        today, _ = best(partial(export, project, name, extra=extra), options.repeats)
        floor, _ = best(partial(candidate, files, name), options.repeats)
        print(f"| {name} | {today:.2f} | {floor:.2f} | {today / floor:.2f} |")


if __name__ == "__main__":
    main()
