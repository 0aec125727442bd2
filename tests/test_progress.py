"""Progress on stderr (cli/common.working): a spinner on a terminal, nothing in a pipe or log."""

from __future__ import annotations

import io
import sys

import pytest

from coopdec_kg.cli.common import working


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        if self.closed:  # as a real terminal's stream does
            raise ValueError("I/O operation on closed file")
        return True


def test_a_terminal_sees_what_is_being_done(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    with working("Building the store"):
        pass
    assert "Building the store" in stderr.getvalue()


def test_a_pipe_or_a_log_gets_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    with working("Building the store"):
        pass
    assert stderr.getvalue() == ""


def test_a_closed_stderr_is_no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = Terminal()
    stderr.close()
    monkeypatch.setattr(sys, "stderr", stderr)
    with working("Validating"):
        result = 42
    assert result == 42
