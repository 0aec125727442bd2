"""`coopdec-kg docs`: one self-contained, escaped HTML page per language with every term."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS
from typer.testing import CliRunner

from coopdec_kg.cli import app
from coopdec_kg.content.project import Project
from coopdec_kg.publish.docs import LANGUAGES, build_pages, page_name, pick

VOID_ELEMENTS = {"meta", "link", "br", "hr", "img", "input", "col", "area", "base", "wbr"}


class PageChecker(HTMLParser):
    """Collects the text, ids and links of a page and checks that elements nest properly."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []
        self.ids: list[str] = []
        self.fragments: set[str] = set()
        self.tags: set[str] = set()
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        if values.get("id"):
            self.ids.append(str(values["id"]))
        href = values.get("href") or ""
        if href.startswith("#"):
            self.fragments.add(href[1:])
        if tag not in VOID_ELEMENTS:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else '-'}>")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check(page: str) -> PageChecker:
    checker = PageChecker()
    checker.feed(page)
    checker.close()
    return checker


@pytest.fixture(scope="module")
def pages(ontology: Graph, data: Graph) -> dict[str, PageChecker]:
    built = build_pages(ontology, data)
    assert set(built) == {page_name(lang) for lang in LANGUAGES}
    return {lang: check(built[page_name(lang)]) for lang in LANGUAGES}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_pages_are_well_formed_and_self_contained(pages: dict[str, PageChecker], lang: str) -> None:
    page = pages[lang]
    assert page.lang == lang
    assert page.errors == [] and page.stack == []
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"
    assert page.fragments <= set(page.ids), page.fragments - set(page.ids)
    assert not page.tags & {"script", "img", "iframe", "object"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_class_property_and_concept_is_shown_in_the_pages_language(
    pages: dict[str, PageChecker], ontology: Graph, data: Graph, lang: str
) -> None:
    text = " ".join(pages[lang].text)
    labels = (SKOS.prefLabel, RDFS.label)
    terms = [
        s
        for cls in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
        for s in ontology.subjects(RDF.type, cls)
        if isinstance(s, URIRef)
    ]
    concepts = [s for s in data.subjects(RDF.type, SKOS.Concept) if isinstance(s, URIRef)]
    assert len(terms) > 50 and len(concepts) > 50
    missing = []
    for graph, nodes in ((ontology, terms), (data, concepts)):
        for node in nodes:
            own = [o for p in labels for o in graph.objects(node, p) if isinstance(o, Literal)]
            label = pick(graph, node, labels, lang)
            if any(o.language == lang for o in own):
                assert label is not None and label.lang is None
            if label is not None and label.value not in text:
                missing.append(label.value)
    assert missing == []


def test_definitions_are_in_the_pages_language(
    pages: dict[str, PageChecker], ontology: Graph
) -> None:
    grouping = URIRef("https://w3id.org/coopdec-kg/ontology#AdvancedCooperationGrouping")
    for lang in LANGUAGES:
        definition = next(
            o for o in ontology.objects(grouping, SKOS.definition) if o.language == lang
        )
        assert str(definition) in " ".join(pages[lang].text)


def test_ontology_entries_are_anchored_at_their_iri_fragment(
    pages: dict[str, PageChecker], ontology: Graph
) -> None:
    """…/ontology#AgglomerationCommunity lands on its entry once the IRIs resolve (issue 13)."""
    terms = {
        str(s).split("#", 1)[1]
        for s in ontology.subjects(RDF.type, None)
        if str(s).startswith("https://w3id.org/coopdec-kg/ontology#")
    }
    for lang in LANGUAGES:
        ids = set(pages[lang].ids)
        assert {"AgglomerationCommunity", "frenchParty", "Inconsistency"} <= ids
        assert terms <= ids, sorted(terms - ids)[:5]
        assert len(pages[lang].ids) == len(ids), "an anchor is used twice"


def test_text_is_escaped() -> None:
    ontology = Graph()
    cls = URIRef("https://w3id.org/coopdec-kg/ontology#Evil")
    ontology.add((cls, RDF.type, OWL.Class))
    ontology.add((cls, RDFS.label, Literal("<script>alert('x')</script> & co", lang="fr")))
    ontology.add((cls, SKOS.definition, Literal('"><img src=x onerror=alert(1)>', lang="en")))
    for html_page in build_pages(ontology, Graph()).values():
        page = check(html_page)
        assert page.errors == []
        assert not page.tags & {"script", "img"}
        assert "<script>alert('x')</script> & co" in " ".join(page.text)


def test_cli_docs_writes_one_page_per_language(
    runner: CliRunner, project: Project, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    result = runner.invoke(app, ["--root", str(project.root), "docs", "-o", str(target)])
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in target.iterdir()) == ["index.en.html", "index.fr.html"]
    assert "index.fr.html" in result.stderr


def test_cli_docs_into_a_missing_parent_exits_2(
    runner: CliRunner, project: Project, tmp_path: Path
) -> None:
    target = tmp_path / "no" / "such" / "site"
    result = runner.invoke(app, ["--root", str(project.root), "docs", "-o", str(target)])
    assert result.exit_code == 2
    assert "no such folder" in result.stderr
