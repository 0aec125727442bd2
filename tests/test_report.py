"""The `report` command: the report's tables recomputed beside its printed figures."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from rdflib import Graph
from typer.testing import CliRunner

from conftest import REPO
from coopdec_kg.cli import app
from coopdec_kg.content.project import Project
from coopdec_kg.publish.report import (
    Cell,
    Report,
    Table,
    build_report,
    on_graph,
    to_html,
    to_markdown,
)

ROOT = ["--root", str(REPO)]
VOID_ELEMENTS = {"meta", "br", "hr", "img", "link", "input"}


class TagChecker(HTMLParser):
    """Collects the text and checks that every element is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(page: str) -> TagChecker:
    checker = TagChecker()
    checker.feed(page)
    checker.close()
    assert checker.open == []
    return checker


@pytest.fixture(scope="module")
def report(graph: Graph, project: Project) -> Report:
    return build_report(on_graph(graph, project))


def table(report: Report, title_start: str) -> Table:
    return next(t for t in report.tables if t.title.startswith(title_start))


def test_engagement_table(report: Report) -> None:
    levels = table(report, "Niveaux d'engagement")
    # report l. 318, 377, 389, 442, 556, 562; the CA named in lists of l. 391-565
    assert [(r[0].text, r[2].text, r[3].text) for r in levels.rows] == [
        ("A", "74", "0"),
        ("B", "12", "0"),
        ("C", "18", "18"),
        ("D", "14", "14"),
        ("E", "8", "8"),
        ("F", "5", "5"),
    ]


def test_areas_table_counts_links_and_shows_printed_totals(report: Report) -> None:
    areas = table(report, "Coopération décentralisée des CA")
    assert areas.columns[0] == "Aire" and areas.columns[-1] == "TOTAUX"
    rows = {row[0].text: row for row in areas.rows}
    assert len(rows) == 9  # eight areas (l. 1217-1321) and the TOTAUX line (l. 1322)
    africa = [c.text for c in rows["Afrique subsaharienne"][1:]]
    assert africa == ["2", "6", "9", "/", "17"]  # « Total : 2 6 9 / 17 » (l. 1244)
    totals = rows["TOTAUX"][1:]  # « TOTAUX 18 16 9 5 48 » (l. 1322)
    assert [c.text for c in totals] == [
        "19 (imprimé : 18)",
        "16",
        "10 (imprimé : 9)",
        "6 (imprimé : 5)",
        "51 (imprimé : 48)",
    ]
    assert [c.alert for c in totals] == [True, False, True, True, True]
    assert not any(c.alert for row in areas.rows[:-1] for c in row)  # every cell agrees


def test_national_context_and_what_can_be_computed(report: Report) -> None:
    national = table(report, "Contexte national (")
    assert ("EPCI à fiscalité propre au 1er janvier 2006", "2\u00a0572") in {
        (r[0].text, r[1].text) for r in national.rows
    }
    computed = table(report, "Contexte national :")
    assert [(r[1].text, r[2].text, r[3].alert) for r in computed.rows] == [
        ("2\u00a0572", "2\u00a0566", True),  # 2 388 + 164 + 14 (l. 27-28) against 2 572 (l. 26)
        ("6", "6", False),
    ]


def test_audit_comes_last_and_counts_disagreements(report: Report) -> None:
    audit, inconsistencies = report.tables[-2:]
    assert audit.title.startswith("Audit")
    disagreements = [row for row in audit.rows if row[3].alert]
    assert len(disagreements) >= 10
    assert audit.note == f"{len(audit.rows)} contrôles, {len(disagreements)} désaccords."
    assert not any(row[0].text.startswith("inconsistency/") for row in audit.rows)
    assert inconsistencies.title == "Incohérences du rapport"


def test_audit_section_lists_every_kind_of_inconsistency(report: Report) -> None:
    """The audit section ends with every inconsistency: its kind, both passages, its status and
    what the graph keeps (issue 13)."""
    inconsistencies = report.tables[-1]
    kinds = {row[0].text for row in inconsistencies.rows}
    assert kinds == {"arithmétique", "liste", "classement", "attribution", "nom", "rang"}
    for _kind, label, passages, status, keeps in (
        tuple(cell.text for cell in row) for row in inconsistencies.rows
    ):
        assert label and keeps, label
        assert len(passages.split("; ")) >= 2, label  # both passages of the disagreement
        assert status in {"établie", "soupçonnée"}, label
    guinea = next(r for r in inconsistencies.rows if "Guinée Konakri" in r[1].text)
    assert (guinea[0].text, guinea[3].text) == ("liste", "soupçonnée")
    suspected = sum(1 for row in inconsistencies.rows if row[3].text == "soupçonnée")
    assert inconsistencies.note.startswith(
        f"{len(inconsistencies.rows)} incohérences, dont {suspected}"
    )


def test_markdown_tables_are_well_formed(report: Report) -> None:
    text = to_markdown(report)
    assert text.startswith("# ")
    assert "| TOTAUX | **19 (imprimé : 18)** | 16 |" in text
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line.startswith("|")]
        if lines:
            widths = {line.count(" | ") for line in lines[:1] + lines[2:]}
            assert len(widths) == 1, block


HOSTILE = Report(
    "<script>alert(1)</script>",
    "a & b",
    (Table('t "|" <b>', ("x|y", "<i>"), ((Cell("1 | 2"), Cell("</td><td>", alert=True)),), "n<"),),
)


def test_html_escapes_everything() -> None:
    page = to_html(HOSTILE)
    parsed = parse_html(page)
    assert "script" not in parsed.tags and "i" not in parsed.tags and "b" not in parsed.tags
    assert "<script>alert(1)</script>" in "".join(parsed.text)
    assert '<td class="alert">&lt;/td&gt;&lt;td&gt;</td>' in page


def test_markdown_escapes_table_separators() -> None:
    text = to_markdown(HOSTILE)
    assert "| x\\|y | <i> |" in text
    assert "| 1 \\| 2 | **</td><td>** |" in text


def test_html_page_is_complete(report: Report) -> None:
    page = to_html(report)
    assert page.startswith("<!DOCTYPE html>")
    parsed = parse_html(page)
    assert parsed.tags[:3] == ["html", "head", "meta"]
    assert parsed.tags.count("table") == len(report.tables)


def test_report_command_markdown(runner: CliRunner) -> None:
    result = runner.invoke(app, [*ROOT, "report", "--lang", "fr"])
    assert result.exit_code == 0, result.stderr
    assert "| Afrique subsaharienne | 2 | 6 | 9 | / | 17 |" in result.stdout
    assert "| TOTAUX | **19 (imprimé : 18)** |" in result.stdout  # l. 1322
    assert result.stderr == ""


def test_the_store_and_rdflib_give_the_same_bytes(runner: CliRunner, report: Report) -> None:
    """`report` reads the store's terms without making rdflib terms: the same page as rdflib."""
    on_store = runner.invoke(app, [*ROOT, "report", "--lang", "fr"])
    assert on_store.exit_code == 0, on_store.stderr
    assert on_store.stdout == to_markdown(report)
    html = runner.invoke(app, [*ROOT, "report", "--lang", "fr", "-f", "html"])
    assert html.stdout == to_html(report)


def test_report_in_english_names_and_numbers_as_english_writes_them(runner: CliRunner) -> None:
    result = runner.invoke(app, [*ROOT, "report", "--lang", "en"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# Intercommunality and international action (2006)")
    assert "| Sub-Saharan Africa | 2 | 6 | 9 | / | 17 |" in result.stdout
    assert "| TOTALS | **19 (printed: 18)** |" in result.stdout
    assert "| Single-purpose syndicates | 14,885 | count | 19 |" in result.stdout  # l. 19-20
    # the audit's check labels are the queries' French texts; the report's own words are not
    assert "TOTAUX" not in result.stdout and "(imprimé" not in result.stdout


def test_report_command_writes_html(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    result = runner.invoke(app, [*ROOT, "report", "--format", "html", "-o", str(target)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert str(target) in result.stderr
    parse_html(target.read_text(encoding="utf-8"))
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


def test_report_into_a_missing_folder_is_a_user_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, [*ROOT, "report", "-o", str(tmp_path / "nowhere" / "r.md")])
    assert result.exit_code == 2
    assert "nowhere" in result.stderr and "Traceback" not in result.stderr
