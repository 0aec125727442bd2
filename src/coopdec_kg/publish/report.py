"""The report's own tables recomputed from the graph, set beside the figures it prints.

`build_report` runs named queries (engagement-levels, links-by-area, national-context,
place-of-groupings, report-audit) and lays their answers out as the report's tables, each cell
holding the figure counted from the graph and, where they differ, the figure printed. It takes
the queries' answers from the caller, so that `report` reads the graph `query` reads (the store,
with its extra files) and both give the same answer to the same question. The answers are read
in the engine's own terms (coopdec_kg.engines.terms), so that the report on the store imports no
rdflib. The writers turn the result into Markdown or a complete, escaped HTML page.
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
from coopdec_kg.publish.reading import number

# The answer of a named query (parameter-free), by its name.
Answers = Callable[[str], QueryResult]
# A resource's name in the reader's language, if the graph has one (publish.reading.namer).
Names = Callable[[Term | None], str | None]
# A row of an answer by column name, in the engine's terms (None where unbound).
Record = dict[str, Term | None]

if TYPE_CHECKING:
    from rdflib import Graph, Literal

FORMATS = ("markdown", "html")
# The report's words in each language; names come from the graph.
WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Intercommunalité et international (2006) — tableaux recalculés à partir du "
        "graphe",
        "introduction": "Chaque tableau du rapport est recompté à partir des entités du graphe "
        "et mis en regard des chiffres que le rapport imprime ; l'audit final liste chaque "
        "chiffre imprimé face au même chiffre recalculé, puis chaque incohérence du rapport, de "
        "toute nature.",
        "printed": "imprimé",
        "and": "et",
        "unnamed": "Aucune CA nommée {groups} {listed} : le rapport n'en nomme pas, le graphe "
        "n'en invente pas.",
        "group": "au groupe",
        "groups": "aux groupes",
        "engagement": "Niveaux d'engagement des CA (partie II)",
        "engagement-columns": "Groupe|Niveau|CA selon le rapport|CA nommées dans le graphe",
        "areas": "Coopération décentralisée des CA : aires d'intervention (l. 1196-1322)",
        "area": "Aire",
        "totals": "TOTAUX",
        "areas-note": "Chaque cellule compte les liens du tableau (« SICOVAL (2) » = deux liens) "
        "; entre parenthèses, le chiffre imprimé quand il diffère (« / » : case sans chiffre).",
        "national": "Contexte national (introduction, l. 1-58)",
        "national-columns": "Chiffre imprimé|Valeur|Unité|Ligne",
        "groupings": "Quelle est la place des groupements de communes en coopération "
        "décentralisée ?",
        "groupings-columns": "Mesure|Ensemble|CA|Part (%)",
        "audit": "Audit du rapport : chiffres imprimés et recalculés",
        "audit-national": "Contexte national : ce que l'on peut recalculer",
        "audit-columns": "Contrôle|Imprimé|Recalculé|Concorde",
        "yes": "oui",
        "no": "NON",
        "audit-note": "{checks} contrôles, {disagreements} désaccords.",
        "inconsistencies": "Incohérences du rapport",
        "inconsistencies-columns": "Nature|Incohérence|Passages|Statut|Ce que garde le graphe",
        "established": "établie",
        "suspicion": "soupçonnée",
        "inconsistencies-note": "{count} incohérences, dont {suspected} soupçonnées (le rapport "
        "ne permet pas d'établir le désaccord) ; le graphe ne corrige aucun des deux côtés.",
    },
    "en": {
        "title": "Intercommunality and international action (2006) — tables recomputed from the "
        "graph",
        "introduction": "Each table of the report is recounted from the graph's entities and "
        "set beside the figures the report prints; the final audit lists each printed figure "
        "beside the same figure recomputed, then each inconsistency of the report, of any kind.",
        "printed": "printed",
        "and": "and",
        "unnamed": "No CA named {groups} {listed}: the report names none, the graph invents none.",
        "group": "in group",
        "groups": "in groups",
        "engagement": "Engagement levels of the CA (part II)",
        "engagement-columns": "Group|Level|CA according to the report|CA named in the graph",
        "areas": "Decentralised cooperation of the CA: areas of intervention (l. 1196-1322)",
        "area": "Area",
        "totals": "TOTALS",
        "areas-note": "Each cell counts the table's links (« SICOVAL (2) » = two links); in "
        "brackets, the printed figure where it differs (« / »: a cell without a figure).",
        "national": "National context (introduction, l. 1-58)",
        "national-columns": "Printed figure|Value|Unit|Line",
        "groupings": "What place do groupings of communes take in decentralised cooperation?",
        "groupings-columns": "Measure|Whole|CA|Share (%)",
        "audit": "Audit of the report: figures printed and recomputed",
        "audit-national": "National context: what can be recomputed",
        "audit-columns": "Check|Printed|Recomputed|Agrees",
        "yes": "yes",
        "no": "NO",
        "audit-note": "{checks} checks, {disagreements} disagreements.",
        "inconsistencies": "Inconsistencies of the report",
        "inconsistencies-columns": "Kind|Inconsistency|Passages|Status|What the graph keeps",
        "established": "established",
        "suspicion": "suspected",
        "inconsistencies-note": "{count} inconsistencies, {suspected} of them suspected (the "
        "report does not allow the disagreement to be established); the graph corrects neither "
        "side.",
    },
}
TITLE = WORDS["fr"]["title"]


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
    lang: str = "fr"


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


@dataclass(frozen=True)
class _Reader:
    """The reader's language: the report's words, the graph's names, numbers as it writes them."""

    lang: str = "fr"
    names: Names | None = None

    def word(self, key: str) -> str:
        return WORDS[self.lang][key]

    def columns(self, key: str) -> tuple[str, ...]:
        return tuple(self.word(key).split("|"))

    def name(self, record: Mapping[str, Term | None], resource: str, label: str) -> str:
        """The resource's name in the reader's language, else the label the query gives."""
        found = self.names(record.get(resource)) if self.names is not None else None
        return found or _text(record.get(label))

    def figure(self, value: int | float | None) -> str:
        if value is None:
            return "/"
        return number(f"{value:g}" if isinstance(value, float) else str(value), self.lang)

    def compare(self, computed: int | float | None, printed: int | float | None) -> Cell:
        """The computed figure, with the printed one beside it when they differ.

        An empty cell of the report (printed « / ») agrees with no link counted there.
        """
        if printed is None and computed == 0:
            return Cell("/")
        if computed == printed:
            return Cell(self.figure(computed))
        shown = f"{self.figure(computed)} ({self.word('printed')}"
        return Cell(f"{shown}{' :' if self.lang == 'fr' else ':'} {self.figure(printed)})", True)


FRENCH = _Reader()


def on_graph(graph: Graph, project: Project) -> Answers:
    """The named queries of the project run by rdflib on `graph`."""
    return lambda name: run(graph, find_query(project, name))


def engagement_table(records: list[Record], say: _Reader = FRENCH) -> Table:
    rows = tuple(
        (
            Cell(_text(r["notation"])),
            Cell(say.name(r, "level", "label")),
            Cell(say.figure(_number(r["statedCount"]))),
            Cell(say.figure(_number(r["namedCount"]))),
        )
        for r in records
    )
    # The report names no CA of groups A and B; extra files or submissions may name some.
    unnamed = [_text(r["notation"]) for r in records if not _number(r["namedCount"])]
    joined = [", ".join(unnamed[:-1]), unnamed[-1]] if len(unnamed) > 1 else unnamed
    listed = f" {say.word('and')} ".join(joined)
    groups = say.word("groups" if len(unnamed) > 1 else "group")
    note = say.word("unnamed").format(groups=groups, listed=listed) if unnamed else ""
    return Table(say.word("engagement"), say.columns("engagement-columns"), rows, note)


def areas_table(
    cells: list[Record],
    audit: Mapping[str, Record],
    say: _Reader = FRENCH,
) -> Table:
    """The table « Aires d'intervention »: cells counted from links, beside the printed ones."""
    areas: dict[str, str] = {}
    levels: dict[str, str] = {}
    counts: dict[tuple[str, str], tuple[int | float | None, int | float | None]] = {}
    for record in cells:
        area, level = terms.text(record["area"]), terms.text(record["level"])
        areas.setdefault(area, say.name(record, "area", "areaLabel"))
        levels.setdefault(level, say.name(record, "level", "levelLabel"))
        counts[area, level] = (_number(record["links"]), _number(record["stated"]))

    def total(check: str) -> Cell:
        row = audit.get(check)
        if row is None:
            return Cell("")
        return say.compare(_number(row["computed"]), _number(row["stated"]))

    rows = [
        (
            Cell(label),
            *(say.compare(*counts[area, level]) for level in levels),
            total("table-row/" + area.rsplit("/", 1)[-1]),
        )
        for area, label in areas.items()
    ]
    rows.append(
        (
            Cell(say.word("totals")),
            *(total("table-column/" + level.rsplit("/", 1)[-1]) for level in levels),
            total("table-grand-total"),
        )
    )
    return Table(
        say.word("areas"),
        (say.word("area"), *levels.values(), say.word("totals")),
        tuple(rows),
        say.word("areas-note"),
    )


def national_table(records: list[Record], say: _Reader = FRENCH) -> Table:
    rows = tuple(
        (
            Cell(say.name(r, "observation", "label")),
            Cell(say.figure(_number(r["value"]))),
            Cell(say.name(r, "unit", "unit").removeprefix("unit:")),
            Cell(_text(r["line"])),
        )
        for r in records
    )
    return Table(say.word("national"), say.columns("national-columns"), rows)


def groupings_table(records: list[Record], say: _Reader = FRENCH) -> Table:
    rows = tuple(
        (
            Cell(_text(r["label"])),
            Cell(say.figure(_number(r["whole"]))),
            Cell(say.figure(_number(r["groupings"]))),
            Cell(say.figure(_number(r["sharePercent"]))),
        )
        for r in records
    )
    return Table(say.word("groupings"), say.columns("groupings-columns"), rows)


INCONSISTENCY_CHECK = "inconsistency/"  # the audit rows that no figure recomputes


def audit_table(
    records: list[Record],
    checks: tuple[str, ...] = (),
    say: _Reader = FRENCH,
) -> Table:
    """The numeric audit rows (all, or those whose check id starts with one of `checks`)."""
    numeric = [r for r in records if not _text(r["check"]).startswith(INCONSISTENCY_CHECK)]
    selected = [r for r in numeric if not checks or _text(r["check"]).startswith(checks)]
    rows = tuple(
        (
            Cell(_text(r["label"])),
            Cell(say.figure(_number(r["stated"]))),
            Cell(say.figure(_number(r["computed"]))),
            Cell(
                say.word("yes") if _text(r["agrees"]) == "true" else say.word("no"),
                alert=_text(r["agrees"]) != "true",
            ),
        )
        for r in selected
    )
    disagreements = sum(1 for row in rows if row[3].alert)
    note = say.word("audit-note").format(checks=len(rows), disagreements=disagreements)
    return Table(
        say.word("audit" if not checks else "audit-national"),
        say.columns("audit-columns"),
        rows,
        note if not checks else "",
    )


def inconsistencies_table(records: list[Record], say: _Reader = FRENCH) -> Table:
    """Every inconsistency of the report, whatever its kind: both passages, what the graph keeps.

    An inconsistency that two checks recompute is shown once, under its first check's label.
    """
    first: dict[str, Record] = {}
    for record in records:
        if record.get("inconsistency") is not None:
            first.setdefault(terms.text(record["inconsistency"]), record)
    statuses = {code: say.word(code) for code in ("established", "suspicion")}
    rows = tuple(
        (
            Cell(say.name(r, "kind", "kindLabel")),
            Cell(_text(r["label"])),
            Cell(_text(r["passages"])),
            Cell(statuses.get(_text(r["status"]), _text(r["status"]))),
            Cell(_text(r["keeps"])),
        )
        for r in first.values()
    )
    suspected = sum(1 for row in rows if row[3].text == statuses["suspicion"])
    return Table(
        say.word("inconsistencies"),
        say.columns("inconsistencies-columns"),
        rows,
        say.word("inconsistencies-note").format(count=len(rows), suspected=suspected),
    )


def build_report(answers: Answers, lang: str = "fr", names: Names | None = None) -> Report:
    """Run the named queries and lay their answers out as the report's tables, in `lang`
    (fr or en): the report's words, and the names `names` gives (else the queries' labels,
    which are French)."""
    say = _Reader(lang, names)

    def records(name: str) -> list[Record]:
        """The rows by column, in the engine's terms (no rdflib term is made)."""
        answer = answers(name)
        return [dict(zip(answer.variables, row, strict=True)) for row in answer.terms]

    audit = records("report-audit")
    audit_by_check = {_text(r["check"]): r for r in audit}
    return Report(
        say.word("title"),
        say.word("introduction"),
        (
            engagement_table(records("engagement-levels"), say),
            areas_table(records("links-by-area"), audit_by_check, say),
            national_table(records("national-context"), say),
            audit_table(audit, ("epci-by-type", "ca-share-of-epci"), say),
            groupings_table(records("place-of-groupings"), say),
            audit_table(audit, (), say),
            inconsistencies_table(audit, say),
        ),
        lang,
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
        f'<html lang="{esc(report.lang)}">',
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
