"""When the content last changed, told by its history rather than by file times.

The last commit that touched ontology/ or data/ dates a source checkout; an installed package
has no history, so its build records that date in the content folder (`CONTENT_DATE`, written by
hatch_build.py). Two clones of the same commit, made on different days, thus date their exports
alike. Standard library only: the build hook loads this file without the package's dependencies.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

RECORD = "CONTENT_DATE"  # the date recorded in a built package, ISO 8601 (YYYY-MM-DD)
DATED_FOLDERS = ("ontology", "data")
GIT_SECONDS = 10


def committed(root: Path) -> date | None:
    """The date (UTC) of the last commit that touched the content of `root`; None outside a git
    work tree, without git, or when no commit touched it."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%ct", "--", *DATED_FOLDERS],
            capture_output=True,
            text=True,
            timeout=GIT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    stamp = done.stdout.strip()
    if done.returncode != 0 or not stamp.isdigit():
        return None
    return datetime.fromtimestamp(int(stamp), tz=UTC).date()


def recorded(root: Path) -> date | None:
    """The date a build recorded in `root` (RECORD), if any and well-formed."""
    try:
        return date.fromisoformat((root / RECORD).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def last_change(root: Path) -> date | None:
    """When the content of `root` last changed: its last commit, else the recorded date."""
    return committed(root) or recorded(root)
