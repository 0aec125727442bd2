"""Locks between processes (fcntl.flock on folders), so that commands run at the same time never
see or destroy each other's half-done work.

- The content lock: exclusive, on the data/ folder. `add` holds it while it validates and
  writes, every store build while it builds, so data/ never changes under a build and two
  builds or two adds never interleave. It is re-entrant within a process (a store built while
  `add` validates runs under `add`'s lock) and also keeps the threads of a process apart.
- Reader locks: shared, on a store folder, held by a process from the moment it opens that
  store until it exits (a pyoxigraph Store cannot say when it is closed). A store folder is
  removed only by a process that takes an exclusive lock on it without waiting.

A flock lock belongs to an open file description and dies with its process: a process killed
at any instant never leaves a lock behind, and no lock file is ever written.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from coopdec_kg.errors import ContentError

log = logging.getLogger(__name__)

_registry_guard = threading.Lock()
_thread_locks: dict[str, threading.RLock] = {}
_held: set[str] = set()
_reading: dict[str, int] = {}


WAITING = "Another coopdec-kg command is adding data or building the store: waiting for it…"


@contextmanager
def content_lock(data_folder: Path, wait: bool = True) -> Iterator[bool]:
    """Hold the content lock (exclusive, on data/), saying so on the log when it must wait for
    another process. With `wait=False`, give up at once instead: the context yields False."""
    key = os.path.realpath(data_folder)
    with _registry_guard:
        in_process = _thread_locks.setdefault(key, threading.RLock())
    if not in_process.acquire(blocking=wait):
        yield False
        return
    try:
        if key in _held:  # this thread holds it already
            yield True
            return
        try:
            descriptor = _open_folder(data_folder)
        except OSError as error:
            raise ContentError(f"{data_folder}: cannot lock it ({error.strerror})") from None
        try:
            if not _flock_exclusive(descriptor, wait):
                yield False
                return
            _held.add(key)
            try:
                yield True
            finally:
                _held.discard(key)
        finally:
            os.close(descriptor)
    finally:
        in_process.release()


def _flock_exclusive(descriptor: int, wait: bool) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        if not wait:
            return False
        log.info(WAITING)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
    return True


def _open_folder(folder: Path) -> int:
    return os.open(folder, os.O_RDONLY | os.O_DIRECTORY)


def read_lock(folder: Path) -> bool:
    """Take a shared lock on `folder` for the rest of this process (waits while the folder is
    being removed); False if this process held it already. Raises OSError when the folder
    cannot be opened."""
    key = os.path.realpath(folder)
    with _registry_guard:
        if key in _reading:
            return False
    descriptor = _open_folder(folder)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH)
    except BaseException:
        os.close(descriptor)
        raise
    with _registry_guard:
        if key in _reading:  # another thread of this process took it meanwhile
            os.close(descriptor)
            return False
        _reading[key] = descriptor
    return True


def release_read_lock(folder: Path) -> None:
    """Give up this process's shared lock on `folder` (a store it did not open after all)."""
    with _registry_guard:
        descriptor = _reading.pop(os.path.realpath(folder), None)
    if descriptor is not None:
        os.close(descriptor)


def try_remove_lock(folder: Path) -> int | None:
    """An exclusive lock on `folder` if no process reads it (this one included), else None; the
    caller removes the folder, then closes the descriptor."""
    try:
        descriptor = _open_folder(folder)
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor
