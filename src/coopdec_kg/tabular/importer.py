"""`import`: a filled spreadsheet checked against the law, its problems shown at their cells.

Read the file (coopdec_kg.tabular.sheets), map its rows to Turtle through the shipped mapping
(coopdec_kg.tabular.rows), parse that Turtle as a submission named after the spreadsheet (its
SHA-256 and format go into the record), then either validate it in the context of the graph
(`--dry-run`, as `validate` does) or hand it to `add` (coopdec_kg.law.submission.add_submissions:
the same boundary, shapes, lock and journal as a Turtle file). Each result of the shapes is
placed back at the cell that produced its focus node and path.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rdflib import URIRef
from rdflib.term import Node

from coopdec_kg.content.folding import fold
from coopdec_kg.content.graph import (
    DEFAULT_MAX_BYTES,
    Submission,
    check_file_name,
    parse_submission_payload,
    read_bounded,
)
from coopdec_kg.content.project import Project
from coopdec_kg.errors import InputError
from coopdec_kg.law.validation import LEGAL_TEXT, Finding, ValidationReport, Validator
from coopdec_kg.tabular.mapping import SheetMapping, Table, load_mapping
from coopdec_kg.tabular.names import load_names
from coopdec_kg.tabular.rows import Cell, Mapped, Problem, map_sheets, match_table, table_of_header
from coopdec_kg.tabular.sheets import MAX_ROWS, Sheet, read_sheets, sheet_format

# The triples of an import are not bounded like those of RDF text: its own mapping writes them
# from a sheet already bounded by its bytes and rows (MAX_ROWS).
_UNBOUNDED = sys.maxsize


@dataclass(frozen=True)
class CellFinding:
    """A problem at a cell: what it breaks, in which words, and the legal text it comes from."""

    cell: Cell | None
    severity: str  # Violation, Warning, Info
    messages: dict[str, str]
    texts: dict[str, list[str]] = field(default_factory=dict)  # lang → legal texts cited

    def line(self, lang: str) -> str:
        """« Liens, ligne 12, colonne « Pays du partenaire » (D) : … (Circulaire du …) »."""
        french = lang == "fr"
        place = _place(self.cell, lang)
        warning = {"Warning": ("avertissement", "warning"), "Info": ("information", "note")}
        prefix = (
            f"{warning[self.severity][0 if french else 1]} — " if self.severity in warning else ""
        )
        cited = self.texts.get(lang) or []
        law = f" ({' ; '.join(cited) if french else '; '.join(cited)})" if cited else ""
        return f"{place}{' : ' if french else ': '}{prefix}{self.messages[lang]}{law}"


@dataclass
class ImportOutcome:
    """What `import` found and did."""

    path: Path
    dry_run: bool
    findings: list[CellFinding] = field(default_factory=list)
    notes: list[CellFinding] = field(default_factory=list)
    submission: Submission | None = None
    written: list[Path] = field(default_factory=list)
    already_present: list[Path] = field(default_factory=list)
    cells_unreadable: bool = False  # cells that could not be read: the law was not checked

    @property
    def conforms(self) -> bool:
        return not self.cells_unreadable and all(f.severity != "Violation" for f in self.findings)


def import_sheet(
    project: Project,
    path: Path,
    sheet: str | None = None,
    dry_run: bool = False,
    lang: str = "fr",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = MAX_ROWS,
    created: datetime | None = None,
) -> ImportOutcome:
    """Read, map, validate and (unless `dry_run`) add one spreadsheet, all or nothing."""
    fmt = sheet_format(path)
    check_file_name(path)
    if not dry_run:
        from coopdec_kg.law.submission import check_writable

        check_writable(project)
    payload = read_bounded(path, max_bytes)
    mapping = load_mapping()
    pairs = choose_sheets(mapping, read_sheets(path, payload, fmt, max_rows), sheet)
    mapped = map_sheets(mapping, pairs, lambda: load_names(project, mapping, lang))
    outcome = ImportOutcome(path, dry_run, notes=[_cell_problem(p) for p in mapped.notes])
    if mapped.problems:
        outcome.findings = [_cell_problem(problem) for problem in mapped.problems]
        outcome.cells_unreadable = True
        return outcome
    if not mapped.turtle:
        raise InputError(f"{path}: no rows to import (only headers)")
    turtle = ("\n".join(mapped.turtle) + "\n").encode("utf-8")
    digest = hashlib.sha256(payload).hexdigest()
    submission = parse_submission_payload(
        path, turtle, "turtle", digest, _UNBOUNDED, recorded_format=fmt
    )
    outcome.submission = submission
    report: ValidationReport | None
    if dry_run:
        report = Validator(project, targeted=True).validate([submission], created)
    else:
        from coopdec_kg.law.submission import add_submissions

        added = add_submissions(project, [submission], created)
        report = added.report
        outcome.written = added.written
        outcome.already_present = added.already_present
    if report is not None:
        outcome.findings = [_at_cell(f, report, submission, mapped) for f in report.findings]
    return outcome


def choose_sheets(
    mapping: SheetMapping, sheets: list[Sheet], wanted: str | None
) -> list[tuple[Table, Sheet]]:
    """The sheets to import and the table each one fills: the one named by --sheet, else
    those named after a table (« Liens », « Links », « Actions »), else a lone sheet with
    data whose header fits a table (a CSV file, or a workbook whose only sheet was renamed)."""
    found = ", ".join(f"« {s.name} »" for s in sheets)
    expected = ", ".join(f"« {t.title('fr')} »" for t in mapping.tables)
    if wanted is not None:
        chosen = [s for s in sheets if fold(s.name) == fold(wanted)]
        if not chosen:
            raise InputError(f"no sheet « {wanted} » in the file (it has {found})")
        table = match_table(mapping, chosen[0]) or table_of_header(mapping, chosen[0])
        if table is None:
            raise InputError(
                f"sheet « {chosen[0].name} »: its header fits neither sheet of the template "
                f"({expected}): start from `coopdec-kg template`"
            )
        return [(table, chosen[0])]
    pairs: list[tuple[Table, Sheet]] = []
    for sheet in sheets:
        table = match_table(mapping, sheet)
        if table is not None and len(sheet.rows) > 1:
            if any(known is table for known, _ in pairs):
                raise InputError(f"two sheets fill the table « {table.title('fr')} »: keep one")
            pairs.append((table, sheet))
    if pairs:
        return pairs
    with_data = [s for s in sheets if len(s.rows) > 1]
    if not with_data:
        raise InputError("no rows to import: every sheet is empty or holds only its header")
    if len(with_data) == 1:
        table = table_of_header(mapping, with_data[0])
        if table is None:
            raise InputError(
                f"sheet « {with_data[0].name} »: its header fits neither sheet of the template "
                f"({expected}): start from `coopdec-kg template`"
            )
        return [(table, with_data[0])]
    raise InputError(
        f"no sheet named {expected} with rows (the file has {found}): rename the sheet, "
        "or give --sheet NAME"
    )


def _place(cell: Cell | None, lang: str) -> str:
    if cell is None:
        return "ensemble de la feuille" if lang == "fr" else "whole sheet"
    row = f"{cell.sheet}, {'ligne' if lang == 'fr' else 'row'} {cell.row}"
    if cell.column is None:
        return row
    name = f"« {cell.column} »" if lang == "fr" else f'"{cell.column}"'
    letter = f" ({cell.letter})" if cell.letter else ""
    return f"{row}, {'colonne' if lang == 'fr' else 'column'} {name}{letter}"


def _cell_problem(problem: Problem) -> CellFinding:
    return CellFinding(problem.cell, "Violation", dict(problem.texts))


def _at_cell(
    finding: Finding, report: ValidationReport, submission: Submission, mapped: Mapped
) -> CellFinding:
    """A result of the shapes (or of the boundary), placed at the cell that gave its focus
    node and path, else at the row of its focus node or value."""
    base = str(submission.iri) + "/"

    def local(node: Node | None) -> str | None:
        text = str(node) if isinstance(node, URIRef) else ""
        return text[len(base) :] if text.startswith(base) else None

    focus, value = local(finding.focus), local(finding.value)
    cell = None
    if focus is not None and isinstance(finding.path, URIRef):
        cell = mapped.origins.get((focus, str(finding.path)))
    if cell is None and value is not None and isinstance(finding.path, URIRef):
        cell = next(
            (c for (s, p), c in mapped.origins.items() if s == value and p == str(finding.path)),
            None,
        )
    if cell is None:
        cell = mapped.rows.get(focus or "") or mapped.rows.get(value or "")
    legal = [t for t in finding.texts if str(t).startswith(LEGAL_TEXT)]
    return CellFinding(
        cell,
        finding.severity_name,
        {lang: finding.message(lang) for lang in ("fr", "en")},
        {
            lang: [report.labels.label(t, lang) or report.labels.compact(t) for t in legal]
            for lang in ("fr", "en")
        },
    )
