"""Shared fixtures: the real content folder, its graph, and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph
from typer.testing import CliRunner

from coopdec_kg.graph import load_data, load_graph, load_ontology
from coopdec_kg.project import Project

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
REPORT_FILE = SHARED / "seed" / "intercommunalite-et-international-2006.txt"


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
    """The report, one string per line; index 0 is line 1."""
    return REPORT_FILE.read_text(encoding="utf-8").splitlines()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
