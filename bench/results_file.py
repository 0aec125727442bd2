"""bench/RESULTS.md is shared by the benchmark scripts: each owns the section that starts at its
marker line (`<!-- name -->`) and runs to the next marker, so that one script's `--write`
replaces its own figures and leaves every other section, and the notes between them, alone."""

from __future__ import annotations

import os
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().with_name("RESULTS.md")
_ANY_MARKER = re.compile(r"^<!-- [\w-]+ -->$", re.MULTILINE)


def record(name: str, body: str, results: Path = RESULTS) -> None:
    """Put `body` in the section named `name` (appended at the end when there is none yet)."""
    marker = f"<!-- {name} -->\n"
    text = results.read_text(encoding="utf-8") if results.exists() else ""
    section = marker + body.strip("\n") + "\n"
    start = text.find(marker)
    if start < 0:
        text = (text.rstrip("\n") + "\n\n" if text else "") + section
    else:
        following = _ANY_MARKER.search(text, start + len(marker))
        rest = "\n" + text[following.start() :] if following else ""
        text = text[:start] + section + rest
    temporary = results.with_name(f".{results.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, results)
