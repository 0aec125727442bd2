"""Every command answers --help, and the README documents every command."""

from __future__ import annotations

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
