"""`coopdec-kg reason`: HermiT finds the project consistent, classifies the defined classes,
names a planted contradiction, and never reaches the network."""

from __future__ import annotations

import shutil
import urllib.request
from pathlib import Path

import pytest
from rdflib import Graph
from typer.testing import CliRunner, Result

from coopdec_kg.cli import app
from coopdec_kg.content.project import Project
from coopdec_kg.law.reasoning import reason_graphs

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs Java")
AUTHORITY = "https://w3id.org/coopdec-kg/id/authority/"
ADVANCED_LEVEL = "https://w3id.org/coopdec-kg/id/engagement-level/cooperation-avancee"
CROSS_BORDER_LEVEL = "https://w3id.org/coopdec-kg/id/engagement-level/cooperation-transfrontaliere"
PREFIXES = """
@prefix cdo: <https://w3id.org/coopdec-kg/ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix organisation: <https://w3id.org/coopdec-kg/id/organisation/> .
@prefix link: <https://w3id.org/coopdec-kg/id/link/> .
@prefix passage: <https://w3id.org/coopdec-kg/id/passage/> .
"""


def _members(output: str, cls: str) -> set[str]:
    """The IRIs listed under one defined class in the summary."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {cls} "))
    members = set()
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        members.add(line.split()[0].replace("authority:", AUTHORITY))
    return members


@pytest.fixture(scope="module")
def consistent_run(project: Project) -> Result:
    return CliRunner().invoke(app, ["--root", str(project.root), "reason"])


@needs_java
@pytest.mark.slow
def test_the_project_is_consistent(consistent_run: Result) -> None:
    assert consistent_run.exit_code == 0, consistent_run.stdout + consistent_run.stderr
    assert consistent_run.stdout.startswith("Consistent")


@needs_java
def test_hermit_classifies_the_groupings_of_each_defined_class(
    consistent_run: Result, graph: Graph
) -> None:
    for cls, level in (
        ("cdo:AdvancedCooperationGrouping", ADVANCED_LEVEL),
        ("cdo:CrossBorderCooperationGrouping", CROSS_BORDER_LEVEL),
    ):
        # The same membership, computed without a reasoner from the asserted level.
        query = (
            f"SELECT ?g WHERE {{ ?g cdo:engagementLevel <{level}> ; "
            "a/rdfs:subClassOf* cdo:Grouping }"
        )
        expected = {str(row[0]) for row in graph.query(query)}  # type: ignore[index]
        assert _members(consistent_run.stdout, cls) == expected
    # report l.556-557: « Les 8 CA qui mènent une coopération décentralisée sont Angers Loire
    # Métropole, Cambrai, Cergy-Pontoise, Choletais, Evry Centre Essonne, SICOVAL, Sénart,
    # Pays Viennois »
    assert _members(consistent_run.stdout, "cdo:AdvancedCooperationGrouping") == {
        AUTHORITY + slug
        for slug in (
            "ca-angers-loire-metropole",
            "ca-cambrai",
            "ca-cergy-pontoise",
            "ca-choletais",
            "ca-evry-centre-essonne",
            "ca-sicoval",
            "san-senart",
            "ca-pays-viennois",
        )
    }
    # report l.562-563: « Les 5 CA qui mènent une coopération transfrontalière sont Bayonne
    # Anglet Biarritz, Forbach Portes de France, Pau-Pyrénées, la Rivièria française,
    # Sarreguemines Confluences »
    assert _members(consistent_run.stdout, "cdo:CrossBorderCooperationGrouping") == {
        AUTHORITY + slug
        for slug in (
            "ca-bayonne-anglet-biarritz",
            "ca-forbach-portes-de-france",
            "ca-pau-pyrenees",
            "ca-riviera-francaise",
            "ca-sarreguemines-confluences",
        )
    }


@needs_java
@pytest.mark.slow
def test_a_planted_contradiction_is_named(
    runner: CliRunner, project: Project, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    for folder in ("ontology", "data", "queries"):
        shutil.copytree(project.root / folder, content / folder)
    (content / "data" / "zz-planted.ttl").write_text(
        PREFIXES
        + """
organisation:planted-state a cdo:State , cdo:ForeignTerritorialAuthority ;
    skos:prefLabel "État planté"@fr ; dct:source passage:l1-1 .
link:planted-link a cdo:CooperationLink ; cdo:foreignPartner organisation:planted-state ;
    skos:prefLabel "Lien planté"@fr ; dct:source passage:l1-1 .
""",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["--root", str(content), "reason"])
    assert result.exit_code == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Inconsistent")
    culprits = lines.index("Individuals whose own statements contradict the ontology:")
    assert lines[culprits + 1] == "  organisation:planted-state"
    assert "  link:planted-link" in lines[culprits + 2 :]


def test_missing_java_exits_2(
    runner: CliRunner, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no java on PATH
    result = runner.invoke(app, ["--root", str(project.root), "reason"])
    assert result.exit_code == 2
    assert "Java is not installed" in result.stderr
    assert "Traceback" not in result.stderr


@needs_java
def test_unsatisfiable_classes_are_named_and_imports_are_never_fetched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    ontology = Graph().parse(
        data=PREFIXES
        + """
<https://w3id.org/coopdec-kg/ontology> a owl:Ontology ;
    owl:imports <http://127.0.0.1:9/never-fetched.owl> .
cdo:A a owl:Class . cdo:B a owl:Class . cdo:A owl:disjointWith cdo:B .
cdo:Both a owl:Class ; rdfs:subClassOf cdo:A , cdo:B .
""",
        format="turtle",
    )
    data = Graph().parse(data=PREFIXES + "organisation:x a cdo:A .", format="turtle")
    report = reason_graphs(ontology, data)
    assert report.consistent
    assert report.unsatisfiable_classes == ("https://w3id.org/coopdec-kg/ontology#Both",)
    assert not report.ok
    assert "  cdo:Both" in report.summary()
