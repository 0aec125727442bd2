"""The `coopdec-kg` command line: a thin layer over the library.

Only this module prints or exits. Data goes to stdout, messages for people to stderr, with
their control characters escaped (coopdec_kg.terminal).
Exit codes, a contract: 0 success; 1 only when the data breaks the law or crosses the submission
boundary (validate, add) or is inconsistent (reason); 2 a user or input error (unknown query,
bad parameter, unreadable or unusable input, failing endpoint, missing content); 3 an unexpected
internal error, in one line (`--debug` shows the traceback); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

from coopdec_kg import __version__
from coopdec_kg.content.project import ROOT_VARIABLE, Project
from coopdec_kg.errors import CoopdecError
from coopdec_kg.terminal import printable

if TYPE_CHECKING:
    from coopdec_kg.engines.queries import NamedQuery
    from coopdec_kg.engines.results import QueryResult

    # A named query's answer, given its parameters' values.
    Answering = Callable[[NamedQuery, dict[str, str]], QueryResult]

Outcome = TypeVar("Outcome")

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 3
EXIT_INTERRUPTED = 130  # the shell's code for a process stopped by Ctrl-C (128 + SIGINT)
EXIT_BROKEN_PIPE = 141  # the shell's code for a process whose reader went away (128 + SIGPIPE)
# A table longer than this is for a file, not a terminal (Rich takes 48 s to lay out the
# 75 000 rows of a national answer): `query` shows this many rows unless asked for more.
TABLE_ROWS = 500


class State:
    """Options of the top-level callback, shared with every command."""

    root: Path | None = None
    debug: bool = False


state = State()


def err(message: str) -> None:
    """A message for people, on stderr (control characters escaped, line breaks kept)."""
    typer.echo(printable(message, keep="\n"), err=True)


class _Commands(TyperGroup):
    """The command group, which turns an unexpected error into exit code 3 and one line.

    Exit code 1 means "the data breaks the law": a bug must never look like it. Typer's own
    exits (usage errors: 2) pass through; a reader that stops reading our output (`| head`)
    ends the command quietly, with the code of a process stopped by SIGPIPE.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except KeyboardInterrupt:
            err("Interrupted.")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except Exception as error:
            if state.debug:
                err("".join(traceback.format_exception(error)).rstrip())
            detail = " ".join(str(error).split())[:300]
            err(
                f"Internal error (a bug: please report it): {type(error).__name__}"
                f"{': ' + detail if detail else ''}"
                f"{'' if state.debug else ' — run with --debug for the traceback'}"
            )
            raise typer.Exit(EXIT_INTERNAL_ERROR) from None


def _silence_stdout() -> None:
    """Send what is left of stdout nowhere: its reader is gone, and flushing at exit would
    fail again."""
    with suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


app = typer.Typer(
    name="coopdec-kg",
    cls=_Commands,
    help="Query, validate and publish the knowledge graph of French decentralised cooperation "
    "led by intercommunal groupings (2006 survey of the communautés d'agglomération).",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


class _NotesOnStderr(logging.Handler):
    """The library's notes on long work (logged at INFO) as lines on stderr, where people see
    them before the wait (a store rebuilt at national scale takes seconds)."""

    def emit(self, record: logging.LogRecord) -> None:
        err(record.getMessage())


def _show_library_notes() -> None:
    notes = logging.getLogger("coopdec_kg")
    if not any(isinstance(handler, _NotesOnStderr) for handler in notes.handlers):
        notes.addHandler(_NotesOnStderr())
        notes.setLevel(logging.INFO)
        notes.propagate = False


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn library errors into a one-line message and exit code 2 (never a traceback)."""
    try:
        yield
    except CoopdecError as error:
        err(f"Error: {error}")
        raise typer.Exit(EXIT_USER_ERROR) from None


def project() -> Project:
    """The content folder: --root, COOPDEC_KG_ROOT, the current directory, or the package."""
    with user_errors():
        return Project.locate(state.root)


def _file_or_stdout(output: Path | None) -> Path | None:
    """The file named by -o, or None for stdout (no -o, or `-o -`)."""
    return None if output is None or str(output) == "-" else output


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"coopdec-kg {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    root: Annotated[
        Path | None,
        typer.Option(
            "--root",
            envvar=ROOT_VARIABLE,
            help="Folder holding ontology/, data/ and queries/ (default: the current directory "
            "when it holds them, else the content shipped with the package).",
            file_okay=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version."),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help="On an unexpected internal error (exit code 3), show the traceback too.",
        ),
    ] = False,
) -> None:
    """Query, validate and publish the coopdec-kg knowledge graph.

    Exit codes: 0 success; 1 the data breaks the law or crosses the submission boundary
    (validate, add) or is inconsistent (reason); 2 a user or input error; 3 an unexpected
    internal error (--debug shows its traceback).
    """
    state.root = root
    state.debug = debug
    _show_library_notes()


# --- queries commands (queries, query, report) ---


class ListFormat(StrEnum):
    table = "table"
    json = "json"


class ResultFormat(StrEnum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"


class Engine(StrEnum):
    store = "store"
    rdflib = "rdflib"


def _on_graph(content: Project, engine: Engine, work: Callable[[Answering], Outcome]) -> Outcome:
    """`work` done with named queries answered by the chosen engine, on the graph every command
    reads: the ontology, the data and the store's extra files (the library raises; the caller
    reports). On the store, `work` is done again if the store turns out corrupt meanwhile."""
    from coopdec_kg.engines import queries

    if engine is Engine.rdflib:
        from coopdec_kg.content.graph import load_graph_with
        from coopdec_kg.engines.store import extra_files

        graph = load_graph_with(content, extra_files(content))
        return work(lambda named, values: queries.run(graph, named, values))
    from coopdec_kg.engines.store import with_current

    return with_current(
        content,
        lambda store: work(lambda named, values: queries.run_on_store(store, named, values)),
    )


def _note_extra_files(content: Project, included: bool = True) -> None:
    """Say once, on stderr, that the store holds extra files besides the content (build
    --extra), whether the answer includes them, and how to drop them."""
    from coopdec_kg.engines.store import extra_files

    files = extra_files(content)
    if not files:
        return
    folders = sorted({str(path.parent) for path in files})
    where = ", ".join(str(path) for path in files) if len(files) <= 2 else ", ".join(folders)
    held = f"Note: the store holds {len(files)} extra file{'s' if len(files) > 1 else ''} ({where})"
    if included:
        err(f"{held}, loaded by build --extra; this includes them. `coopdec-kg build` without "
            "--extra drops them.")  # fmt: skip
    else:
        err(f"{held}, loaded by build --extra; this leaves them out (--include-extra adds "
            "them).")  # fmt: skip


class ReportFormat(StrEnum):
    markdown = "markdown"
    html = "html"


def _complete_query_name(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion of NAME: the query files of the content folder chosen on the line."""
    from coopdec_kg.engines.queries import query_names

    root = ctx.find_root().params.get("root")
    try:
        names = query_names(Project.locate(root))
    except CoopdecError:
        return []
    return [name for name in names if name.startswith(incomplete)]


@app.command("queries")
def queries_command(
    output_format: Annotated[
        ListFormat,
        typer.Option("--format", "-f", help="table (readable) or json (for programs)."),
    ] = ListFormat.table,
) -> None:
    """List the named queries with their summary (fr and en) and parameters."""
    from coopdec_kg.engines.queries import describe, load_queries

    content = project()
    with user_errors():
        found = load_queries(content)
    if output_format is ListFormat.json:
        typer.echo(json.dumps([describe(q) for q in found], ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="coopdec-kg queries", header_style="bold", show_lines=True)
    table.add_column("name", no_wrap=True)
    table.add_column("summary (fr / en)", overflow="fold")
    table.add_column("parameters", overflow="fold")
    for named in found:
        parameters = "\n".join(
            f"{p.name} ({p.type_label}, {'required' if p.required else 'optional'})"
            for p in named.parameters
        )
        cells = (named.name, f"{named.summary}\n{named.summary_en}", parameters or "–")
        table.add_row(*(Text(printable(cell, keep="\n")) for cell in cells))
    Console().print(table)


@app.command("query")
def query_command(
    name: Annotated[
        str,
        typer.Argument(
            help="The query's name (`coopdec-kg queries` lists them).",
            autocompletion=_complete_query_name,
            show_default=False,
        ),
    ],
    parameters: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            metavar="KEY=VALUE",
            help="A parameter value: an IRI (<https://…> or https://…), a CURIE with the "
            "project's prefixes (authority:ca-cergy-pontoise) or a literal, as the query "
            "declares. Repeat for several parameters.",
        ),
    ] = None,
    output_format: Annotated[
        ResultFormat,
        typer.Option(
            "--format",
            "-f",
            help="table (readable), csv, tsv or json (W3C SPARQL 1.1 query results formats).",
        ),
    ] = ResultFormat.table,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            help="store: the persistent pyoxigraph store (built or rebuilt automatically when "
            "the content changes); rdflib: parse the files and use rdflib, the reference engine.",
        ),
    ] = Engine.store,
    endpoint: Annotated[
        str | None,
        typer.Option(
            "--endpoint",
            metavar="URL",
            help="Run the query, unchanged, on this SPARQL 1.1 endpoint instead "
            "(parameters are still bound as RDF terms).",
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=0.1,
            metavar="SECONDS",
            help="With --endpoint: the longest the whole exchange may take, from connecting "
            "to the last byte of the answer (default 60).",
            show_default=False,
        ),
    ] = None,
    max_answer_bytes: Annotated[
        int | None,
        typer.Option(
            "--max-answer-bytes",
            min=1,
            metavar="BYTES",
            help="With --endpoint: refuse a larger answer (default 64 MiB; its rows take "
            "about ten times its size in memory).",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            metavar="N",
            help=f"Print at most N rows, in the query's order (a table shows {TABLE_ROWS} "
            "unless told otherwise; the other formats, every row).",
            show_default=False,
        ),
    ] = None,
    offset: Annotated[
        int,
        typer.Option(
            "--offset",
            min=0,
            metavar="N",
            help="Skip the first N rows of the answer (with --limit, to page through it).",
        ),
    ] = 0,
) -> None:
    """Run a named query on the embedded graph (or a remote endpoint) and print its answer.

    Parameter values are bound as RDF terms, never pasted into the query text. The embedded
    graph holds the store's extra files when `build --extra` loaded some (a note says so).
    Exit 2 for an unknown query, a missing, unknown or ill-typed parameter, a bad --limit or
    --offset, or an endpoint that fails, runs past --timeout or answers too much.
    """
    from coopdec_kg.engines.queries import bind, find_query, parse_assignments, run_remote

    content = project()
    with user_errors():
        named = find_query(content, name)
        values = parse_assignments(parameters or [])
        bind(named, values)  # refuse bad values before loading anything
        if endpoint is not None:
            result = run_remote(endpoint, named, values, timeout, max_answer_bytes)
        else:
            _note_extra_files(content)
            result = _on_graph(content, engine, lambda answer: answer(named, values))
    if output_format is ResultFormat.table:
        from rich.console import Console

        from coopdec_kg.engines.results import to_table

        shown = result.page(offset, TABLE_ROWS if limit is None else limit)
        Console().print(to_table(shown, title=named.summary))
        capped = limit is None and len(result) - offset > TABLE_ROWS
        err(_rows_shown(len(shown), offset, len(result), capped))
        return
    from coopdec_kg.engines.results import render

    typer.echo(render(result.page(offset, limit), output_format.value), nl=False)


def _rows_shown(shown: int, offset: int, total: int, capped: bool) -> str:
    """How many rows of the answer a table shows and, when it cut them, how to see the others."""
    if shown == total:
        return f"{total} row{'s' if total != 1 else ''}"
    if shown == 0:
        return f"no row after the first {offset}: the answer has {total}"
    shown_rows = f"rows {offset + 1}–{offset + shown} of {total}"
    if not capped:
        return shown_rows
    return (
        f"{shown_rows} (a table shows {TABLE_ROWS}: --limit and --offset page through the "
        "others, --format csv or json prints them all)"
    )


@app.command("report")
def report_command(
    output_format: Annotated[
        ReportFormat,
        typer.Option("--format", "-f", help="markdown, or html for a complete page."),
    ] = ReportFormat.markdown,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write to FILE (atomically) instead of stdout (`-`). Its folder must exist; "
            "FILE must be a regular file outside data/, ontology/, queries/ and the store.",
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            help="store: the persistent store, as `query` reads it; rdflib: the reference "
            "engine on the parsed files. Both give the same answers.",
        ),
    ] = Engine.store,
) -> None:
    """The report's tables recomputed from the graph beside the figures it prints, and the audit.

    Engagement levels (stated and named CA), the « Aires d'intervention » table (cells counted
    from the links, printed totals beside them), the national context, and every printed figure
    set against the same figure computed from the graph. The graph is the one `query` reads
    (with the store's extra files, if any: a note says so), so both give the same answers.
    """
    from coopdec_kg.engines.queries import find_query
    from coopdec_kg.publish.export import check_output, write_atomic
    from coopdec_kg.publish.report import build_report, render

    content = project()
    output = _file_or_stdout(output)
    with user_errors():
        if output is not None:
            check_output(content, output)
        _note_extra_files(content)
        report = _on_graph(
            content,
            engine,
            lambda answer: build_report(lambda name: answer(find_query(content, name), {})),
        )
        text = render(report, output_format.value)
        if output is not None:
            write_atomic(output, text.encode("utf-8"))
    if output is None:
        typer.echo(text, nl=False)
    else:
        err(f"Wrote {output}")


# --- validation commands (validate, add) ---


class Language(StrEnum):
    fr = "fr"
    en = "en"


class ValidationFormat(StrEnum):
    text = "text"
    json = "json"
    turtle = "turtle"


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
_LANG_OPTION = typer.Option(
    "--lang", "-l", help="Language of the messages, rule names and labels: fr or en."
)
_INPUT_FORMAT_OPTION = typer.Option(
    "--input-format",
    "-i",
    help="Format of every FILE, when its extension does not tell: turtle, nt, jsonld or xml.",
)
_MAX_BYTES_OPTION = typer.Option(
    "--max-bytes",
    min=1,
    metavar="BYTES",
    help="Refuse any FILE larger than this, before reading it.",
)


@app.command("validate", short_help="Check new cooperation data against the law (SHACL).")
def validate_command(
    files: Annotated[list[Path] | None, _SUBMITTED_FILES] = None,
    lang: Annotated[Language, _LANG_OPTION] = Language.fr,
    output_format: Annotated[
        ValidationFormat,
        typer.Option(
            "--format",
            "-f",
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
            help="store: only the neighbourhood the rules need, read from the persistent store "
            "(fast at any scale); rdflib: the files merged with the whole graph (the reference). "
            "Both give the same results.",
        ),
    ] = Engine.store,
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
        _note_extra_files(content)
        if everything:
            report = validate_content(content)
        else:
            report = validate_files(
                content,
                files or [],
                input_format=input_format.value if input_format else None,
                max_bytes=max_bytes,
                targeted=engine is Engine.store,
            )
    if output_format is ValidationFormat.json:
        typer.echo(report.to_json(lang.value), nl=False)
    elif output_format is ValidationFormat.turtle:
        typer.echo(report.to_turtle(), nl=False)
    else:
        typer.echo(printable(report.to_text(lang.value), keep="\n"), nl=False)
    raise typer.Exit(EXIT_OK if report.conforms else EXIT_REJECTED)


@app.command("add", short_help="Validate new data, then merge it into data/ (all or nothing).")
def add_command(
    files: Annotated[list[Path], _SUBMITTED_FILES],
    lang: Annotated[Language, _LANG_OPTION] = Language.fr,
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
        _note_extra_files(content)
        outcome = add_files(
            content,
            files,
            input_format=input_format.value if input_format else None,
            max_bytes=max_bytes,
        )
    if outcome.report is not None:
        typer.echo(printable(outcome.report.to_text(lang.value), keep="\n"), nl=False)
    french = lang is Language.fr
    for path in outcome.already_present:
        err(f"Déjà présent, inchangé : {path}" if french else f"Already present, unchanged: {path}")
    if not outcome.accepted:
        err("Rejeté : rien n'a été écrit dans data/." if french else "Rejected: nothing written.")
        raise typer.Exit(EXIT_REJECTED)
    for path in outcome.written:
        err(f"Ajouté : {path}" if french else f"Added: {path}")


# --- publishing commands (export, docs, reason) ---


_INCLUDE_EXTRA_OPTION = typer.Option(
    "--include-extra",
    help="Also dump the extra files the store was built with (build --extra), under the "
    "same dataset description. Without it, only the ontology and data/ are published.",
)


def _extra_to_dump(content: Project, include_extra: bool) -> tuple[Path, ...]:
    """The extra files a dump holds: the store's with --include-extra, else none."""
    from coopdec_kg.engines.store import extra_files

    return extra_files(content) if include_extra else ()


@app.command("export", short_help="Dump the graph with its DCAT-AP/VoID metadata.")
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
    include_extra: Annotated[bool, _INCLUDE_EXTRA_OPTION] = False,
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
    output = _file_or_stdout(output)
    if frame is not None and format_name is None:
        format_name = "jsonld"
    with user_errors():
        fmt = format_for(format_name, output)
        _note_extra_files(content, included=include_extra)
        extra = _extra_to_dump(content, include_extra)
        if output is None:
            payload = export(content, fmt.name, extra=extra, metadata_only=metadata, frame=frame)
            typer.echo(payload, nl=False)
            return
        size = export_file(
            content, output, fmt.name, extra=extra, metadata_only=metadata, frame=frame
        )
    err(f"Wrote {output} ({fmt.name}, {size} bytes).")


@app.command("docs", short_help="Write the HTML documentation (fr, en).")
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


@app.command("reason", short_help="OWL consistency and classification (HermiT).")
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


# --- scale commands (synth, build, push) ---


@app.command("synth")
def synth_command(
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Folder to write the atlas (atlas-001.ttl, atlas-002.ttl … of about 400 000 "
            "triples each, so build loads them on several cores) and violations.json into; "
            "created if its parent exists.",
        ),
    ],
    scale: Annotated[
        float,
        typer.Option(help="1.0 ≈ 35 000 communes, 1 300 groupings, 15 000 links, 1.5 M triples."),
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Same seed, same atlas (byte for byte).")] = 1,
    violations: Annotated[
        int,
        typer.Option(min=0, help="How many breaches of known rules to plant (for benchmarks)."),
    ] = 0,
) -> None:
    """Generate a synthetic national atlas (its own namespace; it never enters data/)."""
    from coopdec_kg.content.graph import load_graph
    from coopdec_kg.content.synth import write_atlas

    content = project()
    with user_errors():
        summary = write_atlas(content, load_graph(content), output, scale, seed, violations)
    counts = ", ".join(
        f"{value} {name.replace('_', ' ')}" for name, value in summary.counts.items()
    )
    err(
        f"{output.resolve()}: {len(summary.paths)} file{'s' if len(summary.paths) > 1 else ''}, "
        f"{summary.triples} triples ({counts}); "
        f"{len(summary.violations)} planted"
    )


@app.command("build")
def build_command(
    extra: Annotated[
        list[Path] | None,
        typer.Option(
            "--extra",
            "-e",
            help="Another trusted RDF file to load with the content (.ttl, .nt, .nq, .trig), or "
            "a folder of them (e.g. the one synth wrote). Repeat for several; later commands "
            "keep them, and read a folder again when its files change.",
            exists=True,
        ),
    ] = None,
) -> None:
    """Build the persistent store that query reopens (it is rebuilt when the content changes)."""
    from coopdec_kg.engines.store import build

    content = project()
    with user_errors():
        info = build(content, extra or [])
    err(f"store {info.path}: {len(info.files)} files loaded (fingerprint {info.fingerprint})")


@app.command("push", short_help="Load the graph into a SPARQL 1.1 Graph Store endpoint.")
def push_command(
    endpoint: Annotated[
        str,
        typer.Option(
            "--endpoint",
            metavar="URL",
            help="The Graph Store Protocol URL, e.g. http://localhost:7878/store for "
            "`oxigraph serve`.",
            show_default=False,
        ),
    ],
    graph: Annotated[
        str | None,
        typer.Option(
            "--graph",
            metavar="IRI",
            help="Load into this named graph (an absolute IRI) instead of the default graph.",
        ),
    ] = None,
    append: Annotated[
        bool,
        typer.Option(
            "--append",
            help="Add to what the graph holds (HTTP POST) instead of replacing it (HTTP PUT).",
        ),
    ] = False,
    include_extra: Annotated[bool, _INCLUDE_EXTRA_OPTION] = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=0.1,
            metavar="SECONDS",
            help="The longest the whole upload may take, from connecting to the server's "
            "answer (default 600).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Load the ontology, the data and their DCAT-AP/VoID metadata (what `export` dumps) into
    a SPARQL 1.1 Graph Store Protocol endpoint, as N-Triples. The graph is replaced unless
    --append is given. Then `query NAME --endpoint URL` runs the named queries there.
    Exit 2 for a bad URL or graph IRI, an unreachable endpoint, an HTTP error or an upload
    that runs past --timeout.
    """
    from coopdec_kg.engines.remote import push_project

    content = project()
    with user_errors():
        _note_extra_files(content, included=include_extra)
        extra = _extra_to_dump(content, include_extra)
        pushed = push_project(content, endpoint, graph, append, timeout, extra)
    verb = "Replaced" if pushed.replaced else "Added to"
    err(f"{verb} {pushed.target}: {pushed.triples} triples sent.")


def main() -> None:
    """Console-script entry point."""
    app()
