"""Every command answers --help, and the README documents every command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from conftest import REPO
from coopdec_kg.cli import app

COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def test_top_level_help_lists_every_command(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help(runner: CliRunner, name: str) -> None:
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.stderr
    assert "Usage:" in result.stdout and f" {name} " in result.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_readme_documents_every_command(name: str) -> None:
    assert f"`coopdec-kg {name}" in (REPO / "README.md").read_text(encoding="utf-8")


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("coopdec-kg ")


def test_unknown_root_is_a_one_line_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["--root", str(tmp_path), "queries"])
    assert result.exit_code == 2
    assert "not a coopdec-kg content folder" in result.stderr
    assert "Traceback" not in result.output


def test_the_tool_alone_prints_its_help(runner: CliRunner) -> None:
    result = runner.invoke(app, [])
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: coopdec-kg") and "Commands:" in result.stdout


PYTHON_TYPES = re.compile(r"<(?:bool|str|int|float|path|dir|file)>|list\[|<int range>|\{\w+\}")


@pytest.mark.parametrize("name", ["", *COMMANDS])
def test_help_shows_no_python_type(runner: CliRunner, name: str) -> None:
    result = runner.invoke(app, [name, "--help"] if name else ["--help"])
    assert not PYTHON_TYPES.search(result.stdout), PYTHON_TYPES.findall(result.stdout)
    assert "╭" not in result.stdout  # plain help, no boxes


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["query", "engagement-levels", "--format", "xml"], "'xml' is not one of"),
        (["query", "engagement-levels", "--limit", "0"], "'--limit'"),
        (["validate", "--lang", "de", "x.ttl"], "'de' is not one of 'fr', 'en'"),
        (["query"], "Missing argument 'NAME'"),
        (["queries", "--bogus"], "No such option: --bogus"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_option_errors_are_one_line(runner: CliRunner, args: list[str], says: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert says in result.stderr and "--help` shows the options" in result.stderr
    assert "╭" not in result.stderr and "Value error" not in result.stderr


def test_choices_ignore_case(runner: CliRunner) -> None:
    result = runner.invoke(app, ["query", "engagement-levels", "--format", "CSV", "--limit", "1"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("level,label,notation,statedCount,namedCount\n")
