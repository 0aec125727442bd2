"""Files written for people (`export -o`, `report -o`, `docs -o`) go only to regular files outside
the content and the store: never over a device, a FIFO or a symbolic link, never into data/,
ontology/, queries/ or the store, where they would be read back as content."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coopdec_kg.cli import app
from coopdec_kg.content.files import check_output
from coopdec_kg.content.project import Project
from coopdec_kg.errors import ExportError


@pytest.fixture
def content(tmp_path: Path, project: Project) -> Project:
    root = tmp_path / "content"
    for name in ("ontology", "data", "queries"):
        shutil.copytree(project.root / name, root / name)
    return Project.at(root)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under the folder and the hash of its bytes (a link by its target)."""
    return {
        str(path.relative_to(folder)): (
            f"-> {os.readlink(path)}"
            if path.is_symlink()
            else hashlib.sha256(path.read_bytes()).hexdigest()
            if path.is_file()
            else "folder"
        )
        for path in sorted(folder.rglob("*"))
    }


def refused(runner: CliRunner, content: Project, *arguments: str) -> str:
    """Run a command that must be refused; its one-line message."""
    before = snapshot(content.root.parent)
    result = runner.invoke(app, ["--root", str(content.root), *arguments])
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert snapshot(content.root.parent) == before, "nothing was written"
    return line


@pytest.mark.parametrize(
    "inside",
    [
        "data/dump.ttl",
        "data/report.ttl",
        "ontology/dump.ttl",
        "queries/x.rq",
        ".coopdec-store/d.nt",
    ],
)
def test_export_never_writes_into_the_content_or_the_store(
    runner: CliRunner, content: Project, inside: str
) -> None:
    """`export -o data/dump.ttl` made every later export hang (the dump was read back as data)."""
    (content.root / ".coopdec-store").mkdir()
    line = refused(runner, content, "export", "-o", str(content.root / inside))
    folder = content.root / inside.split("/")[0]
    assert line == (
        f"Error: {content.root / inside} is inside {folder}: write outside data/, ontology/, "
        "queries/ and the store"
    )


def test_a_path_that_leads_into_the_content_through_a_link_is_refused(
    runner: CliRunner, content: Project
) -> None:
    (content.root.parent / "shortcut").symlink_to(content.data_dir)
    line = refused(runner, content, "export", "-o", str(content.root.parent / "shortcut/d.ttl"))
    assert "is inside" in line


def test_export_never_replaces_a_symbolic_link(runner: CliRunner, content: Project) -> None:
    target = content.root.parent / "kept.ttl"
    target.write_text("# kept\n", encoding="utf-8")
    (content.root.parent / "link.ttl").symlink_to(target)
    line = refused(runner, content, "export", "-o", str(content.root.parent / "link.ttl"))
    assert line.endswith("link.ttl is a symbolic link, not a file: give the path of a regular file")


def test_export_never_writes_into_a_fifo(runner: CliRunner, content: Project) -> None:
    """Nor waits for a reader of it."""
    fifo = content.root.parent / "pipe"
    os.mkfifo(fifo)
    line = refused(runner, content, "export", "-o", str(fifo))
    assert line.endswith("pipe is a FIFO, not a file: give the path of a regular file")


def test_a_device_is_never_an_output(project: Project) -> None:
    """Run as root, `export -o /dev/null` replaced the device with a file. Checked without
    writing: were the check broken, the test must not replace the machine's /dev/null."""
    with pytest.raises(ExportError, match="/dev/null is a character device, not a file"):
        check_output(project, Path("/dev/null"))


def test_dash_is_stdout(
    runner: CliRunner, content: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # the same date in both runs
    monkeypatch.chdir(tmp_path)
    export = ["--root", str(content.root), "export", "--format", "ntriples"]
    to_stdout = runner.invoke(app, [*export, "-o", "-"])
    assert to_stdout.exit_code == 0, to_stdout.stderr
    assert to_stdout.stdout_bytes == runner.invoke(app, export).stdout_bytes
    assert not (tmp_path / "-").exists()


def test_report_and_docs_follow_the_same_rule(runner: CliRunner, content: Project) -> None:
    assert "is inside" in refused(runner, content, "report", "-o", str(content.data_dir / "r.md"))
    assert "is inside" in refused(runner, content, "docs", "-o", str(content.ontology_dir))
    line = refused(runner, content, "docs", "-o", str(content.queries_dir / "pages"))
    assert "is inside" in line, "and the folder is not created"
