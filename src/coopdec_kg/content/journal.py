"""New files in data/, created all or none even when the process is killed at any instant.

`add` stores each accepted submission as its own file, data/submission-<id>.ttl (so that adding
a file again is recognised by its name), and POSIX renames one name at a time: no single rename
of those files can commit a batch of several. The rename of a journal does, rolled forward:

1. every file is written and fsynced under a temporary name, `.submission-<id>.ttl.<random>.tmp`;
2. the journal `.submission-batch.json`, listing each temporary name with its final name, is
   written under a temporary name, fsynced and renamed into place: this rename is the commit;
3. the temporary files are renamed to their final names, then the journal is removed.

Killed before the commit, a process leaves only temporary files, which the next command removes:
data/ is as before. Killed after it, the journal names files that are all written, so the next
command finishes the renames: data/ holds the whole batch. Rolling forward is the choice because
it makes the journal's rename what a single file's rename would be, the instant after which the
batch exists: a crash can then neither lose an accepted submission nor keep part of it, and
what is left to do (renames) needs no space and can be redone any number of times. An error the
process itself sees after the commit (an interrupted rename) is undone on the spot instead,
each final name renamed back to its temporary one before the journal goes, so that the user is
truthfully told "nothing added" (and a crash during that undo is still rolled forward).

Every command that lists data/ (Project.data_files) finishes a journal it finds first, waiting
for the content lock, and lists again if a journal appeared meanwhile: only a whole commit run
between its two looks at the folder (a few statements apart) could go unseen. The
temporary files of a crashed `add` are removed by the next command that gets the content lock
without waiting.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from coopdec_kg.content.files import sync_folder
from coopdec_kg.content.locks import content_lock
from coopdec_kg.errors import ContentError

FILE_PREFIX = "submission-"
JOURNAL = f".{FILE_PREFIX}batch.json"
TEMPORARY_PREFIX = f".{FILE_PREFIX}"
TEMPORARY_SUFFIX = ".tmp"


def committed_files(folder: Path, suffix: str) -> list[Path]:
    """The folder's files ending in `suffix` (by name) as last committed: an interrupted batch
    is finished first, and a batch being committed meanwhile is waited for."""
    while True:
        try:
            names = os.listdir(folder)
        except OSError as error:
            raise ContentError(f"{folder}: cannot read this folder ({error.strerror})") from error
        if JOURNAL in names:
            with content_lock(folder):
                settle(folder)
            continue
        if any(_is_temporary(name) for name in names):
            with content_lock(folder, wait=False) as free:
                if free:
                    settle(folder)
        if not (folder / JOURNAL).exists():  # no batch was committed while the folder was read
            return sorted(folder / name for name in names if name.endswith(suffix))


def settle(folder: Path) -> None:
    """Finish the batch a journal commits, then remove temporary files left by a crash. The
    caller holds the content lock."""
    journal = folder / JOURNAL
    if journal.exists():
        renames = _read_journal(journal)
        try:
            for temporary, final in renames:
                if (folder / temporary).exists():
                    os.replace(folder / temporary, folder / final)
            sync_folder(folder)
            journal.unlink()
        except OSError as error:
            raise ContentError(
                f"{folder}: cannot finish the add that was interrupted ({error.strerror})"
            ) from error
    _remove([folder / name for name in os.listdir(folder) if _is_temporary(name)])
    sync_folder(folder)


def commit(folder: Path, batch: Sequence[tuple[Path, bytes]]) -> None:
    """Create every file of the batch (final path, bytes) in `folder`, or none of them."""
    with content_lock(folder):
        settle(folder)
        for final, _ in batch:
            if final.parent != folder or not final.name.startswith(FILE_PREFIX):
                raise ValueError(f"{final}: not a {FILE_PREFIX}* file of {folder}")
            if final.exists():
                raise ContentError(f"{final} already exists")
        temporaries: list[Path] = []
        try:
            for final, payload in batch:
                temporaries.append(_write_temporary(folder, f".{final.name}.", payload))
            renames = [(t, final) for t, (final, _) in zip(temporaries, batch, strict=True)]
            record = [[t.name, final.name] for t, final in renames]
            journal = _write_temporary(folder, f"{JOURNAL}.", json.dumps(record).encode())
            temporaries.append(journal)
            os.rename(journal, folder / JOURNAL)  # the commit
        except BaseException as error:
            _remove(temporaries)
            _refuse_os_error(folder, error)
            raise
        sync_folder(folder)
        _place(folder, renames)


def _place(folder: Path, renames: Sequence[tuple[Path, Path]]) -> None:
    """Step 3: the renames, then the journal goes; an error undoes what was placed."""
    placed: list[tuple[Path, Path]] = []
    try:
        for temporary, final in renames:
            os.replace(temporary, final)
            placed.append((temporary, final))
        sync_folder(folder)
    except BaseException as error:
        try:
            for temporary, final in reversed(placed):
                os.rename(final, temporary)
            sync_folder(folder)
            (folder / JOURNAL).unlink()
        except OSError as undoing:
            raise ContentError(
                f"{folder}: the add was interrupted ({undoing.strerror}); the next command "
                "finishes it"
            ) from error
        _remove([temporary for temporary, _ in renames])
        _refuse_os_error(folder, error)
        raise
    (folder / JOURNAL).unlink()  # the batch is complete: from here on nothing is undone
    sync_folder(folder)


def _write_temporary(folder: Path, prefix: str, payload: bytes) -> Path:
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=TEMPORARY_SUFFIX, dir=folder)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _file_mode())
    except BaseException:
        temporary.unlink()
        raise
    return temporary


def _refuse_os_error(folder: Path, error: BaseException) -> None:
    """A file-system error (full disk, read-only folder) becomes one line for the user."""
    if isinstance(error, OSError):
        raise ContentError(
            f"{folder}: cannot write the submission ({error.strerror or error}); nothing added"
        ) from error


def _read_journal(journal: Path) -> list[tuple[str, str]]:
    try:
        record = json.loads(journal.read_text(encoding="utf-8"))
        renames = [(str(temporary), str(final)) for temporary, final in record]
    except (OSError, ValueError, TypeError) as error:
        raise ContentError(
            f"{journal}: cannot finish the interrupted add ({error}); remove this file and the "
            f"{TEMPORARY_PREFIX}*{TEMPORARY_SUFFIX} files next to it, then add again"
        ) from error
    for temporary, final in renames:
        ours = final.startswith(FILE_PREFIX) and temporary.startswith(f".{final}.")
        if not ours or "/" in temporary + final:
            raise ContentError(f"{journal}: names a file outside the batch ({final!r})")
    return renames


def _is_temporary(name: str) -> bool:
    return name.startswith(TEMPORARY_PREFIX) and name.endswith(TEMPORARY_SUFFIX)


def _remove(paths: Sequence[Path]) -> None:
    for path in paths:
        with suppress(OSError):
            path.unlink()


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
