"""What every command shares: the exit codes, the messages on stderr, the library's errors as
one line and exit code 2, the content folder chosen on the command line, the language of what
people read, the help's layout, and the options and notes about the store's extra files that
several commands take.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand
from typer.models import CommandFunctionType

from coopdec_kg.content.project import Project
from coopdec_kg.errors import CoopdecError
from coopdec_kg.terminal import printable

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 3
EXIT_INTERRUPTED = 130  # the shell's code for a process stopped by Ctrl-C (128 + SIGINT)
EXIT_BROKEN_PIPE = 141  # the shell's code for a process whose reader went away (128 + SIGPIPE)


class State:
    """Options of the top-level callback, shared with every command."""

    root: Path | None = None
    debug: bool = False


state = State()


def err(message: str) -> None:
    """A message for people, on stderr (control characters escaped, line breaks kept)."""
    typer.echo(printable(message, keep="\n"), err=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn library errors into a one-line message and exit code 2 (never a traceback)."""
    try:
        yield
    except CoopdecError as error:
        err(f"Error: {error}")
        raise typer.Exit(EXIT_USER_ERROR) from None


@contextmanager
def working(description: str) -> Iterator[None]:
    """A spinner with the elapsed time on stderr while work that can take seconds runs (build,
    validation, synth, export, push), only when stderr is a terminal: pipes and logs stay clean.
    It disappears when the work ends, leaving the command's own messages."""
    if not _is_terminal(sys.stderr):
        yield
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(file=sys.stderr)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        progress.add_task(printable(description), total=None)
        yield


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # a closed or detached stream
        return False


def project() -> Project:
    """The content folder: --root, COOPDEC_KG_ROOT, the current directory, or the package."""
    with user_errors():
        return Project.locate(state.root)


def file_or_stdout(output: Path | None) -> Path | None:
    """The file named by -o, or None for stdout (no -o, or `-o -`)."""
    return None if output is None or str(output) == "-" else output


class Engine(StrEnum):
    store = "store"
    rdflib = "rdflib"


class Language(StrEnum):
    fr = "fr"
    en = "en"


def locale_language(environ: Mapping[str, str] = os.environ) -> Language:
    """The language of the user's locale: the first of LC_ALL, LC_MESSAGES and LANG that is set
    (their POSIX order of precedence) says French when it starts with `fr`; else English."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable, "")
        if value:
            return Language.fr if value.lower().startswith("fr") else Language.en
    return Language.en


def language_option(what: str = "Language of what it prints") -> Any:
    """The `--lang` option every command that prints for people takes; None stands for the
    locale's language (`language`)."""
    return typer.Option(
        "--lang",
        "-l",
        case_sensitive=False,
        show_default=False,
        help=f"{what}: fr or en (default: the locale's, fr when LC_ALL, LC_MESSAGES or LANG "
        "starts with fr, else en).",
    )


def language(chosen: Language | None) -> str:
    """The language given with --lang, else the locale's."""
    return (chosen or locale_language()).value


class Command(TyperCommand):
    """A command whose help reads like the tool's own: arguments by name, never a Python type.

    Typer shows an argument as `name <str>` or `FILE... <list[Path]>` and writes `{name}` in the
    usage line; here they read NAME and [FILE...], as in every Unix manual.
    """

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = _argument_name(param)
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                if not param.hidden:
                    arguments.append((_argument_name(param), param.help or ""))
            else:
                record = param.get_help_record(ctx)
                if record is not None:
                    options.append(record)
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _argument_name(argument: TyperArgument) -> str:
    name = argument.metavar or argument.name.upper()
    return name if argument.nargs == 1 or name.endswith("...") else f"{name}..."


class CommandGroup(typer.Typer):
    """A group of commands, added at the top level: plain help (no boxes) laid out by `Command`."""

    def __init__(self) -> None:
        super().__init__(rich_markup_mode=None)

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = Command, **options: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        return super().command(name, cls=cls, **options)


def note_extra_files(content: Project, included: bool = True) -> None:
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


INCLUDE_EXTRA_OPTION = typer.Option(
    "--include-extra",
    help="Also dump the extra files the store was built with (build --extra), under the "
    "same dataset description. Without it, only the ontology and data/ are published.",
)


def extra_to_dump(content: Project, include_extra: bool) -> tuple[Path, ...]:
    """The extra files a dump holds: the store's with --include-extra, else none."""
    from coopdec_kg.engines.store import extra_files

    return extra_files(content) if include_extra else ()
