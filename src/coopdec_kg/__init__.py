"""coopdec-kg: an open knowledge graph of French decentralised cooperation led by groupings.

The library is usable without the CLI::

    from coopdec_kg.content.project import Project
    from coopdec_kg.content.graph import load_graph
    graph = load_graph(Project.locate())
"""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """`__version__`, read from the installed metadata only when asked for: importing
    importlib.metadata costs 20-25 ms, a tenth of a small query's run."""
    if name != "__version__":
        raise AttributeError(f"module 'coopdec_kg' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("coopdec-kg")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0"
