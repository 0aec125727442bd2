"""`add`: let only fully valid submissions into data/, all of a batch or none of it.

Each accepted submission becomes one new file, data/submission-<id>.ttl (<id>: the first 16
hex digits of the file's SHA-256), holding its triples (all about its own resources, under
submission:<id>/: see coopdec_kg.law.boundary), its record (file name, hash, format, time) and
`prov:wasDerivedFrom` from each of its resources to that record — exactly the graph that was
validated. Adding the same file again changes nothing.

Writing is all or nothing, even when the process is killed at any instant: the files of a
batch are committed by one rename, that of a journal (see journal.py). The content lock (see
locks.py) keeps two `add` runs, or an `add` and a store build, from interleaving.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

from coopdec_kg.content.graph import DEFAULT_MAX_BYTES, Submission, Triple, reads_back
from coopdec_kg.content.journal import FILE_PREFIX, commit, settle
from coopdec_kg.content.locks import content_lock
from coopdec_kg.content.project import Project
from coopdec_kg.content.turtle import to_turtle
from coopdec_kg.errors import ContentError
from coopdec_kg.law.validation import ValidationReport, Validator, parse_all


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
    targeted: bool = True,
) -> AddOutcome:
    """Validate the files together; if they conform, store each as a new data file.

    `targeted` (the default, as `validate`'s): the compiled shapes on the neighbourhood read
    from the store (3.8 s for a submission of 50 000 triples); False: pySHACL on the files
    merged with the whole graph, the reference (198 s for the same). Both give the same
    results (tests/test_add.py compares them).
    """
    check_writable(project)
    return add_submissions(
        project, parse_all(paths, input_format, max_bytes), created, targeted=targeted
    )


def check_writable(project: Project) -> None:
    """Refuse, before any work, to add to the content shipped with the package."""
    if _inside(project.root, package_folder()):
        raise ContentError(
            f"{project.root} is the content shipped with the package: pass --root DIR (or set "
            "COOPDEC_KG_ROOT) to add data to a content folder of your own"
        )


def add_submissions(
    project: Project,
    submissions: Sequence[Submission],
    created: datetime | None = None,
    targeted: bool = True,
) -> AddOutcome:
    """Validate parsed submissions together (files, or a spreadsheet's rows mapped to RDF by
    `coopdec-kg import`); if they conform, store each as a new data file, all or none.
    `targeted` as for `add_files`."""
    check_writable(project)
    with content_lock(project.data_dir):
        settle(project.data_dir)
        present = [s for s in submissions if submission_file(project, s).exists()]
        fresh = [s for s in submissions if not submission_file(project, s).exists()]
        outcome = AddOutcome(None, already_present=[submission_file(project, s) for s in present])
        if not fresh:
            return outcome
        validator = Validator(project, targeted=targeted)
        outcome.report = validator.check_boundary(fresh)
        if not outcome.report.conforms:
            return outcome
        stored = validator.stored(fresh, created or datetime.now(UTC))
        outcome.report = validator.validate_graphs(fresh, stored)
        if not outcome.report.conforms:
            return outcome
        batch = [
            (submission_file(project, s), _payload(s, triples))
            for s, triples in zip(fresh, stored, strict=True)
        ]
        commit(project.data_dir, batch)
        outcome.written = [target for target, _ in batch]
    return outcome


def package_folder() -> Path:
    """The installed package: its shipped content is read-only for `add`."""
    return Path(str(files("coopdec_kg"))).resolve()


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder)


def _payload(submission: Submission, triples: Sequence[Triple]) -> bytes:
    """Byte-stable Turtle, proved to read back as the same triples before it is stored.

    The file's name is user text: it is written only as an escaped literal of the record
    (dct:title), never into the comment, where a line break would end the comment.
    """
    header = (
        f"# Added by coopdec-kg (sha256 {submission.digest}); the record "
        f"submission:{submission.identifier} below names the file.\n"
        "# Validated against ontology/shapes.ttl; do not edit by hand: remove the file and "
        "add a corrected submission instead.\n\n"
    )
    payload = header.encode("utf-8") + to_turtle(triples)
    if not reads_back(payload, triples):
        raise ContentError(
            f"{submission.path.name}: the stored Turtle would not read back the same"
        )
    return payload
