"""The law as SHACL: validate submissions in the context of the ontology and the existing data.

A submission is merged with the ontology and every data file, and the merged graph is
validated against the project's shapes (ontology/shapes.ttl) only: a rule that spans the
submission and the data (a partner defined in one file, an existing CA in another) sees both.
Every node of a submission is marked `prov:wasDerivedFrom submission:<id>`, the same statement
`coopdec-kg add` stores, so the shapes hold it to the full law even when it cites the report.
Before the shapes, the submission's own triples are held to the boundary (coopdec_kg.law.boundary):
a submission that describes an existing resource, states a printed figure or the law, or points
at the project's resources through a property the shapes do not check, is refused with one
violation per triple, and the shapes are not applied.

The report keeps the results about the submission's nodes (focus node or value described by
the submission) and every result the submission causes on existing data (absent from the same
validation of the data alone), so that the data's own warnings do not drown the user's.
Messages, rule names and labels come in French and English from the shapes and the graph;
pySHACL's own report loses the language of SPARQL-based messages, so they are read from the
shapes graph instead.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS, XSD
from rdflib.term import Node

from coopdec_kg.content.graph import (
    DEFAULT_MAX_BYTES,
    FORMAT_NAMES,
    Submission,
    Triple,
    load_graph_with,
    new_graph,
    ntriples_term,
    parse_submission,
    parse_turtle,
)
from coopdec_kg.content.namespaces import CDR, prefixes
from coopdec_kg.content.project import Project
from coopdec_kg.errors import ContentError
from coopdec_kg.law.boundary import EXISTING, Boundary, Crossing

if TYPE_CHECKING:
    import pyoxigraph

    from coopdec_kg.engines.results import QueryResult
    from coopdec_kg.law.shacl_sparql import CompiledShapes, Result

LANGUAGES = ("fr", "en")
LEGAL_TEXT = prefixes()["legal-text"]
SEVERITIES = (SH.Violation, SH.Warning, SH.Info)
# What --severity names: show results of this severity and the graver ones.
SEVERITY_LEVELS = {"violation": SH.Violation, "warning": SH.Warning, "info": SH.Info}
LABEL_PREDICATES = (SKOS.prefLabel, RDFS.label, DCTERMS.title)
FORMAT_IRIS = {
    "turtle": URIRef("http://www.w3.org/ns/formats/Turtle"),
    "nt": URIRef("http://www.w3.org/ns/formats/N-Triples"),
    "jsonld": URIRef("http://www.w3.org/ns/formats/JSON-LD"),
    "xml": URIRef("http://www.w3.org/ns/formats/RDF_XML"),
    # Spreadsheets: the EU Publications Office file-type table, as DCAT-AP names formats.
    "csv": URIRef("http://publications.europa.eu/resource/authority/file-type/CSV"),
    "xlsx": URIRef("http://publications.europa.eu/resource/authority/file-type/XLSX"),
    "ods": URIRef("http://publications.europa.eu/resource/authority/file-type/ODS"),
}

# Words of the reports, in each language; the law's own words are in ontology/shapes.ttl.
_TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "Violation": "VIOLATION",
        "Warning": "AVERTISSEMENT",
        "Info": "INFORMATION",
        "violation": "violation",
        "violations": "violations",
        "warning": "avertissement",
        "warnings": "avertissements",
        "info": "information",
        "infos": "informations",
        "header": "Validation de {n} fichier(s) :",
        "header-content": "Validation du contenu existant (données et fichiers supplémentaires) :",
        "file": "{name} ({format}, {triples} triplets)",
        "ignored": (
            "Note : {n} triplet(s) de {name} ignoré(s) — formes SHACL, owl:imports ou "
            "déclarations de vocabulaire : seules les formes et l'ontologie du projet s'appliquent."
        ),
        "normalised": "Note : {n} littéral(aux) de {name} mis en forme Unicode NFC.",
        "hidden": (
            "Note : {n} résultat(s) sur les ressources existantes que cite la soumission "
            "existai(en)t déjà avant elle et ne sont pas affichés : coopdec-kg validate --all "
            "montre les résultats du contenu existant."
        ),
        "below": (
            "Note : {n} résultat(s) moins graves que « {severity} » ne sont pas affichés "
            "(sans --severity, tous le sont)."
        ),
        "boundary": (
            "Note : {n} triplet(s) franchissent la frontière des soumissions ; les formes (le "
            "droit) n'ont pas été appliquées. Corrigez d'abord ces triplets."
        ),
        "property": "propriété",
        "value": "valeur",
        "rule": "règle",
        "text": "texte",
        "defined": "défini par",
        "files": "fichier",
        "none": "Aucun résultat.",
        "summary": "Bilan : {counts}.",
        "summary-submission": "Bilan : {counts} dus à la soumission ; {n} antérieur(s).",
        "conforms": "Conforme : aucune violation.",
        "conforms_warnings": (
            "Conforme : aucune violation ; les avertissements signalent des points à vérifier, "
            "ils n'empêchent pas l'ajout."
        ),
        "fails": "Non conforme : corrigez les violations avant d'ajouter ces données.",
        "record": "Soumission « {name} »",
    },
    "en": {
        "Violation": "VIOLATION",
        "Warning": "WARNING",
        "Info": "INFO",
        "violation": "violation",
        "violations": "violations",
        "warning": "warning",
        "warnings": "warnings",
        "info": "info",
        "infos": "infos",
        "header": "Validation of {n} file(s):",
        "header-content": "Validation of the existing content (data and extra files):",
        "file": "{name} ({format}, {triples} triples)",
        "ignored": (
            "Note: {n} triple(s) of {name} ignored — SHACL shapes, owl:imports or vocabulary "
            "statements: only the project's shapes and ontology apply."
        ),
        "normalised": "Note: {n} literal(s) of {name} normalised to Unicode NFC.",
        "hidden": (
            "Note: {n} result(s) about existing resources the submission mentions existed "
            "before it and are not shown: coopdec-kg validate --all shows the existing "
            "content's results."
        ),
        "below": (
            "Note: {n} result(s) less severe than “{severity}” are not shown (without "
            "--severity, all are)."
        ),
        "boundary": (
            "Note: {n} triple(s) cross the submission boundary; the shapes (the law) were not "
            "applied. Fix these triples first."
        ),
        "property": "property",
        "value": "value",
        "rule": "rule",
        "text": "text",
        "defined": "defined by",
        "files": "file",
        "none": "No results.",
        "summary": "Summary: {counts}.",
        "summary-submission": "Summary: {counts} due to the submission; {n} older.",
        "conforms": "Conforms: no violation.",
        "conforms_warnings": (
            "Conforms: no violation; warnings point at things to check, they do not prevent "
            "adding the data."
        ),
        "fails": "Does not conform: fix the violations before adding this data.",
        "record": "Submission “{name}”",
    },
}

Key = tuple[Node | None, Node | None, Node | None, Node | None, Node | None]
# What a validation reads: the triples of each submission as stored (a list or a graph).
Stored = Sequence[Iterable[tuple[Node, Node, Node]]]


def _words(lang: str) -> dict[str, str]:
    return _TEXT[lang if lang in _TEXT else "fr"]


# ---------------------------------------------------------------- labels


class Labels:
    """Names of nodes for people: labels in the chosen language, else a compact IRI."""

    def __init__(self, graphs: Sequence[Graph]) -> None:
        self._graphs = graphs
        self._namespaces = sorted(prefixes().items(), key=lambda item: -len(item[1]))
        self._texts: dict[Node, dict[str, str]] = {}

    def texts(self, node: Node) -> dict[str, str]:
        """Language → label; "" is an untagged label."""
        found = self._texts.get(node)
        if found is None:
            found = {}
            for predicate in LABEL_PREDICATES:
                for graph in self._graphs:
                    for label in graph.objects(node, predicate):
                        if isinstance(label, Literal):
                            found.setdefault(label.language or "", str(label))
            self._texts[node] = found
        return found

    def label(self, node: Node, lang: str) -> str | None:
        texts = self.texts(node)
        for candidate in (lang, "", *LANGUAGES):
            if candidate in texts:
                return texts[candidate]
        return None

    def compact(self, node: Node) -> str:
        """prefix:local for IRIs in a project namespace (for reading, not for parsing)."""
        if isinstance(node, Literal):
            return node.n3()
        if isinstance(node, BNode):
            return self._path(node)
        text = str(node)
        for prefix, namespace in self._namespaces:
            if text.startswith(namespace) and len(text) > len(namespace):
                return f"{prefix}:{text[len(namespace) :]}"
        return f"<{text}>"

    def show(self, node: Node, lang: str) -> str:
        """« label » (prefix:local), or just the compact form when there is no label."""
        if isinstance(node, Literal):
            if node.datatype is None:
                return _quoted(str(node), lang)
            return f"{node} ({self.compact(node.datatype)})"
        label = self.label(node, lang)
        compact = self.compact(node)
        return f"{_quoted(label, lang)} ({compact})" if label else compact

    def _path(self, node: BNode) -> str:
        """A SHACL path given as a blank node: alternative paths, shown as a | b | c."""
        for graph in self._graphs:
            head = graph.value(node, SH.alternativePath)
            if head is not None:
                members = list(Collection(graph, head))
                return " | ".join(self.compact(member) for member in members)
        return "_:" + str(node)


def _quoted(text: str, lang: str) -> str:
    return f"« {text} »" if lang == "fr" else f"“{text}”"


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Finding:
    """One validation result, with everything a person needs to read it."""

    focus: Node
    severity: URIRef
    shape: Node
    component: Node | None
    path: Node | None
    value: Node | None
    messages: Mapping[str, str]
    shape_names: Mapping[str, str]
    rules: tuple[URIRef, ...]
    texts: tuple[URIRef, ...]
    files: tuple[str, ...]

    @property
    def severity_name(self) -> str:
        return str(self.severity).rsplit("#", 1)[-1]

    def message(self, lang: str) -> str:
        return _pick(self.messages, lang)

    def shape_name(self, lang: str) -> str:
        return _pick(self.shape_names, lang)


def _pick(texts: Mapping[str, str], lang: str) -> str:
    for candidate in (lang, "", *LANGUAGES):
        if candidate in texts:
            return texts[candidate]
    return ""


@dataclass
class ValidationReport:
    """The results that concern the submissions, and how to show them."""

    submissions: Sequence[Submission]
    findings: list[Finding]
    hidden: int
    labels: Labels
    triples: Mapping[str, int] = field(default_factory=dict)
    crossings: int = 0  # triples refused at the boundary (then the shapes were not applied)

    @property
    def conforms(self) -> bool:
        """No violation (warnings and infos are allowed)."""
        return not any(f.severity == SH.Violation for f in self.findings)

    def counts(self) -> dict[str, int]:
        return {
            name: sum(1 for f in self.findings if f.severity_name == name)
            for name in ("Violation", "Warning", "Info")
        }

    def shown(self, severity: str = "info") -> list[Finding]:
        """The findings of this severity (violation, warning, info) or graver."""
        worst = SEVERITIES.index(SEVERITY_LEVELS[severity])
        return [f for f in self.findings if SEVERITIES.index(f.severity) <= worst]

    def by_focus(self, severity: str = "info") -> list[tuple[Node, list[Finding]]]:
        """Findings grouped by focus node: nodes with violations first, then by label."""
        groups: dict[Node, list[Finding]] = {}
        for finding in self.shown(severity):
            groups.setdefault(finding.focus, []).append(finding)
        for findings in groups.values():
            findings.sort(key=lambda f: (SEVERITIES.index(f.severity), str(f.shape), str(f.value)))

        def order(item: tuple[Node, list[Finding]]) -> tuple[int, str]:
            node, findings = item
            worst = min(SEVERITIES.index(f.severity) for f in findings)
            return worst, (self.labels.label(node, "fr") or "") + str(node)

        return sorted(groups.items(), key=order)

    # ------------------------------------------------------------ renderings

    def to_text(self, lang: str = "fr", severity: str = "info") -> str:
        """A report for people: the counts first, then the results of `severity` or graver
        grouped by focus node, with labels, in one language; the verdict last."""
        words = _words(lang)
        header = words["header"] if self.submissions else words["header-content"]
        lines = [self.summary(lang), header.format(n=len(self.submissions))]
        for submission in self.submissions:
            name = submission.path.name
            triples = self.triples.get(submission.identifier, len(submission.graph))
            fmt = FORMAT_NAMES[submission.input_format]
            lines.append("  " + words["file"].format(name=name, format=fmt, triples=triples))
        lines.extend(self.notes(lang, severity))
        lines.append("")
        if not self.findings:
            lines.append(words["none"])
        for node, findings in self.by_focus(severity):
            heading = self.labels.show(node, lang)
            files = sorted({name for f in findings for name in f.files})
            if files:
                heading += f"  [{', '.join(files)}]"
            lines.append(heading)
            for finding in findings:
                lines.extend("  " + line for line in self._finding_lines(finding, lang))
            lines.append("")
        if not self.conforms:
            lines.append(words["fails"])
        elif self.findings:
            lines.append(words["conforms_warnings"])
        else:
            lines.append(words["conforms"])
        return "\n".join(lines) + "\n"

    def summary(self, lang: str) -> str:
        """One line: how many violations, warnings and infos; for a submission, those it
        caused and those that existed before it (not shown)."""
        words = _words(lang)
        if not self.submissions:
            return words["summary"].format(counts=self._counts_text(lang))
        return words["summary-submission"].format(counts=self._counts_text(lang), n=self.hidden)

    def notes(self, lang: str, severity: str = "info") -> list[str]:
        words = _words(lang)
        notes = []
        for submission in self.submissions:
            name = submission.path.name
            if submission.ignored_triples:
                notes.append(words["ignored"].format(n=submission.ignored_triples, name=name))
            if submission.normalised_literals:
                notes.append(
                    words["normalised"].format(n=submission.normalised_literals, name=name)
                )
        if self.hidden:
            notes.append(words["hidden"].format(n=self.hidden))
        below = len(self.findings) - len(self.shown(severity))
        if below:
            notes.append(words["below"].format(n=below, severity=words[severity]))
        if self.crossings:
            notes.append(words["boundary"].format(n=self.crossings))
        return notes

    def _finding_lines(self, finding: Finding, lang: str) -> list[str]:
        words = _words(lang)
        lines = [f"{words[finding.severity_name]} — {finding.shape_name(lang)}"]
        lines.append("  " + finding.message(lang))
        where = []
        if finding.path is not None:
            where.append(f"{words['property']} : " if lang == "fr" else f"{words['property']}: ")
            where[-1] += self.labels.show(finding.path, lang)
        if finding.value is not None:
            sep = " : " if lang == "fr" else ": "
            where.append(words["value"] + sep + self.labels.show(finding.value, lang))
        if where:
            lines.append("  " + " · ".join(where))
        law = []
        sep = " : " if lang == "fr" else ": "
        if finding.rules:
            law.append(
                words["rule"] + sep + ", ".join(self.labels.show(r, lang) for r in finding.rules)
            )
        if finding.texts:
            legal = all(str(t).startswith(LEGAL_TEXT) for t in finding.texts)
            law.append(
                words["text" if legal else "defined"]
                + sep
                + ", ".join(self.labels.show(t, lang) for t in finding.texts)
            )
        if law:
            lines.append("  " + " · ".join(law))
        return lines

    def _counts_text(self, lang: str) -> str:
        words = _words(lang)
        parts = []
        for name, key in (("Violation", "violation"), ("Warning", "warning"), ("Info", "info")):
            count = self.counts()[name]
            parts.append(f"{count} {words[key if count <= 1 else key + 's']}")
        return ", ".join(parts)

    def to_json(self, lang: str = "fr", severity: str = "info") -> str:
        """The same report for programs (messages and labels in the chosen language)."""
        labels = self.labels

        def term(node: Node | None) -> str | None:
            if node is None:
                return None
            return str(node) if not isinstance(node, BNode) else labels.compact(node)

        def named(nodes: Iterable[URIRef]) -> list[dict[str, str | None]]:
            return [{"iri": str(n), "label": labels.label(n, lang)} for n in nodes]

        document = {
            "conforms": self.conforms,
            "lang": lang,
            "files": [
                {
                    "path": str(s.path),
                    "format": s.input_format,
                    "sha256": s.digest,
                    "submission": str(s.iri),
                    "triples": self.triples.get(s.identifier, len(s.graph)),
                    "ignoredTriples": s.ignored_triples,
                    "normalisedLiterals": s.normalised_literals,
                }
                for s in self.submissions
            ],
            "counts": self.counts(),
            "hiddenExistingResults": self.hidden,
            "boundaryCrossings": self.crossings,
            "summary": self.summary(lang),
            "notes": self.notes(lang, severity),
            "results": [
                {
                    "focusNode": term(f.focus),
                    "focusLabel": labels.label(f.focus, lang),
                    "severity": f.severity_name,
                    "sourceShape": term(f.shape),
                    "shapeLabel": f.shape_name(lang),
                    "sourceConstraintComponent": term(f.component),
                    "resultPath": term(f.path),
                    "pathLabel": labels.label(f.path, lang) if f.path is not None else None,
                    "value": term(f.value),
                    "valueLabel": (
                        labels.label(f.value, lang)
                        if f.value is not None and not isinstance(f.value, Literal)
                        else None
                    ),
                    "message": f.message(lang),
                    "rules": named(f.rules),
                    "definedBy": named(f.texts),
                    "files": list(f.files),
                }
                for _, findings in self.by_focus(severity)
                for f in findings
            ],
        }
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"

    def to_turtle(self, severity: str = "info") -> str:
        """A W3C SHACL validation report of the findings shown, with messages in fr and en."""
        report = new_graph()
        report.bind("sh", SH)
        root = BNode()
        report.add((root, RDF.type, SH.ValidationReport))
        report.add((root, SH.conforms, Literal(self.conforms)))
        for _, findings in self.by_focus(severity):
            for f in findings:
                result = BNode()
                report.add((root, SH.result, result))
                report.add((result, RDF.type, SH.ValidationResult))
                report.add((result, SH.focusNode, f.focus))
                report.add((result, SH.resultSeverity, f.severity))
                report.add((result, SH.sourceShape, f.shape))
                if f.component is not None:
                    report.add((result, SH.sourceConstraintComponent, f.component))
                if f.path is not None:
                    report.add((result, SH.resultPath, f.path))
                if f.value is not None:
                    report.add((result, SH.value, f.value))
                for lang, text in sorted(f.messages.items()):
                    report.add((result, SH.resultMessage, Literal(text, lang=lang or None)))
        return report.serialize(format="turtle")


# ---------------------------------------------------------------- the validator


@dataclass(frozen=True)
class _Context:
    """What every validation against one content folder shares (parsed once per process)."""

    shapes: Graph
    base: Graph
    boundary: Boundary

    @cached_property
    def baseline(self) -> frozenset[Key]:
        """The results of the data alone: computed (seconds) only when a submission's
        validation has a result about existing data, to tell whether it caused it."""
        return frozenset(_key(r, g) for r, g in _results(_run(self.base, self.shapes)))


_CONTEXTS: dict[str, _Context] = {}


@dataclass(frozen=True)
class _TargetedContext:
    """What targeted validations share: shapes, the ontology, and the nodes the shapes name."""

    shapes: Graph
    ontology: Graph
    hierarchy: Graph
    classes: frozenset[URIRef]
    shape_nodes: frozenset[Node]
    boundary: Boundary

    @cached_property
    def plan(self) -> CompiledShapes:
        """The shapes compiled to SPARQL (0.6 s: only when the shapes are run)."""
        from coopdec_kg.law.shacl_sparql import compile_shapes

        return compile_shapes(self.shapes)


def _compiled_results(
    plan: CompiledShapes, triples: Sequence[tuple[Node, Node, Node]]
) -> list[Result]:
    """The compiled shapes' results on these triples, loaded into an in-memory store.

    The triples go in as N-Triples text, which the plan also reads for the literals as written
    ("8000.00"^^xsd:decimal, which the store keeps as 8000.0), as pySHACL sees them.
    """
    import pyoxigraph

    written: dict[Node, str] = {}

    def term(node: Node) -> str:
        found = written.get(node)
        if found is None:
            found = written[node] = ntriples_term(node)
        return found

    text = "".join(f"{term(s)} {term(p)} {term(o)} .\n" for s, p, o in triples).encode("utf-8")
    store = pyoxigraph.Store()
    try:
        store.load(text, format=pyoxigraph.RdfFormat.N_TRIPLES)
    except SyntaxError as error:  # pragma: no cover - every term was checked when it was read
        raise ContentError(f"the triples to validate do not load: {error}") from error
    with tempfile.TemporaryDirectory(prefix="coopdec-validation-") as folder:
        source = Path(folder) / "validated.nt"
        source.write_bytes(text)
        return plan.run(store, [source], None, workers=1)


def _result_key(result: Result) -> Key:
    return (result.focus, result.shape, result.component, result.path, result.value)


def _targeted_context(project: Project) -> _TargetedContext:
    if not project.shapes_file.is_file():
        raise ContentError(f"{project.shapes_file}: no shapes file")
    shapes = parse_turtle(project.shapes_file)
    ontology = parse_turtle(project.ontology_file)
    classes = frozenset(_iris(ontology.subjects(RDF.type, OWL.Class)))
    # The project's resources the rules read (target nodes, thresholds named in SPARQL).
    named = set(_iris(shapes.objects(None, SH.targetNode)))
    for text in shapes.objects(None, SH.select):
        named |= {URIRef(iri) for iri in _PROJECT_IRI.findall(_expand_prefixed(str(text)))}
    # What the rules read of the ontology: the class and property hierarchy and declarations.
    hierarchy = Graph()
    for predicate in (RDFS.subClassOf, RDFS.subPropertyOf, RDF.type):
        for triple in ontology.triples((None, predicate, None)):
            hierarchy.add(triple)
    return _TargetedContext(
        shapes, ontology, hierarchy, classes, frozenset(named), Boundary.of(shapes, ontology)
    )


def _annotation_labels(shapes: Graph, store: pyoxigraph.Store) -> Graph:
    """Labels of the legal rules and texts the shapes cite, for the report's wording only."""
    from coopdec_kg.engines.store import labels_of

    cited = {
        o
        for predicate in (RDFS.isDefinedBy, DCTERMS.source)
        for o in shapes.objects(None, predicate)
        if isinstance(o, URIRef) and o.startswith(str(CDR))
    }
    graph = Graph()
    for triple in labels_of(store, sorted(cited), LABEL_PREDICATES):
        graph.add(triple)  # type: ignore[arg-type]
    return graph


_PROJECT_IRI = re.compile(r"<(https://w3id\.org/coopdec-kg/id/[^>\s]+)>")
_PREFIXED = re.compile(r"\b([a-z][a-z-]*):([A-Za-z0-9][A-Za-z0-9_-]*)")


def _expand_prefixed(query: str) -> str:
    """SPARQL text with the project's prefixed names written as full IRIs."""
    table = prefixes()

    def expand(match: re.Match[str]) -> str:
        namespace = table.get(match[1])
        return f"<{namespace}{match[2]}>" if namespace else match[0]

    return _PREFIXED.sub(expand, query)


def _copy(graph: Graph) -> Graph:
    copy = Graph()
    copy += graph
    return copy


def _content_digest(project: Project, extra: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in (project.shapes_file, project.ontology_file, *project.data_files, *extra):
        digest.update(str(path).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _context(project: Project) -> _Context:
    if not project.shapes_file.is_file():
        raise ContentError(f"{project.shapes_file}: no shapes file")
    from coopdec_kg.engines.store import extra_files

    extra = extra_files(project)
    key = _content_digest(project, extra)
    found = _CONTEXTS.get(key)
    if found is None:
        shapes = parse_turtle(project.shapes_file)
        base = load_graph_with(project, extra)
        found = _CONTEXTS[key] = _Context(shapes, base, Boundary.of(shapes, base))
        while len(_CONTEXTS) > 4:
            _CONTEXTS.pop(next(iter(_CONTEXTS)))
    return found


# SPARQL texts already parsed, by (text, namespaces, base): see _PreparingGraph.
_PREPARED: dict[tuple[str, frozenset[tuple[str, Any]], str | None], Any] = {}


class _PreparingGraph(Graph):
    """A view of a graph (the same store) that parses each SPARQL text once.

    pySHACL hands rdflib the text of a SPARQL constraint again for each focus node; parsing it
    took about half the time of validating a small submission. A prepared query is rdflib's own
    way to run one text many times, with other bindings.
    """

    def query(
        self,
        query_object: Any,
        processor: Any = "sparql",
        result: Any = "sparql",
        initNs: Mapping[str, Any] | None = None,
        initBindings: Mapping[str, Any] | None = None,
        use_store_provided: bool = True,
        **kwargs: Any,
    ) -> Any:
        if isinstance(query_object, str):
            from rdflib.plugins.sparql import prepareQuery

            namespaces = dict(initNs or self.namespaces())
            base = kwargs.get("base")
            key = (query_object, frozenset(namespaces.items()), base)
            prepared = _PREPARED.get(key)
            if prepared is None:
                if len(_PREPARED) >= 512:  # a bound, for long-lived processes
                    _PREPARED.clear()
                prepared = _PREPARED[key] = prepareQuery(query_object, namespaces, base)
            query_object = prepared
        return super().query(
            query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs
        )


def _run(data: Graph, shapes: Graph) -> Graph:
    """pySHACL with the project's shapes only, no inference, no imports, no remote access."""
    from pyshacl import validate

    view = _PreparingGraph(
        store=data.store, identifier=data.identifier, namespace_manager=data.namespace_manager
    )
    _, report, _ = validate(
        view,
        shacl_graph=shapes,
        ont_graph=None,
        inference="none",
        advanced=True,
        abort_on_first=False,
        allow_infos=True,
        allow_warnings=True,
        meta_shacl=False,
        do_owl_imports=False,
        js=False,
        inplace=True,
    )
    if not isinstance(report, Graph):  # pySHACL returns its error instead of raising it
        raise ContentError(f"the shapes cannot be applied: {report}")
    return report


def _results(report: Graph) -> Iterable[tuple[Node, Graph]]:
    """The report's results (not the nested sh:detail results of sh:node and the like)."""
    for root in report.subjects(RDF.type, SH.ValidationReport):
        for result in report.objects(root, SH.result):
            yield result, report


def _key(result: Node, report: Graph) -> Key:
    return (
        report.value(result, SH.focusNode),
        report.value(result, SH.sourceShape),
        report.value(result, SH.sourceConstraintComponent),
        report.value(result, SH.resultPath),
        report.value(result, SH.value),
    )


def submission_record(submission: Submission, created: datetime) -> Graph:
    """The submission record: where the new nodes come from (file name, hash, time, format)."""
    record = new_graph()
    name = submission.path.name
    iri = submission.iri
    record.add((iri, RDF.type, PROV.Entity))
    for lang in LANGUAGES:
        record.add(
            (iri, SKOS.prefLabel, Literal(_TEXT[lang]["record"].format(name=name), lang=lang))
        )
    record.add((iri, DCTERMS.title, Literal(name)))
    record.add((iri, DCTERMS.identifier, Literal(f"sha256:{submission.digest}")))
    record.add((iri, DCTERMS.format, FORMAT_IRIS[submission.input_format]))
    stamp = created.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    record.add((iri, DCTERMS.created, Literal(stamp, datatype=XSD.dateTime)))
    return record


def stored_triples(submission: Submission, created: datetime) -> list[Triple]:
    """The submission's triples, its record, and prov:wasDerivedFrom on each of its subjects
    (all of them its own resources, once it keeps within the boundary): what `add` writes,
    each triple once."""
    subjects = dict.fromkeys(subject for subject, _, _ in submission.triples)
    provenance = [(subject, PROV.wasDerivedFrom, submission.iri) for subject in subjects]
    record: list[Triple] = list(submission_record(submission, created))  # type: ignore[arg-type]
    return list(dict.fromkeys([*submission.triples, *record, *provenance]))


class Validator:
    """Validates submissions against one content folder (ontology, data, shapes).

    `targeted=False` (the reference) validates the submissions merged with the whole graph,
    with pySHACL.
    `targeted=True` validates them with only the neighbourhood the shapes need, read from the
    persistent store (data and extra files such as a national atlas), or from `store` when
    given (`serve` passes the graph it holds in memory): the ontology, the nodes
    the submissions describe or mention, what points at the described nodes, a few hops of
    their descriptions, and the resources the shapes name. The shapes' rules are local to those
    hops, so the verdict and the results are the same, at a cost that does not grow with the
    graph (tests/test_targeted_validation.py checks the equivalence on planted violations).
    The shapes run compiled to SPARQL (coopdec_kg.law.shacl_sparql) on an in-memory store of those
    triples: pySHACL checks node by node, about 4 ms a triple (54 s for 48 000), where the
    compiled checks see every node at once, so the cost stays linear and small.
    """

    def __init__(
        self, project: Project, targeted: bool = False, store: pyoxigraph.Store | None = None
    ) -> None:
        self.project = project
        self.targeted = targeted
        self._opened: pyoxigraph.Store | None = store  # else the persistent store, when needed
        self.context = _targeted_context(project) if targeted else _context(project)

    def prepare(self) -> None:
        """Read and compile the law now rather than at the first validation (`serve` does it
        once, before it forks the workers that validate uploads)."""
        if isinstance(self.context, _TargetedContext):
            _ = self.context.plan

    def existing_findings(self) -> list[Finding]:
        """The results of the existing data alone (what CI checks: no violation there), with
        the reference engine (validate_content runs the same on the store)."""
        context = self.context
        if not isinstance(context, _Context):
            raise TypeError("the existing data is validated by the reference engine")
        report = _run(_copy(context.base), context.shapes)
        return [_finding(context.shapes, graph, result, {}) for result, graph in _results(report)]

    def stored(self, submissions: Sequence[Submission], created: datetime) -> list[list[Triple]]:
        """What `add` would store for each submission (triples, record, provenance)."""
        return [stored_triples(s, created) for s in submissions]

    def validate(
        self, submissions: Sequence[Submission], created: datetime | None = None
    ) -> ValidationReport:
        """Hold the submissions to the boundary, then, if they keep within it, validate them
        together against the shapes, merged with the ontology and the data."""
        crossed = self.check_boundary(submissions)
        if not crossed.conforms:
            return crossed
        stored = [stored_triples(s, _now(created)) for s in submissions]
        return self.validate_graphs(submissions, stored)

    def check_boundary(self, submissions: Sequence[Submission]) -> ValidationReport:
        """The triples that cross the submission boundary, one violation each (none: conforms)."""
        context = self.context
        findings = []
        for submission in submissions:
            for crossing in context.boundary.crossings(submission):
                findings.append(_crossing_finding(context.shapes, crossing, submission))
        if not findings:
            findings = self._unknown_resources(submissions)
        known = context.ontology if isinstance(context, _TargetedContext) else context.base
        label_graphs = [context.shapes, known]
        triples = {s.identifier: len(s.triples) for s in submissions}
        return ValidationReport(
            submissions, findings, 0, Labels(label_graphs), triples, crossings=len(findings)
        )

    def _unknown_resources(self, submissions: Sequence[Submission]) -> list[Finding]:
        """A violation for each project IRI (cdr:…) a submission points at that is in no triple
        of the graph nor of the batch — a typo, which the shapes would blame on the resource
        that points at it — with the closest existing resources as suggestions."""
        from coopdec_kg.engines.results import shorten
        from coopdec_kg.engines.search import suggest, unknown_resources

        batch = {s for submission in submissions for s, _, _ in submission.triples}
        pointed = {
            o: (s, p, submission)
            for submission in submissions
            for s, p, o in submission.triples
            if isinstance(o, URIRef)
            and o.startswith(str(CDR))
            and not o.startswith(str(submission.iri))  # its own: the shapes judge them
            and o not in batch
        }
        if not pointed:
            return []
        select = self._select()
        if isinstance(self.context, _TargetedContext):
            missing = unknown_resources(select, pointed)
        else:  # the graph in memory: no query to parse
            base = self.context.base
            missing = [
                iri
                for iri in pointed
                if (iri, None, None) not in base
                and (None, None, iri) not in base
                and (None, iri, None) not in base
            ]
        findings = []
        said = _shape_words(self.context.shapes, EXISTING)
        for iri in missing:
            subject, predicate, submission = pointed[iri]
            meant = ", ".join(
                f"{shorten(str(found.entity))} ({found.name})" for found in suggest(select, iri)
            )
            hint = {"fr": f" Vouliez-vous dire {meant} ?", "en": f" Did you mean {meant}?"}
            findings.append(
                Finding(
                    focus=subject,
                    severity=SH.Violation,
                    shape=said.shape,
                    component=None,
                    path=predicate,
                    value=iri,
                    messages={
                        lang: text + (hint.get(lang, "") if meant else "")
                        for lang, text in said.messages.items()
                    },
                    shape_names=said.names,
                    rules=said.rules,
                    texts=said.texts,
                    files=(submission.path.name,),
                )
            )
        return findings

    def _select(self) -> Callable[[str], QueryResult]:
        """SELECT queries on the graph the submissions are validated against."""
        from coopdec_kg.engines.engine import OnGraph, OnStore

        if isinstance(self.context, _TargetedContext):
            return OnStore(self._store()).select
        return OnGraph(self.context.base).select

    def validate_graphs(
        self, submissions: Sequence[Submission], stored: Stored
    ) -> ValidationReport:
        """Validate what `stored_triples` or `stored` gave (so `add` validates what it
        writes), with the shapes only."""
        described: dict[Node, list[str]] = {}
        for submission, triples in zip(submissions, stored, strict=True):
            for subject in dict.fromkeys(subject for subject, _, _ in triples):
                described.setdefault(subject, []).append(submission.path.name)
        mentioned = {*described, *(o for triples in stored for _, _, o in triples)}
        if isinstance(self.context, _TargetedContext):
            return self._on_store(self.context, submissions, stored, described, mentioned)
        context = self.context
        merged = _copy(context.base)
        for triples in stored:
            for triple in triples:
                merged.add(triple)
        report = _run(merged, context.shapes)
        labels = Labels([merged, context.shapes])
        results = [(result, graph, _key(result, graph)) for result, graph in _results(report)]
        findings: list[Finding] = []
        hidden = 0
        for result, graph, key in results:
            new = key[0] in described and (key[0], None, None) not in context.base
            if new or key not in context.baseline:  # the baseline only when needed (seconds)
                findings.append(_finding(context.shapes, graph, result, described))
            elif key[0] in mentioned or key[4] in mentioned:
                hidden += 1
        counts = {s.identifier: len(s.triples) for s in submissions}
        return ValidationReport(submissions, findings, hidden, labels, counts)

    def _on_store(
        self,
        context: _TargetedContext,
        submissions: Sequence[Submission],
        stored: Stored,
        described: Mapping[Node, list[str]],
        mentioned: set[Node],
    ) -> ValidationReport:
        """The compiled shapes on the submissions and their neighbourhood in the store."""
        submitted = [triple for triples in stored for triple in triples]
        base = self._base(submitted, described)
        results = _compiled_results(context.plan, [*base, *submitted])
        existing = {subject for subject, _, _ in base}
        new = {node for node in described if node not in existing}
        baseline: frozenset[Key] = frozenset()
        if any(r.focus not in new for r in results):  # run only when needed
            baseline = frozenset(_result_key(r) for r in _compiled_results(context.plan, base))
        words: dict[Node, _ShapeWords] = {}
        findings: list[Finding] = []
        hidden = 0
        for result in results:
            if result.focus not in new and _result_key(result) in baseline:
                hidden += result.focus in mentioned or result.value in mentioned
                continue
            if result.shape not in words:
                words[result.shape] = _shape_words(context.shapes, result.shape)
            files = tuple(sorted(set(described.get(result.focus, ()))))
            findings.append(words[result.shape].finding(result, files))
        shown = {n for f in findings for n in (f.focus, f.path, f.value) if n is not None}
        labels = new_graph()
        for triple in (*base, *submitted):
            if triple[0] in shown and triple[1] in LABEL_PREDICATES:
                labels.add(triple)
        annotations = _annotation_labels(context.shapes, self._store()) if findings else Graph()
        label_graphs = [labels, context.shapes, context.ontology, annotations]
        counts = {s.identifier: len(s.triples) for s in submissions}
        return ValidationReport(submissions, findings, hidden, Labels(label_graphs), counts)

    def _store(self) -> pyoxigraph.Store:
        if self._opened is None:
            from coopdec_kg.engines.store import open_current

            self._opened, _ = open_current(self.project)
        return self._opened

    def _base(
        self, submitted: Sequence[tuple[Node, Node, Node]], described: Iterable[Node]
    ) -> list[tuple[Node, Node, Node]]:
        """The class hierarchy and the neighbourhood of the submitted triples, from the store."""
        from coopdec_kg.engines.store import neighbourhood

        context = self.context
        if not isinstance(context, _TargetedContext):
            raise TypeError("a neighbourhood is only built for targeted validation")
        subjects = set(described)
        mentioned = {value for _, _, value in submitted} | context.shape_nodes
        found = neighbourhood(
            self._store(), _iris(subjects), _iris(mentioned - subjects), skip=context.classes
        )
        return [*context.hierarchy, *found]


def _crossing_finding(shapes: Graph, crossing: Crossing, submission: Submission) -> Finding:
    """A boundary crossing as a violation of its rule: the triple is focus, path and value."""
    said = _shape_words(shapes, crossing.rule)
    return Finding(
        focus=crossing.subject,
        severity=SH.Violation,
        shape=said.shape,
        component=None,
        path=crossing.predicate,
        value=crossing.object,
        messages=said.messages,
        shape_names=said.names,
        rules=said.rules,
        texts=said.texts,
        files=(submission.path.name,),
    )


def _finding(
    shapes: Graph, report: Graph, result: Node, described: Mapping[Node, list[str]]
) -> Finding:
    """One result of pySHACL's report, with the messages and names read from the shapes."""
    focus = _required(report, result, SH.focusNode)
    words = _shape_words(shapes, _required(report, result, SH.sourceShape))
    messages = words.messages or {
        "": " ".join(str(m) for m in report.objects(result, SH.resultMessage))
    }
    severity = report.value(result, SH.resultSeverity)
    return Finding(
        focus=focus,
        severity=severity if isinstance(severity, URIRef) else SH.Violation,
        shape=words.shape,
        component=report.value(result, SH.sourceConstraintComponent),
        path=report.value(result, SH.resultPath),
        value=report.value(result, SH.value),
        messages=messages,
        shape_names=words.names,
        rules=words.rules,
        texts=words.texts,
        files=tuple(sorted(set(described.get(focus, ())))),
    )


@dataclass(frozen=True)
class _ShapeWords:
    """What the shapes say about the shape a result comes from (the same for all its results)."""

    shape: Node
    messages: Mapping[str, str]
    names: Mapping[str, str]
    rules: tuple[URIRef, ...]
    texts: tuple[URIRef, ...]

    def finding(self, result: Result, files: tuple[str, ...]) -> Finding:
        """A compiled result in the shapes' words, with the files that describe its focus."""
        return Finding(
            focus=result.focus,
            severity=result.severity,
            shape=self.shape,
            component=result.component,
            path=result.path,
            value=result.value,
            messages=self.messages or self.names,
            shape_names=self.names,
            rules=self.rules,
            texts=self.texts,
            files=files,
        )


def _shape_words(shapes: Graph, source: Node) -> _ShapeWords:
    shape = _named_shape(shapes, source)
    return _ShapeWords(
        shape,
        _texts(shapes, source, SH.message) or _texts(shapes, shape, SH.message),
        _texts(shapes, shape, RDFS.label) or {"": str(shape)},
        tuple(sorted(_iris(shapes.objects(shape, DCTERMS.source)))),
        tuple(sorted(_iris(shapes.objects(shape, RDFS.isDefinedBy)))),
    )


def _required(report: Graph, result: Node, predicate: URIRef) -> Node:
    value = report.value(result, predicate)
    if value is None:  # pragma: no cover - pySHACL always gives focus node and source shape
        raise TypeError(f"validation result without {predicate}")
    return value


def _named_shape(shapes: Graph, shape: Node) -> Node:
    """The nearest shape with an IRI: the shape itself, or the node shape that holds it."""
    seen: set[Node] = set()
    current = shape
    while isinstance(current, BNode) and current not in seen:
        seen.add(current)
        parent = next(iter(shapes.subjects(SH.property, current)), None)
        if parent is None:
            break
        current = parent
    return current if isinstance(current, URIRef) else shape


def _texts(shapes: Graph, node: Node, predicate: URIRef) -> dict[str, str]:
    return {
        literal.language or "": str(literal)
        for literal in shapes.objects(node, predicate)
        if isinstance(literal, Literal)
    }


def _iris(nodes: Iterable[Node]) -> list[URIRef]:
    return [n for n in nodes if isinstance(n, URIRef)]


def _now(created: datetime | None) -> datetime:
    return created if created is not None else datetime.now(UTC)


def validate_files(
    project: Project,
    paths: Sequence[Path],
    input_format: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    created: datetime | None = None,
    targeted: bool = False,
) -> ValidationReport:
    """Parse each file safely, then validate them together against the content folder."""
    submissions = parse_all(paths, input_format, max_bytes)
    return Validator(project, targeted=targeted).validate(submissions, created)


def validate_content(project: Project) -> ValidationReport:
    """The existing content (ontology, data/ and the store's extra files), validated whole.

    The shapes run as SPARQL on the persistent store (coopdec_kg.law.shacl_sparql): the results
    pySHACL gives on the merged graph, in well under a minute at national scale.
    """
    if not project.shapes_file.is_file():
        raise ContentError(f"{project.shapes_file}: no shapes file")
    from coopdec_kg.engines.store import open_current, select
    from coopdec_kg.law.shacl_sparql import compile_shapes

    shapes = parse_turtle(project.shapes_file)
    plan = compile_shapes(shapes)
    store, info = open_current(project)
    words: dict[Node, _ShapeWords] = {}
    findings = []
    for result in plan.run(store, info.files, store_path=info.path):
        if result.shape not in words:
            words[result.shape] = _shape_words(shapes, result.shape)
        findings.append(words[result.shape].finding(result, files=()))
    # The labels of the nodes shown: one scan per label property (a VALUES block of thousands
    # of nodes is much slower on the store).
    shown = {n for f in findings for n in (f.focus, f.path, f.value) if isinstance(n, URIRef)}
    labels = _annotation_labels(shapes, store)
    for predicate in LABEL_PREDICATES if shown else ():
        for subject, label in select(store, f"SELECT ?s ?o WHERE {{ ?s <{predicate}> ?o }}")[1]:
            if subject in shown and label is not None:
                labels.add((subject, predicate, label))
    return ValidationReport([], findings, 0, Labels([labels, shapes]), {})


def parse_all(
    paths: Sequence[Path], input_format: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[Submission]:
    """Parse every file (all must be usable); the same file given twice counts once."""
    unique: dict[str, Submission] = {}
    for path in paths:
        submission = parse_submission(path, input_format, max_bytes)
        unique.setdefault(submission.identifier, submission)
    return list(unique.values())
