"""The hostile corpus: every file of tests/hostile/ is one attack or careless input, run through the
CLI, with the exit code and message fragments it must give (issue 12).

A case file (TOML) holds:

* `description`, and `command`: the arguments after `coopdec-kg --root ROOT`, where `{input}` is
  the case's input file and `{endpoint}` the URL of a loopback server answering as told;
* `exit`, and fragments that must be in `stdout` or `stderr`, or `absent` from both (never a
  traceback, in any case);
* `[input]`: the file's `name` (or `name_hex`, for a name that is not UTF-8) and its `text`,
  where `{pad}` stands for `pad.char` repeated `pad.times` times; `directory = true` makes it a
  folder;
* `[endpoint]`: the answer's `body` (SPARQL JSON), sent at once or one byte every `trickle`
  seconds;
* `writes = true` for commands that may write (`add`): they get a content copy of their own;
  whatever a refused command was, data/ stays byte for byte as it was;
* `[[then]]`: later commands (same keys) checking what the first one left behind.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import shutil
import threading
import time
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coopdec_kg.cli import app
from coopdec_kg.content.project import Project

CASES = sorted((Path(__file__).parent / "hostile").glob("*.toml"))


class Endpoint:
    """A loopback HTTP server that answers each path with the body a case gives it."""

    def __init__(self) -> None:
        routes: dict[str, Mapping[str, Any]] = {}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = routes.get(self.path, {"body": ""})
                body = answer["body"].encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                trickle = float(answer.get("trickle", 0))
                if not trickle:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not trickle:
                    self.wfile.write(body)
                    return
                try:
                    for byte in body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(trickle)
                except OSError:  # the client gave up, as it must
                    return

            def log_message(self, *_args: object) -> None:
                return

        self.routes = routes
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *_args: None  # type: ignore[method-assign]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint()
    yield server
    server.close()


def copy_content(project: Project, root: Path) -> Path:
    for name in ("ontology", "data", "queries"):
        shutil.copytree(project.root / name, root / name)
    return root


@pytest.fixture(scope="module")
def shared_root(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One content copy (and its store) for every case that only reads."""
    return copy_content(project, tmp_path_factory.mktemp("hostile") / "content")


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def make_input(spec: Mapping[str, Any], folder: Path) -> Path:
    """The case's input file (or folder), named as the case says."""
    hexadecimal = spec.get("name_hex")
    name = os.fsdecode(bytes.fromhex(hexadecimal)) if hexadecimal else spec["name"]
    path = folder / name
    if spec.get("directory"):
        path.mkdir()
        return path
    text = spec.get("text", "")
    if "pad" in spec:
        text = text.replace("{pad}", spec["pad"]["char"] * spec["pad"]["times"])
    path.write_bytes(text.encode("utf-8"))
    return path


def run_step(step: Mapping[str, Any], root: Path, values: Mapping[str, str]) -> None:
    args = list(step["command"])
    for placeholder, value in values.items():
        args = [arg.replace(placeholder, value) for arg in args]
    result = CliRunner().invoke(app, ["--root", str(root), *args])
    shown = f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.exit_code == step["exit"], shown
    for fragment in step.get("stdout", []):
        assert fragment in result.stdout, shown
    for fragment in step.get("stderr", []):
        assert fragment in result.stderr, shown
    for fragment in [*step.get("absent", []), "Traceback"]:
        assert fragment not in result.stdout + result.stderr, shown


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_hostile_case(
    case: Path, project: Project, shared_root: Path, endpoint: Endpoint, tmp_path: Path
) -> None:
    spec = tomllib.loads(case.read_text(encoding="utf-8"))
    assert spec["description"] and spec["command"], "a case says what it is and what it runs"
    root = copy_content(project, tmp_path / "content") if spec.get("writes") else shared_root
    values = {}
    if "input" in spec:
        folder = tmp_path / "input"
        folder.mkdir()
        values["{input}"] = str(make_input(spec["input"], folder))
    if "endpoint" in spec:
        endpoint.routes[f"/{case.stem}"] = spec["endpoint"]
        values["{endpoint}"] = f"{endpoint.url}/{case.stem}"
    before = snapshot(root / "data")
    run_step(spec, root, values)
    if spec["exit"] != 0:
        assert snapshot(root / "data") == before, "a refused command writes nothing"
    for step in spec.get("then", []):
        run_step(step, root, values)


def test_the_corpus_covers_every_kind_of_case() -> None:
    specs = [tomllib.loads(case.read_text(encoding="utf-8")) for case in CASES]
    assert len(specs) >= 25
    assert {spec["exit"] for spec in specs} == {0, 1, 2}
    assert any("endpoint" in spec for spec in specs) and any(spec.get("writes") for spec in specs)
