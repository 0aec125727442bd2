"""The only module that parses RDF: it loads the ontology and the data into the embedded store.

rdflib is the engine today; callers get an `rdflib.Graph` through these functions only, so a
faster store can replace it here without touching them.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from rdflib import Graph

from coopdec_kg.errors import RdfSyntaxError
from coopdec_kg.namespaces import prefixes
from coopdec_kg.project import Project


def new_graph() -> Graph:
    """An empty graph that knows the project's prefixes (and only those)."""
    graph = Graph(bind_namespaces="none")
    for prefix, namespace in prefixes().items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph


def parse_turtle(path: Path, into: Graph | None = None) -> Graph:
    """Parse one trusted Turtle file of the content folder."""
    graph = new_graph() if into is None else into
    try:
        graph.parse(path, format="turtle")
    except Exception as error:  # rdflib raises many unrelated types for bad syntax
        raise RdfSyntaxError(path, str(error)) from error
    return graph


def parse_package_turtle(name: str) -> Graph:
    """Parse a Turtle template shipped inside the package (e.g. the dataset metadata)."""
    resource = files("coopdec_kg").joinpath(name)
    graph = new_graph()
    try:
        graph.parse(data=resource.read_text(encoding="utf-8"), format="turtle")
    except Exception as error:  # same reason as parse_turtle
        raise RdfSyntaxError(str(resource), str(error)) from error
    return graph


def load_ontology(project: Project) -> Graph:
    """The OWL ontology alone (TBox)."""
    return parse_turtle(project.ontology_file)


def load_data(project: Project) -> Graph:
    """Every file of data/ (ABox), merged."""
    graph = new_graph()
    for path in project.data_files:
        parse_turtle(path, into=graph)
    return graph


def load_graph(project: Project) -> Graph:
    """Ontology and data together: the graph that queries and exports see."""
    graph = load_ontology(project)
    for path in project.data_files:
        parse_turtle(path, into=graph)
    return graph
