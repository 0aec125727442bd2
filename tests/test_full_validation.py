"""Full validation (`validate --all`) runs the shapes as SPARQL on the store
(coopdec_kg.law.shacl_sparql). Every shape of ontology/shapes.ttl compiles, what the engine cannot
evaluate exactly is refused when compiling, and the results equal pySHACL's on the whole rdflib
graph — focus node, source shape, component, path, value and severity, counted with their
repetitions — on the report's data, with a small synthetic atlas, with every submission fixture,
where the store and rdflib disagree about literals, and with constraint components the project
does not use yet. (Timings at national scale are the benchmark's business, never a test's.)"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from coopdec_kg.cli import app
from coopdec_kg.content.graph import SUBMISSION_NAMESPACE, load_graph, load_graph_with, parse_turtle
from coopdec_kg.content.project import Project
from coopdec_kg.content.synth import write_atlas
from coopdec_kg.engines import store
from coopdec_kg.errors import ContentError
from coopdec_kg.law import boundary
from coopdec_kg.law.shacl_sparql import compile_shapes
from coopdec_kg.law.shacl_sparql.rewrite import _rewrite_star_paths
from coopdec_kg.law.validation import _run, validate_content

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "submissions").glob("*.ttl"))
ATLAS_SCALE = 0.002  # about 3 400 triples: pySHACL needs ~10 s for it, the engine 0.2 s
Key = tuple[Node | None, ...]


def reference(graph: Graph, shapes: Graph) -> Counter[Key]:
    """pySHACL's results on the merged rdflib graph (the reference the engine must equal)."""
    report = _run(graph, shapes)
    keys: Counter[Key] = Counter()
    for root in report.subjects(RDF.type, SH.ValidationReport):
        for result in report.objects(root, SH.result):
            keys[
                tuple(
                    report.value(result, predicate)
                    for predicate in (
                        SH.focusNode,
                        SH.sourceShape,
                        SH.sourceConstraintComponent,
                        SH.resultPath,
                        SH.value,
                        SH.resultSeverity,
                    )
                )
            ] += 1
    return keys


def engine(
    content: Project, shapes: Graph, location: Path, extra: Sequence[Path] = (), workers: int = 1
) -> Counter[Key]:
    """The compiled shapes' results on a store built from the content and extra files."""
    info = store.build(content, extra, location)
    opened = pyoxigraph.Store.read_only(str(info.path))
    results = compile_shapes(shapes).run(opened, info.files, info.path, workers)
    return Counter(result.key() for result in results)


def copy_content(project: Project, root: Path) -> Project:
    for name in ("ontology", "data", "queries"):
        shutil.copytree(project.root / name, root / name)
    return Project.at(root)


@pytest.fixture(scope="module")
def shapes(project: Project) -> Graph:
    """One parse for both engines: blank-node paths (sh:alternativePath) compare equal."""
    return parse_turtle(project.shapes_file)


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory, project: Project) -> Project:
    return copy_content(project, tmp_path_factory.mktemp("content"))


# ---------------------------------------------------------------- compiling


def test_every_shape_of_the_project_compiles(shapes: Graph) -> None:
    plan = compile_shapes(shapes)
    declared = {
        s for kind in (SH.NodeShape, SH.PropertyShape) for s in shapes.subjects(RDF.type, kind)
    }
    referenced = {
        o
        for predicate in (SH.property, SH.node, SH["not"], SH.qualifiedValueShape)
        for o in shapes.objects(None, predicate)
    }
    for predicate in (SH["or"], SH["and"], SH.xone):
        for head in shapes.objects(None, predicate):
            referenced |= set(Collection(shapes, head))
    assert declared | referenced <= plan.shapes_used
    # Every reporting shape (one with a message) is the source of at least one check; the
    # submission boundary's rules are no SHACL (coopdec_kg.law.boundary checks them).
    reporting = {
        s
        for s in shapes.subjects(SH.message, None)
        if isinstance(s, URIRef) and (s, RDF.type, boundary.RULE_CLASS) not in shapes
    }
    assert reporting and reporting <= plan.sources


HEADER = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://example.org/shapes#> .
"""
UNSUPPORTED = {
    "closed": ("ex:S a sh:NodeShape ; sh:targetNode ex:n ; sh:closed true .", "shacl#closed"),
    "equals": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:n ; sh:property ex:P . "
        "ex:P a sh:PropertyShape ; sh:path ex:p ; sh:equals ex:q .",
        "shacl#equals",
    ),
    "zero-length path": (
        "ex:S a sh:PropertyShape ; sh:targetNode ex:n ; sh:path [ sh:zeroOrMorePath ex:p ] ; "
        "sh:minCount 1 .",
        "sh:path is not supported",
    ),
    "minus": (
        'ex:S a sh:NodeShape ; sh:targetNode ex:n ; sh:sparql [ sh:select """SELECT $this '
        'WHERE { $this <urn:p> ?x MINUS { $this <urn:q> ?x } }""" ] .',
        "MINUS",
    ),
    "this only optional": (
        'ex:S a sh:NodeShape ; sh:targetNode ex:n ; sh:sparql [ sh:select """SELECT $this '
        'WHERE { ?x <urn:p> ?y OPTIONAL { $this <urn:q> ?x } }""" ] .',
        "OPTIONAL",
    ),
    "this only in a filter": (
        'ex:S a sh:NodeShape ; sh:targetNode ex:n ; sh:sparql [ sh:select """SELECT $this '
        'WHERE { ?x <urn:p> ?y FILTER(?x != $this) }""" ] .',
        "uses $this before the main group binds it",
    ),
    "limit": (
        'ex:S a sh:NodeShape ; sh:targetNode ex:n ; sh:sparql [ sh:select """SELECT $this '
        'WHERE { $this <urn:p> ?x } LIMIT 1""" ] .',
        "LIMIT",
    ),
    "service target": (
        'ex:S a sh:NodeShape ; sh:target [ a sh:SPARQLTarget ; sh:select """SELECT ?this '
        'WHERE { SERVICE <urn:endpoint> { ?this <urn:p> ?o } }""" ] ; sh:nodeKind sh:IRI .',
        "SERVICE",
    ),
    "shapes graph": (
        'ex:S a sh:NodeShape ; sh:targetNode ex:n ; sh:sparql [ sh:select """SELECT $this '
        'WHERE { $this <urn:p> $shapesGraph }""" ] .',
        "$shapesGraph",
    ),
    "disjoint qualified shapes": (
        "ex:S a sh:PropertyShape ; sh:targetNode ex:n ; sh:path ex:p ; "
        "sh:qualifiedValueShape [ sh:class ex:C ] ; sh:qualifiedMinCount 1 ; "
        "sh:qualifiedValueShapesDisjoint true .",
        "qualifiedValueShapesDisjoint",
    ),
    "datatype in a nested property shape": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:n ; "
        "sh:node [ sh:property [ sh:path ex:p ; sh:datatype xsd:integer ] ] .",
        "cannot be decided when nested",
    ),
    "rdfs:Datatype": (
        "ex:S a sh:PropertyShape ; sh:targetNode ex:n ; sh:path ex:p ; sh:datatype rdfs:Datatype .",
        "rdf-schema#Datatype cannot be checked",
    ),
    "implicit class target": (
        "ex:S a sh:NodeShape , rdfs:Class ; sh:nodeKind sh:IRI .",
        "implicit class targets",
    ),
    "custom component": (
        "ex:C a sh:ConstraintComponent ; sh:parameter [ sh:path ex:p ] .",
        "custom constraint components",
    ),
}


@pytest.mark.parametrize("case", sorted(UNSUPPORTED))
def test_what_cannot_be_evaluated_exactly_is_refused_when_compiling(case: str) -> None:
    turtle, message = UNSUPPORTED[case]
    with pytest.raises(ContentError) as error:
        compile_shapes(Graph().parse(data=HEADER + turtle, format="turtle"))
    assert message in str(error.value)


# ---------------------------------------------------------------- the same results as pySHACL


def test_same_results_as_pyshacl_on_the_report_data(
    content: Project, shapes: Graph, tmp_path: Path
) -> None:
    found = engine(content, shapes, tmp_path / "store")
    assert found == reference(load_graph(content), shapes)


def fixture_groups() -> list[list[Path]]:
    """The fixtures in groups that share no subject with each other (a fixture describing a
    node another one mentions could hide its results), each group validated in one run."""
    groups: list[list[tuple[Path, set[Node], set[Node]]]] = []
    for path in FIXTURES:
        graph = Graph().parse(path)
        subjects = {s for s in graph.subjects() if isinstance(s, URIRef)}
        objects = {o for o in graph.objects() if isinstance(o, URIRef)}
        for group in groups:
            if all(not subjects & (s | o) and not s & (subjects | objects) for _, s, o in group):
                group.append((path, subjects, objects))
                break
        else:
            groups.append([(path, subjects, objects)])
    return [[path for path, _, _ in group] for group in groups]


@pytest.mark.parametrize(
    "group", fixture_groups(), ids=lambda group: "+".join(p.stem for p in group[:3])
)
def test_same_results_as_pyshacl_with_the_submission_fixtures(
    content: Project, shapes: Graph, tmp_path: Path, group: list[Path]
) -> None:
    # Loaded as content, each fixture's relative IRIs resolve in its submission namespace.
    files = []
    for path in group:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        files.append(tmp_path / path.name)
        files[-1].write_text(
            f"@base <{SUBMISSION_NAMESPACE}{digest}/> .\n" + path.read_text(encoding="utf-8"),
            encoding="utf-8",
        )
    found = engine(content, shapes, tmp_path / "store", files)
    expected = reference(load_graph_with(content, files), shapes)
    assert found == expected
    assert any(key[5] == SH.Violation for key in expected) or all(
        "-ok-" in p.name or "-warn-" in p.name for p in group
    )


# Literals the store keeps otherwise than rdflib (canonical decimals, integer subtypes stored as
# xsd:integer, a boolean written 1, a date with a time zone), ill-typed ones, and values that
# rdflib orders in its own way (an integer where a date is due): pySHACL decides them.
ODD_LITERALS = """@prefix cdo: <https://w3id.org/coopdec-kg/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix authority: <https://w3id.org/coopdec-kg/id/authority/> .
@prefix domain: <https://w3id.org/coopdec-kg/id/intervention-domain/> .
@prefix ex: <https://example.org/coopdec-edge/> .

ex:odd-numbers a cdo:CooperationAction ; skos:prefLabel "Chiffres étranges"@fr ;
    cdo:actor authority:conseil-regional-d-aquitaine ; cdo:domain domain:culture ;
    cdo:amount "-1.50"^^xsd:decimal ; cdo:amountMin 5000.00 ; cdo:amountMax "abc"^^xsd:decimal ;
    cdo:year "2005"^^xsd:int ; dct:source <https://example.org/edge> .
ex:odd-words a cdo:CooperationAction ; skos:prefLabel "Mots étranges"@fr , "Odd words"@en ;
    cdo:actor authority:conseil-regional-d-aquitaine ; cdo:domain domain:culture ;
    cdo:year "1850" ; cdo:amount 12 ; dct:source <https://example.org/edge> .
ex:odd-agreement a cdo:CooperationConvention ; skos:prefLabel "Convention étrange"@fr ;
    cdo:signatureDate 2005 ; cdo:inForce "1"^^xsd:boolean ; dct:source <https://example.org/edge> .
ex:odd-agreement-2 a cdo:CooperationConvention ; skos:prefLabel "Convention datée"@fr ;
    cdo:signatureDate "2005-06-01Z"^^xsd:date ; cdo:inForce "TRUE"^^xsd:boolean ;
    dct:source <https://example.org/edge> .
ex:odd-partner a cdo:ForeignTerritorialAuthority ; skos:prefLabel "Partenaire étrange"@fr ;
    cdo:country <http://publications.europa.eu/resource/authority/country/fra> ;
    cdo:domesticLegalStatus "commune" ; dct:source <https://example.org/edge> .
ex:odd-link a cdo:CooperationLink ; skos:prefLabel "Lien étrange"@fr ;
    cdo:frenchParty authority:conseil-regional-d-aquitaine ; cdo:foreignPartner ex:odd-partner ;
    cdo:startYear " 2005 "^^xsd:integer , 1999.0 ; dct:source <https://example.org/edge> .
"""


def test_same_results_as_pyshacl_where_the_store_and_rdflib_disagree_on_literals(
    content: Project, shapes: Graph, tmp_path: Path
) -> None:
    odd = tmp_path / "odd.ttl"
    odd.write_text(ODD_LITERALS, encoding="utf-8")
    found = engine(content, shapes, tmp_path / "store", [odd])
    expected = reference(load_graph_with(content, [odd]), shapes)
    assert found == expected
    values = {key[4] for key in expected}
    assert {"-1.50", "5000.00", "abc", "1850", "2005"} <= {str(v) for v in values}


# Constraint components, targets and SPARQL forms the project's shapes do not use (yet).
OTHER_SHAPES = (
    HEADER.replace("ex: <https://example.org/shapes#>", "ex: <https://example.org/s#>")
    + """
@prefix d: <https://example.org/d#> .
ex:S1 a sh:NodeShape ; sh:targetObjectsOf d:knows ; sh:nodeKind sh:IRI ;
    sh:property ex:P1 , ex:P2 , ex:P3 .
ex:P1 a sh:PropertyShape ; sh:path d:age ;
    sh:minExclusive 0 ; sh:maxExclusive 150 ; sh:minCount 2 ; sh:maxCount 3 .
ex:P2 a sh:PropertyShape ; sh:path d:start ; sh:lessThan d:end ; sh:severity sh:Info .
ex:P3 a sh:PropertyShape ; sh:path d:name ; sh:pattern "^\\\\w+$" ; sh:in ( "a" "b" 1.0 d:x ) ;
    sh:qualifiedValueShape [ sh:datatype xsd:string ] ; sh:qualifiedMaxCount 1 .
ex:S2 a sh:NodeShape ; sh:targetNode d:n1 , d:missing ; sh:hasValue d:n1 ;
    sh:xone ( [ sh:class d:A ] [ sh:class d:B ] ) ;
    sh:and ( [ sh:nodeKind sh:IRI ] [ sh:not [ sh:class d:C ] ] ) .
ex:S3 a sh:NodeShape ;
    sh:target [ a sh:SPARQLTarget ; sh:prefixes ex:d ;
        sh:select "SELECT ?this WHERE { ?this a d:Thing }" ] ;
    sh:sparql [ sh:prefixes ex:d ;
        sh:select "SELECT $this ?value WHERE { $this d:score ?value . FILTER(?value > 10) }" ] ;
    sh:property [ sh:path [ sh:inversePath d:knows ] ; sh:minCount 1 ;
        sh:sparql [ sh:prefixes ex:d ;
            sh:select "SELECT $this ?value ?path WHERE { $this $PATH ?value . BIND(d:p AS ?path) }"
        ] ] .
ex:d sh:declare [ sh:prefix "d" ; sh:namespace "https://example.org/d#"^^xsd:anyURI ] .
ex:S4 a sh:NodeShape ; sh:targetSubjectsOf d:score ;
    sh:property [ sh:path ( d:knows d:age ) ; sh:maxInclusive 99 ; sh:datatype xsd:integer ] ;
    sh:property [ sh:path d:label ; sh:uniqueLang true ; sh:languageIn ( "fr" "en" ) ] .
"""
)
OTHER_DATA = """@prefix d: <https://example.org/d#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
d:t1 a d:Thing ; d:score 12 , 5 ; d:knows d:n1 , d:n2 , "lit" ;
    d:label "a"@fr , "b"@fr , "c"@en-GB , "d"@de .
d:t2 a d:Thing ; d:score "11.50"^^xsd:decimal ; d:knows d:n3 .
d:n1 a d:A , d:B ; d:age 10 , 20 , 30 , 40 ; d:start 5 ; d:end 3 , 10 ; d:name "a" , "zz" , 1.00 .
d:n2 a d:A ; d:age -1 , "x" ; d:start "2005-01-01"^^xsd:date ; d:end 2005 ; d:name d:x , "b" .
d:n3 a d:C ; d:age 200 , 5.5 ; d:name "a b" .
d:t3 a d:Thing .
"""


def test_same_results_as_pyshacl_with_other_constraint_components(tmp_path: Path) -> None:
    shapes = Graph().parse(data=OTHER_SHAPES, format="turtle")
    data = tmp_path / "data.ttl"
    data.write_text(OTHER_DATA, encoding="utf-8")
    opened = pyoxigraph.Store()
    opened.bulk_load(path=str(data), format=pyoxigraph.RdfFormat.TURTLE)
    found = Counter(result.key() for result in compile_shapes(shapes).run(opened, [data]))
    expected = reference(Graph().parse(data), shapes)
    assert found == expected
    components = {str(key[2]).rsplit("#", 1)[1] for key in expected}
    assert len(components) >= 14, components


# ---------------------------------------------------------------- a synthetic atlas


@pytest.fixture(scope="module")
def atlas(tmp_path_factory: pytest.TempPathFactory, project: Project) -> dict[str, Any]:
    """Report data + a small atlas with planted violations: the store, pySHACL's results."""
    work = tmp_path_factory.mktemp("atlas")
    content = copy_content(project, work / "content")
    shapes = parse_turtle(content.shapes_file)
    # in parts of 1 000 triples, so that the store loads several files at once
    summary = write_atlas(content, load_graph(content), work, ATLAS_SCALE, 1, 12, 1_000)
    assert len(summary.paths) > 2
    return {
        "content": content,
        "shapes": shapes,
        "work": work,
        "planted": summary.violations,
        "paths": summary.paths,
        "store": work / "store",
        "found": engine(content, shapes, work / "store", summary.paths),
        "expected": reference(load_graph_with(content, summary.paths), shapes),
    }


def test_same_results_as_pyshacl_with_a_synthetic_atlas(atlas: dict[str, Any]) -> None:
    assert atlas["found"] == atlas["expected"]


def test_every_planted_violation_is_found_on_its_focus_node(atlas: dict[str, Any]) -> None:
    violating = {key[0] for key in atlas["found"] if key[5] == SH.Violation}
    assert len(atlas["planted"]) == 12
    for planted in atlas["planted"]:
        assert URIRef(planted["focus"]) in violating, planted
    listed = json.loads((atlas["work"] / "violations.json").read_text(encoding="utf-8"))
    assert listed == atlas["planted"]


def test_worker_processes_give_the_same_results(atlas: dict[str, Any], tmp_path: Path) -> None:
    info = store.build(atlas["content"], atlas["paths"], tmp_path / "store")
    opened = pyoxigraph.Store.read_only(str(info.path))
    plan = compile_shapes(atlas["shapes"])
    results = plan.run(opened, info.files, info.path, workers=2)
    assert Counter(result.key() for result in results) == atlas["expected"]
    # Workers that cannot open the store answer nothing: this process answers it all.
    results = plan.run(opened, info.files, tmp_path / "no-store", workers=2)
    assert Counter(result.key() for result in results) == atlas["expected"]


def test_an_atlas_without_planted_violations_has_no_violation(
    content: Project, shapes: Graph, tmp_path: Path
) -> None:
    summary = write_atlas(content, load_graph(content), tmp_path, ATLAS_SCALE, 2, 0)
    found = engine(content, shapes, tmp_path / "store", summary.paths)
    assert found, "the atlas has warnings: the engine ran"
    assert not [key for key in found if key[5] == SH.Violation]


def comparable(key: Key) -> tuple[str, ...]:
    """A key whose blank-node path (parsed anew with the shapes) is compared as such."""
    return tuple("[complex path]" if isinstance(term, BNode) else str(term) for term in key)


def test_validate_all_reports_pyshacls_results(
    atlas: dict[str, Any], monkeypatch: pytest.MonkeyPatch, runner: Any
) -> None:
    content = atlas["content"]
    monkeypatch.setenv(store.STORE_VARIABLE, str(atlas["store"]))
    monkeypatch.setenv("COOPDEC_KG_ROOT", str(content.root))
    report = validate_content(content)
    found = Counter(
        comparable((f.focus, f.shape, f.component, f.path, f.value, f.severity))
        for f in report.findings
    )
    # validate_content names the shape a result comes from (never a blank node).
    assert not any(isinstance(f.shape, BNode) for f in report.findings)
    assert found == Counter(comparable(key) for key in atlas["expected"].elements())
    result = runner.invoke(app, ["validate", "--all", "--format", "json", "--lang", "en"])
    assert result.exit_code == 1, result.stderr
    document = json.loads(result.stdout)
    expected = Counter(str(key[5]).rsplit("#", 1)[1] for key in atlas["expected"].elements())
    assert document["counts"] == {name: expected[name] for name in ("Violation", "Warning", "Info")}


# ---------------------------------------------------------------- the path rewrite

PATHS = [
    "<u:a>/<u:b>*",
    "^<u:a>/<u:b>*/<u:a>",
    "<u:b>*/<u:a>",
    "(<u:a>|<u:b>)/<u:b>*",
    "<u:a>/<u:b>*/<u:b>*",
]


@settings(max_examples=40, deadline=None)
@given(
    edges=st.sets(
        st.tuples(st.sampled_from("wxyz"), st.sampled_from("ab"), st.sampled_from("wxyz")),
        max_size=10,
    )
)
def test_rewritten_star_paths_match_the_same_pairs(edges: set[tuple[str, str, str]]) -> None:
    """`s/e*` becomes `(s|s/e+)`, which Oxigraph plans well: the same pairs, on any graph."""
    opened = pyoxigraph.Store()
    for subject, predicate, obj in edges:
        opened.add(
            pyoxigraph.Quad(
                pyoxigraph.NamedNode(f"u:{subject}"),
                pyoxigraph.NamedNode(f"u:{predicate}"),
                pyoxigraph.NamedNode(f"u:{obj}"),
            )
        )
    for path in PATHS:
        query = f"SELECT DISTINCT ?s ?o WHERE {{ ?s {path} ?o }}"
        rewritten = _rewrite_star_paths(query, "test")
        assert "*" not in rewritten.split("WHERE")[1]
        assert {tuple(map(str, r)) for r in opened.query(rewritten)} == {
            tuple(map(str, r)) for r in opened.query(query)
        }, path
