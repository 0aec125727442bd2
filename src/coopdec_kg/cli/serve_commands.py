"""The command that serves the graph on the web: `serve`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from coopdec_kg.cli.common import err, note_extra_files, project, user_errors

commands = typer.Typer()


@commands.command("serve")
def serve_command(
    host: Annotated[
        str,
        typer.Option(
            "--host",
            metavar="ADDRESS",
            help="The address to listen on: 127.0.0.1 (this machine only) unless told; 0.0.0.0 "
            "for every interface (behind a reverse proxy, or in a container).",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            "--port",
            min=0,
            max=65535,
            metavar="PORT",
            help="The TCP port (0: one the system picks).",
        ),
    ] = 8000,
    extra: Annotated[
        list[Path] | None,
        typer.Option(
            "--extra",
            metavar="FILE|DIR",
            help="Also serve these RDF files (a folder: the RDF files in it, e.g. a synthetic "
            "atlas). Without it, the extra files the store was built with (build --extra).",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            min=0.1,
            metavar="SECONDS",
            help="The longest a query may run: past it, it is stopped and answered 503.",
        ),
    ] = 10.0,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            metavar="N",
            max=64,
            help="Query worker processes, each answering one query at a time (default: the "
            "number of cores, at least 2). They share the graph's memory.",
            show_default=False,
        ),
    ] = None,
    max_answer_bytes: Annotated[
        int | None,
        typer.Option(
            "--max-answer-bytes",
            min=1,
            metavar="BYTES",
            help="Refuse (400) an answer larger than this (default 256 MiB: a whole national "
            "answer fits). A named query's answer can be paged with limit and offset.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the graph: a read-only SPARQL 1.1 endpoint at /sparql, resolvable IRIs under /id/,
    the named queries at /api/queries/NAME, until stopped (Ctrl-C).

    The ontology, the data and the extra files are loaded into memory at start. Each request's
    line goes to stderr. Exit 2 when it cannot start: the port is taken, the host unknown, or
    the content unreadable.
    """
    from coopdec_kg.engines.store import extra_files, rdf_files
    from coopdec_kg.web.protocol import MAX_ANSWER_BYTES
    from coopdec_kg.web.server import serve

    content = project()
    with user_errors():
        if extra:
            served_extra = tuple(rdf_files(extra))
        else:
            note_extra_files(content)
            served_extra = extra_files(content)

        def ready(url: str, summary: dict[str, Any]) -> None:
            err(
                f"Serving {summary['triples']} triples at {url} (SPARQL: {url}sparql, API: "
                f"{url}api/queries); Ctrl-C stops."
            )

        serve(
            content,
            host,
            port,
            served_extra,
            timeout=timeout,
            workers=workers or max(2, os.cpu_count() or 1),
            max_answer_bytes=max_answer_bytes or MAX_ANSWER_BYTES,
            on_ready=ready,
        )
