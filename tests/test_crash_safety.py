"""Crashes, races and a hostile file system: `add` and `build` killed at every step of their file
operations, commands run at the same time, a corrupt store, a full disk, a read-only folder.

After any of these, data/ holds all of a submission or none of it, a trusted store is complete,
and the next command works by itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coopdec_kg.cli import app
from coopdec_kg.content import journal, locks
from coopdec_kg.content.project import Project
from coopdec_kg.engines import store
from coopdec_kg.errors import ContentError, StoreCorrupted
from kill_points import KILLED, in_child, killed_at

TESTS = Path(__file__).parent
SUBMISSIONS = TESTS / "fixtures" / "submissions"
THREE_SUBMISSIONS = [
    SUBMISSIONS / name
    for name in (
        "rule6-ok-agreement-in-force.ttl",
        "rule2-ok-region-action.ttl",
        "rule1-ok-partner.ttl",
    )
]
# The file operations a crash can fall between, for the kill points of `add` and `build`.
ADD_OPERATIONS = ("open", "fsync", "rename", "replace", "unlink")
BUILD_OPERATIONS = ("mkdir", "rename", "replace", "unlink", "rmdir")


@pytest.fixture
def content(tmp_path: Path, project: Project) -> Project:
    """A private copy of the content folder, free to edit."""
    root = tmp_path / "content"
    for name in ("ontology", "data", "queries"):
        shutil.copytree(project.root / name, root / name)
    return Project.at(root)


@pytest.fixture
def small(tmp_path: Path, project: Project) -> Project:
    """A content folder with the ontology and one data file: a store builds in a blink."""
    root = tmp_path / "small"
    for name in ("ontology", "queries"):
        shutil.copytree(project.root / name, root / name)
    (root / "data").mkdir()
    shutil.copy(project.data_dir / "report.ttl", root / "data")
    return Project.at(root)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file of the folder (hidden ones too) and the hash of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


# ---------------------------------------------------------------- add: all or nothing


def test_add_killed_at_every_step_leaves_data_all_old_or_all_new(content: Project) -> None:
    """Forked from the test process: the child only writes files, it never opens a store."""
    data = content.data_dir
    batch = [
        (data / f"submission-{i:016x}.ttl", path.read_bytes())
        for i, path in enumerate(THREE_SUBMISSIONS)
    ]
    old = snapshot(data)
    new = old | {final.name: hashlib.sha256(payload).hexdigest() for final, payload in batch}
    outcomes = []
    for step in range(1, 100):
        status = in_child(killed_at(step, ADD_OPERATIONS, lambda: journal.commit(data, batch)))
        listed = content.data_files  # the next command: finishes or undoes the interrupted add
        after = snapshot(data)
        assert after in (old, new), f"killed at step {step}: {sorted(set(after) ^ set(old))}"
        assert listed == sorted(data / name for name in after if name.endswith(".ttl"))
        outcomes.append(after == new)
        if status == 0:
            break
        assert status == KILLED
        if after == old:
            journal.commit(data, batch)  # the next add works
            assert snapshot(data) == new
        for final, _ in batch:
            final.unlink()
    assert outcomes[-1], "the last run was not killed and added the batch"
    assert False in outcomes and outcomes.count(True) > 1, "kills before and after the commit"
    assert len(outcomes) > 15, "every operation of the add was a kill point"


def test_a_batch_committed_by_its_journal_is_finished_by_the_next_command(content: Project) -> None:
    """The state a kill after the commit leaves: a journal and its temporary files."""
    data = content.data_dir
    payloads = {f"submission-{i:016x}.ttl": p.read_bytes() for i, p in enumerate(THREE_SUBMISSIONS)}
    record = []
    for name, payload in payloads.items():
        (data / f".{name}.x1.tmp").write_bytes(payload)
        record.append([f".{name}.x1.tmp", name])
    os.rename(data / f".{next(iter(payloads))}.x1.tmp", data / next(iter(payloads)))  # one placed
    (data / journal.JOURNAL).write_text(json.dumps(record), encoding="utf-8")
    names = [path.name for path in content.data_files]
    assert set(payloads) <= set(names)
    assert not [name for name in os.listdir(data) if name.startswith(".")]
    for name, payload in payloads.items():
        assert (data / name).read_bytes() == payload


@pytest.mark.parametrize(
    "renames",
    [[["../../x.tmp", "../report.ttl"]], [[".report.ttl.x.tmp", "report.ttl"]]],
    ids=["outside data/", "a file of the report"],
)
def test_a_journal_naming_files_outside_the_batch_is_refused(
    content: Project, renames: list[list[str]]
) -> None:
    before = snapshot(content.data_dir)
    (content.data_dir / ".report.ttl.x.tmp").write_text("# forged\n", encoding="utf-8")
    (content.data_dir / journal.JOURNAL).write_text(json.dumps(renames), encoding="utf-8")
    with pytest.raises(ContentError, match="outside the batch"):
        assert content.data_files
    assert (content.data_dir / "report.ttl").read_bytes() != b"# forged\n"
    assert set(snapshot(content.data_dir)) == set(before) | {".report.ttl.x.tmp", journal.JOURNAL}


def test_temporary_files_of_a_crash_before_the_commit_are_removed(content: Project) -> None:
    before = snapshot(content.data_dir)
    (content.data_dir / ".submission-0123456789abcdef.ttl.k9x.tmp").write_bytes(b"half")
    (content.data_dir / ".submission-batch.json.q2w.tmp").write_bytes(b"[")
    assert [p.name for p in content.data_files] == sorted(n for n in before if n.endswith(".ttl"))
    assert snapshot(content.data_dir) == before


def fail_with(code: int, message: str) -> object:
    def failing(*_args: object, **_kwargs: object) -> None:
        raise OSError(code, message)

    return failing


@pytest.mark.parametrize(
    ("operation", "code", "message"),
    [("fsync", 28, "No space left on device"), ("mkstemp", 13, "Permission denied")],
    ids=["full disk", "read-only data folder"],
)
def test_a_file_system_refusal_while_adding_is_one_line_and_writes_nothing(
    content: Project, monkeypatch: pytest.MonkeyPatch, operation: str, code: int, message: str
) -> None:
    """As the file system would answer (root writes anywhere, so the refusal is injected); the
    CLI prints the library's error as one line and exits 2."""
    before = snapshot(content.data_dir)
    module = journal.os if operation == "fsync" else journal.tempfile
    monkeypatch.setattr(module, operation, fail_with(code, message))
    batch = [(content.data_dir / "submission-0123456789abcdef.ttl", b"")]
    with pytest.raises(ContentError) as refusal:
        journal.commit(content.data_dir, batch)
    assert str(refusal.value) == (
        f"{content.data_dir}: cannot write the submission ({message}); nothing added"
    )
    assert snapshot(content.data_dir) == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores folder modes")
def test_add_into_a_read_only_data_folder_exits_2(runner: CliRunner, content: Project) -> None:
    content.data_dir.chmod(0o555)
    try:
        result = runner.invoke(app, ["--root", str(content.root), "add", str(THREE_SUBMISSIONS[0])])
    finally:
        content.data_dir.chmod(0o755)
    assert result.exit_code == 2
    assert "cannot write the submission (Permission denied); nothing added" in result.stderr


# ---------------------------------------------------------------- build: never a broken store

BUILD_KILLED_AT_EVERY_STEP = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from kill_points import in_child, killed_at
from coopdec_kg.engines import store
from coopdec_kg.content.project import Project

project, location = Project.at(Path(sys.argv[1])), Path(sys.argv[2])
operations = json.loads(sys.argv[4])

def build():
    store.build(project, (), location)

def next_command():
    opened, info = store.open_current(project, location)
    print(json.dumps({"rebuilt": info.rebuilt, "triples": len(opened)}), flush=True)

assert in_child(build) == 0  # the previous store, built on the same content
for step in range(1, 200):
    status = in_child(killed_at(step, operations, build))
    print(json.dumps({"step": step, "status": status}), flush=True)
    assert in_child(next_command) == 0
    if status == 0:
        break
assert in_child(build) == 0
print(json.dumps({"left": sorted(p.name for p in location.iterdir())}))
"""


def test_build_killed_at_every_step_leaves_a_complete_store_trusted(
    small: Project, tmp_path: Path
) -> None:
    """In a process of its own, which forks before it opens any store."""
    location = tmp_path / "store"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            BUILD_KILLED_AT_EVERY_STEP,
            str(small.root),
            str(location),
            str(TESTS),
            json.dumps(BUILD_OPERATIONS),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    kills, checks, (last,) = lines[:-1:2], lines[1:-1:2], lines[-1:]
    assert [k["status"] for k in kills[:-1]] == [KILLED] * (len(kills) - 1)
    assert kills[-1]["status"] == 0 and len(kills) > 10, "every operation was a kill point"
    assert all(not check["rebuilt"] for check in checks), "the pointer always names a whole store"
    assert len({check["triples"] for check in checks}) == 1
    assert len(last["left"]) == 2, f"a build removes what the kills left: {last['left']}"


def test_commands_run_at_once_after_a_change_build_the_store_once(content: Project) -> None:
    """The race of the issue: four queries right after a content change."""
    store.build(content)
    with (content.data_dir / "report.ttl").open("a", encoding="utf-8") as stream:
        stream.write("# changed\n")
    command = [sys.executable, "-m", "coopdec_kg", "--root", str(content.root), "query"]
    running = [
        subprocess.Popen(
            [*command, "engagement-levels", "--format", "csv"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [(process.communicate(timeout=300), process.returncode) for process in running]
    assert [code for _, code in results] == [0] * 4, [err for (_, err), _ in results]
    assert len({out for (out, _), _ in results}) == 1
    errors = "".join(err for (_, err), _ in results)
    assert errors.count("building the store from") == 1, errors
    assert "Traceback" not in errors


# ---------------------------------------------------------------- a store that cannot be read


@pytest.mark.parametrize(
    "damage",
    [
        lambda folder: (folder / "CURRENT").unlink(),
        lambda folder: max(folder.glob("*.sst"), key=lambda p: p.stat().st_size).unlink(),
        lambda folder: os.truncate(max(folder.glob("*.sst"), key=lambda p: p.stat().st_size), 100),
        lambda folder: (folder / "CURRENT").write_text("garbage\n"),
    ],
    ids=["missing CURRENT", "missing .sst", "truncated .sst", "corrupt CURRENT"],
)
def test_a_store_that_cannot_be_opened_is_named_and_rebuilt(
    small: Project, tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: object
) -> None:
    location = tmp_path / "store"
    built = store.build(small, (), location)
    damage(built.path)  # type: ignore[operator]
    with caplog.at_level(logging.INFO, logger="coopdec_kg"):
        opened, info = store.open_current(small, location)
    assert info.rebuilt and info.path != built.path
    assert len(opened) > 0
    (note,) = [r.getMessage() for r in caplog.records if "unreadable" in r.getMessage()]
    assert note.startswith(f"The store {built.path} is unreadable (")
    assert note.endswith("): rebuilding it…")


def test_a_store_found_corrupt_by_a_query_is_rebuilt_and_the_query_run_again(
    small: Project, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    location = tmp_path / "store"
    built = store.build(small, (), location)
    readings: list[Path] = []

    def count(opened: object) -> int:
        readings.append(Path(store._folder_of(store._read_pointer(location)) or ""))
        if len(readings) == 1:  # as pyoxigraph reports a bad block checksum
            raise StoreCorrupted("Corruption: block checksum mismatch")
        return len(opened)  # type: ignore[arg-type]

    with caplog.at_level(logging.INFO, logger="coopdec_kg"):
        assert store.with_current(small, count, location) > 0
    assert readings[0] == Path(built.path.name) and readings[1] != readings[0]
    assert f"The store {built.path} is corrupt (Corruption: block checksum mismatch)" in caplog.text


def test_a_corruption_error_of_the_engine_becomes_a_store_error() -> None:
    class Damaged:
        def query(self, _text: str) -> None:
            raise RuntimeError("Corruption: block checksum mismatch: stored = 1, computed = 2")

    with pytest.raises(StoreCorrupted, match="block checksum mismatch"):
        store.select(Damaged(), "SELECT * WHERE { ?s ?p ?o }")  # type: ignore[arg-type]


def test_a_file_where_the_store_folder_goes_is_one_line(runner: CliRunner, small: Project) -> None:
    (small.root / ".coopdec-store").write_text("not a folder\n", encoding="utf-8")
    for command in (["query", "engagement-levels"], ["build"]):
        result = runner.invoke(app, ["--root", str(small.root), *command])
        assert result.exit_code == 2
        assert result.stderr.splitlines() == [
            f"Error: {small.root / '.coopdec-store'} is not a folder: remove it, or set "
            "COOPDEC_KG_STORE to a folder for the store"
        ]


def test_a_full_disk_while_building_is_one_line_and_keeps_the_store(
    runner: CliRunner, small: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyoxigraph

    location = tmp_path / "store"
    monkeypatch.setenv(store.STORE_VARIABLE, str(location))
    good = store.build(small)

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "IO error: No space left on device")

    monkeypatch.setattr(pyoxigraph.Store, "bulk_load", full)
    result = runner.invoke(app, ["--root", str(small.root), "build"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: {location}: cannot build the store ([Errno 28] IO error: No space left on device)"
    ]
    assert sorted(p.name for p in location.iterdir()) == [store.POINTER, good.path.name]
    monkeypatch.undo()
    monkeypatch.setenv(store.STORE_VARIABLE, str(location))
    assert (
        runner.invoke(app, ["--root", str(small.root), "query", "engagement-levels"]).exit_code == 0
    )


def test_a_store_folder_that_cannot_be_written_is_one_line(
    runner: CliRunner, small: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = tmp_path / "store"
    location.mkdir()
    monkeypatch.setenv(store.STORE_VARIABLE, str(location))

    def refused(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    if os.geteuid() == 0:  # root writes anywhere: make the folder refuse as it would a user
        monkeypatch.setattr(store.tempfile, "mkdtemp", refused)
    else:
        location.chmod(0o555)
    try:
        result = runner.invoke(app, ["--root", str(small.root), "query", "engagement-levels"])
    finally:
        location.chmod(0o755)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"Error: {location}: cannot create the store here (Permission denied); set "
        "COOPDEC_KG_STORE to a writable folder"
    )


def test_reading_a_current_store_writes_nothing(
    small: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So a read-only store folder (or content folder) serves queries once the store is built."""
    location = tmp_path / "store"
    store.build(small, (), location)

    def no_write(*args: object, **_kwargs: object) -> None:
        raise AssertionError(f"a write: {args}")

    for name in ("mkdir", "rename", "replace", "unlink", "rmdir"):
        monkeypatch.setattr(os, name, no_write)
    monkeypatch.setattr(store.tempfile, "mkstemp", no_write)
    opened, info = store.open_current(small, location)
    assert not info.rebuilt and len(opened) > 0


# ---------------------------------------------------------------- strace, where it is installed


def strace_kill(syscall: str, when: int, *arguments: str) -> int:
    """Run coopdec-kg under strace, killed by SIGKILL at the `when`-th call of `syscall`."""
    done = subprocess.run(
        [
            "strace",
            "-f",
            "-o",
            os.devnull,
            "-e",
            f"trace={syscall}",
            "-e",
            f"inject={syscall}:signal=SIGKILL:when={when}",
            sys.executable,
            "-m",
            "coopdec_kg",
            *arguments,
        ],
        capture_output=True,
        timeout=300,
    )
    return done.returncode


NO_STRACE = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


@NO_STRACE
def test_build_killed_at_its_fifth_unlinkat_leaves_a_working_store(content: Project) -> None:
    """The issue's reproducer: then every later query failed on a missing CURRENT."""
    root = ["--root", str(content.root)]
    command = [sys.executable, "-m", "coopdec_kg", *root]
    # the previous store, built by a process that has ended: the build may remove it
    subprocess.run([*command, "build"], capture_output=True, check=True, timeout=300)
    assert strace_kill("unlinkat", 5, *root, "build") != 0
    query = subprocess.run(
        [*command, "query", "engagement-levels", "--format", "csv"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert query.returncode == 0, query.stderr
    assert len(query.stdout.splitlines()) == 7


@NO_STRACE
def test_add_of_three_files_killed_at_its_second_rename_adds_all_or_none(
    content: Project,
) -> None:
    """The issue's reproducer: then one file of three stayed, with temporary files."""
    before = snapshot(content.data_dir)
    root = ["--root", str(content.root)]
    assert strace_kill("rename", 2, *root, "add", *map(str, THREE_SUBMISSIONS)) != 0
    added = [path for path in content.data_files if path.name.startswith("submission-")]
    assert len(added) in (0, 3)
    assert not [name for name in os.listdir(content.data_dir) if name.startswith(".")]
    assert set(snapshot(content.data_dir)) == set(before) | {path.name for path in added}


def test_a_store_of_the_earlier_layout_is_rebuilt_and_removed(
    small: Project, tmp_path: Path
) -> None:
    """Earlier versions named the folder by its fingerprint and the pointer did not name it."""
    location = tmp_path / "store"
    built = store.build(small, (), location)
    pointer = json.loads((location / store.POINTER).read_text(encoding="utf-8"))
    legacy = location / pointer.pop("fingerprint")
    locks.release_read_lock(built.path)  # built by an earlier process, which has ended
    built.path.rename(legacy)
    (location / store.POINTER).write_text(
        json.dumps({"fingerprint": legacy.name, **pointer} | {"folder": None}), encoding="utf-8"
    )
    (location / "build-x1y2").mkdir()  # what a crashed build of that version left
    (location / "notes.txt").write_text("the user's own file\n", encoding="utf-8")
    opened, info = store.open_current(small, location)
    assert info.rebuilt and len(opened) > 0
    assert sorted(p.name for p in location.iterdir()) == sorted(
        [store.POINTER, info.path.name, "notes.txt"]
    ), "what earlier versions left is removed, nothing else"
