"""`template` → filled → `import` → the graph → `query --format xlsx`, and every problem at
its cell, in the sheet's own words, with the legal text it comes from.

The filled sheets describe the cooperation the report describes (Cergy-Pontoise and Porto-Novo,
report l. 1730-1735) and the submission fixtures' cases (Abomey, tests/fixtures/submissions/
rule1-ok-partner.ttl). Checks run with --dry-run on one copy of the content; the few that
commit use a fresh copy each.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD
from typer.testing import CliRunner

from coopdec_kg.cli import app
from coopdec_kg.content.graph import DEFAULT_MAX_TRIPLES, SUBMISSION_NAMESPACE
from coopdec_kg.content.namespaces import CDO, CDR
from coopdec_kg.content.project import Project
from coopdec_kg.tabular.importer import import_sheet
from coopdec_kg.tabular.mapping import load_mapping

COUNTRY = "http://publications.europa.eu/resource/authority/country/"
CERGY = CDR + "authority/ca-cergy-pontoise"
PORTO_NOVO = CDR + "authority/porto-novo"

# One row per table, by column name (the mapping's `name`), as an officer would type them.
ABOMEY_LINK = {
    "identifier": "abomey",
    "french_party": "Cergy Pontoise",
    "partner": "Abomey",
    "partner_country": "Bénin",
    "partner_status": "commune",
    "start_year": 2006,
    "agreement_kind": "convention de coopération internationale",
    "signature_date": date(2006, 6, 30),
    "adopted": "oui",
    "signed": "oui",
    "in_force": "oui",
    "source": "https://example.org/deliberations/2006-04",
}
ABOMEY_ACTION = {
    "title": "Formation des agents de l'état civil",
    "actor": "CA de Cergy-Pontoise",
    "link": "abomey",
    "domains": "Culture",
    "amount": "1 500,50",
    "year": 2006,
    "source": "Délibération du 3 avril 2006",
}
ROWS = {"links": [ABOMEY_LINK], "actions": [ABOMEY_ACTION]}


def _titles(table: str, lang: str) -> dict[str, str]:
    return {c.name: c.title(lang) for c in load_mapping().table(table).cells}


def _english(value: object) -> object:
    return {"oui": "yes", "non": "no"}.get(value, value) if isinstance(value, str) else value


def fill(template: Path, target: Path, rows: Mapping[str, Sequence[Mapping[str, object]]],
         lang: str = "fr") -> Path:  # fmt: skip
    """The template filled with rows (by column name), as a person would, in its own format."""
    fmt = template.suffix
    if fmt == ".xlsx":
        book = load_workbook(template)
        for table, records in rows.items():
            sheet = book[load_mapping().table(table).title(lang)]
            header = [cell.value for cell in sheet[1]]
            by_title = {t: n for n, t in _titles(table, lang).items()}
            for record in records:
                sheet.append([_cell(record, by_title[h], lang) for h in header])
        book.save(target)
    elif fmt == ".ods":
        _fill_ods(template, target, rows, lang)
    else:
        ((table, records),) = rows.items()
        header = next(
            csv.reader(io.StringIO(template.read_bytes().decode("utf-8-sig")), delimiter=";")
        )
        by_title = {t: n for n, t in _titles(table, lang).items()}
        text = io.StringIO()
        writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
        writer.writerow(header)
        for record in records:
            writer.writerow([_text(_cell(record, by_title[h], lang)) for h in header])
        target.write_bytes(text.getvalue().encode("cp1252"))  # as French Excel saves CSV
    return target


def _cell(record: Mapping[str, object], name: str, lang: str) -> object:
    value = record.get(name)
    return _english(value) if lang == "en" else value


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")  # French dates as text
    return str(value)


def _fill_ods(template: Path, target: Path, rows: Mapping[str, Sequence[Mapping[str, object]]],
              lang: str) -> None:  # fmt: skip
    from odf.opendocument import load
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = load(str(template))
    tables = {str(t.getAttribute("name")): t for t in document.spreadsheet.getElementsByType(Table)}
    for table, records in rows.items():
        sheet = tables[load_mapping().table(table).title(lang)]
        existing = sheet.getElementsByType(TableRow)
        header_row, blank = existing[0], existing[1]
        header = ["".join(str(n) for n in cell.childNodes) for cell in header_row.childNodes]
        by_title = {t: n for n, t in _titles(table, lang).items()}
        for record in records:
            line = TableRow()
            for title in header:
                value = _cell(record, by_title[title], lang)
                if isinstance(value, int):
                    cell = TableCell(valuetype="float", value=str(value))
                elif isinstance(value, date):
                    cell = TableCell(valuetype="date", datevalue=value.isoformat())
                else:
                    cell = TableCell(valuetype="string") if value is not None else TableCell()
                    if value is not None:
                        cell.addElement(P(text=str(value)))
                line.addElement(cell)
            sheet.insertBefore(line, blank)
    document.save(str(target))


def content_copy(project: Project, root: Path) -> Project:
    for name in ("ontology", "data", "queries"):
        shutil.copytree(project.root / name, root / name)
    return Project.at(root)


@pytest.fixture(scope="module")
def checked(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A copy of the content for --dry-run checks (which write nothing)."""
    return content_copy(project, tmp_path_factory.mktemp("content"))


@pytest.fixture
def content(project: Project, tmp_path: Path) -> Project:
    """A private copy of the content, for imports that commit."""
    return content_copy(project, tmp_path / "content")


def run(runner: CliRunner, content: Project, *args: str) -> tuple[int, str, str]:
    """The command, in French unless it says --lang (the default is the locale's)."""
    result = runner.invoke(app, ["--root", str(content.root), *args], env={"LC_ALL": "fr_FR.UTF-8"})
    return result.exit_code, result.stdout, result.stderr


def template(runner: CliRunner, content: Project, path: Path, lang: str = "fr") -> Path:
    code, _, stderr = run(runner, content, "template", "-o", str(path), "--lang", lang)
    assert code == 0, stderr
    return path


# ------------------------------------------------------------------ filled templates


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("suffix", [".xlsx", ".ods", ".csv"])
def test_a_filled_template_conforms_in_every_format_and_language(
    runner: CliRunner, checked: Project, tmp_path: Path, suffix: str, lang: str
) -> None:
    blank = template(runner, checked, tmp_path / f"blank{suffix}", lang)
    rows = ROWS if suffix != ".csv" else {"links": [ABOMEY_LINK]}
    filled = fill(blank, tmp_path / f"filled{suffix}", rows, lang)
    code, stdout, stderr = run(runner, checked, "import", str(filled), "--dry-run", "--lang", lang)
    assert code == 0, stdout + stderr
    assert "Conforme" in stderr if lang == "fr" else "Conforms" in stderr
    assert not (checked.data_dir / "submission").exists()


def test_the_template_lists_the_graphs_names(
    runner: CliRunner, checked: Project, tmp_path: Path
) -> None:
    book = load_workbook(template(runner, checked, tmp_path / "blank.xlsx"))
    assert book.sheetnames == ["Liens", "Actions", "Instructions", "Listes"]
    lists = book["Listes"]
    listed = {cell.value for column in lists.iter_cols() for cell in column}
    assert {"Cergy-Pontoise", "Bénin", "jumelage", "oui"} <= listed
    links = book["Liens"]
    assert links["B1"].value == "Partie française"
    checks = {str(v.sqref): v.formula1 for v in links.data_validations.dataValidation}
    assert checks["B2:B501"].startswith("'Listes'!$")


def test_template_import_query_xlsx_keeps_every_value(
    runner: CliRunner, content: Project, tmp_path: Path
) -> None:
    """The whole way: a template filled in ODS, imported, read back by the named queries and
    written as a workbook whose cells hold the values the CSV answer holds."""
    filled = fill(template(runner, content, tmp_path / "blank.ods"), tmp_path / "coop.ods", ROWS)
    code, stdout, stderr = run(runner, content, "import", str(filled), "--lang", "en")
    assert code == 0, stdout + stderr
    (stored,) = content.data_dir.glob("submission-*.ttl")
    assert f"Added: {stored}" in stderr
    digest = hashlib.sha256(filled.read_bytes()).hexdigest()
    assert stored.name == f"submission-{digest[:16]}.ttl"
    assert "file-type/ODS" in stored.read_text()
    code, answer, _ = run(
        runner, content, "query", "partners-of-ca", "-p", "ca=authority:ca-cergy-pontoise",
        "--format", "json",
    )  # fmt: skip
    rows = json.loads(answer)["results"]["bindings"]
    assert {"Abomey", "Porto-Novo"} <= {row["partnerLabel"]["value"] for row in rows}

    workbook = tmp_path / "actions.xlsx"
    asked = ("query", "actions-of-ca", "-p", "ca=authority:ca-cergy-pontoise")
    code, _, stderr = run(runner, content, *asked, "--format", "xlsx", "-o", str(workbook))
    assert code == 0, stderr
    sheet = load_workbook(workbook).active
    header = [cell.value for cell in sheet[1]]
    cells = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]
    (ours,) = [r for r in cells if r["label"].value == ABOMEY_ACTION["title"]]
    assert ours["action"].hyperlink.target == ours["action"].value
    assert str(ours["action"].value).startswith(SUBMISSION_NAMESPACE)
    assert ours["amount"].value == 1500.5 and ours["amount"].data_type == "n"
    code, csv_text, _ = run(runner, content, *asked, "--format", "csv")
    (expected,) = [
        r for r in csv.DictReader(io.StringIO(csv_text)) if r["label"] == ABOMEY_ACTION["title"]
    ]
    for name, cell in ours.items():
        value = "" if cell.value is None else cell.value
        assert str(value) == expected[name] or float(expected[name]) == value

    code, _, stderr = run(runner, content, "import", str(filled))
    assert code == 0 and "Déjà présent" in stderr  # the same file again changes nothing


def test_a_sheet_with_one_bad_row_commits_nothing(
    runner: CliRunner, content: Project, tmp_path: Path
) -> None:
    before = {p.name: p.read_bytes() for p in content.data_dir.iterdir()}
    state_partner = {**ABOMEY_LINK, "identifier": "x", "partner": "Ville X"}
    state_partner.update(partner_country="France", partner_status=None)
    rows = {"links": [ABOMEY_LINK, state_partner]}
    filled = fill(template(runner, content, tmp_path / "blank.xlsx"), tmp_path / "bad.xlsx", rows)
    code, stdout, stderr = run(runner, content, "import", str(filled))
    assert code == 1, stdout + stderr
    assert "rien n'a été écrit" in stderr
    assert {p.name: p.read_bytes() for p in content.data_dir.iterdir()} == before


# ------------------------------------------------------------------ problems at their cells


def test_law_violations_are_reported_at_their_row_and_column_with_the_legal_text(
    runner: CliRunner, checked: Project, tmp_path: Path
) -> None:
    french_state = {
        **ABOMEY_LINK,
        "partner": "Ville X",
        "partner_country": "FRA",
        "partner_status": None,
    }
    rows = {"links": [ABOMEY_LINK, french_state]}
    filled = fill(template(runner, checked, tmp_path / "blank.xlsx"), tmp_path / "f.xlsx", rows)
    code, stdout, _ = run(runner, checked, "import", str(filled), "--dry-run")
    assert code == 1
    assert (
        "Liens, ligne 3, colonne « Pays du partenaire » (D) : Une collectivité territoriale "
        "étrangère a un seul pays, qui n'est pas la France"
    ) in stdout
    assert "(Circulaire du 26 mai 1994)" in stdout
    assert "Liens, ligne 3, colonne « Statut du partenaire dans son pays » (E) :" in stdout
    assert "ligne 2" not in stdout
    code, stdout, _ = run(runner, checked, "import", str(filled), "--dry-run", "--lang", "en")
    assert (
        'Liens, row 3, column "Pays du partenaire" (D): A foreign territorial authority' in stdout
    )
    assert "(Circular of 26 May 1994)" in stdout
    code, stdout, _ = run(runner, checked, "import", str(filled), "--dry-run", "--format", "json")
    document = json.loads(stdout)
    assert code == 1 and not document["conforms"] and document["dryRun"]
    placed = {(p["row"], p["letter"], p["severity"]) for p in document["problems"]}
    assert {(3, "D", "Violation"), (3, "E", "Violation")} <= placed
    assert all(p["row"] == 3 for p in document["problems"])
    assert "Circulaire du 26 mai 1994" in document["problems"][0]["legalTexts"]


def test_unreadable_cells_are_all_reported_before_the_law(
    runner: CliRunner, checked: Project, tmp_path: Path
) -> None:
    bad = {**ABOMEY_ACTION, "actor": "Cergy-Pontoize", "amount": "beaucoup", "year": "2006,5",
           "domains": "Culture; Jardinage"}  # fmt: skip
    ambiguous = {**ABOMEY_ACTION, "title": "Autre", "actor": "Saint"}
    rows = {"links": [ABOMEY_LINK], "actions": [bad, ambiguous]}
    filled = fill(template(runner, checked, tmp_path / "blank.xlsx"), tmp_path / "c.xlsx", rows)
    code, stdout, stderr = run(runner, checked, "import", str(filled), "--dry-run")
    assert code == 2, stdout + stderr
    lines = stdout.splitlines()
    assert (
        "Actions, ligne 2, colonne « Collectivité responsable » (B) : « Cergy-Pontoize » est "
        "inconnu ; vouliez-vous dire « Cergy-Pontoise » ?"
    ) in lines
    assert (
        "Actions, ligne 2, colonne « Montant (euros) » (F) : « beaucoup » n'est pas un "
        "nombre (par exemple 1 500,50)" in lines
    )
    assert (
        "Actions, ligne 2, colonne « Année » (G) : « 2006,5 » n'est pas un nombre entier" in lines
    )
    assert any("« Jardinage » est inconnu" in line for line in lines)
    assert any(
        line.startswith("Actions, ligne 3, colonne « Collectivité responsable » (B) : "
                        "« Saint » désigne plusieurs ressources : « Saint Malo » ; "
                        "« Saint Quentin en Yvelines »")
        for line in lines
    )  # fmt: skip
    assert "illisible" in stderr


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Partie française;Nom bizarre\nCergy;x\n", "unknown column « Nom bizarre »"),
        ("Partenaire étranger;Source de l'information\nKayes;x\n", "« Partie française »"),
        ("Partie française;Partie française\nCergy;Sénart\n", "given twice"),
        (
            "Partie française;Partenaire étranger;Source de l'information\n"
            "Cergy;Kayes;x\nCergy;Kayes;x\n",
            "row 3 repeats row 2",
        ),
        ("Partie française;Partenaire étranger;Source de l'information\n", "no rows to import"),
    ],
)
def test_bad_sheets_are_one_line_and_exit_2(
    runner: CliRunner, checked: Project, tmp_path: Path, text: str, fragment: str
) -> None:
    path = tmp_path / "liens.csv"
    path.write_text(text, encoding="utf-8")
    code, stdout, stderr = run(runner, checked, "import", str(path), "--dry-run")
    assert code == 2
    assert fragment in stderr and len(stderr.strip().splitlines()) == 1 and not stdout


def test_a_renamed_sheet_is_named_with_sheet(
    runner: CliRunner, checked: Project, tmp_path: Path
) -> None:
    filled = fill(template(runner, checked, tmp_path / "blank.xlsx"), tmp_path / "r.xlsx", ROWS)
    book = load_workbook(filled)
    book["Liens"].title = "Feuil1"
    book["Actions"].title = "Feuil2"
    book.save(filled)
    code, _, stderr = run(runner, checked, "import", str(filled), "--dry-run")
    assert code == 2 and "--sheet NAME" in stderr and "« Feuil1 »" in stderr
    code, _, stderr = run(runner, checked, "import", str(filled), "--dry-run", "--sheet", "feuil1")
    assert code == 0, stderr
    code, _, stderr = run(runner, checked, "import", str(filled), "--dry-run", "--sheet", "Liens")
    assert code == 2 and "no sheet « Liens »" in stderr


@pytest.mark.slow
def test_a_sheet_over_the_old_5000_row_cap_and_50000_triples_is_checked_whole(
    checked: Project, tmp_path: Path
) -> None:
    """5 001 links to new partners of Bénin (report l. 1730-1735: Cergy-Pontoise works with
    Porto-Novo, in Bénin): 60 000 triples, more than a submission of RDF text may hold, taken
    by one import, whose bound is its 10 000 rows."""
    lines = ["Partie française;Partenaire étranger;Pays du partenaire;"
             "Statut du partenaire dans son pays;Source de l'information"]  # fmt: skip
    lines += [
        f"Cergy-Pontoise;Commune {n};BEN;commune;https://example.org/deliberations/{n}"
        for n in range(5_001)
    ]
    path = tmp_path / "liens.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcome = import_sheet(checked, path, dry_run=True)
    assert outcome.conforms, [f.line("en") for f in outcome.findings[:3]]
    assert outcome.submission is not None
    assert len(outcome.submission.triples) > DEFAULT_MAX_TRIPLES


# ------------------------------------------------------------------ golden and round trip


def test_a_cooperation_the_report_describes_gives_the_expected_triples(
    checked: Project, tmp_path: Path, said: object
) -> None:
    """« la C.A de Cergy-Pontoise qui coopère avec Porto-Novo depuis 1995 » (l. 1730-1735)."""
    said((1731, 1734), "Cergy-Pontoise", "Porto-Novo (Bénin)", "depuis 1995")  # type: ignore[operator]
    path = tmp_path / "porto-novo.csv"
    path.write_text(
        "Partie française;Partenaire étranger;Pays du partenaire;Année de début;"
        "Source de l'information\n"
        "cergy-pontoise;PORTO NOVO;ben;1995;https://example.org/cergy/porto-novo\n",
        encoding="utf-8-sig",
    )
    outcome = import_sheet(checked, path, dry_run=True)
    assert outcome.conforms and outcome.submission is not None
    link = URIRef(f"{SUBMISSION_NAMESPACE}{outcome.submission.identifier}/lien-2")
    assert set(outcome.submission.triples) == {
        (link, RDF.type, CDO.CooperationLink),
        (link, CDO.frenchParty, URIRef(CERGY)),
        (link, CDO.foreignPartner, URIRef(PORTO_NOVO)),
        (link, CDO.country, URIRef(COUNTRY + "BEN")),
        (link, CDO.startYear, Literal("1995", datatype=XSD.integer)),
        (link, DCTERMS.source, URIRef("https://example.org/cergy/porto-novo")),
        (link, SKOS.prefLabel, Literal("cergy-pontoise — PORTO NOVO", lang="fr")),
    }  # fmt: skip


def test_xlsx_answers_need_a_file_and_never_write_formulas(
    runner: CliRunner, checked: Project, tmp_path: Path
) -> None:
    code, _, stderr = run(runner, checked, "query", "amounts", "--format", "xlsx")
    assert code == 2 and "-o FILE.xlsx" in stderr
    code, _, stderr = run(
        runner,
        checked,
        "query",
        "amounts",
        "--format",
        "xlsx",
        "-o",
        str(checked.data_dir / "a.xlsx"),
    )
    assert code == 2 and not (checked.data_dir / "a.xlsx").exists()
    from coopdec_kg.engines.results import QueryResult
    from coopdec_kg.tabular.answers import answer_xlsx

    day = "2006-06-30"
    hostile = ('=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)")
    result = QueryResult(
        ("text", "n", "d"),
        tuple((Literal(t), Literal("3", datatype=XSD.integer), Literal(day, datatype=XSD.date))
              for t in hostile),
    )  # fmt: skip
    path = tmp_path / "a.xlsx"
    path.write_bytes(answer_xlsx(result, "hostile"))
    sheet = load_workbook(path).active
    assert [(c.value, c.data_type) for c in sheet["A"][1:]] == [(t, "s") for t in hostile]
    assert sheet["B2"].value == 3 and sheet["C2"].is_date
