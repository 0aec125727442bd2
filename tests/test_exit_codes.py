"""Exit codes are a contract: an unexpected error is exit 3 in one line (never 1, which means the
data breaks the law), `--debug` shows its traceback; what reaches a terminal is escaped."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from coopdec_kg.cli import app
from coopdec_kg.content.project import Project
from coopdec_kg.engines import queries
from coopdec_kg.terminal import printable


def failing(error: BaseException) -> object:
    def fail(*_args: object, **_kwargs: object) -> object:
        raise error

    return fail


def run(project: Project, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--root", str(project.root), *args])
    return result.exit_code, result.stdout, result.stderr


def test_an_internal_error_is_exit_3_in_one_line(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "find_query", failing(RuntimeError("kaboom\nsecond line")))
    code, out, err = run(project, "query", "amounts")
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "Internal error" in err and "RuntimeError: kaboom second line" in err
    assert "--debug" in err


def test_debug_shows_the_traceback(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "find_query", failing(RuntimeError("kaboom")))
    code, _, err = run(project, "--debug", "query", "amounts")
    assert code == 3
    assert "Traceback (most recent call last)" in err and "in query_command" in err
    assert err.rstrip().splitlines()[-1].startswith("Internal error")


@pytest.mark.parametrize(
    ("error", "code"), [(KeyboardInterrupt(), 130), (BrokenPipeError(32, "Broken pipe"), 141)]
)
def test_signals_keep_the_shell_codes(
    project: Project, monkeypatch: pytest.MonkeyPatch, error: BaseException, code: int
) -> None:
    monkeypatch.setattr(queries, "find_query", failing(error))
    assert run(project, "query", "amounts")[0] == code


def test_user_errors_stay_exit_2(project: Project) -> None:
    code, _, err = run(project, "query", "no-such-query")
    assert code == 2 and err.startswith("Error: ") and err.count("\n") == 1


UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@given(st.text())
def test_printable_text_holds_no_control_character(text: str) -> None:
    shown = printable(text)
    assert not UNSAFE.search(shown)
    if not UNSAFE.search(text):
        assert shown == text
    assert printable(text, keep="\n").count("\n") == text.count("\n")


def test_printable_escapes_are_readable() -> None:
    assert printable("a\x1b]0;PWNED\x07b") == "a\\x1b]0;PWNED\\x07b"
    assert printable("\u202eevil") == "\\u202eevil"
    assert printable("x\udcffy") == "x\\udcffy"
    assert unicodedata.category(printable("é")[0]) == "Ll"
