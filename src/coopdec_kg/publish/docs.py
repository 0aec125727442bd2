"""HTML documentation of the ontology and its SKOS schemes, one self-contained page per language.

Generic tools (pyLODE, Widoco) mix French and English on one page; here each page shows the
labels and definitions of its own language, falling back to another language (marked with a
`lang` attribute) only where a term has no text in it. Every text is HTML-escaped; the page has
no external resource, so it can be opened from disk or published as is.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS
from rdflib.term import Node

from coopdec_kg import __version__
from coopdec_kg.content.files import check_output, output_folder, write_atomic
from coopdec_kg.content.folding import fold
from coopdec_kg.content.graph import load_data, load_ontology, new_graph
from coopdec_kg.content.namespaces import CDO, compact_iri
from coopdec_kg.content.project import Project

LANGUAGES = ("fr", "en")
TEMPLATE = "docs.html"
LABELS = (SKOS.prefLabel, RDFS.label, DCTERMS.title)
DEFINITIONS = (SKOS.definition, RDFS.comment, DCTERMS.description)
MAX_EXPRESSION_DEPTH = 8
_FRAGMENT = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")  # usable as an HTML id as it is

UI: dict[str, dict[str, str]] = {
    "fr": {
        "language": "Français",
        "contents": "Sommaire",
        "classes": "Classes",
        "object": "Propriétés d'objet",
        "datatype": "Propriétés de données",
        "annotation": "Propriétés d'annotation",
        "schemes": "Schémas de concepts",
        "others": "Concepts hors schéma",
        "iri": "IRI",
        "version": "Version",
        "licence": "Licence",
        "subclass": "Sous-classe de",
        "equivalent": "Équivalente à",
        "defined": "classe définie",
        "domain": "Domaine",
        "range": "Co-domaine",
        "subproperty": "Sous-propriété de",
        "inverse": "Inverse de",
        "notation": "Notation",
        "broader": "Concept générique",
        "altlabels": "Autres libellés",
        "concepts": "concepts",
        "footer": "Page produite par coopdec-kg {version} (commande « coopdec-kg docs ») à partir "
        "de l'ontologie et des données du projet.",
    },
    "en": {
        "language": "English",
        "contents": "Contents",
        "classes": "Classes",
        "object": "Object properties",
        "datatype": "Datatype properties",
        "annotation": "Annotation properties",
        "schemes": "Concept schemes",
        "others": "Concepts outside any scheme",
        "iri": "IRI",
        "version": "Version",
        "licence": "Licence",
        "subclass": "Subclass of",
        "equivalent": "Equivalent to",
        "defined": "defined class",
        "domain": "Domain",
        "range": "Range",
        "subproperty": "Subproperty of",
        "inverse": "Inverse of",
        "notation": "Notation",
        "broader": "Broader concept",
        "altlabels": "Other labels",
        "concepts": "concepts",
        "footer": "Page produced by coopdec-kg {version} (command “coopdec-kg docs”) from the "
        "project's ontology and data.",
    },
}

PROPERTY_KINDS = (
    ("object", OWL.ObjectProperty),
    ("datatype", OWL.DatatypeProperty),
    ("annotation", OWL.AnnotationProperty),
)


def page_name(lang: str) -> str:
    return f"index.{lang}.html"


def _sort_text(text: str) -> str:
    """Accent- and case-insensitive sort key, so that « État » sorts with the Es."""
    return fold(text)


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text)
    )


def _anchor(iri: Node) -> str:
    """The entry's fragment: an ontology term's own IRI fragment (…/ontology#AgglomerationCommunity
    lands on its entry once the IRIs resolve); for other terms, their CURIE made id-safe."""
    text = str(iri)
    if text.startswith(str(CDO)) and _FRAGMENT.fullmatch(text[len(CDO) :]):
        return text[len(CDO) :]
    return re.sub(r"[^A-Za-z0-9_-]+", "-", compact_iri(text)).strip("-")


@dataclass(frozen=True)
class Text:
    """A text shown on a page; `lang` is set when it is not in the page's language."""

    value: str
    lang: str | None = None

    def html(self) -> str:
        escaped = html.escape(self.value)
        return f'<span lang="{html.escape(self.lang)}">{escaped}</span>' if self.lang else escaped


def pick(graph: Graph, node: Node, predicates: Sequence[URIRef], lang: str) -> Text | None:
    """The node's text in `lang`, else one without a language, else one in another language."""
    found = [
        (index, obj)
        for index, predicate in enumerate(predicates)
        for obj in graph.objects(node, predicate)
        if isinstance(obj, Literal)
    ]
    ranked = sorted(
        found,
        key=lambda item: (
            0 if item[1].language == lang else 1 if not item[1].language else 2,
            item[0],
            item[1].language or "",
            str(item[1]),
        ),
    )
    if not ranked:
        return None
    literal = ranked[0][1]
    other = literal.language if literal.language and literal.language != lang else None
    return Text(str(literal), other)


class _Page:
    """Builds the HTML of one language's page."""

    def __init__(self, graph: Graph, lang: str, documented: set[Node]) -> None:
        self.graph = graph
        self.lang = lang
        self.ui = UI[lang]
        self.documented = documented

    def label(self, node: Node) -> Text:
        return pick(self.graph, node, LABELS, self.lang) or Text(compact_iri(str(node)))

    def ref(self, node: Node) -> str:
        """A link to a term documented on the page, else its compact IRI."""
        if node in self.documented:
            return f'<a href="#{_anchor(node)}">{self.label(node).html()}</a>'
        return f"<code>{html.escape(compact_iri(str(node)))}</code>"

    def expression(self, node: Node, depth: int = 0) -> str:
        """An OWL class expression in Manchester-like syntax."""
        if isinstance(node, URIRef):
            return self.ref(node)
        if isinstance(node, Literal):
            return f"<code>{html.escape(node.n3())}</code>"
        if depth > MAX_EXPRESSION_DEPTH:
            return "…"
        graph = self.graph
        for predicate, joiner in ((OWL.intersectionOf, " and "), (OWL.unionOf, " or ")):
            members = graph.value(node, predicate)
            if members is not None:
                parts = [self.expression(m, depth + 1) for m in Collection(graph, members)]
                return "(" + f" <em>{joiner.strip()}</em> ".join(parts) + ")"
        complement = graph.value(node, OWL.complementOf)
        if complement is not None:
            return "<em>not</em> " + self.expression(complement, depth + 1)
        one_of = graph.value(node, OWL.oneOf)
        if one_of is not None:
            return (
                "{"
                + ", ".join(self.expression(m, depth + 1) for m in Collection(graph, one_of))
                + "}"
            )
        prop = graph.value(node, OWL.onProperty)
        if prop is not None:
            return self.ref(prop) + " " + self._restriction(node, depth)
        return "…"

    def _restriction(self, node: Node, depth: int) -> str:
        graph = self.graph
        for predicate, word in (
            (OWL.someValuesFrom, "some"),
            (OWL.allValuesFrom, "only"),
            (OWL.hasValue, "value"),
        ):
            value = graph.value(node, predicate)
            if value is not None:
                return f"<em>{word}</em> " + self.expression(value, depth + 1)
        for predicate, word in (
            (OWL.minCardinality, "min"),
            (OWL.maxCardinality, "max"),
            (OWL.cardinality, "exactly"),
            (OWL.minQualifiedCardinality, "min"),
            (OWL.maxQualifiedCardinality, "max"),
            (OWL.qualifiedCardinality, "exactly"),
        ):
            value = graph.value(node, predicate)
            if value is not None:
                qualifier = graph.value(node, OWL.onClass) or graph.value(node, OWL.onDataRange)
                tail = " " + self.expression(qualifier, depth + 1) if qualifier is not None else ""
                return f"<em>{word}</em> {html.escape(str(value))}{tail}"
        return "…"

    def facts(self, rows: Iterable[tuple[str, list[str]]]) -> str:
        colon = "\u00a0:" if self.lang == "fr" else ":"  # French puts a space before the colon
        return "".join(
            f"<p><strong>{html.escape(self.ui[key])}</strong>{colon} {', '.join(values)}</p>"
            for key, values in rows
            if values
        )

    def article(self, node: Node, rows: list[tuple[str, list[str]]], tag: str = "") -> str:
        label = self.label(node)
        definition = pick(self.graph, node, DEFINITIONS, self.lang)
        badge = f' <span class="tag">{html.escape(tag)}</span>' if tag else ""
        return (
            f'<article id="{_anchor(node)}">'
            f"<h3>{label.html()}{badge}</h3>"
            f'<p class="iri"><code>{html.escape(compact_iri(str(node)))}</code> — '
            f"<code>{html.escape(str(node))}</code></p>"
            + (f"<p>{definition.html()}</p>" if definition else "")
            + self.facts(rows)
            + "</article>\n"
        )

    def sorted_terms(self, nodes: Iterable[URIRef]) -> list[URIRef]:
        return sorted(nodes, key=lambda n: (_sort_text(self.label(n).value), str(n)))


@dataclass(frozen=True)
class _Catalogue:
    """What the pages document, read once from the ontology and the data."""

    graph: Graph
    ontology: URIRef | None
    classes: list[URIRef]
    properties: dict[str, list[URIRef]]
    schemes: list[URIRef]
    concepts: dict[URIRef, list[URIRef]]
    unfiled: list[URIRef]

    @property
    def documented(self) -> set[Node]:
        nodes: set[Node] = set(self.classes) | set(self.schemes) | set(self.unfiled)
        for group in self.properties.values():
            nodes.update(group)
        for group in self.concepts.values():
            nodes.update(group)
        return nodes


def _iris(nodes: Iterable[Node]) -> list[URIRef]:
    return sorted({n for n in nodes if isinstance(n, URIRef)}, key=str)


def _catalogue(ontology: Graph, data: Graph) -> _Catalogue:
    graph = new_graph()
    for part in (ontology, data):
        for triple in part:
            graph.add(triple)
    declared = _iris(ontology.subjects(RDF.type, OWL.Ontology))
    classes = _iris(ontology.subjects(RDF.type, OWL.Class))
    properties = {kind: _iris(ontology.subjects(RDF.type, cls)) for kind, cls in PROPERTY_KINDS}
    schemes = _iris(graph.subjects(RDF.type, SKOS.ConceptScheme))
    concepts = {
        scheme: _iris(
            [*graph.subjects(SKOS.inScheme, scheme), *graph.subjects(SKOS.topConceptOf, scheme)]
        )
        for scheme in schemes
    }
    filed = {c for group in concepts.values() for c in group}
    unfiled = [c for c in _iris(graph.subjects(RDF.type, SKOS.Concept)) if c not in filed]
    return _Catalogue(
        graph, declared[0] if declared else None, classes, properties, schemes, concepts, unfiled
    )


def _concept_key(page: _Page, node: Node) -> tuple[int, tuple[tuple[int, int | str], ...], str]:
    notation = page.graph.value(node, SKOS.notation)
    label = _sort_text(page.label(node).value)
    return (0, _natural(str(notation)), label) if notation is not None else (1, (), label)


def _class_section(page: _Page, cat: _Catalogue) -> str:
    graph = page.graph
    articles = []
    for cls in page.sorted_terms(cat.classes):
        equivalents = list(graph.objects(cls, OWL.equivalentClass))
        rows = [
            (
                "subclass",
                [page.expression(o) for o in sorted(graph.objects(cls, RDFS.subClassOf), key=str)],
            ),
            ("equivalent", [page.expression(o) for o in equivalents]),
            (
                "notation",
                [html.escape(str(n)) for n in sorted(graph.objects(cls, SKOS.notation), key=str)],
            ),
        ]
        articles.append(page.article(cls, rows, page.ui["defined"] if equivalents else ""))
    return "".join(articles)


def _property_section(page: _Page, props: list[URIRef]) -> str:
    graph = page.graph
    articles = []
    for prop in page.sorted_terms(props):
        rows = [
            (
                "subproperty",
                [page.ref(o) for o in sorted(graph.objects(prop, RDFS.subPropertyOf), key=str)],
            ),
            ("inverse", [page.ref(o) for o in sorted(graph.objects(prop, OWL.inverseOf), key=str)]),
            (
                "domain",
                [page.expression(o) for o in sorted(graph.objects(prop, RDFS.domain), key=str)],
            ),
            (
                "range",
                [page.expression(o) for o in sorted(graph.objects(prop, RDFS.range), key=str)],
            ),
        ]
        articles.append(page.article(prop, rows))
    return "".join(articles)


def _concept_articles(page: _Page, concepts: list[URIRef]) -> str:
    graph = page.graph
    articles = []
    for concept in sorted(concepts, key=lambda c: (_concept_key(page, c), str(c))):
        alternatives = sorted(
            str(o)
            for o in graph.objects(concept, SKOS.altLabel)
            if isinstance(o, Literal) and o.language in (page.lang, None)
        )
        rows = [
            (
                "notation",
                [
                    html.escape(str(n))
                    for n in sorted(graph.objects(concept, SKOS.notation), key=str)
                ],
            ),
            (
                "broader",
                [page.ref(o) for o in sorted(graph.objects(concept, SKOS.broader), key=str)],
            ),
            ("altlabels", [html.escape(a) for a in alternatives]),
        ]
        articles.append(page.article(concept, rows))
    return "".join(articles)


def _intro(page: _Page, cat: _Catalogue) -> str:
    if cat.ontology is None:
        return ""
    graph = page.graph
    description = pick(graph, cat.ontology, (DCTERMS.description, RDFS.comment), page.lang)
    rows = [(page.ui["iri"], f"<code>{html.escape(str(cat.ontology))}</code>")]
    version = graph.value(cat.ontology, OWL.versionInfo)
    if version is not None:
        rows.append((page.ui["version"], html.escape(str(version))))
    for licence in sorted(graph.objects(cat.ontology, DCTERMS.license), key=str):
        target = html.escape(str(licence))
        rows.append((page.ui["licence"], f'<a href="{target}">{target}</a>'))
    meta = "".join(f"<dt>{html.escape(k)}</dt><dd>{v}</dd>" for k, v in rows)
    return (f"<p>{description.html()}</p>" if description else "") + f'<dl class="meta">{meta}</dl>'


def render_page(cat: _Catalogue, lang: str) -> str:
    """The HTML page of one language."""
    page = _Page(cat.graph, lang, cat.documented)
    ui = page.ui
    sections: list[tuple[str, str, str]] = []  # (anchor, heading as HTML, body as HTML)
    if cat.classes:
        sections.append(("classes", html.escape(ui["classes"]), _class_section(page, cat)))
    for kind, _ in PROPERTY_KINDS:
        if cat.properties[kind]:
            props = _property_section(page, cat.properties[kind])
            sections.append((f"{kind}-properties", html.escape(ui[kind]), props))
    for scheme in page.sorted_terms(cat.schemes):
        members = cat.concepts[scheme]
        definition = pick(cat.graph, scheme, DEFINITIONS, lang)
        body = (f"<p>{definition.html()}</p>" if definition else "") + _concept_articles(
            page, members
        )
        heading = f"{page.label(scheme).html()} <small>({len(members)} {ui['concepts']})</small>"
        sections.append((_anchor(scheme), heading, body))
    if cat.unfiled:
        sections.append(
            ("unfiled-concepts", html.escape(ui["others"]), _concept_articles(page, cat.unfiled))
        )

    items = "".join(
        f'<li><a href="#{anchor}">{heading}</a></li>' for anchor, heading, _ in sections
    )
    body = "\n".join(
        f'<section id="{anchor}">\n<h2>{heading}</h2>\n{content}</section>'
        for anchor, heading, content in sections
    )
    title = page.label(cat.ontology).value if cat.ontology is not None else "coopdec-kg"
    other = next(code for code in LANGUAGES if code != lang)
    template = Template(files("coopdec_kg.publish").joinpath(TEMPLATE).read_text(encoding="utf-8"))
    return template.substitute(
        lang=lang,
        version=html.escape(__version__),
        title=html.escape(title),
        other_lang=other,
        other_page=page_name(other),
        other_lang_name=html.escape(UI[other]["language"]),
        contents_label=html.escape(ui["contents"]),
        intro=_intro(page, cat),
        toc=f"<ol>{items}</ol>",
        sections=body,
        footer=html.escape(ui["footer"].format(version=__version__)),
    )


def build_pages(ontology: Graph, data: Graph) -> dict[str, str]:
    """File name → HTML, one page per language."""
    cat = _catalogue(ontology, data)
    return {page_name(lang): render_page(cat, lang) for lang in LANGUAGES}


def write_docs(project: Project, folder: Path) -> list[Path]:
    """Write the pages into `folder` (created if its parent exists); return their paths."""
    for name in (page_name(lang) for lang in LANGUAGES):
        check_output(project, folder / name)
    output_folder(folder)
    pages = build_pages(load_ontology(project), load_data(project))
    written = []
    for name, text in pages.items():
        path = folder / name
        write_atomic(path, text.encode("utf-8"))
        written.append(path)
    return written
