"""Build hook: record in the package when its content last changed.

An installed wheel has no git history, so the build writes the date of the content's last
commit (or the date an sdist recorded) into the package's shipped content folder, as
CONTENT_DATE; `coopdec-kg export` then dates the dump the same way as the checkout it was built
from (src/coopdec_kg/content/changes.py, which this hook loads by path: the build has none of
the package's dependencies).
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

CHANGES = Path(__file__).parent / "src" / "coopdec_kg" / "content" / "changes.py"
# where the record goes in each target: beside ontology/ and data/ in the wheel's shipped/
# folder; at the root of an sdist, where a wheel built from it finds it again
TARGETS = {"wheel": "coopdec_kg/shipped/", "sdist": ""}


def _changes() -> ModuleType:
    spec = importlib.util.spec_from_file_location("coopdec_kg_changes", CHANGES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ContentDateHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds CONTENT_DATE to the built package (nothing for an editable install: it keeps git)."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        self._folder: str | None = None
        if version == "editable" or self.target_name not in TARGETS:
            return
        changes = _changes()
        when = changes.last_change(Path(self.root))
        if when is None:  # no history, no record: exports will ask for SOURCE_DATE_EPOCH
            return
        self._folder = tempfile.mkdtemp(prefix="coopdec-kg-build-")
        record = Path(self._folder) / changes.RECORD
        record.write_text(when.isoformat() + "\n", encoding="utf-8")
        build_data["force_include"][str(record)] = TARGETS[self.target_name] + changes.RECORD

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if getattr(self, "_folder", None):
            shutil.rmtree(self._folder, ignore_errors=True)
