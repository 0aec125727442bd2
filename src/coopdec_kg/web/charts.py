"""The report's tables as charts a person reads at a glance, drawn on the server as plain SVG
(no script): the six engagement levels (the counts the report states beside the CA the graph
names), the « Aires d'intervention » table (printed beside recounted, cell by cell) and the
audit (each printed figure beside the same figure recomputed, disagreements marked).

Each function takes a named query's answer as the pages show it (jobs.Table) and returns what
the template draws; the columns read are the queries' contract (DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coopdec_kg.web.jobs import Table

BAR_WIDTH = 18.0
GAP = 4.0  # between the two bars of a level
GROUP_GAP = 28.0
CHART_HEIGHT = 220.0  # of the bars' area, in user units
LABEL_SPACE = 40.0  # under the bars: the level's letter
TOP_SPACE = 20.0  # above the tallest bar: its value


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    series: str  # "stated" or "named"


@dataclass(frozen=True)
class LevelGroup:
    level: Any  # resources.Value of the level
    notation: str
    bars: tuple[Bar, ...]
    centre: float


@dataclass(frozen=True)
class BarChart:
    width: float
    height: float
    baseline: float
    groups: tuple[LevelGroup, ...]


def _number(cell: Any) -> int | None:
    return int(cell.text) if cell is not None and cell.text.lstrip("-").isdigit() else None


def _index(table: Table) -> dict[str, int]:
    return {name: i for i, name in enumerate(table.columns)}


def levels_chart(table: Table) -> BarChart:
    """engagement-levels as grouped bars: statedCount beside namedCount for each level."""
    column = _index(table)
    rows = [
        (
            row[column["level"]],
            row[column["notation"]],
            _number(row[column["statedCount"]]),
            _number(row[column["namedCount"]]),
        )
        for row in table.rows
    ]
    largest = max((v for _, _, *values in rows for v in values if v is not None), default=1) or 1
    groups = []
    x = GROUP_GAP / 2
    for level, notation, stated, named in rows:
        bars = []
        for offset, (series, value) in enumerate((("stated", stated), ("named", named))):
            if value is None:
                continue
            height = value / largest * CHART_HEIGHT
            left = x + offset * (BAR_WIDTH + GAP)
            top = TOP_SPACE + CHART_HEIGHT - height
            bars.append(Bar(left, top, BAR_WIDTH, height, value, series))
        centre = x + BAR_WIDTH + GAP / 2
        groups.append(LevelGroup(level, notation.text if notation else "", tuple(bars), centre))
        x += 2 * BAR_WIDTH + GAP + GROUP_GAP
    baseline = TOP_SPACE + CHART_HEIGHT
    return BarChart(x - GROUP_GAP / 2, baseline + LABEL_SPACE, baseline, tuple(groups))


@dataclass(frozen=True)
class Cell:
    printed: int | None
    recounted: int
    disagrees: bool


@dataclass(frozen=True)
class AreaGrid:
    levels: tuple[Any, ...]  # Values, in the table's column order
    rows: tuple[tuple[Any, tuple[Cell, ...]], ...]  # (area, cells)


def area_grid(table: Table) -> AreaGrid:
    """links-by-area as the report's table: one row per area, one cell per level."""
    column = _index(table)
    levels: dict[str, Any] = {}
    cells: dict[str, tuple[Any, dict[str, Cell]]] = {}
    for row in table.rows:
        area, level = row[column["area"]], row[column["level"]]
        if area is None or level is None:
            continue
        levels.setdefault(str(level.iri), level)
        printed, recounted = _number(row[column["stated"]]), _number(row[column["links"]]) or 0
        _, by_level = cells.setdefault(str(area.iri), (area, {}))
        by_level[str(level.iri)] = Cell(printed, recounted, (printed or 0) != recounted)
    return AreaGrid(
        tuple(levels.values()),
        tuple(
            (area, tuple(by_level.get(iri, Cell(None, 0, False)) for iri in levels))
            for area, by_level in cells.values()
        ),
    )


@dataclass(frozen=True)
class Check:
    label: str
    stated: str
    computed: str
    agrees: bool
    kind: Any  # Value of the inconsistency kind, or None


def audit_rows(table: Table) -> tuple[Check, ...]:
    """report-audit's checks, each printed figure beside the figure recomputed."""
    column = _index(table)

    def text(row: tuple[Any, ...], name: str) -> str:
        cell = row[column[name]]
        return cell.text if cell is not None else ""

    return tuple(
        Check(
            text(row, "label"),
            text(row, "stated"),
            text(row, "computed"),
            text(row, "agrees") == "true",
            row[column["kindLabel"]],
        )
        for row in table.rows
    )
