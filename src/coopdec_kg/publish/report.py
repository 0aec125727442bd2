"""The report's own tables recomputed from the graph, set beside the figures it prints.

`build_report` runs named queries (engagement-levels, links-by-area, national-context,
place-of-groupings, report-audit) and lays their answers out as the report's tables, each cell
holding the figure counted from the graph and, where they differ, the figure printed. It takes
the queries' answers from the caller, so that `report` reads the graph `query` reads (the store,
with its extra files) and both give the same answer to the same question. The writers turn the
result into Markdown or a complete, escaped HTML page.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from coopdec_kg.content.project import Project
from coopdec_kg.engines import terms
from coopdec_kg.engines.queries import find_query, run
from coopdec_kg.engines.results import QueryResult, plain
from coopdec_kg.engines.terms import Term

# The answer of a named query (parameter-free), by its name.
Answers = Callable[[str], QueryResult]

if TYPE_CHECKING:
    from rdflib import Graph, Literal

FORMATS = ("markdown", "html")
TITLE = "Intercommunalité et international (2006) — tableaux recalculés à partir du graphe"


@dataclass(frozen=True)
class Cell:
    """One cell; `alert` marks a figure that disagrees with the one the report prints."""

    text: str
    alert: bool = False


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class Report:
    title: str
    introduction: str
    tables: tuple[Table, ...] = field(default_factory=tuple)


def _text(term: Term | None) -> str:
    return plain(term)


def _number(term: Term | None) -> int | float | None:
    """A numeric literal as a Python number (integers stay integers), else None.

    The engine's term is read directly when its form is one terms.number reads as rdflib does;
    any other literal is read by rdflib (imported then: the report on the store needs none).
    """
    value = None if term is None else terms.number(term)
    if value is None and term is not None and terms.kind(term) == "literal":
        value = cast("Literal", terms.to_rdflib(term)).toPython()
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    return int(value) if value == int(value) else float(value)


def _figure(value: int | float | None) -> str:
    if value is None:
        return "/"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _compare(computed: int | float | None, printed: int | float | None) -> Cell:
    """The computed figure, with the printed one beside it when they differ.

    An empty cell of the report (printed « / ») agrees with no link counted there.
    """
    if printed is None and computed == 0:
        return Cell("/")
    if computed == printed:
        return Cell(_figure(computed))
    return Cell(f"{_figure(computed)} (imprimé : {_figure(printed)})", alert=True)


def on_graph(graph: Graph, project: Project) -> Answers:
    """The named queries of the project run by rdflib on `graph`."""
    return lambda name: run(graph, find_query(project, name))


def engagement_table(records: list[dict[str, Term | None]]) -> Table:
    rows = tuple(
        (
            Cell(_text(r["notation"])),
            Cell(_text(r["label"])),
            Cell(_figure(_number(r["statedCount"]))),
            Cell(_figure(_number(r["namedCount"]))),
        )
        for r in records
    )
    # The report names no CA of groups A and B; extra files or submissions may name some.
    unnamed = [_text(r["notation"]) for r in records if not _number(r["namedCount"])]
    listed = " et ".join([", ".join(unnamed[:-1]), unnamed[-1]] if len(unnamed) > 1 else unnamed)
    plural = len(unnamed) > 1
    note = (
        f"Aucune CA nommée {'aux groupes' if plural else 'au groupe'} {listed} : le rapport "
        "n'en nomme pas, le graphe n'en invente pas."
        if unnamed
        else ""
    )
    return Table(
        "Niveaux d'engagement des CA (partie II)",
        ("Groupe", "Niveau", "CA selon le rapport", "CA nommées dans le graphe"),
        rows,
        note,
    )


def areas_table(
    cells: list[dict[str, Term | None]], audit: Mapping[str, dict[str, Term | None]]
) -> Table:
    """The table « Aires d'intervention »: cells counted from links, beside the printed ones."""
    areas: dict[str, str] = {}
    levels: dict[str, str] = {}
    counts: dict[tuple[str, str], tuple[int | float | None, int | float | None]] = {}
    for record in cells:
        area, level = terms.text(record["area"]), terms.text(record["level"])
        areas.setdefault(area, _text(record["areaLabel"]))
        levels.setdefault(level, _text(record["levelLabel"]))
        counts[area, level] = (_number(record["links"]), _number(record["stated"]))

    def total(check: str) -> Cell:
        row = audit.get(check)
        if row is None:
            return Cell("")
        return _compare(_number(row["computed"]), _number(row["stated"]))

    rows = [
        (
            Cell(label),
            *(_compare(*counts[area, level]) for level in levels),
            total("table-row/" + area.rsplit("/", 1)[-1]),
        )
        for area, label in areas.items()
    ]
    rows.append(
        (
            Cell("TOTAUX"),
            *(total("table-column/" + level.rsplit("/", 1)[-1]) for level in levels),
            total("table-grand-total"),
        )
    )
    return Table(
        "Coopération décentralisée des CA : aires d'intervention (l. 1196-1322)",
        ("Aire", *levels.values(), "TOTAUX"),
        tuple(rows),
        "Chaque cellule compte les liens du tableau (« SICOVAL (2) » = deux liens) ; entre "
        "parenthèses, le chiffre imprimé quand il diffère (« / » : case sans chiffre).",
    )


def national_table(records: list[dict[str, Term | None]]) -> Table:
    rows = tuple(
        (
            Cell(_text(r["label"])),
            Cell(_figure(_number(r["value"]))),
            Cell(_text(r["unit"]).removeprefix("unit:")),
            Cell(_text(r["line"])),
        )
        for r in records
    )
    return Table(
        "Contexte national (introduction, l. 1-58)",
        ("Chiffre imprimé", "Valeur", "Unité", "Ligne"),
        rows,
    )


def groupings_table(records: list[dict[str, Term | None]]) -> Table:
    rows = tuple(
        (
            Cell(_text(r["label"])),
            Cell(_figure(_number(r["whole"]))),
            Cell(_figure(_number(r["groupings"]))),
            Cell(_figure(_number(r["sharePercent"]))),
        )
        for r in records
    )
    return Table(
        "Quelle est la place des groupements de communes en coopération décentralisée ?",
        ("Mesure", "Ensemble", "CA", "Part (%)"),
        rows,
    )


INCONSISTENCY_CHECK = "inconsistency/"  # the audit rows that no figure recomputes
STATUS = {"established": "établie", "suspicion": "soupçonnée"}


def audit_table(records: list[dict[str, Term | None]], checks: tuple[str, ...] = ()) -> Table:
    """The numeric audit rows (all, or those whose check id starts with one of `checks`)."""
    numeric = [r for r in records if not _text(r["check"]).startswith(INCONSISTENCY_CHECK)]
    selected = [r for r in numeric if not checks or _text(r["check"]).startswith(checks)]
    rows = tuple(
        (
            Cell(_text(r["label"])),
            Cell(_figure(_number(r["stated"]))),
            Cell(_figure(_number(r["computed"]))),
            Cell(
                "oui" if _text(r["agrees"]) == "true" else "NON", alert=_text(r["agrees"]) != "true"
            ),
        )
        for r in selected
    )
    disagreements = sum(1 for row in rows if row[3].alert)
    return Table(
        "Audit du rapport : chiffres imprimés et recalculés"
        if not checks
        else "Contexte national : ce que l'on peut recalculer",
        ("Contrôle", "Imprimé", "Recalculé", "Concorde"),
        rows,
        f"{len(rows)} contrôles, {disagreements} désaccords." if not checks else "",
    )


def inconsistencies_table(records: list[dict[str, Term | None]]) -> Table:
    """Every inconsistency of the report, whatever its kind: both passages, what the graph keeps.

    An inconsistency that two checks recompute is shown once, under its first check's label.
    """
    first: dict[str, dict[str, Term | None]] = {}
    for record in records:
        if record.get("inconsistency") is not None:
            first.setdefault(terms.text(record["inconsistency"]), record)
    rows = tuple(
        (
            Cell(_text(r["kindLabel"])),
            Cell(_text(r["label"])),
            Cell(_text(r["passages"])),
            Cell(STATUS.get(_text(r["status"]), _text(r["status"]))),
            Cell(_text(r["keeps"])),
        )
        for r in first.values()
    )
    suspected = sum(1 for row in rows if row[3].text == STATUS["suspicion"])
    return Table(
        "Incohérences du rapport",
        ("Nature", "Incohérence", "Passages", "Statut", "Ce que garde le graphe"),
        rows,
        f"{len(rows)} incohérences, dont {suspected} soupçonnées (le rapport ne permet pas "
        "d'établir le désaccord) ; le graphe ne corrige aucun des deux côtés.",
    )


def build_report(answers: Answers) -> Report:
    """Run the named queries and lay their answers out as the report's tables."""

    def records(name: str) -> list[dict[str, Term | None]]:
        """The rows by column, as the engine's terms (no rdflib term is made)."""
        answer = answers(name)
        return [dict(zip(answer.variables, row, strict=True)) for row in answer.terms]

    audit = records("report-audit")
    audit_by_check = {_text(r["check"]): r for r in audit}
    return Report(
        TITLE,
        "Chaque tableau du rapport est recompté à partir des entités du graphe et mis en regard "
        "des chiffres que le rapport imprime ; l'audit final liste chaque chiffre imprimé face au "
        "même chiffre recalculé, puis chaque incohérence du rapport, de toute nature.",
        (
            engagement_table(records("engagement-levels")),
            areas_table(records("links-by-area"), audit_by_check),
            national_table(records("national-context")),
            audit_table(audit, ("epci-by-type", "ca-share-of-epci")),
            groupings_table(records("place-of-groupings")),
            audit_table(audit),
            inconsistencies_table(audit),
        ),
    )


# ------------------------------------------------------------------------------------ writers


def _markdown_cell(cell: Cell) -> str:
    text = " ".join(cell.text.split()).replace("\\", "\\\\").replace("|", "\\|")
    return f"**{text}**" if cell.alert else text


def to_markdown(report: Report) -> str:
    """GitHub-flavoured Markdown; figures that disagree with the report are in bold."""
    lines = [f"# {report.title}", "", report.introduction, ""]
    for table in report.tables:
        lines += [f"## {table.title}", ""]
        lines.append("| " + " | ".join(_markdown_cell(Cell(c)) for c in table.columns) + " |")
        lines.append("|" + "|".join(" --- " for _ in table.columns) + "|")
        lines += ["| " + " | ".join(_markdown_cell(c) for c in row) + " |" for row in table.rows]
        if table.note:
            lines += ["", table.note]
        lines.append("")
    return "\n".join(lines)


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:70rem;line-height:1.4}"
    "table{border-collapse:collapse;margin:1rem 0}"
    "th,td{border:1px solid #bbb;padding:.3rem .6rem;text-align:left;vertical-align:top}"
    "th{background:#eee}td.alert{background:#fde2e1;font-weight:bold}"
)


def to_html(report: Report) -> str:
    """A complete HTML page; every text is escaped, disagreeing cells carry class="alert"."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="fr">',
        '<head><meta charset="utf-8">',
        f"<title>{esc(report.title)}</title>",
        f"<style>{_STYLE}</style></head>",
        "<body>",
        f"<h1>{esc(report.title)}</h1>",
        f"<p>{esc(report.introduction)}</p>",
    ]
    for table in report.tables:
        parts.append(f"<h2>{esc(table.title)}</h2>")
        parts.append("<table>")
        parts.append("<tr>" + "".join(f"<th>{esc(c)}</th>" for c in table.columns) + "</tr>")
        for row in table.rows:
            cells = "".join(
                f'<td class="alert">{esc(c.text)}</td>' if c.alert else f"<td>{esc(c.text)}</td>"
                for c in row
            )
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</table>")
        if table.note:
            parts.append(f"<p>{esc(table.note)}</p>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def render(report: Report, output_format: str) -> str:
    if output_format == "html":
        return to_html(report)
    if output_format == "markdown":
        return to_markdown(report)
    raise ValueError(f"unknown report format {output_format!r}")
