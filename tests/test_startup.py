"""The start-up stays light (issue 15): what each path imports, never how long it takes.

`coopdec-kg --help` imports no command module; a query on the store that prints CSV imports
its own command module and the engines only; `report` on the store imports no rdflib. Each is
checked in a fresh interpreter, after a first run has built the store and cached the queries'
outlines (the later runs the latency targets are about). The list of commands `--help` shows
without importing them must be the one the commands themselves give.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys

import pytest
import typer
from typer._click.formatting import HelpFormatter
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

import coopdec_kg.cli
from conftest import REPO
from coopdec_kg.cli import app
from coopdec_kg.cli.app import COMMANDS, build_command, listing

# Never needed by --help, a query on the store or the report on the store.
HEAVY = ("rdflib", "pyshacl", "owlready2", "openpyxl", "odf", "yaml", "pydantic", "rich")
HEAVY += ("starlette", "uvicorn", "jinja2", "pyparsing")
HEAVY_OURS = ("coopdec_kg.web", "coopdec_kg.tabular", "coopdec_kg.law", "coopdec_kg.content.graph")
HEAVY_OURS += ("coopdec_kg.publish.tables", "coopdec_kg.publish.export", "coopdec_kg.publish.docs")

# Runs the CLI in this interpreter, then prints the modules it imported, as JSON on stderr.
RUN_AND_LIST_MODULES = """
import json, sys
from coopdec_kg.cli import main
sys.argv = ["coopdec-kg", *sys.argv[1:]]
try:
    main()
finally:
    sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""


def modules_after(args: list[str], env: dict[str, str]) -> set[str]:
    """The modules a fresh `coopdec-kg ARGS` has imported when it ends (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST_MODULES, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout, "the command printed nothing"
    listed = done.stderr.rsplit("MODULES ", 1)[1]
    return set(json.loads(listed))


def heavy(modules: set[str]) -> list[str]:
    return sorted(
        name for name in modules if name.split(".")[0] in HEAVY or name.startswith(HEAVY_OURS)
    )


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment whose store is built and whose cache holds the queries' outlines."""
    work = tmp_path_factory.mktemp("startup")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("COOPDEC_KG")},
        "COOPDEC_KG_ROOT": str(REPO),
        "COOPDEC_KG_STORE": str(work / "store"),
        "XDG_CACHE_HOME": str(work / "cache"),
        "LANG": "C.UTF-8",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name in ("COOPDEC_KG_ROOT", "COOPDEC_KG_STORE", "XDG_CACHE_HOME"):
            patch.setenv(name, env[name])
        runner = CliRunner()
        for args in (["query", "engagement-levels", "--format", "csv"], ["report"]):
            assert runner.invoke(app, args).exit_code == 0
    return env


def test_help_imports_no_command(warm: dict[str, str]) -> None:
    modules = modules_after(["--help"], warm)
    assert heavy(modules) == []
    commands = [
        name for name in modules if name.startswith("coopdec_kg.cli.") and "_commands" in name
    ]
    assert commands == []
    assert not any(name.startswith("coopdec_kg.engines") for name in modules)


def test_a_query_on_the_store_imports_its_command_and_the_engines_only(
    warm: dict[str, str],
) -> None:
    modules = modules_after(["query", "engagement-levels", "--format", "csv"], warm)
    assert heavy(modules) == []
    commands = {
        name for name in modules if name.startswith("coopdec_kg.cli.") and "_commands" in name
    }
    assert commands == {"coopdec_kg.cli.query_commands"}
    assert not any(name.startswith("coopdec_kg.publish") for name in modules)


def test_a_table_of_the_store_imports_no_rdflib(warm: dict[str, str]) -> None:
    """The table people read (the default format) is laid out from the store's own terms."""
    modules = modules_after(["query", "engagement-levels"], warm)
    assert "coopdec_kg.publish.tables" in modules
    assert not any(name.split(".")[0] in ("rdflib", "pyparsing") for name in modules)
    laid_out_by = ("rich", "coopdec_kg.publish.tables")  # what a table needs beyond a CSV
    assert [name for name in heavy(modules) if not name.startswith(laid_out_by)] == []


def test_the_report_on_the_store_imports_no_rdflib(warm: dict[str, str]) -> None:
    modules = modules_after(["report"], warm)
    assert "coopdec_kg.publish.report" in modules
    assert heavy(modules) == []


# ---------------------------------------------------------------------------- the light listing


def defined_commands() -> dict[str, str]:
    """Every command of every module of coopdec_kg.cli, with the module defining it."""
    found: dict[str, str] = {}
    for module_info in pkgutil.iter_modules(coopdec_kg.cli.__path__):
        module = importlib.import_module(f"coopdec_kg.cli.{module_info.name}")
        commands = getattr(module, "commands", None)
        if isinstance(commands, typer.Typer):
            for info in commands.registered_commands:
                assert info.name is not None
                found[info.name] = module_info.name
    return found


def test_the_listing_names_every_command_and_its_module() -> None:
    assert {name: listed.module for name, listed in COMMANDS.items()} == defined_commands()
    assert list(get_command(app).commands) == list(COMMANDS)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_is_listed_as_it_would_list_itself(name: str) -> None:
    real, stand_in = build_command(name, None), listing(name)
    for limit in range(10, 200):
        assert stand_in.get_short_help_str(limit) == real.get_short_help_str(limit), limit


@pytest.mark.parametrize("width", [50, 64, 78])
def test_the_help_lists_the_commands_as_the_commands_would(width: int) -> None:
    """The list of commands is the one Typer would lay out from the commands themselves."""
    group = get_command(app)
    context = group.make_context("coopdec-kg", ["--help"], resilient_parsing=True)
    shown, expected = HelpFormatter(width=width), HelpFormatter(width=width)
    group.format_commands(context, shown)  # type: ignore[attr-defined]
    built = TyperGroup(commands={name: build_command(name, None) for name in COMMANDS})
    built.format_commands(context, expected)
    assert shown.getvalue() == expected.getvalue()
    assert all(f"  {name} " in shown.getvalue() for name in COMMANDS)


def test_an_unknown_command_is_still_named_with_suggestions(runner: CliRunner) -> None:
    result = runner.invoke(app, ["quer"])
    assert result.exit_code == 2
    assert "No such command 'quer'" in result.stderr and "'query'" in result.stderr


def test_completion_offers_every_command(runner: CliRunner) -> None:
    """What bash gets back for `coopdec-kg <TAB>`: the commands, built to be offered."""
    result = runner.invoke(
        app,
        [],
        prog_name="coopdec-kg",
        env={
            "_COOPDEC_KG_COMPLETE": "complete_bash",
            "COMP_WORDS": "coopdec-kg ",
            "COMP_CWORD": "1",
        },
    )
    assert result.exit_code == 0
    assert result.stdout.split() == list(COMMANDS)
