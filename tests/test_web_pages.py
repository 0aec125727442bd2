"""What the atlas's pages are made of, tested without a server or a browser: the world outline,
the charts' geometry, the choices of a question's form, the map's shading, a resource's sources,
and the in-memory validation the validation page runs (test_atlas.py shows them in a browser).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import SKOS

from coopdec_kg.content.graph import parse_submission, parse_submission_bytes
from coopdec_kg.content.project import Project
from coopdec_kg.engines.queries import choices_query, find_query
from coopdec_kg.engines.store import load_in_memory, source_files
from coopdec_kg.law.validation import Validator
from coopdec_kg.publish import resources
from coopdec_kg.publish.resources import Value
from coopdec_kg.web import charts, world
from coopdec_kg.web.jobs import Table
from coopdec_kg.web.pages import SHADES, _map_countries
from report_text import Said

REPO = Path(__file__).resolve().parent.parent
SUBMISSIONS = REPO / "tests" / "fixtures" / "submissions"
COUNTRY = "http://publications.europa.eu/resource/authority/country/"


@pytest.fixture(scope="module")
def store(project: Project) -> pyoxigraph.Store:
    return load_in_memory(source_files(project, ()))


def test_every_country_of_the_graph_is_on_the_map(graph: Graph) -> None:
    codes = {
        str(code)
        for country, code in graph.subject_objects(SKOS.notation)
        if str(country).startswith(COUNTRY) and str(code) != "FRA"
    }
    assert {"MRT", "COM", "MUS", "MCO"} <= codes  # small ones: Comoros, Mauritius, Monaco
    drawn = {code for _, code in world.drawn(codes) if code is not None}
    assert drawn == codes
    outlines = {code: outline for outline, code in world.drawn(codes) if code is not None}
    assert outlines["MCO"].dot is not None  # too small to see: a dot
    assert outlines["MRT"].dot is None and outlines["MRT"].path.startswith("M")


def test_no_outline_jumps_across_the_map() -> None:
    """A ring crossing the antimeridian is kept in one piece (no stripe across the world)."""
    for outline, _ in world.drawn(set()):
        for ring in outline.path.split("M")[1:]:
            xs = [float(point.split()[0]) for point in ring.rstrip("Z").split("L")]
            assert all(abs(b - a) < world.WIDTH / 2 for a, b in itertools.pairwise(xs))


def _cell(text: str, iri: str | None = None) -> Value:
    return Value(text, iri=iri)


def test_levels_chart_bars_are_proportional() -> None:
    table = Table(
        ("level", "label", "notation", "statedCount", "namedCount"),
        (
            (_cell("A", "urn:a"), None, _cell("A"), _cell("74"), _cell("0")),
            (_cell("E", "urn:e"), None, _cell("E"), _cell("8"), _cell("8")),
        ),
        2,
    )
    chart = charts.levels_chart(table)
    stated = [bar for group in chart.groups for bar in group.bars if bar.series == "stated"]
    assert [bar.value for bar in stated] == [74, 8]
    assert stated[0].height == charts.CHART_HEIGHT
    assert stated[1].height == pytest.approx(8 / 74 * charts.CHART_HEIGHT)
    assert all(bar.y + bar.height == chart.baseline for bar in stated)


def test_the_area_grid_marks_the_cells_that_disagree() -> None:
    columns = ("area", "areaLabel", "level", "levelLabel", "links", "stated", "rank")
    table = Table(
        columns,
        (
            (
                _cell("Asie", "urn:asie"),
                None,
                _cell("C", "urn:c"),
                None,
                _cell("9"),
                _cell("9"),
                None,
            ),
            (
                _cell("Asie", "urn:asie"),
                None,
                _cell("E", "urn:e"),
                None,
                _cell("1"),
                _cell("0"),
                None,
            ),
        ),
        2,
    )
    grid = charts.area_grid(table)
    ((area, cells),) = grid.rows
    assert area.text == "Asie" and [c.disagrees for c in cells] == [False, True]


def test_the_forms_choices_come_from_the_query(project: Project) -> None:
    partners = find_query(project, "partners-of-ca")
    (ca,) = partners.parameters
    text = choices_query(partners, ca)
    assert text is not None
    assert "ontology#frenchParty> ?value" in text and "ontology#actor> ?value" in text
    search = find_query(project, "search")
    assert choices_query(search, search.parameters[0]) is None  # a text: no choices
    area = find_query(project, "partner-countries").parameters[0]
    assert "?value <https://w3id.org/coopdec-kg/ontology#listedCountry> []" in (
        choices_query(find_query(project, "partner-countries"), area) or ""
    )


def test_the_map_shades_listed_countries_and_by_links() -> None:
    def row(code: str, links: int) -> tuple[Value | None, ...]:
        return (_cell(code, f"urn:{code}"), None, _cell(code), _cell(str(links)))

    rows = [row("JPN", 0), row("MLI", 1), row("SEN", 2)]
    shades = {c.code: c.shade for c in _map_countries(rows)}
    assert shades == {"JPN": 1, "MLI": 1 + (SHADES - 1) // 2, "SEN": SHADES}


def test_a_resource_cites_its_passages_with_section_and_lines(
    store: pyoxigraph.Store, said: Said
) -> None:
    said((993, 994), "SAN de Sénart", "partenaire mauritanien")
    senart = resources.view(store, "https://w3id.org/coopdec-kg/id/authority/san-senart", "en")
    lines = [(s.first_line, s.last_line) for s in senart.sources]
    assert (993, 994) in lines and lines == sorted(lines)
    (passage,) = [s for s in senart.sources if s.first_line == 993]
    assert passage.number == "III.B.2" and passage.section is not None
    assert senart.citation is not None and senart.citation.language == "en"
    assert "February 2006" in senart.citation.text


def test_an_upload_is_validated_in_memory_as_validate_does(
    project: Project, store: pyoxigraph.Store
) -> None:
    bad = SUBMISSIONS / "rule1-bad-state-partner.ttl"
    from_file = parse_submission(bad)
    uploaded = parse_submission_bytes(Path(bad.name), bad.read_bytes(), "turtle")
    assert uploaded.triples == from_file.triples and uploaded.digest == from_file.digest
    in_memory = Validator(project, targeted=True, store=store).validate([uploaded])
    reference = Validator(project).validate([from_file])
    expected = re.findall(r"# expect: Violation (\S+)", bad.read_text(encoding="utf-8"))
    for report in (in_memory, reference):
        assert not report.conforms
        shapes = sorted(str(f.shape).rsplit("#", 1)[1] for f in report.findings)
        assert shapes == sorted(e.removeprefix("cds:") for e in expected)
    assert URIRef(str(in_memory.findings[0].focus)).startswith(str(uploaded.iri))
