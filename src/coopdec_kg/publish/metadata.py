"""The dataset's description for portals: DCAT-AP 3 (catalogue, dataset, distributions) and VoID.

The static part (titles, licence, publisher, distributions …) is the Turtle template
`metadata.ttl` shipped in the package; this module adds what must be computed from the graph:
the VoID statistics (for the dataset, ontology and data, and one void:subset per named graph of
the dump, this description included), the temporal and spatial coverage, the modification date
(from the content's history, never from file times) and the version.
"""

from __future__ import annotations

import calendar
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, OWL, RDF, VOID, XSD

from coopdec_kg import __version__
from coopdec_kg.content.changes import last_change
from coopdec_kg.content.graph import new_graph, parse_package_turtle
from coopdec_kg.content.namespaces import prefixes
from coopdec_kg.content.project import Project, shipped_content
from coopdec_kg.errors import ExportError

TEMPLATE = "metadata.ttl"
EXAMPLE_CLASSES = 5  # one example resource from each of the most populated classes
DATE_TYPES = (XSD.date, XSD.dateTime, XSD.gYear, XSD.gYearMonth)
COUNTRY_SPACE = prefixes()["country"]
DCAT_VERSION = URIRef(prefixes()["dcat"] + "version")  # DCAT 3, unknown to rdflib's DCAT
_VOCABULARY = re.compile(r"^(.*[#/])[^#/]*$")

GRAPH_BASE = "https://w3id.org/coopdec-kg/graph/"
ONTOLOGY_GRAPH = URIRef(GRAPH_BASE + "ontology")
DATA_GRAPH = URIRef(GRAPH_BASE + "data")
METADATA_GRAPH = URIRef(GRAPH_BASE + "metadata")
# Each named graph of a dump, as a void:subset of the dataset: its titles (fr, en).
SUBSET_TITLES = {
    ONTOLOGY_GRAPH: ("Ontologie (graphe nommé)", "Ontology (named graph)"),
    DATA_GRAPH: ("Données (graphe nommé)", "Data (named graph)"),
    METADATA_GRAPH: (
        "Description du jeu de données (graphe nommé)",
        "Description of the dataset (named graph)",
    ),
}


@dataclass(frozen=True)
class VoidStatistics:
    """The VoID figures of a graph (https://www.w3.org/TR/void/#statistics)."""

    triples: int
    entities: int
    classes: int
    properties: int
    distinct_subjects: int
    distinct_objects: int
    class_entities: dict[URIRef, int]
    vocabularies: tuple[URIRef, ...]
    examples: tuple[URIRef, ...]


def vocabulary_of(term: URIRef) -> URIRef:
    """The vocabulary a term belongs to: its IRI up to the last '#' or '/'."""
    match = _VOCABULARY.match(str(term))
    return URIRef(match.group(1)) if match else term


def void_statistics(graph: Graph, uri_space: str) -> VoidStatistics:
    """Count what VoID describes; entities are the IRI subjects inside `uri_space`."""
    subjects: set[object] = set()
    objects: set[object] = set()
    predicates: set[URIRef] = set()
    members: dict[URIRef, set[object]] = {}
    for subject, predicate, obj in graph:
        subjects.add(subject)
        objects.add(obj)
        predicates.add(predicate)  # type: ignore[arg-type]
        if predicate == RDF.type and isinstance(obj, URIRef):
            members.setdefault(obj, set()).add(subject)
    entities = {s for s in subjects if isinstance(s, URIRef) and str(s).startswith(uri_space)}
    local_members = {cls: {s for s in found if s in entities} for cls, found in members.items()}
    populated = sorted(
        (cls for cls in local_members if local_members[cls]),
        key=lambda cls: (-len(local_members[cls]), str(cls)),
    )[:EXAMPLE_CLASSES]
    examples = {min(local_members[cls], key=str) for cls in populated}
    vocabularies = {vocabulary_of(term) for term in predicates | set(members)}
    return VoidStatistics(
        triples=len(graph),
        entities=len(entities),
        classes=len(members),
        properties=len(predicates),
        distinct_subjects=len(subjects),
        distinct_objects=len(objects),
        class_entities={cls: len(found) for cls, found in members.items()},
        vocabularies=tuple(sorted(vocabularies, key=str)),
        examples=tuple(sorted(examples, key=str)),  # type: ignore[arg-type]
    )


def _period(literal: Literal) -> tuple[date, date] | None:
    """The first and last day a date-like literal covers; None when it is ill-formed."""
    return _period_of(str(literal), literal.datatype)


def _period_of(text: str, datatype: URIRef | None) -> tuple[date, date] | None:
    try:
        if datatype == XSD.gYear:
            year = int(text[:4])
            return date(year, 1, 1), date(year, 12, 31)
        if datatype == XSD.gYearMonth:
            year, month = int(text[:4]), int(text[5:7])
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        day = date.fromisoformat(text[:10])
        return day, day
    except ValueError:
        return None


def temporal_coverage(data: Graph) -> tuple[date, date] | None:
    """From the earliest to the latest date the data states (dates, years, months)."""
    periods = [
        period
        for obj in data.objects()
        if isinstance(obj, Literal) and obj.datatype in DATE_TYPES
        for period in [_period(obj)]
        if period is not None
    ]
    if not periods:
        return None
    return min(start for start, _ in periods), max(end for _, end in periods)


def countries(data: Graph) -> set[URIRef]:
    """The countries (EU authority table IRIs) the data mentions."""
    return {
        node
        for node in data.objects()
        if isinstance(node, URIRef) and str(node).startswith(COUNTRY_SPACE)
    }


# ---------------------------------------------------------------- the same figures from lines
#
# At scale the content is never an rdflib graph: exports read it as N-Triples lines (see
# graph.read_ntriples). These functions compute the same figures as the ones above from such
# lines, with byte searches that skip the millions of lines that cannot matter.

_NT_TYPE = b"<" + str(RDF.type).encode() + b">"
_ONTOLOGY_LINE_END = b" " + _NT_TYPE + b" <" + str(OWL.Ontology).encode() + b"> .\n"
_COUNTRY_START = b"<" + COUNTRY_SPACE.encode()


def _occurrences(blob: bytes, needle: bytes) -> Iterator[int]:
    position = blob.find(needle)
    while position >= 0:
        yield position
        position = blob.find(needle, position + 1)


def standards_of_lines(ontology: bytes) -> list[URIRef]:
    """The IRIs typed owl:Ontology in N-Triples text (what the data conforms to)."""
    found = []
    for end in _occurrences(ontology, _ONTOLOGY_LINE_END):
        start = ontology.rfind(b"\n", 0, end) + 1
        if ontology[start : start + 1] == b"<":
            found.append(URIRef(ontology[start + 1 : end - 1].decode("utf-8")))
    return found


def temporal_coverage_of_literals(literals: Iterable[tuple[str, str]]) -> tuple[date, date] | None:
    """`temporal_coverage` of a graph given by its typed literals (lexical form, datatype)."""
    kinds = {str(datatype): datatype for datatype in DATE_TYPES}
    periods = [
        period
        for text, datatype in literals
        if datatype in kinds
        for period in [_period_of(text, kinds[datatype])]
        if period is not None
    ]
    if not periods:
        return None
    return min(start for start, _ in periods), max(end for _, end in periods)


def countries_of_lines(data: bytes) -> set[URIRef]:
    """`countries` of the graph an N-Triples text holds (IRIs in object position only)."""
    found = set()
    for start in _occurrences(data, _COUNTRY_START):
        end = data.index(b">", start)
        if data[start - 2 : start] == b"> " and data[end + 1 : end + 4] == b" .\n":
            found.add(URIRef(data[start + 1 : end].decode("utf-8")))
    return found


def void_statistics_of_lines(
    lines: Iterable[bytes], others: Iterable[tuple[bytes, bytes, bytes]], uri_space: str
) -> VoidStatistics:
    """`void_statistics` of unique N-Triples lines plus other triples given as N-Triples terms.

    Terms are compared in their N-Triples form, which is one-to-one with the terms themselves.
    """
    subjects: set[bytes] = set()
    objects: set[bytes] = set()
    predicates: set[bytes] = set()
    members: dict[bytes, set[bytes]] = {}
    triples = 0
    previous = b""
    add_object = objects.add
    add_predicate = predicates.add
    for line in lines:
        subject, predicate, rest = line.split(b" ", 2)
        obj = rest[:-2]  # without " ."
        triples += 1
        if subject != previous:  # lines come grouped by subject: one set update per group
            subjects.add(subject)
            previous = subject
        add_predicate(predicate)
        add_object(obj)
        if predicate == _NT_TYPE and obj[:1] == b"<":
            members.setdefault(obj, set()).add(subject)
    for subject, predicate, obj in others:
        triples += 1
        subjects.add(subject)
        add_predicate(predicate)
        add_object(obj)
        if predicate == _NT_TYPE and obj[:1] == b"<":
            members.setdefault(obj, set()).add(subject)

    def iri(term: bytes) -> URIRef:
        return URIRef(term[1:-1].decode("utf-8"))

    space = b"<" + uri_space.encode("utf-8")
    entities = {s for s in subjects if s.startswith(space)}
    local_members = {cls: found & entities for cls, found in members.items()}
    populated = sorted(
        (cls for cls in local_members if local_members[cls]),
        key=lambda cls: (-len(local_members[cls]), cls[1:-1]),
    )[:EXAMPLE_CLASSES]
    examples = {iri(min(local_members[cls], key=lambda s: s[1:-1])) for cls in populated}
    vocabularies = {vocabulary_of(iri(term)) for term in predicates | set(members)}
    return VoidStatistics(
        triples=triples,
        entities=len(entities),
        classes=len(members),
        properties=len(predicates),
        distinct_subjects=len(subjects),
        distinct_objects=len(objects),
        class_entities={iri(cls): len(found) for cls, found in members.items()},
        vocabularies=tuple(sorted(vocabularies, key=str)),
        examples=tuple(sorted(examples, key=str)),
    )


def content_date(project: Project) -> date:
    """When the content last changed: SOURCE_DATE_EPOCH if set, else the date of the last commit
    that touched its ontology or data (a source checkout), else the date its build recorded (an
    installed package); a folder with neither takes the date of the package's own content.

    Never a file time: two clones of the same commit, made on different days, export the same
    bytes, and so do two exports of the same installed package.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), tz=UTC).date()
        except (ValueError, OverflowError, OSError) as error:
            raise ExportError(f"SOURCE_DATE_EPOCH={epoch!r} is not a Unix timestamp") from error
    shipped = shipped_content()
    for root in (project.root, *([shipped] if shipped is not None else [])):
        found = last_change(root)
        if found is not None:
            return found
    raise ExportError(
        "cannot tell when the content last changed (no git history, no recorded date): "
        "set SOURCE_DATE_EPOCH"
    )


def _single(graph: Graph, cls: URIRef) -> URIRef:
    found = [s for s in graph.subjects(RDF.type, cls) if isinstance(s, URIRef)]
    if len(found) != 1:
        raise ExportError(f"the metadata template must describe exactly one {cls}")
    return found[0]


def describe(ontology: Graph, data: Graph, modified: date) -> Graph:
    """The DCAT + VoID description of ontology + data, ready to be exported with them."""

    def statistics(uri_space: str) -> VoidStatistics:
        content = new_graph()
        for part in (ontology, data):
            for triple in part:
                content.add(triple)
        return void_statistics(content, uri_space)

    standards = [s for s in ontology.subjects(RDF.type, OWL.Ontology) if isinstance(s, URIRef)]
    sizes = {ONTOLOGY_GRAPH: len(ontology), DATA_GRAPH: len(data)}
    return describe_content(
        standards, temporal_coverage(data), countries(data), statistics, modified, sizes
    )


def describe_content(
    standards: Iterable[URIRef],
    coverage: tuple[date, date] | None,
    country_iris: Iterable[URIRef],
    statistics: Callable[[str], VoidStatistics],
    modified: date,
    graph_sizes: Mapping[URIRef, int],
) -> Graph:
    """The description from figures computed elsewhere (e.g. from N-Triples lines at scale).

    `statistics` gets the dataset's void:uriSpace (from the template) and returns its figures;
    `graph_sizes` gives the triples of the ontology and data named graphs.
    """
    metadata = parse_package_turtle("coopdec_kg.publish", TEMPLATE)
    catalog = _single(metadata, DCAT.Catalog)
    dataset = _single(metadata, DCAT.Dataset)
    record = _single(metadata, DCAT.CatalogRecord)
    distributions = sorted(metadata.objects(dataset, DCAT.distribution), key=str)
    when = Literal(modified.isoformat(), datatype=XSD.date)
    for resource in (catalog, dataset, record, *distributions):
        metadata.add((resource, DCTERMS.modified, when))
    metadata.add((dataset, DCAT_VERSION, Literal(__version__)))

    for standard in standards:
        metadata.add((dataset, DCTERMS.conformsTo, standard))
        metadata.add((standard, RDF.type, DCTERMS.Standard))

    if coverage is not None:
        period = BNode()
        metadata.add((dataset, DCTERMS.temporal, period))
        metadata.add((period, RDF.type, DCTERMS.PeriodOfTime))
        metadata.add((period, DCAT.startDate, Literal(coverage[0].isoformat(), datatype=XSD.date)))
        metadata.add((period, DCAT.endDate, Literal(coverage[1].isoformat(), datatype=XSD.date)))
    for country in country_iris:
        metadata.add((dataset, DCTERMS.spatial, country))
        metadata.add((country, RDF.type, DCTERMS.Location))

    for distribution in distributions:
        for dump in metadata.objects(distribution, DCAT.downloadURL):
            metadata.add((dataset, VOID.dataDump, dump))

    _add_statistics(metadata, dataset, statistics(_uri_space(metadata, dataset)))
    _add_subsets(metadata, dataset, graph_sizes)
    return metadata


def _uri_space(metadata: Graph, dataset: URIRef) -> str:
    uri_space = metadata.value(dataset, VOID.uriSpace)
    if uri_space is None:
        raise ExportError("the metadata template must give the dataset a void:uriSpace")
    return str(uri_space)


def _count(value: int) -> Literal:
    return Literal(value, datatype=XSD.integer)


def _add_statistics(metadata: Graph, dataset: URIRef, stats: VoidStatistics) -> None:
    metadata.add((dataset, VOID.triples, _count(stats.triples)))
    metadata.add((dataset, VOID.entities, _count(stats.entities)))
    metadata.add((dataset, VOID.classes, _count(stats.classes)))
    metadata.add((dataset, VOID.properties, _count(stats.properties)))
    metadata.add((dataset, VOID.distinctSubjects, _count(stats.distinct_subjects)))
    metadata.add((dataset, VOID.distinctObjects, _count(stats.distinct_objects)))
    for vocabulary in stats.vocabularies:
        metadata.add((dataset, VOID.vocabulary, vocabulary))
    for example in stats.examples:
        metadata.add((dataset, VOID.exampleResource, example))
    for cls, count in stats.class_entities.items():
        partition = BNode()
        metadata.add((dataset, VOID.classPartition, partition))
        metadata.add((partition, VOID["class"], cls))
        metadata.add((partition, VOID.entities, _count(count)))


def _add_subsets(metadata: Graph, dataset: URIRef, graph_sizes: Mapping[URIRef, int]) -> None:
    """One void:subset per named graph of the dump, with its triples. The description counts
    itself: its count is the last triple added, so it includes that triple."""
    for graph in SUBSET_TITLES:
        french, english = SUBSET_TITLES[graph]
        metadata.add((dataset, VOID.subset, graph))
        metadata.add((graph, RDF.type, VOID.Dataset))
        metadata.add((graph, DCTERMS.title, Literal(french, lang="fr")))
        metadata.add((graph, DCTERMS.title, Literal(english, lang="en")))
        if graph in graph_sizes:
            metadata.add((graph, VOID.triples, _count(graph_sizes[graph])))
    metadata.add((METADATA_GRAPH, VOID.triples, _count(len(metadata) + 1)))
