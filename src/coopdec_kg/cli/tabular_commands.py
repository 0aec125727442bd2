"""The spreadsheet commands: `template` and `import`."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from coopdec_kg.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USER_ERROR,
    CommandGroup,
    Language,
    err,
    language,
    language_option,
    note_extra_files,
    project,
    user_errors,
)
from coopdec_kg.terminal import printable

if TYPE_CHECKING:
    from coopdec_kg.tabular.importer import CellFinding, ImportOutcome

commands = CommandGroup()

TEMPLATE_SUFFIXES = {".xlsx": "xlsx", ".ods": "ods", ".csv": "csv"}


class TemplateTable(StrEnum):
    links = "links"
    actions = "actions"


class ImportFormat(StrEnum):
    text = "text"
    json = "json"


@commands.command("template", short_help="Write a blank spreadsheet submission to fill.")
def template_command(
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="The file to write: .xlsx, .ods or .csv (the format follows the extension).",
            show_default=False,
        ),
    ],
    lang: Annotated[
        Language | None, language_option("Language of the headers and instructions")
    ] = None,
    table: Annotated[
        TemplateTable,
        typer.Option(
            "--sheet",
            help="For a .csv file, which table it holds: links or actions (a workbook has both).",
        ),
    ] = TemplateTable.links,
) -> None:
    """Write a blank submission: a sheet of cooperation links (French party, foreign partner,
    its country and status, agreement, signature, start year, source…), a sheet of actions
    (authority, link, domains, roles, amount, year…), an instructions sheet, and drop-down
    lists of the names the graph knows (XLSX and ODS). Fill it, then run `coopdec-kg import`.
    """
    from coopdec_kg.content.files import check_output, write_atomic
    from coopdec_kg.tabular.template import template_bytes

    reader = language(lang)
    fmt = TEMPLATE_SUFFIXES.get(output.suffix.lower())
    if fmt is None:
        err(f"Error: {output}: give a file name ending in .xlsx, .ods or .csv")
        raise typer.Exit(EXIT_USER_ERROR)
    content = project()
    with user_errors():
        check_output(content, output)
        write_atomic(output, template_bytes(content, fmt, reader, table.value))
    err(f"Écrit : {output}" if reader == "fr" else f"Wrote {output}")


@commands.command("import", short_help="Check a filled spreadsheet against the law, then add it.")
def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="A filled template: .csv (UTF-8 or Windows-1252, ; or , between cells), "
            ".xlsx or .ods.",
            show_default=False,
        ),
    ],
    sheet: Annotated[
        str | None,
        typer.Option(
            "--sheet",
            metavar="NAME",
            help="Read only this sheet of the workbook (for a sheet that was renamed).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check only: write nothing, whatever the verdict."),
    ] = False,
    lang: Annotated[Language | None, language_option("Language of the messages")] = None,
    output_format: Annotated[
        ImportFormat,
        typer.Option("--format", "-f", help="text (for people) or json (for programs)."),
    ] = ImportFormat.text,
    max_bytes: Annotated[
        int,
        typer.Option("--max-bytes", min=1, metavar="BYTES", help="Refuse a larger FILE."),
    ] = 20 * 1024 * 1024,
) -> None:
    """Read a filled spreadsheet, turn its rows into RDF through the mapping shipped with the
    package (W3C CSVW metadata), resolve the names it gives (accents and case aside:
    « Cergy Pontoise », « Bénin » or « BEN »), and check it against the law in the context of
    the graph. Every problem is reported at its row and column, in the sheet's own words, with
    the legal text it comes from. Without --dry-run, a sheet with no violation is added like
    `add` adds a file: all or nothing, as data/submission-<id>.ttl.
    Exit codes: 0 conforms (and added, without --dry-run); 1 violations (nothing written); 2 an
    unreadable file, sheet or cell (nothing written).
    """
    from coopdec_kg.tabular.importer import import_sheet

    content = project()
    reader = language(lang)
    with user_errors():
        note_extra_files(content)
        outcome = import_sheet(
            content, file, sheet=sheet, dry_run=dry_run, lang=reader, max_bytes=max_bytes
        )
    french = reader == "fr"
    if output_format is ImportFormat.json:
        typer.echo(_json(outcome, reader))
    else:
        for note in outcome.notes:
            err(("Note : " if french else "Note: ") + note.line(reader))
        for finding in outcome.findings:
            typer.echo(printable(finding.line(reader)))
    for path in outcome.already_present:
        err(f"Déjà présent, inchangé : {path}" if french else f"Already present, unchanged: {path}")
    if outcome.cells_unreadable:
        err(
            f"{len(outcome.findings)} cellule(s) illisible(s) : rien n'a été écrit."
            if french
            else f"{len(outcome.findings)} unreadable cell(s): nothing written."
        )
        raise typer.Exit(EXIT_USER_ERROR)
    if not outcome.conforms:
        violations = sum(f.severity == "Violation" for f in outcome.findings)
        err(
            f"Rejeté : {violations} violation(s), rien n'a été écrit."
            if french
            else f"Rejected: {violations} violation(s), nothing written."
        )
        raise typer.Exit(EXIT_REJECTED)
    if dry_run:
        err(
            "Conforme (--dry-run : rien n'a été écrit)."
            if french
            else "Conforms (--dry-run: nothing written)."
        )
    for path in outcome.written:
        err(f"Ajouté : {path}" if french else f"Added: {path}")
    raise typer.Exit(EXIT_OK)


def _json(outcome: ImportOutcome, lang: str) -> str:
    def entry(finding: CellFinding) -> dict[str, object]:
        cell = finding.cell
        return {
            "sheet": cell.sheet if cell else None,
            "row": cell.row if cell else None,
            "column": cell.column if cell else None,
            "letter": cell.letter if cell else None,
            "severity": finding.severity,
            "message": finding.messages[lang],
            "legalTexts": finding.texts.get(lang, []),
            "text": finding.line(lang),
        }

    document = {
        "file": str(outcome.path),
        "conforms": outcome.conforms,
        "dryRun": outcome.dry_run,
        "submission": str(outcome.submission.iri) if outcome.submission else None,
        "problems": [entry(f) for f in outcome.findings],
        "notes": [entry(n) for n in outcome.notes],
        "written": [str(p) for p in outcome.written],
        "alreadyPresent": [str(p) for p in outcome.already_present],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)
