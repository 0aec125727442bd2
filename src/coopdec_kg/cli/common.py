"""What every command shares: the exit codes, the messages on stderr, the library's errors as
one line and exit code 2, the content folder chosen on the command line, and the options and
notes about the store's extra files that several commands take.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

import typer

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


def project() -> Project:
    """The content folder: --root, COOPDEC_KG_ROOT, the current directory, or the package."""
    with user_errors():
        return Project.locate(state.root)


def file_or_stdout(output: Path | None) -> Path | None:
    """The file named by -o, or None for stdout (no -o, or `-o -`)."""
    return None if output is None or str(output) == "-" else output


class Language(StrEnum):
    """The languages of messages, labels and headers (every command for people takes --lang)."""

    fr = "fr"
    en = "en"


class Engine(StrEnum):
    store = "store"
    rdflib = "rdflib"


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
