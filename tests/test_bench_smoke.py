"""A tiny run of the benchmark, so that it keeps working (its figures are not checked here)."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_benchmark_runs_at_a_tiny_scale() -> None:
    done = subprocess.run(
        [
            *[sys.executable, "bench/run.py", "--scale", "0.001", "--repeats", "1", "--quick"],
            *["--submission-triples", "700"],
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| query engagement-levels |" in done.stdout
    assert "| validate-submission |" in done.stdout and "| export-turtle |" in done.stdout
    assert "| validate-large-submission |" in done.stdout
