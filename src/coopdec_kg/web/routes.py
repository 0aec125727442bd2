"""The server's routes: the SPARQL endpoint, the resolvable IRIs, the API, the operations.

Resolvable IRIs follow the W3C note "Cool URIs for the Semantic Web" (2008):

- A resource `https://w3id.org/coopdec-kg/id/{kind}/{slug}` is a thing, not a document: its path
  `/id/{kind}/{slug}` answers 303 See Other to the document that describes it, chosen by
  `Accept`: `/page/{kind}/{slug}` (HTML) or `/data/{kind}/{slug}.ttl|.nt|.jsonld` (RDF), each a
  URL of its own that can be bookmarked and cited.
- The ontology's IRIs are hash IRIs (`…/ontology#Commune`): the namespace `/ontology` is a
  document, answered directly in the negotiated format (HTML documentation whose anchors are
  the fragments, or the ontology in RDF), with `Content-Location` naming the format's own URL
  (`/ontology.ttl` …).
- The dataset, its catalogue and distributions (`/dataset`, `/catalog` …) answer 303 to their
  description, `/.well-known/void` (DCAT-AP and VoID, as `export --metadata` writes it), and
  the dumps are at the URLs the description gives (`/dump/coopdec-kg.ttl` …).
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from rdflib import Literal, Namespace
from rdflib.namespace import RDF, VOID, XSD
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from coopdec_kg import __version__
from coopdec_kg.content.graph import new_graph
from coopdec_kg.content.namespaces import CDR
from coopdec_kg.engines.queries import bind, describe
from coopdec_kg.errors import ParameterError, UnknownQuery
from coopdec_kg.publish.export import FORMATS as DUMP_FORMATS
from coopdec_kg.web import negotiation, openapi
from coopdec_kg.web.answers import answer_key
from coopdec_kg.web.jobs import written
from coopdec_kg.web.negotiation import Format
from coopdec_kg.web.pages import page_routes
from coopdec_kg.web.protocol import (
    MAX_QUERY_BYTES,
    UPDATES_REFUSED,
    BadRequest,
    NotAcceptable,
    NotFound,
    QueryTooLong,
    Refused,
    Unsupported,
    check_query,
)
from coopdec_kg.web.site import (
    LANGUAGES,
    PAGE_POLICY,
    Site,
    html_failure,
    json_failure,
    json_response,
    language,
    page,
    plain_failure,
)

SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
FORM = "application/x-www-form-urlencoded"
EXAMPLE_QUERY = """PREFIX cdo: <https://w3id.org/coopdec-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?ca ?label WHERE {
  ?ca a cdo:AgglomerationCommunity ; skos:prefLabel ?label .
} ORDER BY ?label LIMIT 20"""
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
GROUPINGS = "authority/"  # the pages of the authorities show their foreign partners …
PARTNERS_QUERY = "partners-of-ca"  # … as this named query finds them
# what a browser asks for first: a page, not the service description
PAGE_OR_DOCUMENT = (negotiation.HTML, *negotiation.DOCUMENTS)


def site(request: Request) -> Site:
    found: Site = request.app.state.site
    return found


def _vary(response: Response, *headers: str) -> Response:
    response.headers["Vary"] = ", ".join(headers)
    return response


# ---------------------------------------------------------------------------- health


async def health(request: Request) -> Response:
    served = site(request)
    return json_response(
        {
            "status": "ok",
            "version": __version__,
            "triples": served.workers.summary["triples"],
            "queries": len(served.queries),
            "workers": served.workers.size,
            "idle_workers": served.workers.idle,
            "replaced_workers": served.workers.replaced,
            "timeout_seconds": served.timeout,
        }
    )


# ---------------------------------------------------------------------------- SPARQL protocol


async def _body(request: Request, limit: int) -> bytes:
    """The request's body, refused past `limit` bytes (before reading more)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise QueryTooLong(f"the request body is larger than the server's limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise QueryTooLong(
                f"the request body is larger than the server's limit of {limit} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _text(payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the request is not UTF-8 text") from None


def _single(pairs: list[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in pairs if key == name]
    if len(values) > 1:
        raise BadRequest(f"the request gives {name} {len(values)} times")
    return values[0] if values else None


async def _protocol_request(request: Request) -> tuple[str | None, list[tuple[str, str]]]:
    """The query text of a SPARQL 1.1 Protocol request (None: no query), and its parameters
    (URL parameters, and the form's for a form POST)."""
    pairs = list(request.query_params.multi_items())
    if request.method == "POST":
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body_limit = 3 * MAX_QUERY_BYTES + 4096  # a form %-encodes: up to 3 bytes a byte
        if media_type == SPARQL_UPDATE:
            raise Refused(UPDATES_REFUSED)
        if media_type == SPARQL_QUERY:
            body = _text(await _body(request, MAX_QUERY_BYTES))
            if _single(pairs, "query") is not None:
                raise BadRequest("a query POSTed as application/sparql-query has no query= too")
            return body, pairs
        if media_type == FORM:
            form = _text(await _body(request, body_limit))
            try:
                pairs += parse_qsl(form, keep_blank_values=True, strict_parsing=False)
            except ValueError:
                raise BadRequest("the form is not URL-encoded") from None
        else:
            raise Unsupported(
                f"a POSTed query is sent as {SPARQL_QUERY} or {FORM}, not {media_type or '(none)'}"
            )
    if _single(pairs, "update") is not None:
        raise Refused(UPDATES_REFUSED)
    return _single(pairs, "query"), pairs


async def sparql(request: Request) -> Response:
    """The SPARQL 1.1 Protocol: query by GET, POST form or POST body; without a query, the
    service description (or, for a browser, a form)."""
    served = site(request)
    try:
        text, pairs = await _protocol_request(request)
        if text is None:
            return _service_description(request, served)
        check_query(text)
        download = _download(pairs)
        answer = await served.run(
            "sparql",
            text,
            request.headers.get("accept"),
            _single(pairs, "format"),
            [value for key, value in pairs if key == "default-graph-uri"],
            [value for key, value in pairs if key == "named-graph-uri"],
            served.max_answer_bytes,
            download,
        )
    except Exception as error:
        return plain_failure(error)
    response = Response(answer.body, media_type=answer.media_type)
    if download:
        _as_download(response, f"answer.{answer.extension}")
    return _vary(response, "Accept")


def _service_description(request: Request, served: Site) -> Response:
    offered = (*negotiation.DOCUMENTS, negotiation.HTML)
    chosen = negotiation.choose(request.headers.get("accept"), offered)
    if chosen is negotiation.HTML:
        return page(request, "sparql.html", example=EXAMPLE_QUERY)
    if chosen is None:
        raise NotAcceptable(f"the service description is offered as {negotiation.listing(offered)}")
    endpoint = str(request.url.replace(query=""))
    description = new_graph()
    template = files("coopdec_kg.web").joinpath("service-description.ttl").read_text("utf-8")
    description.parse(data=template, format="turtle", publicID=endpoint)
    triples = Literal(served.workers.summary["triples"], datatype=XSD.integer)
    for graph in description.subjects(RDF.type, SD.Graph):
        description.add((graph, VOID.triples, triples))
    return _vary(
        Response(written(description, chosen.name), media_type=chosen.content_type), "Accept"
    )


# ---------------------------------------------------------------------------- resources


def _iri(path: str) -> str:
    return str(CDR) + path


def _document_format(request: Request, offered: tuple[Format, ...]) -> Format:
    chosen = negotiation.choose(request.headers.get("accept"), offered)
    if chosen is None:
        raise NotAcceptable(f"this resource is offered as {negotiation.listing(offered)}")
    return chosen


async def resource_iri(request: Request) -> Response:
    """`/id/{kind}/{slug}`: 303 See Other to the page or the RDF document, by Accept."""
    path = request.path_params["path"]
    try:
        chosen = _document_format(request, PAGE_OR_DOCUMENT)
    except NotAcceptable as error:
        return plain_failure(error)
    if chosen is negotiation.HTML:
        target = request.url_for("resource_page", path=path).path
        lang = request.query_params.get("lang")
        target += f"?{urlencode({'lang': lang})}" if lang else ""
    else:
        target = request.url_for("resource_data", path=f"{path}.{chosen.extension}").path
    return _vary(RedirectResponse(target, status_code=303), "Accept")


async def resource_page(request: Request) -> Response:
    served = site(request)
    path = request.path_params["path"]
    lang = language(request)
    partners = None
    try:
        found = await served.run("resource_view", _iri(path), lang)
        if found is None:
            raise NotFound(_unknown(path))
        if path.startswith(GROUPINGS) and PARTNERS_QUERY in served.queries:
            values = {"ca": _iri(path)}
            partners = await served.run("named_table", PARTNERS_QUERY, values, 0, None, lang)
    except Exception as error:
        return html_failure(request, error)
    return page(
        request,
        "resource.html",
        resource=found,
        path=path,
        formats=negotiation.DOCUMENTS,
        partners=partners if partners is not None and partners.rows else None,
    )


def _unknown(path: str) -> str:
    return f"the graph says nothing about {_iri(path)}"


async def resource_data(request: Request) -> Response:
    """`/data/{kind}/{slug}.ttl|.nt|.jsonld`: the resource's description in one format."""
    served = site(request)
    path, _, extension = request.path_params["path"].rpartition(".")
    fmt = negotiation.named(extension, negotiation.DOCUMENTS) if path else None
    if fmt is None:
        names = ", ".join(f".{f.extension}" for f in negotiation.DOCUMENTS)
        return plain_failure(BadRequest(f"a resource's document ends in {names}"))
    try:
        body = await served.run("resource_document", _iri(path), fmt.name)
    except Exception as error:
        return plain_failure(error)
    if body is None:
        return plain_failure(NotFound(_unknown(path)))
    return Response(body, media_type=fmt.content_type)


# ---------------------------------------------------------------------------- ontology, dataset


ONTOLOGY_FORMATS = (negotiation.HTML, *negotiation.DOCUMENTS)


async def ontology(request: Request) -> Response:
    """The ontology's namespace: its documentation or the ontology itself, by Accept."""
    try:
        chosen = _document_format(request, ONTOLOGY_FORMATS)
    except NotAcceptable as error:
        return plain_failure(error)
    response = await _ontology_as(request, chosen)
    response.headers["Content-Location"] = f"/ontology.{chosen.extension}"
    return _vary(response, "Accept", "Accept-Language")


async def ontology_document(request: Request) -> Response:
    """`/ontology.html|.ttl|.nt|.jsonld`, and the docs pages `/doc/index.{lang}.html`."""
    extension = request.path_params.get("extension", "html")
    lang = request.path_params.get("lang")
    chosen = negotiation.named(extension, ONTOLOGY_FORMATS)
    if lang is not None and lang not in LANGUAGES:
        return plain_failure(BadRequest(f"the documentation is in {', '.join(LANGUAGES)}"))
    if chosen is None:
        return plain_failure(BadRequest(f"the ontology is not offered as .{extension}"))
    return await _ontology_as(request, chosen, lang)


async def _ontology_as(request: Request, chosen: Format, lang: str | None = None) -> Response:
    served = site(request)
    try:
        if chosen is negotiation.HTML:
            text = await served.document("ontology_page", lang or language(request))
            return Response(
                text,
                media_type=chosen.content_type,
                headers={"Content-Security-Policy": _inline_style_policy(text)},
            )
        body = await served.document("ontology_document", chosen.name)
    except Exception as error:
        return plain_failure(error)
    return Response(body, media_type=chosen.content_type)


def _inline_style_policy(text: str) -> str:
    """The pages' policy, plus the one inline style block of a page that `docs` writes as a
    standalone file (allowed by its hash: nothing else inline runs)."""
    found = re.search(r"<style>(.*?)</style>", text, re.DOTALL)
    if found is None:
        return PAGE_POLICY
    digest = base64.b64encode(hashlib.sha256(found.group(1).encode("utf-8")).digest()).decode()
    return f"{PAGE_POLICY}; style-src 'self' 'sha256-{digest}'"


async def dataset_description(request: Request) -> Response:
    """`/.well-known/void`: the DCAT-AP and VoID description of what is served."""
    served = site(request)
    try:
        asked = request.query_params.get("format")
        chosen = (
            negotiation.named(asked, negotiation.DOCUMENTS)
            if asked
            else negotiation.choose(request.headers.get("accept"), negotiation.DOCUMENTS)
        )
        if chosen is None:
            raise NotAcceptable(
                f"the description is offered as {negotiation.listing(negotiation.DOCUMENTS)}"
            )
        body = await served.document("dataset_description", chosen.name)
    except Exception as error:
        return plain_failure(error)
    return _vary(Response(body, media_type=chosen.content_type), "Accept")


async def described_by_void(request: Request) -> Response:
    """The catalogue, the dataset and its distributions: 303 to their description."""
    target = request.url_for("void").path
    asked = request.query_params.get("format")
    return RedirectResponse(target + (f"?{urlencode({'format': asked})}" if asked else ""), 303)


async def dump(request: Request) -> Response:
    """The dumps `export` writes, made once per run on first request, then served as files."""
    served = site(request)
    extension = request.path_params["extension"]
    fmt = next((f for f in DUMP_FORMATS.values() if f.extension == extension), None)
    if fmt is None:
        names = ", ".join(f"coopdec-kg.{f.extension}" for f in DUMP_FORMATS.values())
        return plain_failure(BadRequest(f"the dumps are {names}"))
    try:
        path: Path = await served.dump(fmt.name, fmt.extension)
    except Exception as error:
        return plain_failure(error)
    return FileResponse(path, media_type=f"{fmt.media_type}; charset=utf-8", filename=path.name)


# ---------------------------------------------------------------------------- the API


async def api_queries(request: Request) -> Response:
    """The named queries: name, summaries (fr, en), descriptions, columns, parameters."""
    served = site(request)
    listed = []
    for named in served.queries.values():
        described = describe(named)
        described["url"] = request.url_for("api_query", name=named.name).path
        listed.append(described)
    return json_response(listed)


def _paging(pairs: list[tuple[str, str]]) -> tuple[int, int | None]:
    def number(name: str, least: int) -> int | None:
        text = _single(pairs, name)
        if text is None:
            return None
        if not text.isdigit() or int(text) < least:
            raise ParameterError(f"{name} must be a whole number of at least {least}, not {text!r}")
        return int(text)

    return number("offset", 0) or 0, number("limit", 1)


def _download(pairs: list[tuple[str, str]]) -> bool:
    """Whether the answer is asked for as a file for people (`download=1`): see openapi."""
    text = _single(pairs, "download")
    if text not in (None, "0", "1"):
        raise ParameterError(f"download must be 0 or 1, not {text!r}")
    return text == "1"


def _as_download(response: Response, filename: str) -> None:
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'


async def api_query(request: Request) -> Response:
    """`/api/queries/{name}?param=…`: a named query run as `coopdec-kg query` runs it."""
    served = site(request)
    name = request.path_params["name"]
    pairs = list(request.query_params.multi_items())
    try:
        named = served.queries.get(name)
        if named is None:
            raise UnknownQuery(f"unknown query {name!r} (/api/queries lists them)")
        offset, limit = _paging(pairs)
        download = _download(pairs)
        asked = _single(pairs, "format")
        fmt = (
            negotiation.named(asked, negotiation.TABLES)
            if asked
            else negotiation.choose(request.headers.get("accept"), negotiation.TABLES)
        )
        if fmt is None:
            raise NotAcceptable(
                f"the answer is offered as {negotiation.listing(negotiation.TABLES)}"
            )
        values: dict[str, str] = {}
        for key, value in pairs:
            if key in openapi.RESERVED:
                continue
            if key in values:
                raise ParameterError(f"parameter {key!r} is given twice")
            values[key] = value
        bind(named, values)  # a bad value is refused here, before a worker is taken
        written = f"{fmt.name} for people" if download else fmt.name  # CSV: cells guarded
        kept_as = (*answer_key(named, values), written)
        whole = offset == 0 and limit is None
        answer = served.bodies.get(kept_as) if whole else None
        if answer is None:
            answer = await served.run(
                "named_query",
                name,
                values,
                fmt.name,
                offset,
                limit,
                served.max_answer_bytes,
                download,
                affinity=kept_as[:2],
            )
            if whole:
                served.bodies.keep(kept_as, answer)
    except Exception as error:
        return json_failure(error)
    total = answer.rows or 0
    response = Response(answer.body, media_type=fmt.content_type)
    response.headers["X-Total-Count"] = str(total)
    links = _page_links(request, pairs, offset, limit, total)
    if links:
        response.headers["Link"] = links
    if download:
        _as_download(response, f"{name}.{fmt.extension}")
    return _vary(response, "Accept")


def _page_links(
    request: Request, pairs: list[tuple[str, str]], offset: int, limit: int | None, rows: int
) -> str:
    """RFC 8288 links to the next and previous pages of a paged answer."""
    if limit is None:
        return ""
    kept = [(k, v) for k, v in pairs if k not in ("offset", "limit")]
    base = request.url.path

    def link(start: int, relation: str) -> str:
        query = urlencode([*kept, ("offset", str(start)), ("limit", str(limit))])
        return f'<{base}?{query}>; rel="{relation}"'

    links = []
    if offset + limit < rows:
        links.append(link(offset + limit, "next"))
    if offset > 0:
        links.append(link(max(0, offset - limit), "prev"))
    return ", ".join(links)


async def openapi_document(request: Request) -> Response:
    served = site(request)
    return json_response(openapi.document(list(served.queries.values())))


async def favicon(request: Request) -> Response:
    """Where browsers look for an icon when a page names none (the ontology's)."""
    return RedirectResponse(request.url_for("static", path="favicon.svg").path, 301)


def _static() -> StaticFiles:
    return StaticFiles(directory=str(files("coopdec_kg.web").joinpath("static")))


def routes() -> list[Route | Mount]:
    dataset_things = ("/dataset", "/catalog", "/catalog/record", "/publisher", "/contact")
    return [
        *page_routes(),
        Route("/health", health, name="health"),
        Route("/sparql", sparql, methods=["GET", "POST"], name="sparql"),
        Route("/id/{path:path}", resource_iri, name="resource_iri"),
        Route("/page/{path:path}", resource_page, name="resource_page"),
        Route("/data/{path:path}", resource_data, name="resource_data"),
        Route("/ontology", ontology, name="ontology"),
        Route("/ontology.{extension}", ontology_document, name="ontology_document"),
        Route("/doc/index.{lang:str}.html", ontology_document, name="ontology_docs"),
        Route("/.well-known/void", dataset_description, name="void"),
        *(Route(path, described_by_void) for path in dataset_things),
        Route("/dataset/distribution/{name}", described_by_void),
        Route("/dump/coopdec-kg.{extension}", dump, name="dump"),
        Route("/api/queries", api_queries, name="api_queries"),
        Route("/api/queries/{name}", api_query, name="api_query"),
        Route("/api/openapi.json", openapi_document, name="openapi"),
        Route("/favicon.ico", favicon),
        Mount("/static", app=_static(), name="static"),
    ]
