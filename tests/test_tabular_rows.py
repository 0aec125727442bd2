"""Rows to RDF through the mapping, and names to resources, without the store (fast)."""

from __future__ import annotations

from datetime import datetime

import pytest
from rdflib import URIRef

from coopdec_kg.content.namespaces import CDR
from coopdec_kg.errors import ContentError
from coopdec_kg.tabular.mapping import load_mapping, read_mapping
from coopdec_kg.tabular.names import Names, Unresolved, resolve
from coopdec_kg.tabular.rows import map_sheets
from coopdec_kg.tabular.sheets import Sheet

COUNTRY = "http://publications.europa.eu/resource/authority/country/"
CERGY = URIRef(CDR + "authority/ca-cergy-pontoise")
SAINT_MALO = URIRef(CDR + "authority/ca-saint-malo")
SAINT_QUENTIN = URIRef(CDR + "authority/ca-saint-quentin-en-yvelines")
TWINNING = URIRef("https://w3id.org/coopdec-kg/ontology#Twinning")


def names() -> dict[str, Names]:
    """A few names, as the graph labels them (skos:prefLabel, skos:notation, rdfs:label)."""
    authorities, countries, kinds = Names(), Names(), Names()
    authorities.add(CERGY, "Cergy-Pontoise", 3)
    authorities.add(SAINT_MALO, "Saint Malo", 3)
    authorities.add(SAINT_QUENTIN, "Saint Quentin en Yvelines", 3)
    countries.add(URIRef(COUNTRY + "BEN"), "Bénin", 3)
    countries.add(URIRef(COUNTRY + "BEN"), "BEN", 0)
    kinds.add(TWINNING, "jumelage", 3)
    return {"local-authority": authorities, "country": countries, "agreement-kind": kinds}


@pytest.mark.parametrize(
    "text", ["Cergy-Pontoise", "cergy pontoise", "CERGY  PONTOISE", "Cergy", "CA de Cergy-Pontoise"]
)
def test_a_grouping_is_found_accents_case_and_punctuation_aside(text: str) -> None:
    assert resolve(names()["local-authority"], text) == CERGY


@pytest.mark.parametrize("text", ["Bénin", "benin", "BENIN", "BEN", "ben"])
def test_a_country_is_found_by_name_or_code(text: str) -> None:
    assert resolve(names()["country"], text) == URIRef(COUNTRY + "BEN")


def test_an_ambiguous_name_lists_the_candidates() -> None:
    assert resolve(names()["local-authority"], "saint") == Unresolved(
        True, ("Saint Malo", "Saint Quentin en Yvelines")
    )


def test_an_unknown_name_suggests_the_closest() -> None:
    assert resolve(names()["local-authority"], "Cergy-Pontoize") == Unresolved(
        False, ("Cergy-Pontoise",)
    )
    assert resolve(names()["local-authority"], "Marseille") == Unresolved(False, ())


def _links(*rows: tuple[object, ...]) -> Sheet:
    header = (
        "Partie française",
        "Partenaire étranger",
        "Pays du partenaire",
        "Statut du partenaire dans son pays",
        "Type d'accord",
        "Date de signature",
        "Signé par les deux parties",
        "Source de l'information",
    )
    return Sheet("Liens", ((1, header), *((n, r) for n, r in enumerate(rows, start=2))))  # type: ignore[misc]


@pytest.mark.parametrize(
    "written",
    ["12/03/2005", "2005-03-12", 38423, "38423", datetime(2005, 3, 12)],
)
def test_a_date_is_read_as_french_text_iso_text_an_excel_serial_or_a_date_cell(
    written: object,
) -> None:
    mapping = load_mapping()
    sheet = _links(("Cergy", "Ville", "BEN", "commune", "jumelage", written, "oui", "x"))
    mapped = map_sheets(mapping, [(mapping.table("links"), sheet)], names())
    assert not mapped.problems
    turtle = "\n".join(mapped.turtle)
    assert '"2005-03-12"^^<http://www.w3.org/2001/XMLSchema#date>' in turtle
    assert f"<accord-2> <https://w3id.org/coopdec-kg/ontology#signedBy> <{CERGY}> ." in turtle
    assert f"<accord-2> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{TWINNING}> ." in turtle


def test_no_agreement_is_written_without_its_kind_and_no_signature_when_not_signed() -> None:
    mapping = load_mapping()
    sheet = _links(
        ("Cergy", "Ville", "BEN", "commune", None, "12/03/2005", "oui", "x"),
        ("Cergy", "Autre ville", "BEN", "commune", "jumelage", None, "non", "y"),
    )
    mapped = map_sheets(mapping, [(mapping.table("links"), sheet)], names())
    assert not mapped.problems
    turtle = "\n".join(mapped.turtle)
    assert "<accord-2>" not in turtle
    assert "<accord-3>" in turtle and "signedBy" not in turtle
    assert (
        '<partenaire-3> <https://w3id.org/coopdec-kg/ontology#domesticLegalStatus> "commune"@fr .'
        in turtle
    )


def test_cell_problems_name_their_row_column_and_letter() -> None:
    mapping = load_mapping()
    sheet = _links(
        ("Cergy", "Ville", "Narnia", "commune", "jumelage", "31/02/2005", "peut-être", "x")
    )
    mapped = map_sheets(mapping, [(mapping.table("links"), sheet)], names())
    found = {(p.cell.row, p.cell.column, p.cell.letter): p.texts["en"] for p in mapped.problems}
    assert found == {
        (2, "Pays du partenaire", "C"): '"Narnia" is unknown',
        (2, "Date de signature", "F"): '"31/02/2005" is not a date (for example 31/12/2005)',
        (2, "Signé par les deux parties", "G"): '"peut-être" is neither "yes" nor "no"',
    }


def test_a_control_character_is_refused_at_its_cell() -> None:
    mapping = load_mapping()
    sheet = _links(("Cergy", "Ville\x1b[31m", "BEN", "commune", None, None, None, "x"))
    mapped = map_sheets(mapping, [(mapping.table("links"), sheet)], names())
    ((cell, text),) = [(p.cell, p.texts["fr"]) for p in mapped.problems]
    assert (cell.row, cell.letter) == (2, "B") and "caractère de contrôle" in text


def test_the_mapping_reader_refuses_what_it_does_not_do() -> None:
    document = {
        "tables": [
            {
                "url": "t",
                "dc:title": "T",
                "dc:description": "d",
                "tableSchema": {
                    "aboutUrl": "r-{_row}",
                    "columns": [{"name": "a", "ordered": True}],
                },
            }
        ]
    }
    with pytest.raises(ContentError, match="unsupported keys \\['ordered'\\]"):
        read_mapping(document)


def test_the_query_path_does_not_load_the_spreadsheet_libraries() -> None:
    """openpyxl and odfpy are imported only when a spreadsheet is read or written."""
    import subprocess
    import sys

    code = (
        "import sys, coopdec_kg.cli.app; "
        "print([m for m in ('openpyxl', 'odf', 'coopdec_kg.tabular.sheets') if m in sys.modules])"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
