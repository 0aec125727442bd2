"""The `coopdec-kg` command line: a thin layer over the library.

Only this module prints or exits. Data goes to stdout, messages for people to stderr.
Exit codes: 0 success; 1 the data breaks the law (validate, add) or is inconsistent (reason);
2 a user error (unknown query, bad parameter, unreadable input, missing content).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from coopdec_kg import __version__
from coopdec_kg.errors import CoopdecError
from coopdec_kg.project import ROOT_VARIABLE, Project

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USER_ERROR = 2

app = typer.Typer(
    name="coopdec-kg",
    help="Query, validate and publish the knowledge graph of French decentralised cooperation "
    "led by intercommunal groupings (2006 survey of the communautés d'agglomération).",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


class State:
    """Options of the top-level callback, shared with every command."""

    root: Path | None = None


state = State()


def err(message: str) -> None:
    """A message for people, on stderr."""
    typer.echo(message, err=True)


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
) -> None:
    """Query, validate and publish the coopdec-kg knowledge graph."""
    state.root = root


# --- queries commands (queries, query, report) ---

# --- validation commands (validate, add) ---

# --- publishing commands (export, docs, reason) ---

# --- scale commands (synth, build, push) ---


def main() -> None:
    """Console-script entry point."""
    app()
