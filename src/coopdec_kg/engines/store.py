"""The persistent embedded store: ontology, data and extra files bulk-loaded into pyoxigraph.

Later commands reopen it instead of re-parsing Turtle. Its folder (`.coopdec-store/` by default)
holds one folder per build, `store-<fingerprint start>-<random>/`, and the pointer `current.json`
naming the current one with the fingerprint (a hash of every source file's bytes) of what it was
built from, and each file's size, times and inode when it was hashed: while those are unchanged
the fingerprint is taken as it is (hashing every byte cost 54 ms of each query at scale 1.0,
98 ms at 2.0); any change of them, `touch` included, has the files hashed again. Its lifecycle
is safe under concurrency and kill -9:

- A build holds the content lock (locks.py), loads into a fresh folder that nothing names, and
  publishes it by one atomic rename of the pointer: a process killed at any instant leaves the
  previous store, or none, trusted, and the next command rebuilds by itself.
- A store is trusted only when the pointer names it and its fingerprint matches the files on
  disk now. Otherwise the first command that needs it rebuilds it; commands that need it at the
  same time wait for that build and reuse it.
- A reader takes a shared lock on a store folder before opening it, then checks that the
  pointer still names it. A folder is removed only under the content lock (so the pointer does
  not move), when it is not current and can be locked exclusively without waiting: the current
  store, and any store a running process has opened, are never removed.
- A store that cannot be opened (missing or corrupt RocksDB files) is named on the log and
  rebuilt; one found corrupt while a query reads it is rebuilt and the query run again
  (`with_current`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from coopdec_kg.content.files import sync_folder
from coopdec_kg.content.locks import content_lock, read_lock, release_read_lock, try_remove_lock
from coopdec_kg.content.project import STORE_VARIABLE, Project
from coopdec_kg.errors import (
    ContentError,
    CoopdecError,
    RdfSyntaxError,
    StoreCorrupted,
    StoreError,
)

if TYPE_CHECKING:
    import pyoxigraph
    from rdflib import URIRef
    from rdflib.term import Identifier

log = logging.getLogger(__name__)

POINTER = "current.json"
FOLDER_PREFIX = "store-"
# What a build may remove from the store's folder: other builds' folders (and those of earlier
# versions: a bare fingerprint, build-*) and pointers a killed build left half-written.
REMOVABLE = re.compile(rf"({FOLDER_PREFIX}|build-)[\w-]+|[0-9a-f]{{32}}|\.current-\w+\.json")
FORMAT_BY_SUFFIX = {".ttl": "TURTLE", ".nt": "N_TRIPLES", ".nq": "N_QUADS", ".trig": "TRIG"}

Result = TypeVar("Result")


@dataclass(frozen=True)
class StoreInfo:
    """What a built store holds."""

    path: Path
    fingerprint: str
    files: tuple[Path, ...]
    rebuilt: bool


def _usable_location(project: Project, location: Path | None) -> Path:
    location = location or project.store_location
    if location.exists() and not location.is_dir():
        raise StoreError(
            f"{location} is not a folder: remove it, or set {STORE_VARIABLE} to a folder for the "
            "store"
        )
    return location


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


# A file as the file system describes it: its path, size, modification and change times (ns),
# and inode. A write changes the change time, which no user call can set back.
Stat = tuple[str, int, int, int, int]


def file_stats(files: Sequence[Path]) -> list[Stat]:
    """What says, without reading them, that the files are as they were."""
    stats: list[Stat] = []
    for path in files:
        found = path.stat()
        stats.append((str(path), found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino))
    return stats


def _recorded_stats(pointer: dict[str, object] | None) -> list[Stat] | None:
    recorded = pointer.get("stats") if pointer is not None else None
    if not isinstance(recorded, list):
        return None
    return [tuple(entry) for entry in recorded if isinstance(entry, list)]


def current_fingerprint(
    files: Sequence[Path], pointer: dict[str, object] | None
) -> tuple[str, list[Stat]]:
    """The files' fingerprint, and their stats taken before it: the pointer's fingerprint when
    it recorded the same stats, else a hash of every byte."""
    stats = file_stats(files)
    recorded = pointer.get("fingerprint") if pointer is not None else None
    if isinstance(recorded, str) and _recorded_stats(pointer) == stats:
        return recorded, stats
    return fingerprint(files), stats


def _read_pointer(location: Path) -> dict[str, object] | None:
    try:
        pointer = json.loads((location / POINTER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return pointer if isinstance(pointer, dict) else None


def _folder_of(pointer: dict[str, object] | None) -> str | None:
    """The name of the store folder the pointer names (None for a pointer of an older version)."""
    folder = pointer.get("folder") if pointer is not None else None
    if isinstance(folder, str) and REMOVABLE.fullmatch(folder) and folder.startswith(FOLDER_PREFIX):
        return folder
    return None


def _extra_of(pointer: dict[str, object] | None) -> tuple[Path, ...]:
    names = pointer.get("extra") if pointer is not None else None
    return tuple(Path(str(name)) for name in names) if isinstance(names, list) else ()


def _publish(
    location: Path,
    folder: Path,
    key: str,
    stats: Sequence[Stat],
    files: Sequence[Path],
    extra: Sequence[Path],
) -> None:
    """Make `folder` the current store: the pointer is replaced in one atomic rename."""
    record = {
        "folder": folder.name,
        "fingerprint": key,
        "stats": [list(stat) for stat in stats],
        "files": [str(p) for p in files],
        "extra": [str(p) for p in extra],
    }
    handle, temp = tempfile.mkstemp(dir=location, prefix=".current-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(json.dumps(record, indent=2))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, location / POINTER)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    sync_folder(location)


def recorded_extra(location: Path) -> tuple[Path, ...]:
    """The extra files and folders the current store was built with, as they were given."""
    return _extra_of(_read_pointer(location))


def extra_files(project: Project, location: Path | None = None) -> tuple[Path, ...]:
    """The extra files the current store was built with (`build --extra`, folders read again),
    so that every command sees what queries see; files gone since are left out."""
    location = location or project.store_location
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


def load_in_memory(files: Sequence[Path]) -> pyoxigraph.Store:
    """A new in-memory store holding the files, loaded one per core (largest first).

    For a long-running process (`serve`): the same queries run two to three times faster in
    memory than on the on-disk store, at the price of loading the files at start.
    """
    import pyoxigraph

    store = pyoxigraph.Store()
    by_size = sorted(files, key=lambda path: path.stat().st_size, reverse=True)
    try:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for _ in pool.map(_load_file, repeat(store), by_size):
                pass
    except OSError as error:
        raise ContentError(f"cannot read the content: {_one_line(error)}") from error
    return store


def _load_file(store: pyoxigraph.Store, path: Path) -> None:
    import pyoxigraph

    rdf_format = getattr(pyoxigraph.RdfFormat, FORMAT_BY_SUFFIX[path.suffix])
    try:
        store.bulk_load(path=str(path), format=rdf_format)
    except SyntaxError as error:
        raise RdfSyntaxError(path, str(error)) from error


def _sync_tree(folder: Path) -> None:
    """Every file of the new store on disk before the pointer names it."""
    for path in folder.iterdir():
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    sync_folder(folder)


def build(project: Project, extra: Sequence[Path] = (), location: Path | None = None) -> StoreInfo:
    """Bulk-load ontology, data and extra files into a new on-disk store and make it current."""
    location = _usable_location(project, location)
    for folder in (p for p in extra if p.is_dir()):
        if not rdf_files([folder]):
            suffixes = ", ".join(FORMAT_BY_SUFFIX)
            raise ContentError(f"{folder}: no RDF file ({suffixes}) in this folder")
    with content_lock(project.data_dir):
        files = source_files(project, extra)
        stats = file_stats(files)  # before the hash: a file written meanwhile is hashed again
        return _build_locked(location, files, fingerprint(files), stats, extra)


def _build_locked(
    location: Path, files: Sequence[Path], key: str, stats: Sequence[Stat], extra: Sequence[Path]
) -> StoreInfo:
    """The build itself, from `files` (whose fingerprint is `key`, their stats `stats`); the
    caller holds the content lock."""
    try:
        location.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(dir=location, prefix=f"{FOLDER_PREFIX}{key[:8]}-"))
    except OSError as error:
        raise StoreError(
            f"{location}: cannot create the store here ({error.strerror}); set "
            f"{STORE_VARIABLE} to a writable folder"
        ) from error
    try:
        read_lock(folder)  # no other build removes it, before or after it is published
        _bulk_load(folder, files)
        _sync_tree(folder)
        _publish(location, folder, key, stats, files, [p.resolve() for p in extra])
    except BaseException as error:
        if _folder_of(_read_pointer(location)) != folder.name:  # unpublished: nobody will use it
            release_read_lock(folder)
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(error, OSError | RuntimeError) and not isinstance(error, CoopdecError):
            raise StoreError(f"{location}: cannot build the store ({_one_line(error)})") from error
        raise
    _remove_unused(location, keep=folder.name)
    return StoreInfo(folder, key, tuple(files), rebuilt=True)


def _remove_unused(location: Path, keep: str) -> None:
    """Remove the folders of other builds that no process reads; the caller holds the content
    lock, so no build is under way and the pointer does not move."""
    for entry in os.scandir(location):
        if entry.name == keep or not REMOVABLE.fullmatch(entry.name):
            continue
        if not entry.is_dir(follow_symlinks=False):
            with suppress(OSError):
                os.unlink(entry.path)
            continue
        descriptor = try_remove_lock(Path(entry.path))
        if descriptor is not None:
            try:
                shutil.rmtree(entry.path, ignore_errors=True)
            finally:
                os.close(descriptor)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


@dataclass(frozen=True)
class _Look:
    """What the pointer says, checked against the content on disk now."""

    current: StoreInfo | None  # None: a store must be built, for the reason `why`
    why: str
    extra: tuple[Path, ...]  # the extra files and folders recorded, those still there
    files: tuple[Path, ...]
    fingerprint: str
    stats: list[Stat]
    stats_changed: bool  # the files were hashed: their stats differ from the pointer's


def _look(project: Project, location: Path) -> _Look:
    pointer = _read_pointer(location)
    extra = tuple(p for p in _extra_of(pointer) if p.exists())
    files = source_files(project, extra)
    key, stats = current_fingerprint(files, pointer)
    changed = _recorded_stats(pointer) != stats
    folder = _folder_of(pointer)
    if pointer is None:
        return _Look(None, "No store yet", extra, files, key, stats, changed)
    if pointer.get("fingerprint") != key:
        why = "The content changed since the last build"
        return _Look(None, why, extra, files, key, stats, changed)
    if folder is None or not (location / folder).is_dir():
        return _Look(None, "The current store is missing", extra, files, key, stats, changed)
    current = StoreInfo(location / folder, key, files, rebuilt=False)
    return _Look(current, "", extra, files, key, stats, changed)


def _restat(project: Project, location: Path, look: _Look) -> None:
    """Record the files' new stats in the pointer when their bytes are unchanged (a `touch`, a
    checkout), so that the next command does not hash them again; skipped while a build runs."""
    with content_lock(project.data_dir, wait=False) as free:
        if not free or look.current is None:
            return
        pointer = _read_pointer(location)
        if _folder_of(pointer) != look.current.path.name or pointer is None:
            return
        if pointer.get("fingerprint") != look.fingerprint:
            return
        extra = _extra_of(pointer)
        with suppress(OSError):  # a store folder that cannot be written: only a lost saving
            _publish(location, look.current.path, look.fingerprint, look.stats, look.files, extra)


def open_current(
    project: Project, location: Path | None = None, distrust: Path | None = None
) -> tuple[pyoxigraph.Store, StoreInfo]:
    """The current store, read-only; built first (or waited for, while another process builds
    it) when there is none, the content changed, or it cannot be read. `distrust`: a store
    folder known to be corrupt, rebuilt even if the pointer names it."""
    location = _usable_location(project, location)
    while True:
        look = _look(project, location)
        info = look.current
        if info is not None and look.stats_changed:
            _restat(project, location, look)
        if info is None or info.path == distrust:
            info = _rebuild(project, location, distrust)
        try:
            store = _open(location, info)
        except (OSError, RuntimeError) as error:
            if info.rebuilt:
                raise StoreError(
                    f"{info.path}: the store just built cannot be read ({_one_line(error)})"
                ) from error
            log.info("The store %s is unreadable (%s): rebuilding it…", info.path, _one_line(error))
            distrust = info.path
            continue
        if store is not None:
            _tidy(project, location, keep=info.path.name)
            return store, info


def _tidy(project: Project, location: Path, keep: str) -> None:
    """Remove what killed or older builds left, if there is any and no build is under way."""
    if any(e.name != keep and REMOVABLE.fullmatch(e.name) for e in os.scandir(location)):
        with content_lock(project.data_dir, wait=False) as free:
            if free:
                _remove_unused(location, keep)


def _rebuild(project: Project, location: Path, distrust: Path | None) -> StoreInfo:
    """A store for the content now: built under the content lock, unless another process built
    it while this one waited for the lock."""
    with content_lock(project.data_dir):
        look = _look(project, location)
        if look.current is not None and look.current.path != distrust:
            return look.current
        if look.current is None:
            log.info("%s: building the store from %d files…", look.why, len(look.files))
        return _build_locked(location, look.files, look.fingerprint, look.stats, look.extra)


def _open(location: Path, info: StoreInfo) -> pyoxigraph.Store | None:
    """The store, read-only and locked for reading; None if it stopped being current before
    the lock was taken (look again)."""
    import pyoxigraph

    try:
        newly_locked = read_lock(info.path)
    except FileNotFoundError:  # removed as unused since the pointer was read
        return None
    if _folder_of(_read_pointer(location)) != info.path.name:
        if newly_locked:
            release_read_lock(info.path)
        return None
    return pyoxigraph.Store.read_only(str(info.path))


def with_current(
    project: Project, work: Callable[[pyoxigraph.Store], Result], location: Path | None = None
) -> Result:
    """`work` done on the current store; if the store turns out corrupt while `work` reads it,
    it is rebuilt and `work` done again."""
    store, info = open_current(project, location)
    try:
        return work(store)
    except StoreCorrupted as error:
        log.info("The store %s is corrupt (%s): rebuilding it…", info.path, error.detail)
    del store
    store, _ = open_current(project, location, distrust=info.path)
    return work(store)


# A SELECT answer: its columns, and its rows of terms (None where unbound).
Answer = tuple[tuple[str, ...], list[tuple[Any, ...]]]


def solutions(store: pyoxigraph.Store, query: str) -> Answer:
    """Run a SELECT query on the store: its columns, and rows of pyoxigraph's terms (what the
    result writers and the ordering read, without making rdflib terms)."""
    import pyoxigraph

    with _corruption_reported():
        answer = store.query(query)
        if not isinstance(answer, pyoxigraph.QuerySolutions):
            raise TypeError("not a SELECT query")
        columns = tuple(variable.value for variable in answer.variables)
        return columns, [tuple(solution) for solution in answer]


def select(
    store: pyoxigraph.Store, query: str, converted: dict[object, Identifier | None] | None = None
) -> Answer:
    """Run a SELECT query on the store: its columns, and rows of rdflib terms.

    Each distinct term is converted once: building an rdflib Literal checks its language tag
    and parses its value, which dominated queries of 75 000 rows with repeated labels. Several
    queries about the same nodes may share `converted`, the terms already converted.
    """
    from coopdec_kg.engines.terms import converter

    columns, rows = solutions(store, query)
    convert = converter(converted)
    return columns, [tuple(map(convert, row)) for row in rows]


def ask(store: pyoxigraph.Store, query: str) -> bool:
    """Run an ASK query on the store."""
    import pyoxigraph

    with _corruption_reported():
        answer = store.query(query)
    if not isinstance(answer, pyoxigraph.QueryBoolean):
        raise TypeError("not an ASK query")
    return bool(answer)


def construct(store: pyoxigraph.Store, query: str) -> list[tuple[Identifier, ...]]:
    """Run a CONSTRUCT or DESCRIBE query on the store: its triples, as rdflib terms."""
    import pyoxigraph

    from coopdec_kg.engines.terms import to_rdflib

    with _corruption_reported():
        answer = store.query(query)
        if not isinstance(answer, pyoxigraph.QueryTriples):
            raise TypeError("not a CONSTRUCT or DESCRIBE query")
        triples = [tuple(map(to_rdflib, (t.subject, t.predicate, t.object))) for t in answer]
    return [triple for triple in triples if None not in triple]  # type: ignore[misc]


@contextmanager
def _corruption_reported() -> Iterator[None]:
    """A read that meets corrupt data raises StoreCorrupted (`with_current` rebuilds)."""
    try:
        yield
    except (OSError, RuntimeError) as error:
        if str(error).startswith("Corruption"):
            raise StoreCorrupted(_one_line(error)) from error
        raise


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
    from rdflib import URIRef

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


def labels_of(
    store: pyoxigraph.Store, nodes: Sequence[URIRef], predicates: Sequence[URIRef]
) -> list[tuple[Identifier, ...]]:
    """The label triples (for the given label predicates) of these nodes.

    The predicates are a FILTER IN, not a second VALUES block: Oxigraph joins two VALUES
    blocks with `?s ?p ?o` by reading every triple of the store (0.35 s for a page's labels at
    national scale, against a millisecond when only the subjects are listed)."""
    if not nodes:
        return []
    wanted = ", ".join(f"<{p}>" for p in predicates)
    return _triples(
        store,
        f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {_values(nodes)} }} ?s ?p ?o "
        f"FILTER(?p IN ({wanted})) }}",
    )
