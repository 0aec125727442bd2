"""The persistent embedded store: ontology, data and extra files bulk-loaded into pyoxigraph.

Later commands reopen it instead of re-parsing Turtle. A store is trusted only when the pointer
file `current.json` names it and its fingerprint (a hash of every source file's bytes) matches the
files on disk now; otherwise it is rebuilt. A build goes to a fresh `build-*` folder that is
renamed into place and only then pointed to, so a crash mid-build leaves nothing that is trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import traceback
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING

from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

from coopdec_kg.errors import ContentError, RdfSyntaxError
from coopdec_kg.project import Project, user_cache

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

if TYPE_CHECKING:
    import pyoxigraph

log = logging.getLogger(__name__)

STORE_VARIABLE = "COOPDEC_KG_STORE"
POINTER = "current.json"
FORMAT_BY_SUFFIX = {".ttl": "TURTLE", ".nt": "N_TRIPLES", ".nq": "N_QUADS", ".trig": "TRIG"}


@dataclass(frozen=True)
class StoreInfo:
    """What a built store holds."""

    path: Path
    fingerprint: str
    files: tuple[Path, ...]
    rebuilt: bool


def default_location(project: Project) -> Path:
    """`COOPDEC_KG_STORE`, else `.coopdec-store/` in a writable content folder, else a cache."""
    from_env = os.environ.get(STORE_VARIABLE)
    if from_env:
        return Path(from_env).expanduser().resolve()
    if os.access(project.root, os.W_OK):
        return project.root / ".coopdec-store"
    root_key = hashlib.sha256(str(project.root).encode()).hexdigest()[:16]
    return user_cache() / root_key


def rdf_files(paths: Sequence[Path]) -> list[Path]:
    """The paths, each folder replaced by the RDF files directly in it (by name)."""
    files: list[Path] = []
    for path in (p.resolve() for p in paths):
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in FORMAT_BY_SUFFIX)
        else:
            files.append(path)
    return files


def source_files(project: Project, extra: Sequence[Path] = ()) -> tuple[Path, ...]:
    """The files a store is built from: the ontology, data/*.ttl, then the extra files in order
    (a folder given as extra stands for the RDF files in it, e.g. the parts of an atlas)."""
    files = [project.ontology_file, *project.data_files, *rdf_files(extra)]
    for path in files:
        if path.suffix not in FORMAT_BY_SUFFIX:
            raise ContentError(f"{path}: cannot load {path.suffix or 'extension-less'} files")
        if not path.is_file():
            raise ContentError(f"{path}: no such file")
    return tuple(files)


def fingerprint(files: Sequence[Path]) -> str:
    """A hash of the files' names and bytes: any change of content gives another store."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path).encode() + b"\0")
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def _read_pointer(location: Path) -> dict[str, object] | None:
    try:
        pointer: dict[str, object] = json.loads((location / POINTER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return pointer


def _write_pointer(
    location: Path, fingerprint_: str, files: Sequence[Path], extra: Sequence[Path]
) -> None:
    record = {
        "fingerprint": fingerprint_,
        "files": [str(p) for p in files],
        "extra": [str(p) for p in extra],
    }
    text = json.dumps(record, indent=2)
    handle, temp = tempfile.mkstemp(dir=location, prefix=".current-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temp, location / POINTER)


def recorded_extra(location: Path) -> tuple[Path, ...]:
    """The extra files and folders the current store was built with, as they were given."""
    pointer = _read_pointer(location)
    names = pointer.get("extra") if pointer is not None else None
    if not isinstance(names, list):
        return ()
    return tuple(Path(str(name)) for name in names)


def extra_files(project: Project, location: Path | None = None) -> tuple[Path, ...]:
    """The extra files the current store was built with (`build --extra`, folders read again),
    so that every command sees what queries see; files gone since are left out."""
    location = location or default_location(project)
    return tuple(rdf_files([p for p in recorded_extra(location) if p.exists()]))


def _bulk_load(directory: Path, files: Sequence[Path]) -> None:
    """Load the files into a new store in `directory`, and close it whatever happens.

    Files are loaded concurrently, one per core: pyoxigraph parses each file on one thread and
    releases the GIL, so an atlas in parts loads in about two thirds of the time of one file.
    """
    import pyoxigraph

    store = pyoxigraph.Store(str(directory))
    try:
        # largest first, so that no big file starts last on an otherwise idle machine
        by_size = sorted(files, key=lambda path: path.stat().st_size, reverse=True)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for _ in pool.map(_load_file, repeat(store), by_size):
                pass
        store.optimize()
        store.flush()
    except BaseException as error:
        # a loader's frame, kept by the traceback, would keep RocksDB open past `del store`
        traceback.clear_frames(error.__traceback__)
        raise
    finally:
        del store  # the last reference: RocksDB closes, so a failed build can be removed


def _load_file(store: pyoxigraph.Store, path: Path) -> None:
    import pyoxigraph

    rdf_format = getattr(pyoxigraph.RdfFormat, FORMAT_BY_SUFFIX[path.suffix])
    try:
        store.bulk_load(path=str(path), format=rdf_format)
    except SyntaxError as error:
        raise RdfSyntaxError(path, str(error)) from error


def build(project: Project, extra: Sequence[Path] = (), location: Path | None = None) -> StoreInfo:
    """Bulk-load ontology, data and extra files into a new on-disk store and make it current."""
    location = location or default_location(project)
    for folder in (p for p in extra if p.is_dir()):
        if not rdf_files([folder]):
            suffixes = ", ".join(FORMAT_BY_SUFFIX)
            raise ContentError(f"{folder}: no RDF file ({suffixes}) in this folder")
    location.mkdir(parents=True, exist_ok=True)
    files = source_files(project, extra)
    key = fingerprint(files)
    for stale in location.glob("build-*"):
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(dir=location, prefix="build-"))
    try:
        _bulk_load(staging, files)
        final = location / key
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _write_pointer(location, key, files, [p.resolve() for p in extra])
    for old in location.iterdir():
        if old.is_dir() and old.name != key and not old.name.startswith("build-"):
            shutil.rmtree(old, ignore_errors=True)
    return StoreInfo(location / key, key, files, rebuilt=True)


def open_current(
    project: Project, location: Path | None = None
) -> tuple[pyoxigraph.Store, StoreInfo]:
    """The current store, rebuilt first when the content changed since it was built."""
    import pyoxigraph

    location = location or default_location(project)
    extra = [p for p in recorded_extra(location) if p.exists()]
    files = source_files(project, extra)
    key = fingerprint(files)
    pointer = _read_pointer(location)
    path = location / key
    if pointer is not None and pointer.get("fingerprint") == key and path.is_dir():
        info = StoreInfo(path, key, files, rebuilt=False)
    else:
        why = "No store yet" if pointer is None else "The content changed since the last build"
        log.info("%s: building the store from %d files…", why, len(files))
        info = build(project, extra, location)
    return pyoxigraph.Store.read_only(str(info.path)), info


def to_rdflib(term: object) -> Identifier | None:
    """The rdflib term for a pyoxigraph term (results are rdflib terms whatever the engine).

    A plain string comes back plain, as rdflib reads "x" (the store types it xsd:string).
    """
    import pyoxigraph

    if term is None:
        return None
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"unexpected term {term!r}")


# A SELECT answer: its columns, and its rows of rdflib terms (None where unbound).
Answer = tuple[tuple[str, ...], list[tuple[Identifier | None, ...]]]


def select(
    store: pyoxigraph.Store, query: str, converted: dict[object, Identifier | None] | None = None
) -> Answer:
    """Run a SELECT query on the store: its columns, and rows of rdflib terms.

    Each distinct term is converted once: building an rdflib Literal checks its language tag
    and parses its value, which dominated queries of 75 000 rows with repeated labels. Several
    queries about the same nodes may share `converted`, the terms already converted.
    """
    import pyoxigraph

    solutions = store.query(query)
    if not isinstance(solutions, pyoxigraph.QuerySolutions):
        raise TypeError("not a SELECT query")
    columns = tuple(variable.value for variable in solutions.variables)
    if converted is None:
        converted = {}
    converted[None] = None

    def rdflib_term(term: object) -> Identifier | None:
        try:
            return converted[term]
        except KeyError:
            found = converted[term] = to_rdflib(term)
            return found

    width = range(len(columns))
    return columns, [tuple(rdflib_term(solution[i]) for i in width) for solution in solutions]


def _values(nodes: Sequence[URIRef]) -> str:
    return " ".join(f"<{node}>" for node in nodes)


def _triples(store: pyoxigraph.Store, query: str) -> list[tuple[Identifier, ...]]:
    _, rows = select(store, query)
    return [tuple(term for term in row if term is not None) for row in rows]


def neighbourhood(
    store: pyoxigraph.Store,
    described: Sequence[URIRef],
    referenced: Sequence[URIRef],
    depth: int = 4,
    skip: frozenset[URIRef] = frozenset(),
) -> list[tuple[Identifier, ...]]:
    """The triples the shapes may need around a submission, read from the store.

    Everything that points at a described node (a new statement can break a rule on its
    referrer), then `depth` hops of outgoing triples from the described, referenced and
    referring nodes; objects in `skip` (e.g. classes, whose hierarchy comes from the ontology)
    are not followed.
    """
    triples: list[tuple[Identifier, ...]] = []
    frontier = set(described) | set(referenced)
    for chunk in _chunks(sorted(described)):
        incoming = _triples(
            store, f"SELECT ?s ?p ?o WHERE {{ VALUES ?o {{ {_values(chunk)} }} ?s ?p ?o }}"
        )
        triples += incoming
        frontier |= {s for s, _, _ in incoming if isinstance(s, URIRef)}
    visited: set[URIRef] = set()
    for _ in range(depth):
        frontier -= visited
        if not frontier:
            break
        visited |= frontier
        found: set[URIRef] = set()
        for chunk in _chunks(sorted(frontier)):
            outgoing = _triples(
                store, f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {_values(chunk)} }} ?s ?p ?o }}"
            )
            triples += outgoing
            found |= {o for _, _, o in outgoing if isinstance(o, URIRef) and o not in skip}
        frontier = found
    return triples


def _chunks(nodes: Sequence[URIRef], size: int = 500) -> list[Sequence[URIRef]]:
    return [nodes[index : index + size] for index in range(0, len(nodes), size)]


def existing_subjects(store: pyoxigraph.Store, nodes: Sequence[URIRef]) -> set[URIRef]:
    """Which of these IRIs the store already describes."""
    found: set[URIRef] = set()
    for chunk in _chunks(sorted(nodes)):
        query = f"SELECT DISTINCT ?s WHERE {{ VALUES ?s {{ {_values(chunk)} }} ?s ?p ?o }}"
        found |= {row[0] for row in select(store, query)[1] if isinstance(row[0], URIRef)}
    return found


def labels_of(
    store: pyoxigraph.Store, nodes: Sequence[URIRef], predicates: Sequence[URIRef]
) -> list[tuple[Identifier, ...]]:
    """The label triples (for the given label predicates) of these nodes."""
    if not nodes:
        return []
    wanted = " ".join(f"<{p}>" for p in predicates)
    return _triples(
        store,
        f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {_values(nodes)} }} VALUES ?p {{ {wanted} }} "
        "?s ?p ?o }",
    )
