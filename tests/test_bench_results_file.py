"""bench/results_file: each benchmark script's --write replaces its own section of RESULTS.md
and nothing else (serve.py and atlas.py used to cut each other's figures, run.py the whole file)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from conftest import REPO

_spec = importlib.util.spec_from_file_location("results_file", REPO / "bench" / "results_file.py")
assert _spec is not None and _spec.loader is not None
results_file = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(results_file)


def test_a_section_is_replaced_and_the_others_kept(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text(
        "<!-- run -->\nold run\n\n<!-- notes -->\nby hand\n\n<!-- atlas -->\nold atlas\n",
        encoding="utf-8",
    )
    results_file.record("run", "new run", results)
    results_file.record("atlas", "new atlas", results)
    results_file.record("serve", "first serve", results)
    assert results.read_text(encoding="utf-8") == (
        "<!-- run -->\nnew run\n\n<!-- notes -->\nby hand\n\n<!-- atlas -->\nnew atlas\n\n"
        "<!-- serve -->\nfirst serve\n"
    )


def test_the_shipped_results_name_every_script_section() -> None:
    text = (REPO / "bench" / "RESULTS.md").read_text(encoding="utf-8")
    for name in ("run", "notes", "spreadsheet", "atlas"):
        assert f"\n<!-- {name} -->\n" in "\n" + text
