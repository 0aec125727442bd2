"""What rdflib's SPARQL parser tells about a query text, remembered on disk by the text's hash.

Loading a named query parses it (to check it and to read its columns and variables): 0.1-0.4 s,
a third of a small query's run on the store, for a text that rarely changes. The outline of a
text that parsed once (its columns, variables and checked `#+` header) is kept in the user's
cache, keyed by the text and the rdflib installed (found without importing it: importing rdflib
would cost what the cache saves); a text that fails its checks is never remembered, so its
error is reported every time. Checks made
on a text's algebra that passed (the shapes' SPARQL constraints can run with $this unbound:
half a second for the 17 of them) are remembered the same way. The cache is only a saving: a
folder that cannot be written, or a file that cannot be read, is ignored.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from coopdec_kg.content.project import user_cache

FORMAT = 2  # bump when the outline's fields or checks change


@dataclass(frozen=True)
class Outline:
    """A SELECT query's result columns, every variable it mentions, and its checked header."""

    columns: tuple[str, ...]
    variables: frozenset[str]
    header: Mapping[str, Any] = field(default_factory=dict)


@cache
def _parser_key() -> str:
    """Which rdflib is installed: its package's path and the time it was written (a new
    version, even reinstalled in place, gives another key)."""
    spec = importlib.util.find_spec("rdflib")
    origin = spec.origin if spec is not None and spec.origin else "none"
    try:
        written = os.stat(origin).st_mtime_ns
    except OSError:
        written = 0
    return f"{origin}\0{written}"


def _entry(text: str, folder: str = "query-outlines") -> Path:
    key = hashlib.sha256(f"{FORMAT}\0{_parser_key()}\0{text}".encode()).hexdigest()
    return user_cache() / folder / f"{key}.json"


def passed(check: str, text: str) -> bool:
    """Whether this text passed the named check before."""
    return _entry(f"{check}\0{text}", "query-checks").is_file()


def remember_pass(check: str, text: str) -> None:
    """Remember that the text passed the named check (silently skipped if impossible)."""
    _write(_entry(f"{check}\0{text}", "query-checks"), {"passed": check})


def recall(text: str) -> Outline | None:
    """The outline remembered for this text, if any."""
    try:
        record = json.loads(_entry(text).read_text(encoding="utf-8"))
        columns, variables, header = record["columns"], record["variables"], record["header"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(isinstance(name, str) for name in (*columns, *variables)):
        return None
    if not isinstance(header, dict):
        return None
    return Outline(tuple(columns), frozenset(variables), header)


def remember(text: str, outline: Outline) -> None:
    """Keep the outline of a text that parsed (atomically; silently skipped if impossible)."""
    record = {
        "columns": list(outline.columns),
        "variables": sorted(outline.variables),
        "header": dict(outline.header),
    }
    _write(_entry(text), record)


def _write(path: Path, record: Mapping[str, object]) -> None:
    """Write a record atomically; silently skipped if impossible."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".outline-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(record, stream)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError:
        return
