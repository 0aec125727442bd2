"""Where the content lives: the folder holding ontology/, data/ and queries/.

Resolution order: an explicit root (`--root`), then `COOPDEC_KG_ROOT`, then the current
directory when it holds the three folders, then the content shipped inside the package.

Light to import (the CLI's --help reads ROOT_VARIABLE): what only some calls need (the journal,
hashlib, importlib.resources) is imported in those calls.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from coopdec_kg.errors import ContentError

CONTENT_FOLDERS = ("ontology", "data", "queries")
ROOT_VARIABLE = "COOPDEC_KG_ROOT"
STORE_VARIABLE = "COOPDEC_KG_STORE"
# where a wheel ships ontology/, data/ and queries/ inside the package (pyproject.toml)
SHIPPED_FOLDER = "shipped"


def user_cache() -> Path:
    """This tool's folder in the user's cache (`$XDG_CACHE_HOME/coopdec-kg`)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "coopdec-kg"


def _holds_content(folder: Path) -> bool:
    return all((folder / name).is_dir() for name in CONTENT_FOLDERS)


def shipped_content() -> Path | None:
    """The content inside the installed wheel, or the source checkout of an editable install."""
    from importlib.resources import files

    package = Path(str(files("coopdec_kg")))
    for candidate in (package / SHIPPED_FOLDER, package.parent.parent):
        if _holds_content(candidate):
            return candidate
    return None


@dataclass(frozen=True)
class Project:
    """A content folder. All paths the library reads come from here."""

    root: Path

    @classmethod
    def at(cls, root: Path) -> Project:
        """The project at `root`, which must hold ontology/, data/ and queries/."""
        root = root.expanduser().resolve()
        missing = [name for name in CONTENT_FOLDERS if not (root / name).is_dir()]
        if missing:
            folders = ", ".join(f"{name}/" for name in missing)
            raise ContentError(f"{root} is not a coopdec-kg content folder (missing {folders})")
        return cls(root)

    @classmethod
    def locate(cls, root: Path | None = None) -> Project:
        """Resolve the content folder (see the module docstring)."""
        if root is not None:
            return cls.at(root)
        from_env = os.environ.get(ROOT_VARIABLE)
        if from_env:
            return cls.at(Path(from_env))
        if _holds_content(Path.cwd()):
            return cls.at(Path.cwd())
        shipped = shipped_content()
        if shipped is None:
            raise ContentError("no content folder found: pass --root DIR or set COOPDEC_KG_ROOT")
        return cls.at(shipped)

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def store_location(self) -> Path:
        """Where the persistent store of this content lives: `COOPDEC_KG_STORE`, else
        `.coopdec-store/` in a writable content folder, else a cache."""
        from_env = os.environ.get(STORE_VARIABLE)
        if from_env:
            return Path(from_env).expanduser().resolve()
        if os.access(self.root, os.W_OK):
            return self.root / ".coopdec-store"
        import hashlib

        root_key = hashlib.sha256(str(self.root).encode()).hexdigest()[:16]
        return user_cache() / root_key

    @property
    def ontology_file(self) -> Path:
        return self.ontology_dir / "coopdec.ttl"

    @property
    def shapes_file(self) -> Path:
        return self.ontology_dir / "shapes.ttl"

    @property
    def data_files(self) -> list[Path]:
        """data/*.ttl as last committed: an `add` a crash interrupted is finished first."""
        from coopdec_kg.content.journal import committed_files

        return committed_files(self.data_dir, ".ttl")

    @property
    def query_files(self) -> list[Path]:
        return sorted(self.queries_dir.glob("*.rq"))
