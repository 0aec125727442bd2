"""`add`: let only fully valid submissions into data/, all of a batch or none of it.

Each accepted submission becomes one new file, data/submission-<id>.ttl (<id>: the first 16
hex digits of the file's SHA-256), holding its triples (all about its own resources, under
submission:<id>/: see coopdec_kg.boundary), its record (file name, hash, format, time) and
`prov:wasDerivedFrom` from each of its resources to that record — exactly the graph that was
validated. Adding the same file again changes nothing.

Writing is all or nothing: every file is first written and fsynced under a temporary name in
data/, then renamed into place; if anything fails, the files already renamed are removed and
the temporary ones deleted, so data/ is left byte for byte as it was. A lock on data/ keeps two
`add` runs from interleaving their read-validate-write.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

from rdflib import Graph
from rdflib.compare import isomorphic

from coopdec_kg.errors import ContentError
from coopdec_kg.export import sync_folder, to_turtle
from coopdec_kg.graph import DEFAULT_MAX_BYTES, Submission, reparse_turtle
from coopdec_kg.project import Project
from coopdec_kg.validation import ValidationReport, Validator, parse_all

FILE_PREFIX = "submission-"


@dataclass
class AddOutcome:
    """What `add` did: the validation report, the files written, the ones already present."""

    report: ValidationReport | None
    written: list[Path] = field(default_factory=list)
    already_present: list[Path] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.report is None or self.report.conforms


def submission_file(project: Project, submission: Submission) -> Path:
    """Where an accepted submission is stored."""
    return project.data_dir / f"{FILE_PREFIX}{submission.identifier}.ttl"


def add_files(
    project: Project,
    paths: Sequence[Path],
    input_format: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    created: datetime | None = None,
) -> AddOutcome:
    """Validate the files together; if they conform, store each as a new data file."""
    if _inside(project.root, package_folder()):
        raise ContentError(
            f"{project.root} is the content shipped with the package: pass --root DIR (or set "
            "COOPDEC_KG_ROOT) to add data to a content folder of your own"
        )
    submissions = parse_all(paths, input_format, max_bytes)
    with _locked(project.data_dir):
        present = [s for s in submissions if submission_file(project, s).exists()]
        fresh = [s for s in submissions if not submission_file(project, s).exists()]
        outcome = AddOutcome(None, already_present=[submission_file(project, s) for s in present])
        if not fresh:
            return outcome
        validator = Validator(project)
        outcome.report = validator.check_boundary(fresh)
        if not outcome.report.conforms:
            return outcome
        stored = validator.stored_graphs(fresh, created or datetime.now(UTC))
        outcome.report = validator.validate_graphs(fresh, stored)
        if not outcome.report.conforms:
            return outcome
        batch = [
            (submission_file(project, s), _payload(s, graph))
            for s, graph in zip(fresh, stored, strict=True)
        ]
        write_batch(project.data_dir, batch)
        outcome.written = [target for target, _ in batch]
    return outcome


def package_folder() -> Path:
    """The installed package: its shipped content is read-only for `add`."""
    return Path(str(files("coopdec_kg"))).resolve()


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder)


def _payload(submission: Submission, graph: Graph) -> bytes:
    """Byte-stable Turtle, proved to read back as the same graph before it is stored.

    The file's name is user text: it is written only as an escaped literal of the record
    (dct:title), never into the comment, where a line break would end the comment.
    """
    header = (
        f"# Added by coopdec-kg (sha256 {submission.digest}); the record "
        f"submission:{submission.identifier} below names the file.\n"
        "# Validated against ontology/shapes.ttl; do not edit by hand: remove the file and "
        "add a corrected submission instead.\n\n"
    )
    payload = header.encode("utf-8") + to_turtle(graph)
    if not isomorphic(reparse_turtle(payload, submission.path.name), graph):
        raise ContentError(
            f"{submission.path.name}: the stored Turtle would not read back the same"
        )
    return payload


def write_batch(folder: Path, batch: Sequence[tuple[Path, bytes]]) -> None:
    """Create every file of the batch, or none: temporary files first, then renames."""
    temporaries: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        for target, payload in batch:
            if target.exists():
                raise ContentError(f"{target} already exists")
            handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
            temporary = Path(name)
            temporaries.append((temporary, target))
            with os.fdopen(handle, "wb") as stream:
                stream.write(payload)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, _file_mode())
        for temporary, target in temporaries:
            os.replace(temporary, target)
            placed.append(target)
    except BaseException:
        for target in placed:
            with suppress(OSError):
                target.unlink()
        for temporary, _ in temporaries:
            with suppress(OSError):
                temporary.unlink()
        sync_folder(folder)
        raise
    sync_folder(folder)


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on the data folder itself (no lock file is left in data/)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no locking
        yield
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError as error:
        raise ContentError(f"{folder}: cannot open the data folder ({error.strerror})") from error
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
