"""The server itself: the ASGI application (Starlette) and running it (uvicorn) until stopped.

Why Starlette and uvicorn: an ASGI application answers many slow clients on one thread while
the work is done elsewhere (here by the query workers), Starlette is small and has routing,
templates, static files and CORS without bringing a framework, and uvicorn is its usual server.

Starting, in this order, so that each failure is found before the next step costs anything:
the named queries are read (a broken file stops the start), the address is bound (a port in
use or an unknown host stops it at once), the workers' spawner loads the graph (an unreadable
content file stops it), then uvicorn serves on the bound socket. Each failure is a ServeError
or another CoopdecError, which the CLI reports in one line with exit code 2. Ctrl-C (or
SIGTERM) stops uvicorn gracefully, then the workers.
"""

from __future__ import annotations

import logging
import shutil
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coopdec_kg.content.project import Project
from coopdec_kg.engines.queries import load_queries
from coopdec_kg.engines.store import source_files
from coopdec_kg.errors import ServeError
from coopdec_kg.terminal import printable
from coopdec_kg.web import jobs
from coopdec_kg.web.protocol import MAX_ANSWER_BYTES
from coopdec_kg.web.routes import routes
from coopdec_kg.web.site import PAGE_POLICY, Site
from coopdec_kg.web.workers import Workers

access = logging.getLogger("coopdec_kg.web.access")

DEFAULT_TIMEOUT = 10.0
LOGGED_TARGET_CHARS = 200  # a logged request target is cut here (a GET may carry a long query)


class AccessLog:
    """One line per request on the `coopdec_kg.web.access` logger (the CLI shows it on stderr):
    client, request line, status, bytes sent and milliseconds. Also adds the headers every
    answer carries: no MIME sniffing, and pages that load nothing from elsewhere."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status, size = 0, 0

        async def sending(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                is_page = any(
                    k == b"content-type" and v.startswith(b"text/html") for k, v in headers
                )
                has_policy = any(k == b"content-security-policy" for k, _ in headers)
                if is_page and not has_policy:  # a route may narrow it (the ontology's page)
                    headers.append((b"content-security-policy", PAGE_POLICY.encode()))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client") or ("-", 0)
            query = scope.get("query_string", b"").decode("latin-1")
            target = scope.get("path", "") + (f"?{query}" if query else "")
            if len(target) > LOGGED_TARGET_CHARS:
                target = target[: LOGGED_TARGET_CHARS - 1] + "…"
            access.info(
                '%s "%s %s" %d %d %.0fms',
                client[0],
                scope.get("method", "-"),
                printable(target),
                status,
                size,
                (time.perf_counter() - start) * 1000,
            )


def create_app(site: Site, on_ready: Callable[[], None] | None = None) -> Starlette:
    """The ASGI application over a started Site; its shutdown stops the workers."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            site.workers.stop()

    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(AccessLog),
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "POST"],
                allow_headers=["Accept", "Accept-Language", "Content-Type"],
                expose_headers=["Content-Location", "Link", "X-Total-Count"],
                allow_credentials=False,
                max_age=600,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.site = site
    return app


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port; ServeError when the host is unknown or the port taken."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as error:
        raise ServeError(f"cannot listen on {host}: unknown host ({error})") from None
    family, kind, protocol, _, address = found[0]
    listener = socket.socket(family, kind, protocol)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(2048)
    except OSError as error:
        listener.close()
        reason = error.strerror or str(error)
        raise ServeError(f"cannot listen on {host}:{port}: {reason}") from None
    return listener


def address_of(listener: socket.socket) -> str:
    """The URL the listening socket answers at (the port the system chose, for port 0)."""
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(
    project: Project,
    host: str,
    port: int,
    extra: Sequence[Path] = (),
    timeout: float = DEFAULT_TIMEOUT,
    workers: int = 2,
    max_answer_bytes: int = MAX_ANSWER_BYTES,
    on_ready: Callable[[str, dict[str, Any]], None] | None = None,
) -> None:
    """Serve until stopped (Ctrl-C or SIGTERM). `on_ready(url, summary)` is called once the
    graph is loaded and the server answers."""
    import uvicorn

    queries = {query.name: query for query in load_queries(project)}
    source_files(project, extra)  # a missing file stops the start before anything else
    listener = listen(host, port)
    try:
        pool = Workers.start(
            partial(jobs.load, project, tuple(extra), queries),
            jobs.JOBS,
            workers,
            close_in_children=[listener],
        )
    except BaseException:
        listener.close()
        raise
    cache_folder = Path(tempfile.mkdtemp(prefix="coopdec-kg-serve-"))
    try:
        site = Site(project, tuple(extra), queries, pool, timeout, max_answer_bytes, cache_folder)
        url = address_of(listener)
        ready = (lambda: on_ready(url, pool.summary)) if on_ready is not None else None
        config = uvicorn.Config(
            create_app(site, ready),
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        pool.stop()
        listener.close()
        shutil.rmtree(cache_folder, ignore_errors=True)
