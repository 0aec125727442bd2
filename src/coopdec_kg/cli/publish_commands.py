"""The commands that publish or judge the whole graph: `export`, `docs` and `reason`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coopdec_kg.cli.common import (
    EXIT_REJECTED,
    INCLUDE_EXTRA_OPTION,
    CommandGroup,
    err,
    extra_to_dump,
    file_or_stdout,
    note_extra_files,
    project,
    user_errors,
    working,
)

commands = CommandGroup()


@commands.command("export", short_help="Dump the graph with its DCAT-AP/VoID metadata.")
def export_command(
    format_name: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="turtle, ntriples, jsonld or trig (TriG keeps ontology, data and metadata in "
            "separate named graphs). Default: from the extension of -o (.ttl .nt .jsonld "
            ".trig), else turtle.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the dump to FILE (atomically: never a half-written file) instead of "
            "stdout (`-`). Its folder must exist; FILE must be a regular file outside data/, "
            "ontology/, queries/ and the store.",
        ),
    ] = None,
    metadata: Annotated[
        bool,
        typer.Option(
            "--metadata",
            help="Write the catalogue description alone (DCAT-AP catalogue, dataset, "
            "distributions and VoID statistics), for harvesters.",
        ),
    ] = False,
    frame: Annotated[
        str | None,
        typer.Option(
            "--frame",
            metavar="KIND",
            help="JSON-LD framed around one kind of resource, the others embedded: groupings "
            "(with their links and actions), links, actions, partners, legal-texts, "
            "observations or inconsistencies. Implies --format jsonld.",
        ),
    ] = None,
    include_extra: Annotated[bool, INCLUDE_EXTRA_OPTION] = False,
) -> None:
    """Dump the ontology, the data and their DCAT-AP/VoID metadata, for linked-data portals.
    Turtle and N-Triples are byte-stable (sorted, canonical blank nodes, the project's prefixes
    only): two exports of the same content are identical, so dumps diff cleanly; dct:modified
    is the date of the content's last commit (or SOURCE_DATE_EPOCH), never a file time. The
    extra files the store was built with (build --extra, e.g. a synthetic atlas) are left out
    unless --include-extra is given.
    """
    from coopdec_kg.publish.export import export, export_file, format_for

    content = project()
    output = file_or_stdout(output)
    if frame is not None and format_name is None:
        format_name = "jsonld"
    with user_errors():
        fmt = format_for(format_name, output)
        note_extra_files(content, included=include_extra)
        extra = extra_to_dump(content, include_extra)
        if output is None:
            with working(f"Exporting ({fmt.name})"):
                payload = export(
                    content, fmt.name, extra=extra, metadata_only=metadata, frame=frame
                )
            typer.echo(payload, nl=False)
            return
        with working(f"Exporting to {output} ({fmt.name})"):
            size = export_file(
                content, output, fmt.name, extra=extra, metadata_only=metadata, frame=frame
            )
    err(f"Wrote {output} ({fmt.name}, {size} bytes).")


@commands.command("docs", short_help="Write the HTML documentation (fr, en).")
def docs_command(
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="DIR",
            help="Folder for the pages (created if missing; its parent must exist), outside "
            "data/, ontology/, queries/ and the store.",
        ),
    ] = Path("docs"),
) -> None:
    """Write HTML documentation of the ontology and the SKOS schemes, one page per language.
    The pages (index.fr.html, index.en.html) list the classes, properties and concepts with
    their labels and definitions; they are self-contained and can be opened from disk.
    """
    from coopdec_kg.publish.docs import write_docs

    content = project()
    with user_errors():
        written = write_docs(content, output)
    for path in written:
        err(f"Wrote {path}")


@commands.command("reason", short_help="OWL consistency and classification (HermiT).")
def reason_command() -> None:
    """Check the ontology and the data with the HermiT OWL reasoner (needs Java).
    Exit 0 when consistent, listing the members HermiT classifies into the defined classes;
    1 when inconsistent or a class is unsatisfiable, naming the individuals or classes;
    2 when the reasoner cannot run (Java missing).
    """
    from coopdec_kg.law.reasoning import reason

    content = project()
    with user_errors():
        report = reason(content)
    for line in report.summary():
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(EXIT_REJECTED)
