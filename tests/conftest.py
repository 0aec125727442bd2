"""Shared fixtures: the real content folder, its graph, and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph
from typer.testing import CliRunner

from coopdec_kg.content.graph import load_data, load_graph, load_ontology
from coopdec_kg.content.project import Project
from report_text import REPORT_ABSENT, REPORT_FILE, Said, normalise

REPO = Path(__file__).resolve().parent.parent


def pytest_report_header() -> list[str]:
    if REPORT_FILE.is_file():
        return []
    return [f"golden values are not cross-checked against the report: {REPORT_ABSENT}"]


@pytest.fixture(scope="session")
def project() -> Project:
    return Project.at(REPO)


@pytest.fixture(scope="session")
def graph(project: Project) -> Graph:
    """The embedded graph (ontology + data). Session-wide: tests must not modify it."""
    return load_graph(project)


@pytest.fixture(scope="session")
def ontology(project: Project) -> Graph:
    """The ontology alone, as the docs and metadata builders take it."""
    return load_ontology(project)


@pytest.fixture(scope="session")
def data(project: Project) -> Graph:
    """The report's facts alone (data/), without the ontology."""
    return load_data(project)


@pytest.fixture(scope="session")
def report_lines() -> list[str]:
    """The report, one string per line; index 0 is line 1 (tests about its text skip without it)."""
    if not REPORT_FILE.is_file():
        pytest.skip(REPORT_ABSENT)
    return REPORT_FILE.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="session")
def said() -> Said:
    """`said(line, *texts)`: the report's line (or range of lines) holds every text.

    Golden tests call it before asserting a value taken from the report, so that the value
    cannot drift from it. Without the report's text (a fresh clone) the graph's answers are
    still checked against the golden values; only this cross-check is left out, as the test
    session's header says.
    """
    if not REPORT_FILE.is_file():
        return lambda lines, *texts: None
    lines_of_report = REPORT_FILE.read_text(encoding="utf-8").splitlines()

    def check(lines: int | tuple[int, int], *texts: str) -> None:
        first, last = (lines, lines) if isinstance(lines, int) else lines
        passage = normalise(" ".join(lines_of_report[first - 1 : last]))
        for expected in texts:
            assert normalise(expected) in passage, f"l.{first}-{last} does not say {expected!r}"

    return check


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def english_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands default to the locale's language: tests run in an English locale, whatever
    the machine's, and say `--lang fr` when they read French."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
