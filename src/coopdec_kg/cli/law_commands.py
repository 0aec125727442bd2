"""The commands of the law: `validate` and `add`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from coopdec_kg.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USER_ERROR,
    CommandGroup,
    Engine,
    Language,
    err,
    language,
    language_option,
    note_extra_files,
    project,
    user_errors,
    working,
)
from coopdec_kg.terminal import printable

commands = CommandGroup()


class ValidationFormat(StrEnum):
    text = "text"
    json = "json"
    turtle = "turtle"


class Severity(StrEnum):
    violation = "violation"
    warning = "warning"
    info = "info"


class InputFormat(StrEnum):
    turtle = "turtle"
    nt = "nt"
    jsonld = "jsonld"
    xml = "xml"


_SUBMITTED_FILES = typer.Argument(
    metavar="FILE...",
    help="Turtle (.ttl), N-Triples (.nt), JSON-LD (.jsonld, .json) or RDF/XML (.rdf, .owl, "
    ".xml) files describing new cooperation data. Several files are validated together.",
    show_default=False,
)
_LANG_OPTION = language_option("Language of the messages, rule names and labels")
_INPUT_FORMAT_OPTION = typer.Option(
    "--input-format",
    "-i",
    case_sensitive=False,
    help="Format of every FILE, when its extension does not tell: turtle, nt, jsonld or xml.",
)
_MAX_BYTES_OPTION = typer.Option(
    "--max-bytes",
    min=1,
    metavar="BYTES",
    help="Refuse any FILE larger than this, before reading it.",
)


@commands.command("validate", short_help="Check new cooperation data against the law (SHACL).")
def validate_command(
    files: Annotated[list[Path] | None, _SUBMITTED_FILES] = None,
    lang: Annotated[Language | None, _LANG_OPTION] = None,
    output_format: Annotated[
        ValidationFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="text (for people, grouped by resource), json (for programs) or turtle "
            "(a W3C SHACL validation report, messages in both languages).",
        ),
    ] = ValidationFormat.text,
    input_format: Annotated[InputFormat | None, _INPUT_FORMAT_OPTION] = None,
    max_bytes: Annotated[int, _MAX_BYTES_OPTION] = 20 * 1024 * 1024,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            case_sensitive=False,
            help="store: only the neighbourhood the rules need, read from the persistent store "
            "(fast at any scale); rdflib: the files merged with the whole graph (the reference). "
            "Both give the same results.",
        ),
    ] = Engine.store,
    severity: Annotated[
        Severity,
        typer.Option(
            "--severity",
            "-s",
            case_sensitive=False,
            help="Show only results of this severity or graver (the summary counts them all).",
        ),
    ] = Severity.info,
    everything: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Validate the existing content itself (data/ and the store's extra files) "
            "instead of new files: every result is shown.",
        ),
    ] = False,
) -> None:
    """Validate new data against the law of decentralised cooperation, in the context of the
    ontology and the existing data (a file may refer to a CA already in the graph). First the
    submission boundary: a FILE describes only the resources it creates (blank nodes or relative
    IRIs, placed in its own namespace), links to existing ones through the shapes' properties,
    and states no printed figure, law or provenance; each triple that crosses it is a violation.
    Then the law: each problem names the resource, the legal rule it breaks and the text that
    states it. Only the project's shapes and ontology apply (shapes or owl:imports inside a FILE
    are ignored), and a FILE never makes the tool read another file or reach the network. Exit
    codes: 0 conforms (warnings allowed), 1 violations, 2 unreadable or unusable input.
    """
    from coopdec_kg.law.validation import validate_content, validate_files

    if bool(files) == everything:
        err("Error: give FILE... to validate new data, or --all for the existing content.")
        raise typer.Exit(EXIT_USER_ERROR)
    content = project()
    with user_errors():
        note_extra_files(content)
        if everything:
            with working("Validating the existing content"):
                report = validate_content(content)
        else:
            with working("Validating"):
                report = validate_files(
                    content,
                    files or [],
                    input_format=input_format.value if input_format else None,
                    max_bytes=max_bytes,
                    targeted=engine is Engine.store,
                )
    reader = language(lang)
    if output_format is ValidationFormat.json:
        typer.echo(report.to_json(reader, severity.value), nl=False)
    elif output_format is ValidationFormat.turtle:
        typer.echo(report.to_turtle(severity.value), nl=False)
    else:
        typer.echo(printable(report.to_text(reader, severity.value), keep="\n"), nl=False)
    raise typer.Exit(EXIT_OK if report.conforms else EXIT_REJECTED)


@commands.command("add", short_help="Validate new data, then merge it into data/ (all or nothing).")
def add_command(
    files: Annotated[list[Path], _SUBMITTED_FILES],
    lang: Annotated[Language | None, _LANG_OPTION] = None,
    input_format: Annotated[InputFormat | None, _INPUT_FORMAT_OPTION] = None,
    max_bytes: Annotated[int, _MAX_BYTES_OPTION] = 20 * 1024 * 1024,
) -> None:
    """Validate the files together like `validate`; if they conform, store each one as a new
    file data/submission-<id>.ttl (its resources in the namespace submission:<id>/, each linked
    to a record of the file's name, hash and date). All files or none are written, atomically: a
    rejected batch leaves data/ byte for byte unchanged, and adding a file again changes nothing.
    Exit codes: 0 added (or already there), 1 rejected (nothing written), 2 input error.
    """
    from coopdec_kg.law.submission import add_files

    content = project()
    with user_errors():
        note_extra_files(content)
        outcome = add_files(
            content,
            files,
            input_format=input_format.value if input_format else None,
            max_bytes=max_bytes,
        )
    reader = language(lang)
    if outcome.report is not None:
        typer.echo(printable(outcome.report.to_text(reader), keep="\n"), nl=False)
    french = reader == "fr"
    for path in outcome.already_present:
        err(f"Déjà présent, inchangé : {path}" if french else f"Already present, unchanged: {path}")
    if not outcome.accepted:
        err("Rejeté : rien n'a été écrit dans data/." if french else "Rejected: nothing written.")
        raise typer.Exit(EXIT_REJECTED)
    for path in outcome.written:
        err(f"Ajouté : {path}" if french else f"Added: {path}")
