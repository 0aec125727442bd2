"""The commands that ask the graph: `queries`, `query` and `report`."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from coopdec_kg.cli.common import (
    EXIT_USER_ERROR,
    Engine,
    err,
    file_or_stdout,
    note_extra_files,
    project,
    user_errors,
)
from coopdec_kg.content.project import Project
from coopdec_kg.errors import CoopdecError
from coopdec_kg.terminal import printable

if TYPE_CHECKING:
    from coopdec_kg.engines.queries import NamedQuery
    from coopdec_kg.engines.results import QueryResult

    # A named query's answer, given its parameters' values.
    Answering = Callable[[NamedQuery, dict[str, str]], QueryResult]

Outcome = TypeVar("Outcome")

commands = typer.Typer()


# A table longer than this is for a file, not a terminal (Rich takes 48 s to lay out the
# 75 000 rows of a national answer): `query` shows this many rows unless asked for more.
TABLE_ROWS = 500


class ListFormat(StrEnum):
    table = "table"
    json = "json"


class ResultFormat(StrEnum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"
    xlsx = "xlsx"


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


@commands.command("queries")
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


@commands.command("query")
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
            help="table (readable), csv, tsv or json (W3C SPARQL 1.1 query results formats), "
            "or xlsx (a workbook: numbers, dates and links typed; needs -o FILE).",
        ),
    ] = ResultFormat.table,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the answer to FILE (atomically) instead of stdout (`-`): a regular file "
            "outside data/, ontology/, queries/ and the store. Not for --format table.",
        ),
    ] = None,
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
    from coopdec_kg.content.files import check_output, write_atomic
    from coopdec_kg.engines.queries import bind, find_query, parse_assignments, run_remote

    output = file_or_stdout(output)
    if output is not None and output_format is ResultFormat.table:
        err(
            "Error: a table is for the terminal: with -o FILE, give --format csv, tsv, json or xlsx"
        )
        raise typer.Exit(EXIT_USER_ERROR)
    if output is None and output_format is ResultFormat.xlsx:
        err("Error: --format xlsx writes a workbook, not text: give -o FILE.xlsx")
        raise typer.Exit(EXIT_USER_ERROR)
    content = project()
    with user_errors():
        if output is not None:
            check_output(content, output)
        named = find_query(content, name)
        values = parse_assignments(parameters or [])
        bind(named, values)  # refuse bad values before loading anything
        if endpoint is not None:
            result = run_remote(endpoint, named, values, timeout, max_answer_bytes)
        else:
            note_extra_files(content)
            result = _on_graph(content, engine, lambda answer: answer(named, values))
    if output_format is ResultFormat.table:
        from rich.console import Console

        from coopdec_kg.engines.results import to_table

        shown = result.page(offset, TABLE_ROWS if limit is None else limit)
        Console().print(to_table(shown, title=named.summary))
        capped = limit is None and len(result) - offset > TABLE_ROWS
        err(_rows_shown(len(shown), offset, len(result), capped))
        return
    page = result.page(offset, limit)
    if output is None:
        from coopdec_kg.engines.results import render

        typer.echo(render(page, output_format.value), nl=False)
        return
    with user_errors():
        write_atomic(output, _answer_bytes(page, output_format, named.name))
    err(f"Wrote {output} ({len(page)} row{'s' if len(page) != 1 else ''})")


def _answer_bytes(result: QueryResult, output_format: ResultFormat, name: str) -> bytes:
    """The answer as the bytes of a file: a workbook, or the text of its format."""
    if output_format is ResultFormat.xlsx:
        from coopdec_kg.tabular.answers import answer_xlsx

        return answer_xlsx(result, name)
    from coopdec_kg.engines.results import render

    return render(result, output_format.value).encode("utf-8")


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


@commands.command("report")
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
    from coopdec_kg.content.files import check_output, write_atomic
    from coopdec_kg.engines.queries import find_query
    from coopdec_kg.publish.report import build_report, render

    content = project()
    output = file_or_stdout(output)
    with user_errors():
        if output is not None:
            check_output(content, output)
        note_extra_files(content)
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
