"""The `coopdec-kg` command line: a thin layer over the library, and the only one that prints
or exits.

Data goes to stdout, messages for people to stderr, with their control characters escaped
(coopdec_kg.terminal). Exit codes, a contract: 0 success; 1 only when the data breaks the law or
crosses the submission boundary (validate, add) or is inconsistent (reason); 2 a user or input
error (unknown query, bad parameter, unreadable or unusable input, failing endpoint, missing
content); 3 an unexpected internal error, in one line (`--debug` shows the traceback); 130
interrupted (Ctrl-C). This module holds the application and its top-level options; each group
of commands has its module, whose commands it adds at the top level (`coopdec-kg query`).

A command's module is imported only when that command is used (run, completed, or asked for its
own help): `coopdec-kg --help` lists every command from the light table `COMMANDS` below, and a
query on the store imports neither the web server, the spreadsheets, the law nor the exports.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import traceback
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer
from typer._click import Command
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info

from coopdec_kg.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERNAL_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USER_ERROR,
    err,
    state,
)
from coopdec_kg.content.project import ROOT_VARIABLE


class Listed(NamedTuple):
    """A command as `coopdec-kg --help` lists it, known without importing its module."""

    module: str  # the module of coopdec_kg.cli that defines it (its `commands`)
    summary: str  # the line the list shows
    # True: the docstring's first sentence, cut to the terminal's width as Click cuts it;
    # False: the command's declared short_help, shown whole
    cut: bool = True


# Every command, in the order the help lists them (tests/test_startup.py checks that each line is
# the one the command itself would give, and that no command is missing).
COMMANDS: dict[str, Listed] = {
    "queries": Listed(
        "query_commands", "List the named queries with their summary and parameters."
    ),
    "query": Listed(
        "query_commands",
        "Run a named query on the embedded graph (or a remote endpoint) and print its answer.",
    ),
    "sparql": Listed(
        "query_commands",
        "Ask your own question: an ad-hoc, read-only SPARQL query on the same graph as `query`.",
    ),
    "report": Listed(
        "query_commands",
        "The report's tables recomputed from the graph beside the figures it prints, and the "
        "audit.",
    ),
    "validate": Listed(
        "law_commands", "Check new cooperation data against the law (SHACL).", cut=False
    ),
    "add": Listed(
        "law_commands",
        "Validate new data, then merge it into data/ (all or nothing).",
        cut=False,
    ),
    "export": Listed(
        "publish_commands", "Dump the graph with its DCAT-AP/VoID metadata.", cut=False
    ),
    "docs": Listed("publish_commands", "Write the HTML documentation (fr, en).", cut=False),
    "reason": Listed("publish_commands", "OWL consistency and classification (HermiT).", cut=False),
    "synth": Listed(
        "scale_commands",
        "Generate a synthetic national atlas (its own namespace; it never enters data/).",
    ),
    "build": Listed(
        "scale_commands",
        "Build the persistent store that query reopens (it is rebuilt when the content changes).",
    ),
    "push": Listed(
        "scale_commands", "Load the graph into a SPARQL 1.1 Graph Store endpoint.", cut=False
    ),
    "serve": Listed(
        "serve_commands",
        "Serve the graph: a read-only SPARQL 1.1 endpoint at /sparql, resolvable IRIs under /id/, "
        "the named queries at /api/queries/NAME, until stopped (Ctrl-C).",
    ),
    "template": Listed(
        "tabular_commands", "Write a blank spreadsheet submission to fill.", cut=False
    ),
    "import": Listed(
        "tabular_commands",
        "Check a filled spreadsheet against the law, then add it.",
        cut=False,
    ),
}


def listing(name: str) -> Command:
    """A stand-in for the command `name` that lists it as the command itself would."""
    summary = COMMANDS[name].summary
    if COMMANDS[name].cut:
        return TyperCommand(name, help=summary)
    return TyperCommand(name, short_help=summary)


def build_command(name: str, rich_markup_mode: Any) -> Command:
    """The command `name`, its module imported now."""
    module = importlib.import_module(f"coopdec_kg.cli.{COMMANDS[name].module}")
    group: typer.Typer = module.commands
    found = next(info for info in group.registered_commands if info.name == name)
    return get_command_from_info(
        found,
        pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=rich_markup_mode,
    )


class _OnDemand(MutableMapping[str, Command]):
    """The commands by name: every name known from `COMMANDS`, each command built (and its
    module imported) the first time it is asked for."""

    def __init__(self, rich_markup_mode: Any) -> None:
        self._rich_markup_mode = rich_markup_mode
        self._built: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            self._built[name] = build_command(name, self._rich_markup_mode)
        return self._built[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMANDS, *self._built]))

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._built))


class _Commands(TyperGroup):
    """The command group, which turns every failure into one line and a documented exit code.

    A usage error (an unknown option, a value out of its choices or range) is one line in the
    tool's own style, exit 2, where Click would draw a box or print the usage first; the tool
    alone prints its help, exit 0. An unexpected error is exit code 3 and one line: exit code 1
    means "the data breaks the law", and a bug must never look like it. A reader that stops
    reading our output (`| head`) ends the command quietly, with the code of a process stopped
    by SIGPIPE. Its commands are built on demand (`_OnDemand`), and its help lists them from
    `COMMANDS` without building any.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.commands = _OnDemand(self.rich_markup_mode)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The list of commands, laid out by Typer from their stand-ins (`listing`)."""
        stand_ins = TyperGroup(
            commands={
                name: listing(name) if name in COMMANDS else self.commands[name]
                for name in self.commands
            }
        )
        stand_ins.format_commands(ctx, formatter)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            outcome = super().main(
                args, prog_name, complete_var, False, windows_expand_args, **extra
            )
        except NoArgsIsHelpError as shown:
            typer.echo(shown.format_message())
            outcome = EXIT_OK
        except UsageError as error:
            err(f"Error: {_one_line(error.format_message())}{_help_hint(error)}")
            outcome = EXIT_USER_ERROR
        except ClickException as error:  # a bad file or parameter value: the user's to fix
            err(f"Error: {_one_line(error.format_message())}")
            outcome = EXIT_USER_ERROR
        except typer.Abort:
            err("Interrupted.")
            outcome = EXIT_INTERRUPTED
        if not standalone_mode:
            return outcome
        sys.exit(outcome if isinstance(outcome, int) else EXIT_OK)

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


def _one_line(message: str) -> str:
    """Click's message on one line, without the "Value error, " of Typer's value checks."""
    return " ".join(message.replace("Value error, ", "").split())


def _help_hint(error: UsageError) -> str:
    """Where to read how the command is used: its --help."""
    path = error.ctx.command_path if error.ctx is not None else "coopdec-kg"
    return f" (`{path} --help` shows the options)"


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
    rich_markup_mode=None,
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


def _print_version(value: bool) -> None:
    if value:
        from coopdec_kg import __version__

        typer.echo(f"coopdec-kg {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    root: Annotated[
        Path | None,
        typer.Option(
            "--root",
            metavar="DIR",
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


def main() -> None:
    """Console-script entry point."""
    app()
