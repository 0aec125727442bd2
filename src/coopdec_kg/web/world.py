"""The world outline the map page draws: Natural Earth's countries (the npm package
`world-atlas`, shipped in world/) as SVG paths, in an equirectangular projection.

Why on the server: the map is then plain SVG in the page, readable and clickable without
JavaScript, and the outline is decoded once per server run. A country is found by its ISO 3166-1
alpha-3 code, the `skos:notation` of the graph's countries (world/iso-3166-1.tsv maps it to the
numeric ids of world-atlas). A country absent from the 1:110m outline (a small island) is taken
from the 1:50m one; one too small to see gets a dot.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

WIDTH = 1000.0  # the SVG's user units: 360° of longitude
HEIGHT = WIDTH / 2  # 180° of latitude
STEP = 0.5  # coordinates are rounded to this (a finer map would only weigh more)
SMALLEST = 4.0  # a country narrower and shorter than this (in user units) gets a dot
DOT_RADIUS = 3.0


@dataclass(frozen=True)
class Country:
    """One country's outline: its SVG path, and a dot for a country too small to see."""

    numeric: str
    path: str
    dot: tuple[float, float] | None


def _read(name: str) -> Any:
    return json.loads(files("coopdec_kg.web").joinpath("world", name).read_text("utf-8"))


@cache
def numeric_codes() -> dict[str, str]:
    """ISO 3166-1 alpha-3 → numeric code (world/iso-3166-1.tsv)."""
    text = files("coopdec_kg.web").joinpath("world", "iso-3166-1.tsv").read_text("utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    return {alpha3: numeric for alpha3, numeric, *_ in rows[1:]}


def _outlines(topology: dict[str, Any]) -> dict[str, Country]:
    """Each country of a TopoJSON topology (quantized arcs, delta-encoded) as an SVG path."""
    (scale_x, scale_y), (shift_x, shift_y) = (
        topology["transform"]["scale"],
        topology["transform"]["translate"],
    )
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            longitude, latitude = x * scale_x + shift_x, y * scale_y + shift_y
            points.append(
                (
                    round((longitude + 180) / 360 * WIDTH / STEP) * STEP,
                    round((90 - latitude) / 180 * HEIGHT / STEP) * STEP,
                )
            )
        arcs.append(points)

    def ring(indexes: list[int]) -> list[tuple[float, float]]:
        joined: list[tuple[float, float]] = []
        for index in indexes:
            points = arcs[index] if index >= 0 else arcs[~index][::-1]
            joined.extend(points if not joined else points[1:])
        # A ring that crosses the antimeridian (Russia, Fiji) jumps across the map: keep it in
        # one piece, drawn past the map's edge, where the SVG's viewport clips it.
        shift = 0.0
        unwrapped = joined[:1]
        for (previous, _), (x, y) in itertools.pairwise(joined):
            if x - previous > WIDTH / 2:
                shift -= WIDTH
            elif previous - x > WIDTH / 2:
                shift += WIDTH
            unwrapped.append((x + shift, y))
        return [p for i, p in enumerate(unwrapped) if i == 0 or p != unwrapped[i - 1]]

    countries = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        numeric = geometry.get("id")
        if numeric is None:
            continue
        polygons = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
        rings = [ring(r) for polygon in polygons for r in polygon]
        xs = [x for points in rings for x, _ in points]
        ys = [y for points in rings for _, y in points]
        if not xs:
            continue
        path = "".join(
            "M" + "L".join(f"{x:g} {y:g}" for x, y in points) + "Z"
            for points in rings
            if len(points) >= 3  # a ring rounded to a point or a line is not drawn
        )
        small = max(xs) - min(xs) < SMALLEST and max(ys) - min(ys) < SMALLEST
        dot = ((max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2) if small else None
        countries[numeric] = Country(numeric, path, dot)
    return countries


@cache
def outline() -> dict[str, Country]:
    """The world's countries by ISO numeric code: 1:110m, completed from 1:50m."""
    countries = _outlines(_read("countries-50m.json"))
    countries.update(_outlines(_read("countries-110m.json")))
    return countries


def drawn(alpha3_codes: set[str]) -> list[tuple[Country, str | None]]:
    """The countries to draw, each with the alpha-3 code it is shown for (None: a country the
    graph does not name): every country of the 1:110m outline, and the named ones it lacks."""
    codes = numeric_codes()
    wanted = {codes[code]: code for code in alpha3_codes if code in codes}
    base = {g.get("id") for g in _read_base_ids()}
    return [
        (country, wanted.get(numeric))
        for numeric, country in sorted(outline().items())
        if numeric in base or numeric in wanted
    ]


@cache
def _read_base_ids() -> tuple[dict[str, Any], ...]:
    return tuple(_read("countries-110m.json")["objects"]["countries"]["geometries"])
