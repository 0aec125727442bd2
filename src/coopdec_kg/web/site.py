"""What every route shares: the workers and limits, the templates and words of the pages, the
reader's language, the answers to failures, and the documents computed once per run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tomllib
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.templating import Jinja2Templates

from coopdec_kg.content.namespaces import CDO, CDR
from coopdec_kg.content.project import Project
from coopdec_kg.engines.queries import NamedQuery
from coopdec_kg.errors import CoopdecError, ParameterError, QueryError, ServeError, UnknownQuery
from coopdec_kg.web.answers import KeptBodies
from coopdec_kg.web.protocol import (
    AnswerTooLarge,
    BadRequest,
    NotAcceptable,
    NotFound,
    QueryTooLong,
    Refused,
    Unsupported,
)
from coopdec_kg.web.workers import Workers, WorkersBusy

log = logging.getLogger(__name__)

LANGUAGES = ("fr", "en")
PAGE_POLICY = "default-src 'self'"  # pages load nothing from elsewhere (Content-Security-Policy)
DOCUMENT_SECONDS = 600.0  # the longest a dump or the dataset's description may take to make


@dataclass
class Site:
    """The state of one running server."""

    project: Project
    extra: tuple[Path, ...]
    queries: dict[str, NamedQuery]
    workers: Workers
    timeout: float
    max_answer_bytes: int
    cache_folder: Path  # the dumps, made on first request
    bodies: KeptBodies = field(default_factory=KeptBodies)  # whole answers sent (web/answers)
    _documents: dict[tuple[str, ...], bytes | str] = field(default_factory=dict)
    _making: dict[tuple[str, ...], asyncio.Lock] = field(default_factory=dict)

    async def run(self, name: str, *arguments: object, affinity: Hashable | None = None) -> Any:
        """A job of web/jobs.py run by a worker, within the server's query deadline (by the
        worker that last ran a job of the same `affinity`, when it is free: web/answers)."""
        return await self.workers.run(self.timeout, name, *arguments, affinity=affinity)

    async def document(self, name: str, *arguments: str) -> Any:
        """A job's answer that does not change while the server runs (the ontology's pages,
        the dataset's description), made once by a worker and kept."""
        key = (name, *arguments)
        if key not in self._documents:
            async with self._making.setdefault(key, asyncio.Lock()):
                if key not in self._documents:
                    made = await self.workers.run(DOCUMENT_SECONDS, name, *arguments)
                    self._documents[key] = made
        return self._documents[key]

    async def dump(self, format_name: str, extension: str) -> Path:
        """The dump in one format, written into the cache folder on first request."""
        path = self.cache_folder / f"coopdec-kg.{extension}"
        await self.document("dump", format_name, str(path))
        return path


# ---------------------------------------------------------------------------- people's pages


@cache
def texts() -> dict[str, dict[str, str]]:
    """The words of the pages, by language (texts.toml)."""
    source = files("coopdec_kg.web").joinpath("texts.toml").read_text(encoding="utf-8")
    return tomllib.loads(source)


def local_href(iri: str) -> str:
    """Where this server shows a resource: its own path for the project's IRIs, else the IRI."""
    if iri.startswith(str(CDR)):
        return "/id/" + iri[len(str(CDR)) :]
    if iri.startswith(str(CDO)):
        return "/ontology#" + iri[len(str(CDO)) :]
    return iri


@cache
def templates() -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("coopdec_kg.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["local_href"] = local_href
    return Jinja2Templates(env=environment)


def language(request: Request) -> str:
    """The reader's language: `?lang=`, else the first of ours in Accept-Language, else fr."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked
    ranked: list[tuple[float, int, str]] = []
    for order, item in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, *parameters = (part.strip() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, order, primary))
    return min(ranked)[2] if ranked else LANGUAGES[0]


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """An HTML page in the reader's language."""
    lang = language(request)
    other = next(code for code in LANGUAGES if code != lang)
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    switch = "?" + urlencode([*kept, ("lang", other)])  # the same page in the other language
    return templates().TemplateResponse(
        request,
        template,
        {"lang": lang, "other_lang": other, "switch_href": switch, "t": texts()[lang], **context},
        status_code=status_code,
        headers={"Content-Language": lang, "Vary": "Accept-Language"},
    )


# ---------------------------------------------------------------------------- failures


def status_of(error: BaseException) -> int:
    """The HTTP status that answers a failure."""
    if isinstance(error, (UnknownQuery, NotFound)):
        return 404
    if isinstance(error, Unsupported):
        return 415
    if isinstance(error, Refused):
        return 403
    if isinstance(error, NotAcceptable):
        return 406
    if isinstance(error, QueryTooLong):
        return 413
    if isinstance(error, (ParameterError, QueryError, BadRequest, AnswerTooLarge)):
        return 400
    if isinstance(error, ServeError):
        return 503  # a stopped query, busy or lost workers: try again later, or narrow it
    return 500


def message_of(error: BaseException) -> str:
    if isinstance(error, CoopdecError):  # the library's one-line messages
        return str(error)
    return "internal error (a bug: the server's log says more)"


def log_failure(error: BaseException) -> None:
    if status_of(error) == 500:
        log.error("Internal error: %s: %s", type(error).__name__, error)


def plain_failure(error: BaseException) -> Response:
    """A failure as one line of text (the SPARQL protocol's habit)."""
    log_failure(error)
    status = status_of(error)
    headers = {"Retry-After": "5"} if isinstance(error, WorkersBusy) else None
    return PlainTextResponse(f"Error: {message_of(error)}\n", status, headers=headers)


def json_failure(error: BaseException) -> Response:
    """A failure as `{"error": message}` (the API's)."""
    log_failure(error)
    return JSONResponse({"error": message_of(error)}, status_of(error))


def html_failure(request: Request, error: BaseException) -> Response:
    log_failure(error)
    status = status_of(error)
    return page(request, "error.html", status, status=status, message=message_of(error))


def json_response(value: object) -> Response:
    body = json.dumps(value, ensure_ascii=False, indent=2) + "\n"
    return Response(body, media_type="application/json")
