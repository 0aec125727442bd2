"""The report's inconsistencies as data (cdo:Inconsistency), and what the graph infers.

Golden rows of `report-audit`: each inconsistency with its kind, its status and the lines of the
passages that disagree; every expectation cites the lines and checks that they say it.
"""

from __future__ import annotations

import pytest
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, ORG, SKOS

from coopdec_kg.content.namespaces import CDO, CDR
from coopdec_kg.content.project import Project
from report_text import Said
from test_queries_golden import Records, answer

KIND = CDR + "inconsistency-kind/"
DERIVATION = CDR + "derivation/"


@pytest.fixture(scope="module")
def audit(graph: Graph, project: Project) -> dict[str, dict[str, str]]:
    return {r["check"]: r for r in answer(graph, project, "report-audit")}


def lines_of(row: dict[str, str]) -> set[int]:
    """Every report line the row's passages cover (« l. 318-319; l. 1188 »)."""
    covered: set[int] = set()
    for text in row["passages"].split("; "):
        start, _, end = text.removeprefix("l. ").partition("-")
        covered.update(range(int(start), int(end or start) + 1))
    return covered


# check: (kind, status, [(lines, text the lines print)]) — at least two disagreeing passages each
GOLDEN = {
    "levels-sum": ("arithmetic", "established", [(1188, "132 CA étudiées"), (318, "74 CA")]),
    "table-column/cooperation-transfrontaliere": (
        "arithmetic",
        "established",
        [(1322, "TOTAUX 18 16 9 5 48"), (1341, "au nombre de 6")],
    ),
    "inconsistency/listing/senart-absent-du-tableau": (
        "listing",
        "established",
        [(559, "Sénart"), (994, "partenaire mauritanien")],
    ),
    "inconsistency/listing/mauritanie-absente-des-listes": (
        "listing",
        "established",
        [(994, "mauritanien"), ((1328, 1329), "Le Bénin, le Burkina Faso")],
    ),
    "inconsistency/listing/ca-du-groupe-c-absentes-du-tableau": (
        "listing",
        "established",
        [(391, "Amiens Métropôle"), (392, "Grenoble Alpes Métropôle"), (393, "Pays de Lorient")],
    ),
    "inconsistency/listing/ca-du-groupe-d-absentes-du-tableau": (
        "listing",
        "established",
        [(444, "Hérault Méditerranée"), (445, "Mantes en Yvelines")],
    ),
    "inconsistency/listing/guinee-listee-deux-fois": (
        "listing",
        "suspicion",
        [(1325, "au nombre de 11"), ((1328, 1329), "la Guinée, la Guinée Konakri")],
    ),
    "inconsistency/classification/aix-en-provence-naissante-et-avancee": (
        "classification",
        "established",
        [(446, "Pays d'Aix en Provence"), (1240, "Aix-en-Provence"), (1244, "Total : 2 6 9 / 17")],
    ),
    "inconsistency/classification/grand-dijon-sans-niveau": (
        "classification",
        "established",
        [(470, "La CA du Grand Dijon"), (444, "Il s'agit des CA suivantes")],
    ),
    "inconsistency/classification/assainissement-optionnelle-et-obligatoire": (
        "classification",
        "established",
        [
            (45, "voirie, assainissement, eau"),
            ((1028, 1029), "une compétence obligatoire pour les CA"),
        ],
    ),
    "inconsistency/classification/san-compte-parmi-les-ca": (
        "classification",
        "established",
        [((558, 559), "Les 8 CA qui mènent"), (1515, "le SAN de Sénart et la CA Evry")],
    ),
    "inconsistency/attribution/115-pays": (
        "attribution",
        "established",
        [(51, "dans 115 pays"), (1372, "(115 pour les communes)")],
    ),
    "inconsistency/ranking/rang-amerique-du-nord": (
        "ranking",
        "established",
        [
            (1345, "en quatrième position"),
            (1349, "L'Europe centrale et orientale est ensuite"),
            (1353, "en cinquième position"),
        ],
    ),
    "inconsistency/naming/nom-forbach-portes-de-france": (
        "naming",
        "established",
        [(565, "Portes de France"), (1299, "Porte de France")],
    ),
    "inconsistency/naming/nom-saint-malo": (
        "naming",
        "established",
        [(446, "Saint Malo"), ((1290, 1292), "Pays de Saint Malo")],
    ),
}


@pytest.mark.parametrize("check", sorted(GOLDEN))
def test_golden_inconsistency(audit: dict[str, dict[str, str]], said: Said, check: str) -> None:
    kind, status, passages = GOLDEN[check]
    row = audit[check]
    assert (row["kind"], row["status"]) == (f"inconsistency-kind:{kind}", status)
    covered = lines_of(row)
    for lines, printed in passages:
        said(lines, printed)
        first = lines if isinstance(lines, int) else lines[0]
        assert first in covered, f"{check}: no passage covers l. {first}"
    assert row["keeps"] and row["label"] and row["kindLabel"]


def test_every_kind_has_a_row(audit: dict[str, dict[str, str]]) -> None:
    kinds = {row["kind"] for row in audit.values() if row["kind"]}
    assert kinds == {
        f"inconsistency-kind:{k}"
        for k in ("arithmetic", "listing", "classification", "attribution", "naming", "ranking")
    }


def test_every_disagreeing_figure_is_an_arithmetic_inconsistency(
    audit: dict[str, dict[str, str]],
) -> None:
    for check, row in audit.items():
        if check.startswith("inconsistency/"):
            assert row["agrees"] == "false" and not row["stated"] and not row["computed"]
            continue
        if row["agrees"] == "false":
            assert row["kind"] == "inconsistency-kind:arithmetic", check
        else:
            assert not row["kind"] and not row["inconsistency"], check


def test_audit_checks_named_by_the_data_exist(
    data: Graph, audit: dict[str, dict[str, str]]
) -> None:
    named = {str(o) for o in data.objects(None, CDO.auditCheck)}
    assert named and named <= set(audit)


def test_every_inconsistency_is_well_formed(data: Graph) -> None:
    inconsistencies = set(data.subjects(RDF.type, CDO.Inconsistency))
    assert len(inconsistencies) >= 40
    for node in inconsistencies:
        kinds = list(data.objects(node, CDO.inconsistencyKind))
        assert len(kinds) == 1 and str(kinds[0]).startswith(KIND), node
        passages = [
            p for p in data.objects(node, DCTERMS.source) if (p, RDF.type, CDO.Passage) in data
        ]
        assert len(passages) >= 2, f"{node}: both passages"
        assert data.value(node, CDO.suspected) in {Literal(True), Literal(False)}, node
        for predicate in (CDO.graphKeeps, SKOS.prefLabel, DCTERMS.description):
            languages = {o.language for o in data.objects(node, predicate)}
            assert {"fr", "en"} <= languages, f"{node} {predicate}"


# ----------------------------------------------------------------------- what the graph infers

LINK = CDR + "link/"
COUNTRY = "http://publications.europa.eu/resource/authority/country/"


def inferred(data: Graph, subject: URIRef, predicate: URIRef) -> list[URIRef]:
    """The derivation rules of the inferred statements about (subject, predicate)."""
    return [
        data.value(statement, CDO.derivation)
        for statement in data.subjects(RDF.subject, subject)
        if (statement, RDF.predicate, predicate) in data
    ]


def test_one_rule_derives_countries_by_elimination(data: Graph, said: Said) -> None:
    """Choletais → Canada and Pays de Montbéliard → Roumanie follow the same rule (issue 13)."""
    said(1353, "Enfin, l'Amérique du nord vient en cinquième position avec un lien identifié")
    said(1355, "Le Canada")
    said(1349, "2 liens dans 2 pays")
    said(1351, "Le Montenegro et la Roumanie")
    said(510, "Getinge (Montenegro)")
    elimination = URIRef(DERIVATION + "country-by-elimination")
    for link, country in [
        ("choletais-amerique-du-nord", "CAN"),
        ("pays-de-montbeliard-europe-centrale-et-orientale", "ROU"),
    ]:
        subject = URIRef(LINK + link)
        assert (subject, CDO.country, URIRef(COUNTRY + country)) in data
        assert inferred(data, subject, CDO.country) == [elimination], link
    applied = set(data.subjects(CDO.derivation, elimination))
    assert len(applied) == 2  # the rule applies to these two areas only


def test_every_inferred_statement_is_in_the_data(data: Graph) -> None:
    statements = set(data.subjects(RDF.type, CDO.InferredStatement))
    assert len(statements) >= 9
    for statement in statements:
        triple = tuple(data.value(statement, p) for p in (RDF.subject, RDF.predicate, RDF.object))
        assert triple in data, statement
        assert str(data.value(statement, CDO.derivation)).startswith(DERIVATION), statement


def test_evry_membership_is_marked_inferred(data: Graph, said: Said) -> None:
    said((707, 709), "La commune a alors", "soit de la responsabilité de la CA Evry Centre Essonne")
    commune, ca = CDR["authority/commune-evry"], CDR["authority/ca-evry-centre-essonne"]
    assert (commune, ORG.memberOf, ca) in data
    assert inferred(data, commune, ORG.memberOf) == [URIRef(DERIVATION + "implied-by-the-text")]


def test_the_amgvf_is_an_example_not_a_collaborator(data: Graph, said: Said) -> None:
    said(384, "une association nationale telle que l'AMGVF")
    amgvf = CDR["organisation/amgvf"]
    assert not list(data.subjects(CDO.collaborator, amgvf))
    assert list(data.subjects(DCTERMS.references, amgvf))


def test_guinea_konakri_is_a_listing_without_a_country(data: Graph, said: Said) -> None:
    said((1328, 1329), "la Guinée, la Guinée Konakri")
    konakri = CDR["country-listing/afrique-subsaharienne-guinee-konakri"]
    assert (konakri, SKOS.prefLabel, Literal("Guinée Konakri", lang="fr")) in data
    assert data.value(konakri, CDO.country) is None


def test_the_sicoval_notes_agree_about_gandon(data: Graph, said: Said) -> None:
    said(978, "A Gandon, elle travaille également sur la gestion touristique")
    links = [URIRef(LINK + f"sicoval-afrique-subsaharienne-{n}") for n in (1, 2)]
    notes = {data.value(link, SKOS.editorialNote) for link in links}
    assert len(notes) == 1
    assert all(data.value(link, CDO.foreignPartner) is None for link in links)


def test_definitions_from_outside_the_report_say_so(ontology: Graph) -> None:
    for name in ("NewTownSyndicate", "UrbanCommunity", "SingleVocationSyndicate", "MixedSyndicate"):
        notes = " ".join(str(n) for n in ontology.objects(CDO[name], SKOS.editorialNote))
        assert "from outside the report" in notes or "not from the report" in notes, name


def test_the_report_resource_says_what_its_line_numbers_refer_to(data: Graph) -> None:
    report = CDR["report/intercommunalite-et-international-2006"]
    citations = {c.language: str(c) for c in data.objects(report, DCTERMS.bibliographicCitation)}
    assert set(citations) == {"fr", "en"}
    assert "intercommunalite-et-international-2006.txt" in citations["en"]
    assert "1758" in citations["en"]


def test_areas_ranks_are_the_printed_ones(graph: Graph, project: Project, said: Said) -> None:
    said(1324, "l'aire géographique la plus importante demeure l'Afrique")
    said(1332, "en deuxième place")
    said(1340, "troisième position")
    said(1345, "en quatrième position")
    said(1353, "en cinquième position")
    rows: Records = answer(graph, project, "links-by-area")
    ranks = {r["area"]: r["rank"] for r in rows}
    assert ranks == {
        "world-area:afrique-subsaharienne": "1",
        "world-area:asie": "2",
        "world-area:europe-occidentale": "3",
        "world-area:moyen-orient": "4",
        "world-area:amerique-du-nord": "5",  # as printed: by the counts it is sixth
        "world-area:europe-centrale-et-orientale": "",  # « ensuite »: no rank printed
        "world-area:amerique-latine": "",
        "world-area:pas-positionnees": "",
    }
