"""coopdec-kg: an open knowledge graph of French decentralised cooperation led by groupings.

The library is usable without the CLI::

    from coopdec_kg.content.project import Project
    from coopdec_kg.content.graph import load_graph
    graph = load_graph(Project.locate())
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("coopdec-kg")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
