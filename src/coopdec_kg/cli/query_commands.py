"""The commands that ask the graph: `queries`, `query`, `sparql` and `report`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NamedTuple, TypeVar

import typer

from coopdec_kg.cli.common import (
    EXIT_USER_ERROR,
    CommandGroup,
    Engine,
    Language,
    err,
    file_or_stdout,
    language,
    language_option,
    note_extra_files,
    project,
    user_errors,
)
from coopdec_kg.content.project import Project
from coopdec_kg.errors import CoopdecError, QueryError
from coopdec_kg.terminal import printable

if TYPE_CHECKING:
    from coopdec_kg.engines.engine import Answer
    from coopdec_kg.engines.engine import Engine as QueryEngine
    from coopdec_kg.engines.queries import NamedQuery
    from coopdec_kg.engines.results import QueryResult
    from coopdec_kg.publish.tables import Layout

Outcome = TypeVar("Outcome")

commands = CommandGroup()


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


class AnswerFormat(StrEnum):
    """What `sparql` prints: a SELECT's formats, or a graph's (CONSTRUCT, DESCRIBE)."""

    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"
    xlsx = "xlsx"
    turtle = "turtle"
    ntriples = "ntriples"
    jsonld = "jsonld"


class ReportFormat(StrEnum):
    markdown = "markdown"
    html = "html"


GRAPH_FORMATS = (AnswerFormat.turtle, AnswerFormat.ntriples, AnswerFormat.jsonld)

# The lines this module writes for people, in each language.
WORDS = {
    "fr": {
        "rows": "{n} ligne",
        "rows+": "{n} lignes",
        "none after": "aucune ligne après les {offset} premières : la réponse en a {total}",
        "page": "lignes {first} à {last} sur {total}",
        "capped": (
            "{page} (un tableau en montre {shown} : --limit et --offset parcourent les "
            "autres, --format csv ou json les imprime toutes)"
        ),
        "required": "obligatoire",
        "optional": "facultatif",
        "name": "nom",
        "summary": "résumé",
        "parameters": "paramètres",
        "queries": "Requêtes de coopdec-kg",
    },
    "en": {
        "rows": "{n} row",
        "rows+": "{n} rows",
        "none after": "no row after the first {offset}: the answer has {total}",
        "page": "rows {first}–{last} of {total}",
        "capped": (
            "{page} (a table shows {shown}: --limit and --offset page through the others, "
            "--format csv or json prints them all)"
        ),
        "required": "required",
        "optional": "optional",
        "name": "name",
        "summary": "summary",
        "parameters": "parameters",
        "queries": "coopdec-kg queries",
    },
}

_GUARD_HELP = (
    "In csv, a text cell that begins with =, +, -, @, a tab or a carriage return starts with "
    "' so that a spreadsheet never runs it as a formula (numbers and IRIs are left as they "
    "are); xlsx writes text as text."
)
_OUTPUT_OPTION = typer.Option(
    "--output",
    "-o",
    metavar="FILE",
    help="Write the answer to FILE (atomically) instead of stdout (`-`): a regular file "
    "outside data/, ontology/, queries/ and the store. Not for --format table.",
)
_ENGINE_OPTION = typer.Option(
    "--engine",
    case_sensitive=False,
    help="store: the persistent pyoxigraph store (built or rebuilt automatically when the "
    "content changes); rdflib: parse the files and use rdflib, the reference engine.",
)
_ENDPOINT_OPTION = typer.Option(
    "--endpoint",
    metavar="URL",
    help="Ask this SPARQL 1.1 endpoint instead (parameters are still bound as RDF terms).",
)
_TIMEOUT_OPTION = typer.Option(
    "--timeout",
    min=0.1,
    metavar="SECONDS",
    help="With --endpoint: the longest each exchange may take, from connecting to the last "
    "byte of the answer (default 60).",
    show_default=False,
)
_MAX_ANSWER_OPTION = typer.Option(
    "--max-answer-bytes",
    min=1,
    metavar="BYTES",
    help="With --endpoint: refuse a larger answer (default 64 MiB; its rows take about ten "
    "times its size in memory).",
    show_default=False,
)
_LIMIT_OPTION = typer.Option(
    "--limit",
    min=1,
    metavar="N",
    help=f"Print at most N rows, in the answer's order (a table shows {TABLE_ROWS} unless "
    "told otherwise; the other formats, every row).",
    show_default=False,
)
_OFFSET_OPTION = typer.Option(
    "--offset",
    min=0,
    metavar="N",
    help="Skip the first N rows of the answer (with --limit, to page through it).",
)
_LANG_OPTION = language_option("Language of the table: titles, names, words and numbers")
_IRIS_OPTION = typer.Option(
    "--iris",
    help="In a table, also show the IRI and code columns, and IRIs (as CURIEs) rather than "
    "the names of resources.",
)


def _with_engine(
    content: Project,
    engine: Engine,
    endpoint: str | None,
    timeout: float | None,
    max_bytes: int | None,
    work: Callable[[QueryEngine], Outcome],
) -> Outcome:
    """`work` done with the chosen engine, on the graph every command reads: the ontology, the
    data and the store's extra files (a note says so), or the endpoint's. On the store, `work`
    is done again if the store turns out corrupt meanwhile. The library raises; the caller
    reports."""
    from coopdec_kg.engines.engine import OnEndpoint, OnGraph, OnStore

    if endpoint is not None:
        return work(OnEndpoint(endpoint, timeout, max_bytes))
    note_extra_files(content)
    if engine is Engine.rdflib:
        from coopdec_kg.content.graph import load_graph_with
        from coopdec_kg.engines.store import extra_files

        return work(OnGraph(load_graph_with(content, extra_files(content))))
    from coopdec_kg.engines.store import with_current

    return with_current(content, lambda store: work(OnStore(store)))


def _complete_query_name(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion of NAME: the query files of the content folder chosen on the line."""
    from coopdec_kg.engines.queries import query_names

    root = ctx.find_root().params.get("root")  # as typed: completion does not convert it
    try:
        names = query_names(Project.locate(None if root is None else Path(root)))
    except CoopdecError:
        return []
    return [name for name in names if name.startswith(incomplete)]


@commands.command("queries")
def queries_command(
    output_format: Annotated[
        ListFormat,
        typer.Option(
            "--format", "-f", case_sensitive=False, help="table (readable) or json (for programs)."
        ),
    ] = ListFormat.table,
    lang: Annotated[Language | None, language_option("Language of the table")] = None,
) -> None:
    """List the named queries with their summary and parameters."""
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

    reader = language(lang)
    words = WORDS[reader]
    table = Table(title=words["queries"], header_style="bold", show_lines=True)
    table.add_column(words["name"], no_wrap=True)
    table.add_column(words["summary"], overflow="fold")
    table.add_column(words["parameters"], overflow="fold")
    for named in found:
        parameters = "\n".join(
            f"{p.name} ({p.type_label}, {words['required' if p.required else 'optional']})"
            for p in named.parameters
        )
        cells = (named.name, named.title(reader), parameters or "–")
        table.add_row(*(Text(printable(cell, keep="\n")) for cell in cells))
    Console().print(table)


@commands.command("query")
def query_command(
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME",
            help="The query's name (`coopdec-kg queries` lists them), or a query file (.rq) "
            "with a #+ header like a named query's.",
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
            case_sensitive=False,
            help="table (readable), csv, tsv or json (W3C SPARQL 1.1 query results formats), "
            f"or xlsx (a workbook: numbers, dates and links typed; needs -o FILE). {_GUARD_HELP}",
        ),
    ] = ResultFormat.table,
    output: Annotated[Path | None, _OUTPUT_OPTION] = None,
    engine: Annotated[Engine, _ENGINE_OPTION] = Engine.store,
    endpoint: Annotated[str | None, _ENDPOINT_OPTION] = None,
    timeout: Annotated[float | None, _TIMEOUT_OPTION] = None,
    max_answer_bytes: Annotated[int | None, _MAX_ANSWER_OPTION] = None,
    limit: Annotated[int | None, _LIMIT_OPTION] = None,
    offset: Annotated[int, _OFFSET_OPTION] = 0,
    lang: Annotated[Language | None, _LANG_OPTION] = None,
    iris: Annotated[bool, _IRIS_OPTION] = False,
    pivot: Annotated[
        bool,
        typer.Option(
            "--pivot",
            help="In a table, the answer in the other shape its query declares (#+ pivot), "
            "with totals: links-by-area as the report prints it, areas × levels.",
        ),
    ] = False,
) -> None:
    """Run a named query on the embedded graph (or a remote endpoint) and print its answer.

    Parameter values are bound as RDF terms, never pasted into the query text; an IRI that is
    in no triple of the graph is an error that names the closest resources. A table shows the
    columns' titles, the names of resources and numbers in the chosen language; csv, tsv and
    json give every value exact. The embedded graph holds the store's extra files when `build
    --extra` loaded some (a note says so). Exit 2 for an unknown query, a missing, unknown or
    ill-typed parameter, an unknown resource, or an endpoint that fails, runs past --timeout or
    answers too much.
    """
    from coopdec_kg.content.files import check_output, write_atomic
    from coopdec_kg.engines.queries import bind, parse_assignments

    output = file_or_stdout(output)
    if output is not None and output_format is ResultFormat.table:
        err("Error: a table is for the terminal: with -o FILE, give --format csv, json or xlsx")
        raise typer.Exit(EXIT_USER_ERROR)
    if output is None and output_format is ResultFormat.xlsx:
        err("Error: --format xlsx writes a workbook, not text: give -o FILE.xlsx")
        raise typer.Exit(EXIT_USER_ERROR)
    content = project()
    reader = language(lang)
    with user_errors():
        if output is not None:
            check_output(content, output)
        named = _named_or_file(content, name)
        values = parse_assignments(parameters or [])
        bind(named, values)  # refuse bad values before loading anything
        table = output_format is ResultFormat.table
        if pivot and (named.pivot is None or not table):
            raise QueryError(
                f"--pivot: query {named.name!r} declares no other shape (#+ pivot)"
                if named.pivot is None
                else "--pivot lays out a table: use it without --format"
            )
        page_size = TABLE_ROWS if table and limit is None else limit

        def ask(engine: QueryEngine) -> tuple[QueryResult, Layout | None]:
            from coopdec_kg.engines.search import answer

            result = answer(engine, named, values, reader)
            shown = result.page(offset, page_size)
            if not table:
                return shown, None
            from coopdec_kg.publish.tables import lay_out, lay_out_pivot

            if pivot and named.pivot is not None:
                title = named.title(reader)
                shape = named.pivot
                return result, lay_out_pivot(
                    result, named.headers, shape, reader, engine.select, title
                )

            layout = lay_out(
                shown, named.headers, reader, engine.select, iris, title=named.title(reader)
            )
            return result, layout

        result, layout = _with_engine(content, engine, endpoint, timeout, max_answer_bytes, ask)
    if layout is None and output is not None:
        with user_errors():
            write_atomic(output, _answer_bytes(result, output_format.value, named.name))
        err(_wrote(output, len(result)))
        return
    if layout is None:
        from coopdec_kg.engines.results import render

        typer.echo(render(result, output_format.value, for_people=True), nl=False)
        return
    _print_layout(layout)
    if pivot:  # the whole answer, in its other shape
        err(_rows_shown(len(layout.rows), 0, len(layout.rows), False, reader))
        return
    capped = limit is None and len(result) - offset > TABLE_ROWS
    err(_rows_shown(len(layout.rows), offset, len(result), capped, reader))


def _named_or_file(content: Project, name: str) -> NamedQuery:
    """The named query NAME, or the query file NAME when it is a path or ends with .rq."""
    from coopdec_kg.engines.queries import find_query, load_query

    if "/" not in name and not name.endswith(".rq"):
        return find_query(content, name)
    path = Path(name)
    if not path.is_file():
        raise QueryError(f"no query file {name!r} (a named query has no .rq and no folder)")
    return load_query(path)


def _print_layout(layout: Layout) -> None:
    """A table for people on stdout, every text escaped (a value cannot drive the terminal)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    title = Text(printable(layout.title)) if layout.title is not None else None
    table = Table(title=title, header_style="bold")
    for column in layout.columns:
        table.add_column(
            Text(printable(column.title)),
            justify="right" if column.numeric else "left",
            overflow="fold",
        )
    for row in layout.rows:
        table.add_row(*(Text(printable(cell)) for cell in row))
    Console().print(table)


def _answer_bytes(result: QueryResult, output_format: str, name: str) -> bytes:
    """The answer as the bytes of a file: a workbook, or the text of its format (a CSV file
    guarded against formulas, as people open it in a spreadsheet)."""
    if output_format == "xlsx":
        from coopdec_kg.tabular.answers import answer_xlsx

        return answer_xlsx(result, name)
    from coopdec_kg.engines.results import render

    return render(result, output_format, for_people=True).encode("utf-8")


def _wrote(output: Path, rows: int) -> str:
    return f"Wrote {output} ({rows} row{'s' if rows != 1 else ''})"


def _rows_shown(shown: int, offset: int, total: int, capped: bool, lang: str) -> str:
    """How many rows of the answer a table shows and, when it cut them, how to see the others."""
    words = WORDS[lang]
    if shown == total:
        return words["rows" if total == 1 else "rows+"].format(n=total)
    if shown == 0:
        return words["none after"].format(offset=offset, total=total)
    page = words["page"].format(first=offset + 1, last=offset + shown, total=total)
    return words["capped"].format(page=page, shown=TABLE_ROWS) if capped else page


@commands.command("sparql")
def sparql_command(
    query: Annotated[
        str | None,
        typer.Argument(
            metavar="QUERY",
            help="The query's text (`-`: read it from stdin). Without QUERY and -f, the query "
            "is read from stdin.",
            show_default=False,
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            metavar="FILE",
            help="Read the query from FILE (e.g. q.rq).",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        AnswerFormat | None,
        typer.Option(
            "--format",
            case_sensitive=False,
            help="SELECT: table, csv, tsv or json (W3C SPARQL 1.1 results), or xlsx (a "
            "workbook, as `query` writes it; needs -o FILE); ASK: table (true or false) or "
            "json; CONSTRUCT and DESCRIBE: turtle, ntriples or jsonld. Default: table, or "
            f"turtle for a graph. {_GUARD_HELP}",
            show_default=False,
        ),
    ] = None,
    output: Annotated[Path | None, _OUTPUT_OPTION] = None,
    engine: Annotated[Engine, _ENGINE_OPTION] = Engine.store,
    endpoint: Annotated[str | None, _ENDPOINT_OPTION] = None,
    timeout: Annotated[float | None, _TIMEOUT_OPTION] = None,
    max_answer_bytes: Annotated[int | None, _MAX_ANSWER_OPTION] = None,
    limit: Annotated[int | None, _LIMIT_OPTION] = None,
    offset: Annotated[int, _OFFSET_OPTION] = 0,
    lang: Annotated[Language | None, _LANG_OPTION] = None,
    iris: Annotated[bool, _IRIS_OPTION] = False,
) -> None:
    """Ask your own question: an ad-hoc, read-only SPARQL query on the same graph as `query`.

    The project's prefixes are declared for it (cdo:, cdr:, authority:, skos: …), unless it
    declares them itself. An update (INSERT, DELETE, LOAD …) is refused, and so are SERVICE and
    FROM, which would reach another server or a file. SELECT prints a table (or csv, tsv,
    json), ASK prints true or false, CONSTRUCT and DESCRIBE print Turtle (or N-Triples,
    JSON-LD). Exit 2 for a query that does not parse or is refused, a format that does not fit
    its answer, or an endpoint that fails.
    """
    from coopdec_kg.content.files import check_output, write_atomic
    from coopdec_kg.engines.adhoc import read_query

    output = file_or_stdout(output)
    if output is None and output_format is AnswerFormat.xlsx:
        err("Error: --format xlsx writes a workbook, not text: give -o FILE.xlsx")
        raise typer.Exit(EXIT_USER_ERROR)
    content = project()
    reader = language(lang)
    with user_errors():
        if output is not None:
            check_output(content, output)
        adhoc = read_query(*_query_text(query, file))
        chosen = _answer_format(adhoc.form, output_format, limit, offset, output is not None)
        page_size = TABLE_ROWS if chosen is AnswerFormat.table and limit is None else limit

        def ask(engine: QueryEngine) -> tuple[Answer, Layout | None]:
            from coopdec_kg.engines.engine import answer
            from coopdec_kg.engines.results import QueryResult

            found = answer(engine, adhoc)
            if not isinstance(found, QueryResult) or chosen is not AnswerFormat.table:
                return found, None
            from coopdec_kg.publish.tables import lay_out

            return found, lay_out(found.page(offset, page_size), {}, reader, engine.select, iris)

        found, layout = _with_engine(content, engine, endpoint, timeout, max_answer_bytes, ask)
        written = None if output is None else _answer_file(found, chosen, offset, limit)
        if output is not None and written is not None:
            write_atomic(output, written.payload)
        shown = layout is not None or written is not None
        printed = None if shown else _answer_text(found, chosen, offset, limit)
    if output is not None and written is not None:
        err(f"Wrote {output}" if written.rows is None else _wrote(output, written.rows))
        return
    if printed is not None:
        typer.echo(printed, nl=False)
        return
    assert layout is not None and not isinstance(found, bool)
    _print_layout(layout)
    capped = limit is None and len(found) - offset > TABLE_ROWS
    err(_rows_shown(len(layout.rows), offset, len(found), capped, reader))


def _query_text(query: str | None, file: Path | None) -> tuple[str, str]:
    """The query's text, from the argument, the file or stdin, and how errors name it."""
    if query is not None and file is not None:
        raise QueryError("give the query as QUERY or with -f FILE, not both")
    if file is not None:
        try:
            return file.read_text(encoding="utf-8"), str(file)
        except (OSError, UnicodeDecodeError) as error:
            raise QueryError(f"{file}: cannot read the query: {error}") from None
    if query is not None and query != "-":
        return query, "the query"
    if query is None and sys.stdin.isatty():
        raise QueryError("give the query as QUERY, with -f FILE, or on stdin")
    try:
        return sys.stdin.read(), "the query on stdin"
    except UnicodeDecodeError as error:
        raise QueryError(f"the query on stdin is not UTF-8 text: {error}") from None


def _answer_format(
    form: str, chosen: AnswerFormat | None, limit: int | None, offset: int, to_file: bool
) -> AnswerFormat:
    """The format asked for, checked against the answer the query gives and where it goes."""
    graph = form in ("construct", "describe")
    if chosen is None:
        chosen = AnswerFormat.turtle if graph else AnswerFormat.table
    if to_file and chosen is AnswerFormat.table:
        raise QueryError(
            "a table is for the terminal: with -o FILE, give --format csv, tsv, json or xlsx"
        )
    if graph and chosen not in GRAPH_FORMATS:
        raise QueryError(
            f"a {form.upper()} query answers with triples: --format turtle, ntriples or jsonld"
        )
    if not graph and chosen in GRAPH_FORMATS:
        raise QueryError(
            f"a {form.upper()} query answers with rows: --format table, csv, tsv, json or xlsx"
        )
    if form == "ask" and chosen not in (AnswerFormat.table, AnswerFormat.json):
        raise QueryError("an ASK query answers true or false: --format table or json")
    if form != "select" and (limit is not None or offset):
        raise QueryError(
            f"--limit and --offset page the rows of a SELECT answer, not a {form.upper()}'s"
        )
    return chosen


class _AnswerFile(NamedTuple):
    payload: bytes
    rows: int | None  # the rows written, for a SELECT


def _answer_file(
    found: Answer, chosen: AnswerFormat, offset: int, limit: int | None
) -> _AnswerFile:
    """An answer as the bytes of a file: rows as `query` writes them, else the text printed."""
    from coopdec_kg.engines.results import QueryResult

    if isinstance(found, QueryResult):
        shown = found.page(offset, limit)
        return _AnswerFile(_answer_bytes(shown, chosen.value, "sparql"), len(shown))
    return _AnswerFile(_answer_text(found, chosen, offset, limit).encode("utf-8"), None)


def _answer_text(found: Answer, chosen: AnswerFormat, offset: int, limit: int | None) -> str:
    """An answer in a machine format (or ASK's true / false)."""
    from coopdec_kg.engines.results import QueryResult, boolean_json, render

    if isinstance(found, bool):
        return boolean_json(found) if chosen is AnswerFormat.json else f"{str(found).lower()}\n"
    if isinstance(found, QueryResult):
        return render(found.page(offset, limit), chosen.value, for_people=True)
    if chosen is AnswerFormat.jsonld:
        from coopdec_kg.publish.export import to_jsonld

        return to_jsonld(found).decode("utf-8")
    from coopdec_kg.content.turtle import to_ntriples, to_turtle

    writer = to_ntriples if chosen is AnswerFormat.ntriples else to_turtle
    return writer(found).decode("utf-8")


@commands.command("report")
def report_command(
    output_format: Annotated[
        ReportFormat,
        typer.Option(
            "--format", "-f", case_sensitive=False, help="markdown, or html for a complete page."
        ),
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
            case_sensitive=False,
            help="store: the persistent store, as `query` reads it; rdflib: the reference "
            "engine on the parsed files. Both give the same answers.",
        ),
    ] = Engine.store,
    lang: Annotated[Language | None, language_option("Language of the report")] = None,
) -> None:
    """The report's tables recomputed from the graph beside the figures it prints, and the audit.

    Engagement levels (stated and named CA), the « Aires d'intervention » table (cells counted
    from the links, printed totals beside them), the national context, and every printed figure
    set against the same figure computed from the graph. The graph is the one `query` reads
    (with the store's extra files, if any: a note says so), so both give the same answers.
    """
    from coopdec_kg.content.files import check_output, write_atomic
    from coopdec_kg.engines.queries import find_query
    from coopdec_kg.publish.reading import namer
    from coopdec_kg.publish.report import build_report, render

    content = project()
    reader = language(lang)
    output = file_or_stdout(output)
    with user_errors():
        if output is not None:
            check_output(content, output)
        report = _with_engine(
            content,
            engine,
            None,
            None,
            None,
            lambda engine: build_report(
                lambda name: engine.named(find_query(content, name), {}),
                reader,
                namer(engine.select, reader),
            ),
        )
        text = render(report, output_format.value)
        if output is not None:
            write_atomic(output, text.encode("utf-8"))
    if output is None:
        typer.echo(text, nl=False)
    else:
        err(f"Wrote {output}")
