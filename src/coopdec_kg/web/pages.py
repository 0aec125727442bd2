"""The pages people read: home, search, the report's questions, charts, the map, the SPARQL
page and the validation page (the resource pages are in routes.py, beside the IRIs they
describe). Each handler asks a worker for a job of jobs.py, which calls the library, and
renders a template (templates/) in the reader's language; every page works without JavaScript.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coopdec_kg.content.folding import fold
from coopdec_kg.content.graph import INPUT_FORMATS, submission_format
from coopdec_kg.engines.queries import NamedQuery, bind
from coopdec_kg.errors import CoopdecError, ParameterError, UnknownQuery
from coopdec_kg.publish.export import FORMATS as DUMP_FORMATS
from coopdec_kg.web import charts, world
from coopdec_kg.web.answers import answer_key
from coopdec_kg.web.jobs import Table
from coopdec_kg.web.protocol import BadRequest, QueryTooLong, check_query
from coopdec_kg.web.site import Site, html_failure, language, page

PAGE_ROWS = 20  # rows of a named query's answer per page
SEARCH_LIMIT = 50
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # a submission checked on the validation page
SHADES = 5  # classes of the map's shading: shade-1 (listed, no link) … shade-5 (most links)
LINKS_QUERY = "links-of-country"  # the map's list of a country's links
EXAMPLES = ("engagement-levels", "partners-of-ca", "links-by-country")  # the SPARQL page's
NAMES_AFFINITY = "names"  # searches go to one worker: it builds the index of names (jobs.Served)


def _site(request: Request) -> Site:
    found: Site = request.app.state.site
    return found


# ---------------------------------------------------------------------------- home, search


async def home(request: Request) -> Response:
    served = _site(request)
    lang = language(request)
    try:
        levels, countries = await asyncio.gather(
            served.document("whole_table", "engagement-levels", lang),
            served.document("whole_table", "links-by-country", lang),
        )
    except Exception as error:
        return html_failure(request, error)
    figures = {
        "triples": served.workers.summary["triples"],
        "studied": sum(int(row[3].text) for row in levels.rows if row[3] is not None),
        "named": sum(int(row[4].text) for row in levels.rows if row[4] is not None),
        "countries": len(countries.rows),
        "links": sum(int(row[3].text) for row in countries.rows if row[3] is not None),
    }
    return page(request, "home.html", figures=figures, dumps=list(DUMP_FORMATS.values()))


async def search(request: Request) -> Response:
    served = _site(request)
    text = request.query_params.get("q", "").strip()
    found: list[Any] = []
    if text:
        try:
            found = await served.run(
                "search", text, language(request), SEARCH_LIMIT, affinity=NAMES_AFFINITY
            )
        except Exception as error:
            return html_failure(request, error)
    return page(request, "search.html", text=text, found=found)


# ---------------------------------------------------------------------------- the questions


def _in_language(description: str, lang: str) -> str:
    """A parameter's description in the reader's language: the headers write « français /
    English »."""
    french, _, english = description.partition(" / ")
    return english if lang == "en" and english else french


def _summary(query: NamedQuery, lang: str) -> str:
    return query.summary_en if lang == "en" and query.summary_en else query.summary


async def questions(request: Request) -> Response:
    served = _site(request)
    lang = language(request)
    listed = sorted(served.queries.values(), key=lambda q: q.name)
    return page(
        request, "questions.html", queries=[(q.name, _summary(q, lang), q.tags) for q in listed]
    )


def _offset(request: Request) -> int:
    text = request.query_params.get("offset", "0")
    if not text.isdigit():
        raise ParameterError(f"offset must be a whole number, not {text!r}")
    return int(text)


async def question(request: Request) -> Response:
    """A named query's form; with `run`, its answer as a labelled table, a page at a time."""
    served = _site(request)
    lang = language(request)
    name = request.path_params["name"]
    query = served.queries.get(name)
    if query is None:
        return html_failure(request, UnknownQuery(f"unknown question {name!r}"))
    asked = request.query_params
    values = {p.name: asked[p.name] for p in query.parameters if asked.get(p.name, "").strip()}
    try:
        choices = await served.document("parameter_choices", name, lang)
    except Exception as failure:
        return html_failure(request, failure)
    table: Table | None = None
    error: str | None = None
    if "run" in asked:
        try:
            offset = _offset(request)
            bind(query, values)  # a bad value is refused here, before a worker is taken
            table = await served.run(
                "named_table",
                name,
                values,
                offset,
                PAGE_ROWS,
                lang,
                affinity=answer_key(query, values),
            )
        except ParameterError as failure:
            error = str(failure)
        except Exception as failure:
            return html_failure(request, failure)
    kept = list(values.items())
    here = request.url.path

    def paged(offset: int) -> str:
        return here + "?" + urlencode([*kept, ("run", "1"), ("lang", lang), ("offset", offset)])

    api = request.url_for("api_query", name=name).path
    downloads = {
        fmt: api + "?" + urlencode([*kept, ("format", fmt), ("download", 1)])
        for fmt in ("csv", "json")
    }
    return page(
        request,
        "question.html",
        400 if error else 200,
        query=query,
        summary=_summary(query, lang),
        description=query.description_en if lang == "en" else query.description,
        values=values,
        labels={p.name: _in_language(p.description, lang) for p in query.parameters},
        choices=choices,
        table=table,
        error=error,
        rows_per_page=PAGE_ROWS,
        paged=paged,
        downloads=downloads,
    )


# ---------------------------------------------------------------------------- charts, map


async def charts_page(request: Request) -> Response:
    served = _site(request)
    lang = language(request)
    try:
        levels, areas, audit = await asyncio.gather(
            *(
                served.document("whole_table", name, lang)
                for name in ("engagement-levels", "links-by-area", "report-audit")
            )
        )
    except Exception as error:
        return html_failure(request, error)
    return page(
        request,
        "charts.html",
        levels=charts.levels_chart(levels),
        areas=charts.area_grid(areas),
        audit=charts.audit_rows(audit),
    )


@dataclass(frozen=True)
class MapCountry:
    """A partner country on the map: its code, name (a Value with the country's IRI), number
    of links and shade."""

    code: str
    name: Any
    links: int
    shade: int


def _map_countries(rows: Sequence[Sequence[Any]]) -> list[MapCountry]:
    """links-by-country's rows (country, countryLabel, notation, links), shaded: 1 for a
    country listed without a link, up to SHADES for the most links."""
    counted = [
        (notation.text, country, int(links.text) if links is not None else 0)
        for country, _, notation, links in rows
        if notation is not None and country is not None
    ]
    most = max((links for _, _, links in counted), default=0) or 1
    return sorted(
        (
            MapCountry(code, country, links, 1 + math.ceil(links / most * (SHADES - 1)))
            for code, country, links in counted
        ),
        key=lambda c: (fold(c.name.text), c.code),
    )


async def world_map(request: Request) -> Response:
    """The map; `?country=CODE` also lists that country's links (links-of-country)."""
    served = _site(request)
    lang = language(request)
    try:
        answer = await served.document("whole_table", "links-by-country", lang)
        countries = _map_countries(answer.rows)
        by_code = {c.code: c for c in countries}
        chosen = by_code.get(request.query_params.get("country", ""))
        links = None
        if chosen is not None and LINKS_QUERY in served.queries:
            values = {"country": chosen.name.iri}
            links = await served.run("named_table", LINKS_QUERY, values, 0, PAGE_ROWS, lang)
        outlines = await asyncio.to_thread(world.drawn, set(by_code))  # decoded once, then kept
    except Exception as error:
        return html_failure(request, error)
    drawn = [(outline, by_code.get(code) if code else None) for outline, code in outlines]
    return page(
        request,
        "map.html",
        countries=countries,
        drawn=drawn,
        chosen=chosen,
        links=links,
        all_links=(
            request.url_for("question", name=LINKS_QUERY).path
            + "?"
            + urlencode({"country": chosen.name.iri, "run": "1", "lang": lang})
            if chosen is not None
            else None
        ),
        width=world.WIDTH,
        height=world.HEIGHT,
        dot_radius=world.DOT_RADIUS,
        shades=SHADES,
    )


# ---------------------------------------------------------------------------- SPARQL, validation


async def sparql_page(request: Request) -> Response:
    """The SPARQL page: the editor (a form) and, for a query, its answer as a table."""
    served = _site(request)
    lang = language(request)
    text = request.query_params.get("query", "")
    example = request.query_params.get("example")
    if not text and example in served.queries:
        lines = served.queries[example].text.splitlines()
        text = "\n".join(line for line in lines if not line.startswith("#+")).strip() + "\n"
    answer: Table | bool | None = None
    error: str | None = None
    if text and "run" in request.query_params:
        try:
            check_query(text)
            answer = await served.run("sparql_table", text, lang)
        except (BadRequest, QueryTooLong, CoopdecError) as failure:
            error = str(failure)
        except Exception as failure:
            return html_failure(request, failure)
    endpoint = request.url_for("sparql").path
    downloads = (
        {
            fmt: endpoint + "?" + urlencode({"query": text, "format": fmt, "download": 1})
            for fmt in ("csv", "json")
        }
        if text
        else {}
    )
    return page(
        request,
        "query.html",
        text=text or _prefixes(),
        answer=answer,
        error=error,
        examples=[(n, _summary(served.queries[n], lang)) for n in EXAMPLES if n in served.queries],
        downloads=downloads,
        shown_rows=None if not isinstance(answer, Table) else len(answer.rows),
    )


def _prefixes() -> str:
    """The project's prefixes, to start a query with."""
    from coopdec_kg.content.namespaces import prefixes

    lines = [f"PREFIX {name}: <{iri}>" for name, iri in sorted(prefixes().items())]
    return "\n".join(lines) + "\n\nSELECT * WHERE {\n  ?s ?p ?o\n} LIMIT 10\n"


async def validate_page(request: Request) -> Response:
    """GET: the upload form. POST (multipart): the file validated in memory, nothing written."""
    served = _site(request)
    lang = language(request)
    formats = dict(INPUT_FORMATS)
    if request.method == "GET":
        return page(request, "validate.html", formats=formats, report=None, error=None)
    error: str | None = None
    status = 200
    report = None
    try:
        declared = request.headers.get("content-length", "")
        if not declared.isdigit():
            raise BadRequest("the upload must say its length (Content-Length)")
        if int(declared) > MAX_UPLOAD_BYTES + 64 * 1024:
            raise QueryTooLong(f"the file is larger than the limit of {MAX_UPLOAD_BYTES} bytes")
        async with request.form(max_files=1, max_fields=4, max_part_size=1024) as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str) or not upload.filename:
                raise BadRequest("choose a file to check")
            payload = await upload.read(MAX_UPLOAD_BYTES + 1)
            if len(payload) > MAX_UPLOAD_BYTES:
                raise QueryTooLong(f"the file is larger than the limit of {MAX_UPLOAD_BYTES} bytes")
            chosen = str(form.get("format") or "")
            name = upload.filename
        from pathlib import Path

        fmt = submission_format(Path(name), chosen or None)
        report = await served.run("validation", name, payload, fmt, lang)
    except (BadRequest, QueryTooLong, CoopdecError) as failure:
        error = str(failure)
        status = 413 if isinstance(failure, QueryTooLong) else 400
    except Exception as failure:
        return html_failure(request, failure)
    return page(request, "validate.html", status, formats=formats, report=report, error=error)


def page_routes() -> list[Route]:
    return [
        Route("/", home, name="home"),
        Route("/search", search, name="search"),
        Route("/questions", questions, name="questions"),
        Route("/questions/{name}", question, name="question"),
        Route("/charts", charts_page, name="charts"),
        Route("/map", world_map, name="map"),
        Route("/query", sparql_page, name="sparql_page"),
        Route("/validate", validate_page, methods=["GET", "POST"], name="validate"),
    ]
