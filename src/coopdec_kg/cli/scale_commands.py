"""The commands of scale: `synth` (a national atlas), `build` (the store) and `push`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coopdec_kg.cli.common import (
    INCLUDE_EXTRA_OPTION,
    CommandGroup,
    err,
    extra_to_dump,
    note_extra_files,
    project,
    user_errors,
    working,
)

commands = CommandGroup()


@commands.command("synth")
def synth_command(
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="DIR",
            help="Folder to write the atlas (atlas-001.ttl, atlas-002.ttl … of about 400 000 "
            "triples each, so build loads them on several cores) and violations.json into; "
            "created if its parent exists.",
        ),
    ],
    scale: Annotated[
        float,
        typer.Option(
            metavar="X", help="1.0 ≈ 35 000 communes, 1 300 groupings, 15 000 links, 1.5 M triples."
        ),
    ] = 1.0,
    seed: Annotated[
        int, typer.Option(metavar="N", help="Same seed, same atlas (byte for byte).")
    ] = 1,
    violations: Annotated[
        int,
        typer.Option(
            min=0, metavar="K", help="How many breaches of known rules to plant (for benchmarks)."
        ),
    ] = 0,
) -> None:
    """Generate a synthetic national atlas (its own namespace; it never enters data/)."""
    from coopdec_kg.content.graph import load_graph
    from coopdec_kg.content.synth import write_atlas

    content = project()
    with user_errors(), working(f"Writing a synthetic atlas (scale {scale}) into {output}"):
        summary = write_atlas(content, load_graph(content), output, scale, seed, violations)
    counts = ", ".join(
        f"{value} {name.replace('_', ' ')}" for name, value in summary.counts.items()
    )
    err(
        f"{output.resolve()}: {len(summary.paths)} file{'s' if len(summary.paths) > 1 else ''}, "
        f"{summary.triples} triples ({counts}); "
        f"{len(summary.violations)} planted"
    )


@commands.command("build")
def build_command(
    extra: Annotated[
        list[Path] | None,
        typer.Option(
            "--extra",
            "-e",
            metavar="FILE|DIR",
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
    with user_errors(), working("Building the store"):
        info = build(content, extra or [])
    err(f"store {info.path}: {len(info.files)} files loaded (fingerprint {info.fingerprint})")


@commands.command("push", short_help="Load the graph into a SPARQL 1.1 Graph Store endpoint.")
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
    include_extra: Annotated[bool, INCLUDE_EXTRA_OPTION] = False,
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
    from coopdec_kg.publish.push import push_project

    content = project()
    with user_errors():
        note_extra_files(content, included=include_extra)
        extra = extra_to_dump(content, include_extra)
        with working(f"Pushing to {endpoint}"):
            pushed = push_project(content, endpoint, graph, append, timeout, extra)
    verb = "Replaced" if pushed.replaced else "Added to"
    err(f"{verb} {pushed.target}: {pushed.triples} triples sent.")
