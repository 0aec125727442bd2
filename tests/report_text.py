"""The report's text, outside the repository: where it is, and how tests compare with it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

# ../shared beside the clone, or the folder COOPDEC_KG_SHARED names (a worktree elsewhere).
SHARED = Path(
    os.environ.get("COOPDEC_KG_SHARED") or Path(__file__).resolve().parent.parent.parent / "shared"
)
REPORT_FILE = SHARED / "seed" / "intercommunalite-et-international-2006.txt"
# The report's text is not ours to redistribute: CI has it in ../shared, a user's clone does not.
REPORT_ABSENT = f"the report's text is absent ({REPORT_FILE}): ../shared is not beside this clone"


def normalise(value: str) -> str:
    """Text as compared with the report: typographic apostrophes and spaces made plain."""
    return " ".join(value.replace("\u2019", "'").replace("\u00a0", " ").split())


class Said(Protocol):
    def __call__(self, lines: int | tuple[int, int], *texts: str) -> None: ...
