"""Remote SPARQL 1.1 engines: the Protocol for queries, the Graph Store Protocol for loading.

Parameters arrive already bound: each value written as an RDF term in the query text
(engines/queries.bound_text), so a malicious literal is just a literal that matches nothing.

Only http(s) URLs are contacted, without credentials in the URL; a redirect is followed only to
another http(s) URL (with the same method and body, as 307/308 mean), never to file: or ftp:.
Each exchange has one overall deadline, from resolving the host name to the last byte (a server
sending one byte every few seconds is cut off like a silent one, and so is a silent DNS server);
answers are read up to a size cap, which bounds memory (the rows of a SPARQL JSON answer take
about ten times its size); and every failure (unreachable host, HTTP error, an answer that is
not SPARQL results, a term that is not RDF) becomes a one-line EndpointError quoting a short
excerpt of what the server said.

Answers are read by pyoxigraph's results parser into its terms, which the result writers read
as they are (engines/terms.py): the same bytes as from the local engines, without making an
rdflib term of each value (3.2 s of a 75 000-row answer that the server gave in 0.5-1 s).
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import IO, TYPE_CHECKING, Any

from coopdec_kg.engines.terms import Term
from coopdec_kg.errors import EndpointError

if TYPE_CHECKING:
    from rdflib import Graph

TIMEOUT_SECONDS = 60.0  # the longest a query may take, from connecting to the last byte
PUSH_TIMEOUT_SECONDS = 600.0  # a push sends the whole graph (hundreds of MB at national scale)
MAX_ANSWER_BYTES = 64 * 1024 * 1024  # a query answer larger than this is refused
EXCERPT_CHARS = 160
RESULTS_JSON = "application/sparql-results+json"
RESULTS_TSV = "text/tab-separated-values"
RESULTS_XML = "application/sparql-results+xml"
NTRIPLES = "application/n-triples"
SCHEMES = ("http", "https")

# An absolute IRI as SPARQL's IRIREF and N-Triples accept it: a scheme, then no space, no
# control character and none of <>"{}|^`\.
ABSOLUTE_IRI = re.compile(r'^[A-Za-z][A-Za-z0-9+.\-]*:[^\x00-\x20<>"{}|^`\\\x7f]+$')
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


# ------------------------------------------------------------------------------ URLs and IRIs


def check_url(url: str) -> str:
    """The endpoint URL if it is an absolute http(s) URL a request can be sent to."""
    shown = " ".join(url.split())[:200]
    if _CONTROL.search(url):
        raise EndpointError(f"not a usable endpoint URL (it contains spaces): {shown!r}")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as error:
        raise EndpointError(f"not a usable endpoint URL ({error}): {shown!r}") from None
    if parts.scheme.lower() not in SCHEMES:
        raise EndpointError(
            f"not an http(s) endpoint URL: {shown!r} (it must start with http:// or https://)"
        )
    if not parts.hostname:
        raise EndpointError(f"the endpoint URL names no host: {shown!r}")
    if parts.username is not None or parts.password is not None:
        raise EndpointError(
            "credentials in the endpoint URL are not supported (they would show in messages "
            "and process lists); put the endpoint behind a proxy instead"
        )
    return url


def check_graph_iri(iri: str) -> str:
    """The named graph's IRI if it is absolute (the Graph Store Protocol needs one)."""
    if not ABSOLUTE_IRI.match(iri):
        shown = " ".join(iri.split())[:200]
        raise EndpointError(
            f"not an absolute IRI for the graph: {shown!r} (give e.g. "
            "https://w3id.org/coopdec-kg/graph/data)"
        )
    return iri


def _shown(url: str) -> str:
    """The URL as messages quote it (never long enough to hide the message itself)."""
    return url if len(url) <= 200 else url[:199] + "…"


# ------------------------------------------------------------------------------ HTTP


class _HttpRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) URLs only, repeating the same method and body.

    urllib alone would follow a redirect to ftp:, and would turn a POSTed query into a GET
    without its body (or refuse a 307/308 after a POST); an endpoint that moved from http to https
    should simply receive the same request again.
    """

    max_redirections = 5

    def http_error_302(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
    ) -> Any:
        location = headers.get("location") or headers.get("uri")
        if location is not None:
            target = urllib.parse.urljoin(req.full_url, location.strip())
            if urllib.parse.urlsplit(target).scheme.lower() not in SCHEMES:
                fp.close()
                raise EndpointError(
                    f"{_shown(req.full_url)} redirects to {_shown(target)!r}; only redirects "
                    "to http(s) URLs are followed"
                )
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request:
        check_url(newurl)
        return urllib.request.Request(
            newurl,
            data=req.data,
            headers=dict(req.headers),  # the caller's own headers, not Host or Content-Length
            origin_req_host=req.origin_req_host,
            unverifiable=True,
            method=req.get_method(),
        )


class _Deadline:
    """One deadline for a whole exchange: when it passes, a timer shuts down the sockets of the
    exchange's connections, which ends whatever wait is under way (headers, a trickle of bytes);
    each step is also bounded by the socket timeout, so connecting cannot outlast it either."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    @contextmanager
    def running(self) -> Iterator[_Deadline]:
        timer = threading.Timer(self.seconds, self._expire)
        timer.daemon = True
        timer.start()
        try:
            yield self
        finally:
            timer.cancel()

    def watch(self, connected: socket.socket) -> None:
        with self._lock:
            self._sockets.append(connected)
            expired = self.expired
        if expired:
            _shut(connected)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for connected in sockets:
            _shut(connected)


def _shut(connected: socket.socket) -> None:
    """Shut a socket down for both directions (the plain socket's call, TLS or not)."""
    with suppress(OSError):
        socket.socket.shutdown(connected, socket.SHUT_RDWR)


def _watched(
    connection: type[http.client.HTTPConnection], deadline: _Deadline
) -> Callable[..., http.client.HTTPConnection]:
    """A connection class whose sockets the deadline watches."""

    class Watched(connection):  # type: ignore[valid-type,misc]
        def connect(self) -> None:
            super().connect()
            deadline.watch(self.sock)

    return Watched


class _HttpHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_watched(http.client.HTTPConnection, self.deadline), req)


class _HttpsHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = _watched(http.client.HTTPSConnection, self.deadline)
        return self.do_open(connection, req, context=self._context)  # type: ignore[attr-defined]


def _opener(deadline: _Deadline) -> urllib.request.OpenerDirector:
    """An opener with http(s) handlers only: no file:, ftp: or data: handler at all."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),  # honours http_proxy, https_proxy and no_proxy
        urllib.request.UnknownHandler(),
        _HttpHandler(deadline),
        _HttpsHandler(deadline),
        _HttpRedirects(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _excerpt(body: bytes, content_type: str | None) -> str:
    """A short, one-line excerpt of what a server sent (tags stripped from HTML)."""
    text = body.decode("utf-8", "replace")
    if (content_type and "html" in content_type.lower()) or text.lstrip().startswith("<"):
        text = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", text, flags=re.IGNORECASE | re.DOTALL)
        text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):g} MiB" if count >= 1024 * 1024 else f"{count} bytes"


def _read(stream: IO[bytes], limit: int, url: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(1 << 16)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise EndpointError(
                f"{_shown(url)} sent more than {_size(limit)}; refused "
                "(--max-answer-bytes raises the limit; or add a LIMIT, or query a narrower "
                "pattern)"
            )
        chunks.append(chunk)


_Answer = tuple[bytes, str | None]
_GRACE_SECONDS = 1.0  # the socket deadline usually ends the exchange first; this is the backstop


class _Late(Exception):
    """The exchange outlived its deadline in a wait no socket shutdown can end (DNS)."""


def _request(
    request: urllib.request.Request, timeout: float | None, limit: int | None = None
) -> _Answer:
    """The body and content type of a successful answer; EndpointError for anything else.

    `timeout` is the deadline of the whole exchange. Without a timeout or limit, the module's
    TIMEOUT_SECONDS and MAX_ANSWER_BYTES apply.
    """
    timeout = TIMEOUT_SECONDS if timeout is None else timeout
    limit = MAX_ANSWER_BYTES if limit is None else limit
    deadline = _Deadline(timeout)
    with deadline.running():
        try:
            body, content_type = _within(timeout, lambda: _exchange(request, deadline, limit))
        except EndpointError:
            raise
        except _Late:
            raise _late(request, timeout) from None
        except Exception:
            if deadline.expired:  # the timer shut the connection: say so, not what followed
                raise _late(request, timeout) from None
            raise
        if deadline.expired:  # a connection shut while the answer was read is no whole answer
            raise _late(request, timeout)
    return body, content_type


def _within(timeout: float, exchange: Callable[[], _Answer]) -> _Answer:
    """The exchange's answer, run on a daemon thread the caller stops waiting for at the deadline.

    Shutting sockets ends every wait but one: resolving the host name (getaddrinfo) blocks in C
    and no socket exists yet, so a slow or silent DNS server would outlast any deadline. The
    abandoned thread ends when the resolver gives up; its answer is dropped.
    """
    outcome: list[_Answer | BaseException] = []

    def run() -> None:
        try:
            outcome.append(exchange())
        except BaseException as error:  # carried to the caller's thread, whatever it is
            outcome.append(error)

    worker = threading.Thread(target=run, name="sparql-exchange", daemon=True)
    worker.start()
    worker.join(timeout + _GRACE_SECONDS)
    if not outcome:
        raise _Late()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _late(request: urllib.request.Request, timeout: float) -> EndpointError:
    return EndpointError(
        f"{_shown(request.full_url)} gave no complete answer within {timeout:g} s "
        "(--timeout sets the limit)"
    )


def _exchange(
    request: urllib.request.Request, deadline: _Deadline, limit: int
) -> tuple[bytes, str | None]:
    """Send the request and read the answer; EndpointError for anything but a success."""
    timeout = deadline.seconds
    url = _shown(request.full_url)
    try:
        with _opener(deadline).open(request, timeout=timeout) as response:
            content_type = response.headers.get("Content-Type")
            return _read(response, limit, request.full_url), content_type
    except urllib.error.HTTPError as error:
        try:
            body = error.read(4096)
        except (OSError, http.client.HTTPException):
            body = b""
        detail = _excerpt(body, error.headers.get("Content-Type") if error.headers else None)
        reason = detail or " ".join(str(error.reason).split())
        raise EndpointError(f"{url} answered HTTP {error.code}: {reason}") from None
    except urllib.error.URLError as error:
        if deadline.expired:
            raise _late(request, timeout) from None
        raise EndpointError(f"cannot reach {url}: {_reason(error.reason, timeout)}") from None
    except (OSError, http.client.HTTPException, ValueError) as error:
        if deadline.expired:
            raise _late(request, timeout) from None
        raise EndpointError(f"cannot talk to {url}: {_reason(error, timeout)}") from None


def _reason(error: object, timeout: float) -> str:
    if isinstance(error, TimeoutError) or str(error) == "timed out":
        return f"no answer within {timeout:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (is the server running, and is the port right?)"
    text = " ".join(str(error).split())
    return text or type(error).__name__


# ------------------------------------------------------------------------------ queries


# The result formats an answer may come in (by media type), and pyoxigraph's name for each.
ANSWER_FORMATS = {RESULTS_JSON: "JSON", RESULTS_TSV: "TSV", RESULTS_XML: "XML"}


def parse_answer(
    body: bytes, content_type: str | None, endpoint: str
) -> tuple[list[str], list[tuple[Term, ...]]]:
    """The variables and rows (pyoxigraph's terms, None where unbound) of a SELECT answer in
    any SPARQL results format, read by pyoxigraph's parser (no rdflib term is made).

    The format is the one the server says it sent; without a known media type, JSON.
    """
    import pyoxigraph

    media = (content_type or "").split(";", 1)[0].strip().lower()
    name = ANSWER_FORMATS.get(media, "JSON")
    try:
        answer = pyoxigraph.parse_query_results(body, getattr(pyoxigraph.QueryResultsFormat, name))
        if isinstance(answer, pyoxigraph.QuerySolutions):
            variables = [variable.value for variable in answer.variables]
            rows = [tuple(solution) for solution in answer]  # read as it is parsed
            _check_terms(rows, endpoint)
            return variables, rows
    except (SyntaxError, ValueError, RecursionError) as error:
        kind = f" ({content_type})" if content_type else ""
        said = _excerpt(body, content_type) or "an empty answer"
        if body.strip():  # and what the parser found wrong
            said += f" ({' '.join(str(error).split())[:EXCERPT_CHARS]})"
        raise EndpointError(
            f"{_shown(endpoint)} did not answer with SPARQL {name} results{kind}: "
            + said.translate(_NO_MARKUP)  # no markup of the server's in the message
        ) from None
    raise EndpointError(
        f"{_shown(endpoint)} did not answer with SPARQL SELECT results: a yes/no answer"
    )


_NO_MARKUP = str.maketrans("<>{}", "‹›()")


def _check_terms(rows: list[tuple[Term, ...]], endpoint: str) -> None:
    """Refuse what is no IRI, blank node or literal (an RDF-star triple term)."""
    import pyoxigraph

    for row in rows:
        for term in row:
            if isinstance(term, pyoxigraph.Triple):
                raise EndpointError(
                    f"{_shown(endpoint)} answered with an unsupported term type: a triple term"
                )


def select(
    endpoint: str,
    query: str,
    timeout: float | None = None,
    max_bytes: int | None = None,
    media_type: str = RESULTS_JSON,
) -> tuple[list[str], list[tuple[Term, ...]]]:
    """Run a SELECT query on a remote endpoint: its variables and rows of pyoxigraph's terms.

    The query is POSTed as `application/sparql-query` (SPARQL 1.1 Protocol §2.1.3), so the
    endpoint URL may carry `default-graph-uri=…` to query a named graph. The answer is asked
    for in `media_type` (TSV is the smallest that keeps every term), JSON accepted too.
    `timeout` bounds the whole exchange and `max_bytes` the answer (TIMEOUT_SECONDS and
    MAX_ANSWER_BYTES unless told).
    """
    accept = media_type if media_type == RESULTS_JSON else f"{media_type}, {RESULTS_JSON};q=0.9"
    body, content_type = _post_query(endpoint, query, accept, timeout, max_bytes)
    return parse_answer(body, content_type, endpoint)


def ask(
    endpoint: str, query: str, timeout: float | None = None, max_bytes: int | None = None
) -> bool:
    """Run an ASK query on a remote endpoint (SPARQL 1.1 JSON results: `{"boolean": …}`)."""
    body, content_type = _post_query(endpoint, query, RESULTS_JSON, timeout, max_bytes)
    try:
        answer = json.loads(body)["boolean"]
    except (ValueError, RecursionError, KeyError, TypeError):
        answer = None
    if not isinstance(answer, bool):
        raise EndpointError(
            f"{_shown(endpoint)} did not answer with an ASK result: "
            f"{_excerpt(body, content_type) or 'an empty answer'}"
        )
    return answer


def construct(
    endpoint: str, query: str, timeout: float | None = None, max_bytes: int | None = None
) -> Graph:
    """Run a CONSTRUCT or DESCRIBE query on a remote endpoint: its triples (asked as
    N-Triples, a format whose parsing reads nothing else)."""
    from coopdec_kg.content.graph import parse_ntriples
    from coopdec_kg.errors import RdfSyntaxError

    body, content_type = _post_query(endpoint, query, NTRIPLES, timeout, max_bytes)
    try:
        return parse_ntriples(body)
    except (RdfSyntaxError, UnicodeDecodeError):
        raise EndpointError(
            f"{_shown(endpoint)} did not answer with N-Triples: "
            f"{_excerpt(body, content_type) or 'an empty answer'}"
        ) from None


def _post_query(
    endpoint: str, query: str, accept: str, timeout: float | None, max_bytes: int | None
) -> tuple[bytes, str | None]:
    """POST a query as `application/sparql-query` (SPARQL 1.1 Protocol §2.1.3)."""
    check_url(endpoint)
    try:
        text = query.encode("utf-8")
    except UnicodeEncodeError:
        raise EndpointError("the query is not valid Unicode text") from None
    request = urllib.request.Request(
        endpoint,
        data=text,
        headers={"Content-Type": "application/sparql-query; charset=utf-8", "Accept": accept},
        method="POST",
    )
    return _request(request, timeout, max_bytes)


# ------------------------------------------------------------------------------ graph store


def store_url(endpoint: str, graph: str | None = None) -> str:
    """The Graph Store Protocol URL of the default graph, or of a named graph (indirect naming)."""
    check_url(endpoint)
    parts = urllib.parse.urlsplit(endpoint)
    query = (
        "default" if graph is None else urllib.parse.urlencode({"graph": check_graph_iri(graph)})
    )
    joined = f"{parts.query}&{query}" if parts.query else query
    return urllib.parse.urlunsplit(parts._replace(query=joined, fragment=""))


def push(
    endpoint: str,
    ntriples: bytes,
    graph: str | None = None,
    replace: bool = True,
    timeout: float | None = None,
) -> None:
    """Load N-Triples into a Graph Store Protocol endpoint (PUT replaces the graph, POST adds),
    within `timeout` seconds in all (PUSH_TIMEOUT_SECONDS unless told)."""
    request = urllib.request.Request(
        store_url(endpoint, graph),
        data=ntriples,
        headers={"Content-Type": NTRIPLES},
        method="PUT" if replace else "POST",
    )
    _request(request, PUSH_TIMEOUT_SECONDS if timeout is None else timeout, limit=1024 * 1024)
