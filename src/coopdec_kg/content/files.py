"""Files written for people and programs: atomically, durably, and never over the content.

A file is written under a temporary name in its destination folder, fsynced, then renamed over
the old one (`os.replace`), and the folder is fsynced: readers see the old file or the new one,
never half, and an error never leaves a truncated file behind. `check_output` refuses, before
any work, a destination inside the content or the store, or one that is not a regular file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from coopdec_kg.errors import ExportError

if TYPE_CHECKING:
    from coopdec_kg.content.project import Project


def sync_folder(folder: Path) -> None:
    """Make the renames durable (best effort: not every platform can open a folder)."""
    with suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def output_folder(folder: Path) -> None:
    """Make sure an output folder named on the command line exists: created when its parent
    exists, refused otherwise."""
    if not folder.is_dir():
        if not folder.parent.is_dir():
            raise ExportError(f"{folder.parent}: no such folder (create it first)")
        if folder.exists():
            raise ExportError(f"{folder} exists and is not a folder")
        folder.mkdir()


def check_output(project: Project, path: Path) -> None:
    """Refuse an output path where a file for people must not go: inside data/, ontology/,
    queries/ or the store (it would be read back as content, or break the store), or over
    anything but a regular file (a device, a FIFO, a symbolic link, a folder). Call it before
    the work, so that a refusal costs nothing."""
    target = path.parent.resolve() / path.name
    protected = (project.data_dir, project.ontology_dir, project.queries_dir)
    for folder in (*protected, project.store_location):
        if target.is_relative_to(folder.resolve()):
            raise ExportError(
                f"{path} is inside {folder}: write outside data/, ontology/, queries/ and the store"
            )
    _check_kind(path)


_NOT_REGULAR = {
    stat.S_IFDIR: "a folder",
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}


def _check_kind(path: Path) -> None:
    """Only a regular file is ever replaced (never followed through a symbolic link)."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise ExportError(f"{path}: cannot write here ({error.strerror})") from error
    if not stat.S_ISREG(mode):
        kind = _NOT_REGULAR.get(stat.S_IFMT(mode), "not a regular file")
        raise ExportError(f"{path} is {kind}, not a file: give the path of a regular file")


def _check_destination(path: Path) -> None:
    if not path.parent.is_dir():
        raise ExportError(f"{path.parent}: no such folder (create it first)")
    _check_kind(path)


def _new_file_mode(path: Path) -> int:
    """Keep the mode of the file being replaced, else the usual mode under the umask."""
    with suppress(FileNotFoundError):
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: Path, payload: bytes | Iterable[bytes]) -> int:
    """Write `payload` (bytes, or chunks of bytes produced as they are written) to `path` so that
    readers see the old file or the new one, never half; an error while producing the chunks
    leaves the old file. Returns the number of bytes written."""
    _check_destination(path)
    mode = _new_file_mode(path)
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as error:
        raise ExportError(f"{path.parent}: cannot write here ({error.strerror})") from error
    try:
        size = 0
        with os.fdopen(handle, "wb") as stream:
            for chunk in [payload] if isinstance(payload, bytes) else payload:
                size += stream.write(chunk)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as error:
        with suppress(OSError):
            os.unlink(temporary)
        raise ExportError(f"{path}: cannot write ({error.strerror or error})") from error
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
    sync_folder(path.parent)
    return size
