"""The boundary a submission cannot cross (the rules of section 10 of ontology/shapes.ttl).

The shapes see a submission merged with the graph, so they cannot tell who states a triple. Before
they run, every triple the submission itself states is held to three rules:

* its subject is the submission's own resource, under submission:<id>/ (a blank node or a
  relative IRI lands there): nothing is said about the report's entities, observations, rules,
  legal texts, countries or concepts, nor about another submission or its own record;
* an object that is a resource of the project outside the submission (cdr:…, the synthetic
  atlas, a country) is reached through a property the shapes check — one they name in sh:path
  or read in their SPARQL — or through rdf:type;
* no reserved class or property: printed figures, the law, the structure of the report, and
  provenance, which only the tool writes.

So every stored triple of a submission is about a resource whose IRI says which submission it
comes from, and no submission changes what the report, the law or another submission says.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.term import Node

from coopdec_kg.content.graph import COUNTRY, Submission
from coopdec_kg.engines.sparql_text import tokenize
from coopdec_kg.errors import ContentError

SHAPES = "https://w3id.org/coopdec-kg/shapes#"
RULE_CLASS = URIRef(SHAPES + "SubmissionRule")
RESERVED_CLASS = URIRef(SHAPES + "reservedClass")
RESERVED_PROPERTY = URIRef(SHAPES + "reservedProperty")
OWN_RESOURCES = URIRef(SHAPES + "SubmissionDescribesItsOwnResources")
LINKS = URIRef(SHAPES + "SubmissionLinksThroughTheShapes")
RESERVED = URIRef(SHAPES + "SubmissionStatesNoReportFigureOrLaw")
# Checked by the validator, which can ask the graph whether a resource exists.
EXISTING = URIRef(SHAPES + "SubmissionPointsAtExistingResources")
RULES = (OWN_RESOURCES, LINKS, RESERVED, EXISTING)
# Resources of the project: its own IRIs (report, law, vocabularies, submissions, the atlas)
# and the EU country table it names countries with.
PROJECT_NAMESPACES = ("https://w3id.org/coopdec-kg/", COUNTRY)
_PROPERTY_TYPES = (RDF.Property, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)

_TYPE = RDF.type  # compared on every triple (a namespace attribute is a lookup)


@dataclass(frozen=True)
class Crossing:
    """One triple of a submission that crosses the boundary, and the rule it breaks."""

    subject: Node
    predicate: URIRef
    object: Node
    rule: URIRef


@dataclass(frozen=True)
class Boundary:
    """The boundary as the shapes and the ontology of one content folder draw it."""

    link_properties: frozenset[URIRef]
    reserved_classes: frozenset[URIRef]
    reserved_properties: frozenset[URIRef]

    @classmethod
    def of(cls, shapes: Graph, ontology: Graph) -> Boundary:
        """Read the rules from the shapes; reserved classes take their subclasses along, and a
        property whose domain is a reserved class is reserved too."""
        missing = [rule for rule in RULES if (rule, RDF.type, RULE_CLASS) not in shapes]
        if missing:
            names = ", ".join(str(rule) for rule in missing)
            raise ContentError(f"the shapes do not define the submission rules {names}")
        classes: set[URIRef] = set()
        for reserved in _iris(shapes.objects(None, RESERVED_CLASS)):
            classes |= set(_iris(ontology.transitive_subjects(RDFS.subClassOf, reserved)))
        properties = set(_iris(shapes.objects(None, RESERVED_PROPERTY)))
        properties |= {p for p, d in _iri_pairs(ontology, RDFS.domain) if d in classes}
        declared = {p for kind in _PROPERTY_TYPES for p in _iris(ontology.subjects(RDF.type, kind))}
        checked = _path_properties(shapes) | (_sparql_names(shapes) & declared) | {RDF.type}
        return cls(frozenset(checked - properties), frozenset(classes), frozenset(properties))

    def crossings(self, submission: Submission) -> list[Crossing]:
        """The submission's triples that cross the boundary, one rule each (the first broken)."""
        own = str(submission.iri) + "/"
        found = []
        for subject, predicate, value in submission.triples:
            rule = self.rule_broken(subject, predicate, value, own)
            if rule is not None and isinstance(predicate, URIRef):
                found.append(Crossing(subject, predicate, value, rule))
        return sorted(found, key=lambda c: (str(c.subject), str(c.predicate), str(c.object)))

    def rule_broken(self, subject: Node, predicate: Node, value: Node, own: str) -> URIRef | None:
        """The rule a triple breaks when a submission whose namespace is `own` states it."""
        if not (isinstance(subject, URIRef) and subject.startswith(own)):
            return OWN_RESOURCES
        if predicate in self.reserved_properties or (
            predicate == _TYPE and value in self.reserved_classes
        ):
            return RESERVED
        if (
            isinstance(value, URIRef)
            and str(value).startswith(PROJECT_NAMESPACES)
            and not value.startswith(own)
            and predicate not in self.link_properties
        ):
            return LINKS
        return None


def _iris(nodes: Iterable[Node | None]) -> Iterator[URIRef]:
    return (node for node in nodes if isinstance(node, URIRef))


def _iri_pairs(graph: Graph, predicate: URIRef) -> Iterator[tuple[URIRef, URIRef]]:
    for subject, value in graph.subject_objects(predicate):
        if isinstance(subject, URIRef) and isinstance(value, URIRef):
            yield subject, value


def _path_properties(shapes: Graph) -> set[URIRef]:
    """Every property a shape's sh:path names, inside alternative, inverse or sequence paths."""
    found: set[URIRef] = set()
    pending: list[Node] = list(shapes.objects(None, SH.path))
    seen: set[Node] = set()
    while pending:
        node = pending.pop()
        if isinstance(node, URIRef):
            if node != RDF.nil:
                found.add(node)
        elif isinstance(node, BNode) and node not in seen:
            seen.add(node)
            pending.extend(shapes.objects(node, None))
    return found


def _sparql_names(shapes: Graph) -> set[URIRef]:
    """Every IRI the shapes' SPARQL texts name (with the prefixes the shapes declare)."""
    namespaces = {
        str(prefix): str(namespace)
        for declaration in shapes.objects(None, SH.declare)
        for prefix in shapes.objects(declaration, SH.prefix)
        for namespace in shapes.objects(declaration, SH.namespace)
    }
    found: set[URIRef] = set()
    for text in shapes.objects(None, SH.select):
        if not isinstance(text, Literal):
            continue
        for token in tokenize(str(text), "a SPARQL constraint of the shapes"):
            if token.kind == "iri":
                found.add(URIRef(token.text[1:-1]))
            elif token.kind == "pname":
                prefix, _, local = token.text.partition(":")
                if prefix in namespaces:
                    found.add(URIRef(namespaces[prefix] + local))
    return found
