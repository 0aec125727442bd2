"""OWL reasoning with HermiT (through owlready2): consistency, unsatisfiable classes, and the
members the reasoner infers for the ontology's defined classes.

owlready2 reads neither Turtle nor anything from us but N-Triples/RDF/XML, so the graph is
converted in memory. It never touches the network: owl:imports triples are dropped before
loading, and the ontology is loaded from a file object (owlready2 would otherwise download
imports and the ontology IRI itself).

HermiT only says "inconsistent". To name the culprits, a second run classifies one probe class
per individual, D_i ⊑ (its asserted types) ⊓ ∃p.D_o (for each object property assertion i p o):
if i exists, D_i is satisfiable, so an unsatisfiable D_i proves that i takes part in the
contradiction (sound, but it misses contradictions that need individual identity, such as
functional properties or owl:sameAs).
"""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS
from rdflib.term import Node

from coopdec_kg.content.graph import load_data, load_ontology
from coopdec_kg.content.namespaces import compact_iri
from coopdec_kg.content.project import Project
from coopdec_kg.errors import ReasonerUnavailable

PROBE_SPACE = "https://w3id.org/coopdec-kg/reasoning/probe#"
WORLD_BASE = "https://w3id.org/coopdec-kg/reasoning/world"
JAVA_HINT = (
    "Java is not installed or not on PATH: the HermiT reasoner needs a Java runtime "
    "(for example `apt install default-jre-headless`)"
)


@dataclass(frozen=True)
class Member:
    """An individual with its French label (when it has one)."""

    iri: str
    label: str | None = None


@dataclass(frozen=True)
class DefinedClass:
    """A class defined by an OWL equivalence, with its members after reasoning."""

    iri: str
    label: str | None
    members: tuple[Member, ...]
    inferred: int  # members the data does not type with the class directly


@dataclass(frozen=True)
class ReasoningReport:
    """What HermiT found. `consistent` and no unsatisfiable class means the project is sound."""

    consistent: bool
    classes: int
    object_properties: int
    datatype_properties: int
    individuals: int
    unsatisfiable_classes: tuple[str, ...] = ()
    defined_classes: tuple[DefinedClass, ...] = ()
    culprits: tuple[str, ...] = ()  # individuals whose own assertions contradict the ontology
    implicated: tuple[str, ...] = ()  # individuals inconsistent only through a culprit
    ontology_inconsistent: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.consistent and not self.unsatisfiable_classes

    def summary(self) -> list[str]:
        """The report as lines of text, for people."""
        lines = []
        if self.consistent:
            lines.append("Consistent: HermiT finds no contradiction in the ontology and the data.")
        elif self.ontology_inconsistent:
            lines.append(
                "Inconsistent: the ontology itself is contradictory, even without the data."
            )
        else:
            lines.append("Inconsistent: the data contradicts the ontology.")
        lines.append(
            f"{self.classes} classes, {self.object_properties} object properties, "
            f"{self.datatype_properties} datatype properties, {self.individuals} individuals."
        )
        if self.unsatisfiable_classes:
            lines.append("Unsatisfiable classes (nothing can belong to them):")
            lines.extend(f"  {compact_iri(iri)}" for iri in self.unsatisfiable_classes)
        if self.culprits:
            lines.append("Individuals whose own statements contradict the ontology:")
            lines.extend(f"  {compact_iri(iri)}" for iri in self.culprits)
        if self.implicated:
            lines.append("Individuals inconsistent through them:")
            lines.extend(f"  {compact_iri(iri)}" for iri in self.implicated)
        lines.extend(f"Note: {note}" for note in self.notes)
        if self.defined_classes:
            lines.append("Defined classes, with the members HermiT classified into them:")
        for defined in self.defined_classes:
            label = f" ({defined.label})" if defined.label else ""
            lines.append(
                f"  {compact_iri(defined.iri)}{label}: {len(defined.members)} members, "
                f"{defined.inferred} inferred"
            )
            lines.extend(
                f"    {compact_iri(m.iri)}" + (f"  {m.label}" if m.label else "")
                for m in defined.members
            )
        return lines


def java_executable() -> str:
    """The `java` on PATH, or ReasonerUnavailable."""
    java = shutil.which("java")
    if java is None:
        raise ReasonerUnavailable(JAVA_HINT)
    return java


def reason(project: Project) -> ReasoningReport:
    """Check the project's ontology + data with HermiT."""
    java = java_executable()
    return reason_graphs(load_ontology(project), load_data(project), java)


def reason_graphs(ontology: Graph, data: Graph, java: str | None = None) -> ReasoningReport:
    """Check `ontology` + `data` with HermiT (Java must be available)."""
    java = java or java_executable()
    counts = _counts(ontology, data)
    union = _without_imports(ontology, data)
    with _world(union, java) as world:
        consistent = _run_hermit(world)
        if consistent:
            unsatisfiable = _unsatisfiable(world)
            defined = _defined_classes(world, ontology, data)
    if consistent:
        return ReasoningReport(True, *counts, unsatisfiable, defined)
    return _diagnose(ontology, data, counts, java)


# ---------------------------------------------------------------- owlready2 plumbing


def _without_imports(*graphs: Graph) -> Graph:
    """One graph without owl:imports, so that owlready2 has nothing to download."""
    union = Graph(bind_namespaces="none")
    for graph in graphs:
        for triple in graph:
            if triple[1] != OWL.imports:
                union.add(triple)
    return union


@contextlib.contextmanager
def _world(graph: Graph, java: str) -> Iterator[Any]:
    """A fresh in-memory owlready2 world holding `graph` (never the shared default world)."""
    import owlready2  # heavy: imported only when reasoning

    owlready2.JAVA_EXE = java
    payload = graph.serialize(format="nt", encoding="utf-8")
    world = owlready2.World()
    try:
        # owlready2 prints warnings (e.g. punned properties) on stderr: not for our users.
        with contextlib.redirect_stderr(io.StringIO()):
            world.get_ontology(WORLD_BASE).load(fileobj=io.BytesIO(payload), format="ntriples")
        yield world
    except owlready2.OwlReadyOntologyParsingError as error:
        raise ReasonerUnavailable(f"owlready2 cannot read the graph: {error}") from error
    finally:
        world.close()


def _run_hermit(world: Any) -> bool:
    """Run HermiT on the world; True when consistent (inferred types are added to the world)."""
    import owlready2

    try:
        with contextlib.redirect_stderr(io.StringIO()):
            owlready2.sync_reasoner_hermit(
                world, infer_property_values=False, debug=0, ignore_unsupported_datatypes=True
            )
    except owlready2.OwlReadyInconsistentOntologyError:
        return False
    except owlready2.OwlReadyJavaError as error:
        lines = [line for line in str(error).splitlines()[1:] if line.strip()]
        detail = lines[0].strip() if lines else "no message"
        raise ReasonerUnavailable(f"HermiT failed: {detail}") from error
    except OSError as error:
        raise ReasonerUnavailable(f"cannot start Java: {error}") from error
    return True


def _unsatisfiable(world: Any) -> tuple[str, ...]:
    return tuple(
        sorted(
            cls.iri
            for cls in world.inconsistent_classes()
            if getattr(cls, "iri", "") and cls.iri != str(OWL.Nothing)
        )
    )


# ---------------------------------------------------------------- summary


def _iri_subjects(graph: Graph, cls: URIRef) -> set[URIRef]:
    return {s for s in graph.subjects(RDF.type, cls) if isinstance(s, URIRef)}


def _counts(ontology: Graph, data: Graph) -> tuple[int, int, int, int]:
    individuals = {s for s, _, _ in data.triples((None, RDF.type, None)) if isinstance(s, URIRef)}
    return (
        len(_iri_subjects(ontology, OWL.Class)),
        len(_iri_subjects(ontology, OWL.ObjectProperty)),
        len(_iri_subjects(ontology, OWL.DatatypeProperty)),
        len(individuals),
    )


def _label(graph: Graph, node: Node) -> str | None:
    labels = [
        o
        for p in (SKOS.prefLabel, RDFS.label)
        for o in graph.objects(node, p)
        if isinstance(o, Literal)
    ]
    for lang in ("fr", None, "en"):
        matching = sorted(str(o) for o in labels if o.language == lang)
        if matching:
            return matching[0]
    return None


def _defined_classes(world: Any, ontology: Graph, data: Graph) -> tuple[DefinedClass, ...]:
    """Each class with an owl:equivalentClass axiom, and the individuals HermiT put in it."""
    defined = sorted(
        {s for s in ontology.subjects(OWL.equivalentClass, None) if isinstance(s, URIRef)}, key=str
    )
    result = []
    for cls in defined:
        entity = world[str(cls)]
        found = entity.instances(world=world) if entity is not None else []
        members = sorted({str(individual.iri) for individual in found})
        asserted = {str(s) for s in data.subjects(RDF.type, cls)}
        result.append(
            DefinedClass(
                iri=str(cls),
                label=_label(ontology, cls),
                members=tuple(Member(m, _label(data, URIRef(m))) for m in members),
                inferred=len(set(members) - asserted),
            )
        )
    return tuple(result)


# ---------------------------------------------------------------- diagnosis


def probe_graph(ontology: Graph, data: Graph) -> tuple[Graph, dict[URIRef, URIRef]]:
    """The ontology plus one probe class per individual of the data (see the module docstring).

    Returns the graph and the map probe class → individual.
    """
    object_properties = _iri_subjects(ontology, OWL.ObjectProperty) | _iri_subjects(
        data, OWL.ObjectProperty
    )
    datatype_properties = _iri_subjects(ontology, OWL.DatatypeProperty)
    individuals = sorted(
        {s for s in data.subjects() if isinstance(s, URIRef)} - _iri_subjects(ontology, OWL.Class),
        key=str,
    )
    probe_of = {node: URIRef(f"{PROBE_SPACE}i{index}") for index, node in enumerate(individuals)}
    graph = _without_imports(ontology)
    for node, probe in probe_of.items():
        graph.add((probe, RDF.type, OWL.Class))
        for _, predicate, obj in data.triples((node, None, None)):
            if predicate == RDF.type and isinstance(obj, URIRef):
                graph.add((probe, RDFS.subClassOf, obj))
            elif predicate in object_properties and isinstance(obj, URIRef):
                _some(graph, probe, predicate, probe_of.get(obj, OWL.Thing))
            elif predicate in datatype_properties and isinstance(obj, Literal):
                _some(graph, probe, predicate, RDFS.Literal)
    return graph, {probe: node for node, probe in probe_of.items()}


def _some(graph: Graph, probe: URIRef, predicate: Node, filler: Node) -> None:
    restriction = BNode()
    graph.add((restriction, RDF.type, OWL.Restriction))
    graph.add((restriction, OWL.onProperty, predicate))
    graph.add((restriction, OWL.someValuesFrom, filler))
    graph.add((probe, RDFS.subClassOf, restriction))


def _diagnose(
    ontology: Graph, data: Graph, counts: tuple[int, int, int, int], java: str
) -> ReasoningReport:
    """Name the individuals behind an inconsistency (second HermiT run, on probe classes)."""
    probes, individual_of = probe_graph(ontology, data)
    with _world(probes, java) as world:
        if not _run_hermit(world):
            return ReasoningReport(False, *counts, ontology_inconsistent=True)
        bad = {
            individual_of[URIRef(iri)]
            for iri in _unsatisfiable(world)
            if URIRef(iri) in individual_of
        }
    culprits = sorted(
        (node for node in bad if not any(obj in bad for obj in data.objects(node, None))),
        key=str,
    )
    implicated = sorted(bad - set(culprits), key=str)
    if not culprits:  # the bad individuals only refer to each other: name them all
        culprits, implicated = implicated, []
    notes: tuple[str, ...] = ()
    if not bad:
        notes = (
            "no single individual is contradictory on its own: the contradiction involves "
            "several individuals together (functional property, owl:sameAs, nominals)",
        )
    return ReasoningReport(
        False,
        *counts,
        culprits=tuple(str(n) for n in culprits),
        implicated=tuple(str(n) for n in implicated),
        notes=notes,
    )
