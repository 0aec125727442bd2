"""Golden checks: the figures and groupings the report prints are in the graph, with their source.

Every expectation below is copied from the report, with the line it stands on; each test also
checks that the line really says it, so a golden value cannot drift from the report.
"""

from __future__ import annotations

import pytest
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS

from coopdec_kg.content.namespaces import CDO
from report_text import normalise

QB_OBSERVATION = URIRef("http://purl.org/linked-data/cube#Observation")
LEVEL = "https://w3id.org/coopdec-kg/id/engagement-level/"
# Other things that carry an engagement level: the table's links (their column) and the counts.
NOT_GROUPINGS = {CDO.CooperationLink, QB_OBSERVATION}


def cites_line(graph: Graph, node: URIRef, line: int) -> bool:
    """Whether one of the node's source passages covers the given report line."""
    for passage in graph.objects(node, DCTERMS.source):
        start, end = graph.value(passage, CDO.startLine), graph.value(passage, CDO.endLine)
        if start is not None and end is not None and int(start) <= line <= int(end):
            return True
    return False


# (value as printed, report line)
STATED_FIGURES = [
    ("14 885", 20),  # syndicats à vocation unique
    ("2 165", 20),  # syndicats à vocation multiple
    ("1 454", 21),  # syndicats mixtes
    ("2 572", 26),  # EPCI à fiscalité propre au 1er janvier 2006
    ("47", 27),  # de plus que l'an passé
    ("2 388", 27),  # communautés de communes
    ("164", 28),  # communautés d'agglomération
    ("14", 28),  # communautés urbaines
    ("89", 30),  # % des communes
    ("85", 30),  # % de la population
    ("6", 35),  # % des EPCI à fiscalité propre
    ("7", 35),  # % des communes
    ("33", 36),  # % de la population
    ("3250", 49),  # collectivités ou groupements (CNCD)
    ("6000", 50),  # liens de coopération (CNCD)
    ("115", 51),  # pays (CNCD)
    ("58", 315),  # CA qui mènent des actions
    ("28", 316),  # dont de manière avancée
    ("74", 318),
    ("12", 377),
    ("18", 389),
    ("14", 442),
    ("8", 556),
    ("5", 562),
    ("132", 1188),  # CA étudiées
    ("48", 1188),  # liens identifiés
    ("17", 1326),  # liens en Afrique subsaharienne
    ("13", 1332),  # liens en Asie
    ("8", 1340),  # liens en Europe occidentale
    ("6", 1341),  # liens transfrontaliers
    ("4", 1345),  # liens au Moyen-Orient
    ("2", 1349),  # liens en Europe centrale et orientale
    ("5", 1357),  # CA non positionnées
    ("26", 1371),  # pays de destination des CA
]

# The printed totals of the table « Aires d'intervention » (l.1244-1322).
TABLE_TOTALS = [
    (1244, ["2", "6", "9", "17"]),
    (1248, ["0", "0", "1", "1"]),
    (1251, ["0", "0", "0", "0"]),
    (1276, ["9", "4", "0", "13"]),
    (1285, ["0", "2", "0", "0", "2"]),
    (1303, ["1", "1", "0", "6", "8"]),
    (1310, ["1", "3", "0", "4"]),
    (1321, ["6", "0", "0", "0", "6"]),
    (1322, ["18", "16", "9", "5", "48"]),
]

# Groupings named in the lists of section II, exactly as printed: (label, level slug, line).
NAMED_GROUPINGS = [
    ("Amiens Métropôle", "actions-ponctuelles-et-reflexion", 391),
    ("Bassin d'Arcachon Sud", "actions-ponctuelles-et-reflexion", 391),
    ("Bourg en Bresse", "actions-ponctuelles-et-reflexion", 391),
    ("Dracénoise", "actions-ponctuelles-et-reflexion", 392),
    ("Elbeuf-Boucle de Seine", "actions-ponctuelles-et-reflexion", 392),
    ("Grand Rodez", "actions-ponctuelles-et-reflexion", 392),
    ("Grenoble Alpes Métropôle", "actions-ponctuelles-et-reflexion", 392),
    ("Hauts de Bièvre", "actions-ponctuelles-et-reflexion", 393),
    ("Hénin Carvin", "actions-ponctuelles-et-reflexion", 393),
    ("Nice-Côte d'Azur", "actions-ponctuelles-et-reflexion", 393),
    ("Pays de Lorient", "actions-ponctuelles-et-reflexion", 393),
    ("Plateau de Saclay", "actions-ponctuelles-et-reflexion", 394),
    ("Poitiers", "actions-ponctuelles-et-reflexion", 394),
    ("Presqu'île de Guérande - Cap Atlantique", "actions-ponctuelles-et-reflexion", 394),
    ("Rouennaise", "actions-ponctuelles-et-reflexion", 395),
    ("Seine – Eure", "actions-ponctuelles-et-reflexion", 395),
    ("Val de Bièvre", "actions-ponctuelles-et-reflexion", 395),
    ("Chalon-Val de Bourgogne", "cooperation-naissante", 444),
    ("Hérault Méditerranée", "cooperation-naissante", 444),
    ("Mantes en Yvelines", "cooperation-naissante", 445),
    ("Montargeoise et Rives du Loing", "cooperation-naissante", 445),
    ("Pays Ajaccien", "cooperation-naissante", 445),
    ("Pays d'Aix en Provence", "cooperation-naissante", 446),
    ("Pays de Montbéliard", "cooperation-naissante", 446),
    ("Saint Malo", "cooperation-naissante", 446),
    ("Pays Voironnais", "cooperation-naissante", 446),
    ("Puy en Velay", "cooperation-naissante", 446),
    ("Saint Quentin en Yvelines", "cooperation-naissante", 447),
    ("Territoire de la Côte Ouest", "cooperation-naissante", 447),
    ("Toulon Provence Méditerranée", "cooperation-naissante", 447),
    ("Angers Loire Métropole", "cooperation-avancee", 558),
    ("Cambrai", "cooperation-avancee", 558),
    ("Cergy-Pontoise", "cooperation-avancee", 559),
    ("Choletais", "cooperation-avancee", 559),
    ("Evry Centre Essonne", "cooperation-avancee", 559),
    ("SICOVAL", "cooperation-avancee", 559),
    ("Sénart", "cooperation-avancee", 559),
    ("Pays Viennois", "cooperation-avancee", 559),
    ("Bayonne Anglet Biarritz", "cooperation-transfrontaliere", 564),
    ("Pau-Pyrénées", "cooperation-transfrontaliere", 565),
    ("Sarreguemines Confluences", "cooperation-transfrontaliere", 565),
]


def observations_with_value(graph: Graph, printed: str) -> list[URIRef]:
    value = int(printed.replace(" ", ""))
    return [
        o
        for o in graph.subjects(RDF.type, QB_OBSERVATION)
        if any(
            isinstance(v, Literal) and v.value == value for v in graph.objects(o, CDO.statedValue)
        )
    ]


@pytest.mark.parametrize(("printed", "line"), STATED_FIGURES)
def test_stated_figure_is_printed_on_its_line(
    report_lines: list[str], printed: str, line: int
) -> None:
    assert printed in normalise(report_lines[line - 1])


@pytest.mark.parametrize(("printed", "line"), STATED_FIGURES)
def test_stated_figure_is_an_observation_citing_its_line(
    graph: Graph, printed: str, line: int
) -> None:
    candidates = observations_with_value(graph, printed)
    assert any(cites_line(graph, o, line) for o in candidates), (printed, line)


@pytest.mark.parametrize(("line", "printed"), TABLE_TOTALS)
def test_table_totals_are_printed_on_their_line(
    report_lines: list[str], line: int, printed: list[str]
) -> None:
    assert " ".join(printed) in normalise(report_lines[line - 1]).replace(" / ", " ")


@pytest.mark.parametrize(("line", "printed"), TABLE_TOTALS)
def test_table_totals_are_observations(graph: Graph, line: int, printed: list[str]) -> None:
    for value in printed:
        candidates = observations_with_value(graph, value)
        assert any(cites_line(graph, o, line) for o in candidates), (value, line)


def groupings_named(graph: Graph, label: str) -> list[URIRef]:
    wanted = normalise(label)
    return sorted(
        {
            s
            for p in (SKOS.prefLabel, SKOS.altLabel)
            for s, o in graph.subject_objects(p)
            if isinstance(s, URIRef)
            and normalise(str(o)) == wanted
            and (s, CDO.engagementLevel, None) in graph
            and not set(graph.objects(s, RDF.type)) & NOT_GROUPINGS
        }
    )


@pytest.mark.parametrize(("label", "level", "line"), NAMED_GROUPINGS)
def test_named_grouping_is_printed_near_its_line(
    report_lines: list[str], label: str, level: str, line: int
) -> None:
    assert normalise(label) in normalise(" ".join(report_lines[line - 2 : line + 1]))


@pytest.mark.parametrize(("label", "level", "line"), NAMED_GROUPINGS)
def test_named_grouping_has_its_level_and_source(
    graph: Graph, label: str, level: str, line: int
) -> None:
    found = groupings_named(graph, label)
    assert len(found) == 1, (label, found)
    grouping = found[0]
    assert (grouping, CDO.engagementLevel, URIRef(LEVEL + level)) in graph
    assert cites_line(graph, grouping, line)


def test_groupings_are_typed_by_legal_form(graph: Graph) -> None:
    # "SAN Sénart" (l.660, 669) is a SAN although listed among the 8 CA (l.558-559).
    (senart,) = groupings_named(graph, "Sénart")
    assert (senart, RDF.type, CDO.NewTownSyndicate) in graph
    (cergy,) = groupings_named(graph, "Cergy-Pontoise")
    assert (cergy, RDF.type, CDO.AgglomerationCommunity) in graph


def test_counts_of_named_groupings_per_level(graph: Graph) -> None:
    # l.389: 18 CA, all named; l.442: 14; l.556: 8; l.562: 5; l.318 and l.377: none named.
    expected = {
        "pas-d-action-pas-de-reflexion": 0,
        "actions-ponctuelles-sans-reflexion": 0,
        "actions-ponctuelles-et-reflexion": 18,
        "cooperation-naissante": 14,
        "cooperation-avancee": 8,
        "cooperation-transfrontaliere": 5,
    }
    for level, count in expected.items():
        members = {
            s
            for s in graph.subjects(CDO.engagementLevel, URIRef(LEVEL + level))
            if not set(graph.objects(s, RDF.type)) & NOT_GROUPINGS
        }
        assert len(members) == count, level


def test_table_links_are_entities(graph: Graph) -> None:
    # "SICOVAL (2)" is two links (l.1241); the table's cells add up to 51 entries although its
    # grand total is printed as 48 (l.1322): the graph keeps both.
    links = set(graph.subjects(CDO.inSurveyTable, Literal(True)))
    sicoval = [link for link in links if "SICOVAL" in str(graph.value(link, CDO.entryLabel) or "")]
    assert len(sicoval) == 2
    assert len(links) == 51
