"""Remote engines against a real Oxigraph server: `push` (Graph Store Protocol) and
`query --endpoint` (SPARQL 1.1 Protocol) give what the embedded graph gives, parameters stay
bound as terms, and every failure is a one-line error with exit code 2.

The server is the `oxigraph` executable of the PyPI package (a dev dependency), started once per
module on a free port of 127.0.0.1; nothing else is ever contacted.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from typer.testing import CliRunner, Result

from coopdec_kg.cli import app
from coopdec_kg.content.project import Project
from coopdec_kg.engines import remote
from coopdec_kg.engines.remote import RESULTS_JSON, parse_answer
from coopdec_kg.errors import EndpointError

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STARTUP_SECONDS = 20.0
NAMED_GRAPH = "https://w3id.org/coopdec-kg/graph/test-push"
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY")


# ---------------------------------------------------------------------------- the server


def oxigraph_executable() -> str | None:
    """The `oxigraph` installed beside the running Python (the venv), else one on PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("oxigraph")


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _direct_opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _answers(port: int) -> bool:
    url = f"http://{HOST}:{port}/query?query=" + urllib.parse.quote("ASK {}")
    try:
        with _direct_opener().open(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass(frozen=True)
class Server:
    port: int

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def query(self) -> str:
        return f"{self.base}/query"

    @property
    def store(self) -> str:
        return f"{self.base}/store"


@pytest.fixture(scope="module", autouse=True)
def no_proxy() -> Iterator[None]:
    """Requests to 127.0.0.1 must never go through a proxy the environment may name."""
    with pytest.MonkeyPatch.context() as patch:
        for name in PROXY_VARIABLES:
            patch.delenv(name, raising=False)
        patch.setenv("no_proxy", f"{HOST},localhost")
        yield


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real `oxigraph serve` on a free port of 127.0.0.1, for the whole module."""
    executable = oxigraph_executable()
    if executable is None:
        pytest.skip("the oxigraph server is not installed (pip install -e '.[dev]' installs it)")
    folder = tmp_path_factory.mktemp("oxigraph")
    for attempt in range(3):  # another process may take the port between probe and bind
        port = free_port()
        log_path = folder / f"server-{attempt}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [executable, "serve", "--location", str(folder / f"db-{attempt}"),
                 "--bind", f"{HOST}:{port}"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + STARTUP_SECONDS
        while process.poll() is None and time.monotonic() < deadline and not _answers(port):
            time.sleep(0.05)
        if process.poll() is None and _answers(port):
            break
        _stop(process)
    else:
        pytest.fail(f"oxigraph did not start: {log_path.read_text(errors='replace')[-500:]}")
    try:
        yield Server(port)
    finally:
        _stop(process)


# ---------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliRunnerFor]:
    """The CLI on the repository's content, with a store folder of its own (no stray extras).

    `query --engine rdflib` parses the same files for every query; the parsed graph is kept for
    the module (queries never modify it), so comparing every query stays quick.
    """
    from coopdec_kg.content import graph

    parsed: dict[tuple[Path, tuple[Path, ...]], Graph] = {}
    load = graph.load_graph_with

    def load_once(project: Project, extra: Sequence[Path]) -> Graph:
        key = (project.root, tuple(extra))
        if key not in parsed:
            parsed[key] = load(project, extra)
        return parsed[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(graph, "load_graph_with", load_once)
        yield CliRunnerFor(REPO, tmp_path_factory.mktemp("store"))


class CliRunnerFor:
    def __init__(self, root: Path, store: Path) -> None:
        self.root, self.store, self.runner = root, store, CliRunner()

    def __call__(self, *args: str, root: Path | None = None) -> Result:
        return self.runner.invoke(
            app,
            ["--root", str(root or self.root), *args],
            env={"COOPDEC_KG_STORE": str(self.store)},
        )


def count(endpoint: str, pattern: str = COUNT_ALL) -> int:
    _, rows = remote.select(endpoint, pattern)
    return int(rows[0][0].value)


@pytest.fixture(scope="module")
def exported(cli: CliRunnerFor) -> int:
    """How many triples `export --format ntriples` dumps (one a line)."""
    result = cli("export", "--format", "ntriples")
    assert result.exit_code == 0, result.stderr
    return result.stdout.count("\n")


def assert_one_line_error(result: Result, *fragments: str) -> str:
    """Exit 2, nothing on stdout, one line on stderr, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    message = result.stderr.strip()
    assert message.startswith("Error: ") and "\n" not in message, message
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in message, message
    return message


Key = tuple[object, ...] | None


def rdflib_term(binding: dict[str, Any]) -> object:
    """An rdflib term from one binding of SPARQL 1.1 JSON results."""
    if binding["type"] == "uri":
        return URIRef(binding["value"])
    if binding["type"] == "bnode":
        return BNode(binding["value"])
    datatype = binding.get("datatype")
    return Literal(
        binding["value"],
        lang=binding.get("xml:lang"),
        datatype=URIRef(datatype) if datatype else None,
    )


def term_key(binding: dict[str, Any] | None) -> Key:
    """A term compared by value: 200000 and 200000.0 (xsd:decimal) are the same number, a
    plain literal is an xsd:string, language tags ignore case, blank-node labels do not count."""
    if binding is None:
        return None
    term = rdflib_term(binding)
    if isinstance(term, Literal):
        datatype = term.datatype or (None if term.language else XSD_STRING)
        return ("literal", str(datatype), (term.language or "").lower(), term.toPython())
    if isinstance(term, BNode):
        return ("bnode",)
    assert isinstance(term, URIRef)
    return ("iri", str(term))


def answer(result: Result) -> tuple[list[str], list[tuple[Key, ...]]]:
    """Columns and rows (as value keys) of a `query --format json` run."""
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    variables: list[str] = document["head"]["vars"]
    rows = [
        tuple(term_key(row.get(v)) for v in variables) for row in document["results"]["bindings"]
    ]
    return variables, rows


def is_ordered(text: str) -> bool:
    """Whether the outer query sorts its rows: ORDER BY after the last closing brace."""
    tail = text.rsplit("}", 1)[-1]
    body = "\n".join(line.split("#", 1)[0] for line in tail.splitlines())
    return "ORDER BY" in " ".join(body.upper().split())


def same_answer(local: Result, distant: Result, ordered: bool) -> None:
    local_vars, local_rows = answer(local)
    remote_vars, remote_rows = answer(distant)
    assert remote_vars == local_vars
    if ordered:
        assert remote_rows == local_rows
    else:
        assert Counter(remote_rows) == Counter(local_rows)


@pytest.fixture(scope="module")
def pushed(oxigraph: Server, cli: CliRunnerFor) -> str:
    """The project's graph loaded into the server's default graph; push's message."""
    result = cli("push", "--endpoint", oxigraph.store)
    assert result.exit_code == 0, result.stderr
    return result.stderr.strip()


# ---------------------------------------------------------------------------- push


def test_push_loads_what_export_dumps(oxigraph: Server, exported: int, pushed: str) -> None:
    assert exported > 1000
    assert pushed == f"Replaced the default graph of {oxigraph.store}: {exported} triples sent."
    assert count(oxigraph.query, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == exported


def in_graph(iri: str) -> str:
    return f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"


def test_push_into_a_named_graph_then_query_it(
    oxigraph: Server, cli: CliRunnerFor, exported: int, pushed: str
) -> None:
    default_before = count(oxigraph.query, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    result = cli("push", "--endpoint", oxigraph.store, "--graph", NAMED_GRAPH)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip() == (
        f"Replaced the graph <{NAMED_GRAPH}> of {oxigraph.store}: {exported} triples sent."
    )
    assert count(oxigraph.query, in_graph(NAMED_GRAPH)) == exported
    assert count(oxigraph.query, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == default_before
    # the SPARQL 1.1 Protocol's default-graph-uri makes the named graph the query's dataset
    endpoint = f"{oxigraph.query}?" + urllib.parse.urlencode({"default-graph-uri": NAMED_GRAPH})
    local = cli("query", "amounts", "--engine", "rdflib", "--format", "json")
    distant = cli("query", "amounts", "--endpoint", endpoint, "--format", "json")
    same_answer(local, distant, ordered=True)
    assert answer(distant)[1], "the named graph answers with rows"


def test_append_adds_and_the_default_replaces(
    oxigraph: Server, cli: CliRunnerFor, exported: int, tmp_path: Path
) -> None:
    """A smaller content (one data file less, one new triple) appended to the full graph gives
    more than either; pushed without --append, the full graph replaces it all again."""
    graph = NAMED_GRAPH + "-append"
    extra = f"SELECT (1 AS ?n) WHERE {{ GRAPH <{graph}> {{ <https://example.org/extra> ?p ?o }} }}"
    for folder in ("ontology", "data", "queries"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    sorted((tmp_path / "data").glob("*.ttl"))[0].unlink()
    (tmp_path / "data" / "zz-extra.ttl").write_text(
        '<https://example.org/extra> <http://www.w3.org/2000/01/rdf-schema#label> "extra" .\n',
        encoding="utf-8",
    )
    smaller = cli("export", "--format", "ntriples", root=tmp_path).stdout.count("\n")
    assert 0 < smaller < exported

    assert cli("push", "--endpoint", oxigraph.store, "--graph", graph).exit_code == 0
    assert count(oxigraph.query, in_graph(graph)) == exported

    added = cli("push", "--endpoint", oxigraph.store, "--graph", graph, "--append", root=tmp_path)
    assert added.exit_code == 0, added.stderr
    assert added.stderr.strip() == (
        f"Added to the graph <{graph}> of {oxigraph.store}: {smaller} triples sent."
    )
    assert count(oxigraph.query, in_graph(graph)) > exported
    assert remote.select(oxigraph.query, extra)[1], "the appended triple is there"

    replaced = cli("push", "--endpoint", oxigraph.store, "--graph", graph)
    assert replaced.exit_code == 0, replaced.stderr
    assert count(oxigraph.query, in_graph(graph)) == exported
    assert not remote.select(oxigraph.query, extra)[1], "without --append it is replaced"


# ---------------------------------------------------------------------------- queries


@pytest.fixture(scope="module")
def listing(cli: CliRunnerFor) -> list[dict[str, Any]]:
    result = cli("queries", "--format", "json")
    assert result.exit_code == 0, result.stderr
    queries: list[dict[str, Any]] = json.loads(result.stdout)
    return queries


def test_every_parameter_free_query_answers_the_same_remotely(
    oxigraph: Server, cli: CliRunnerFor, pushed: str, listing: list[dict[str, Any]]
) -> None:
    free = [q["name"] for q in listing if not any(p["required"] for p in q["parameters"])]
    assert {q["name"] for q in listing} == {p.stem for p in (REPO / "queries").glob("*.rq")}
    assert len(free) >= 20
    differ = []
    for name in free:
        text = (REPO / "queries" / f"{name}.rq").read_text(encoding="utf-8")
        local = cli("query", name, "--engine", "rdflib", "--format", "json")
        distant = cli("query", name, "--endpoint", oxigraph.query, "--format", "json")
        try:
            same_answer(local, distant, is_ordered(text))
        except AssertionError as error:
            differ.append(f"{name}: {' '.join(str(error).split())[:300]}")
    assert not differ, "\n".join(differ)


@pytest.mark.parametrize(
    ("name", "parameter"),
    [
        ("partners-of-ca", "ca=authority:ca-cergy-pontoise"),
        ("actions-of-ca", "ca=authority:ca-cergy-pontoise"),
        ("actions-of-ca", "ca=authority:ca-evry-centre-essonne"),
        ("ca-by-level", "level=engagement-level:cooperation-avancee"),
        ("partner-countries", "area=world-area:asie"),
        ("actions-by-domain", "domain=domain:amenagement-de-l-espace"),
        ("search", "text=cergy"),
    ],
)
def test_parameterised_queries_answer_the_same_remotely(
    oxigraph: Server, cli: CliRunnerFor, pushed: str, name: str, parameter: str
) -> None:
    text = (REPO / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    local = cli("query", name, "-p", parameter, "--engine", "rdflib", "--format", "json")
    distant = cli("query", name, "-p", parameter, "--endpoint", oxigraph.query, "-f", "json")
    same_answer(local, distant, is_ordered(text))
    assert answer(distant)[1], "a real value finds rows"


INJECTIONS = [
    'x" } ; DROP ALL #',
    'cergy")) || true || ((""',
    "cergy')) } UNION { ?entity ?p ?label } #",
    'x"""} ; INSERT DATA { <urn:x> <urn:y> <urn:z> } #',
    '\\" } } SELECT * WHERE { ?s ?p ?o } #',
    "x\n} ; CLEAR DEFAULT ; #",
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_an_injected_literal_matches_nothing_and_changes_nothing(
    oxigraph: Server, cli: CliRunnerFor, pushed: str, value: str
) -> None:
    before = count(oxigraph.query)
    result = cli(
        "query", "search", "-p", f"text={value}", "--endpoint", oxigraph.query, "-f", "json"
    )
    assert answer(result)[1] == []
    assert count(oxigraph.query) == before


def test_an_injected_iri_is_refused_before_anything_is_sent(
    oxigraph: Server, cli: CliRunnerFor, pushed: str
) -> None:
    before = count(oxigraph.query)
    value = "ca=authority:x> } UNION { ?partner ?p ?o } #"
    result = cli("query", "partners-of-ca", "-p", value, "--endpoint", oxigraph.query)
    assert_one_line_error(result, "ca")
    assert count(oxigraph.query) == before


# ---------------------------------------------------------------------------- errors


def test_an_unreachable_endpoint_is_one_line(cli: CliRunnerFor) -> None:
    port = free_port()
    query = cli("query", "amounts", "--endpoint", f"http://{HOST}:{port}/query")
    assert_one_line_error(query, "cannot reach", "refused")
    push = cli("push", "--endpoint", f"http://{HOST}:{port}/store")
    assert_one_line_error(push, "cannot reach", "refused")


def test_a_wrong_path_is_an_http_error(oxigraph: Server, cli: CliRunnerFor) -> None:
    query = cli("query", "amounts", "--endpoint", f"{oxigraph.base}/nothere")
    assert_one_line_error(query, "HTTP 404")
    push = cli("push", "--endpoint", f"{oxigraph.base}/nothere")
    assert_one_line_error(push, "HTTP 404")
    # the query endpoint is not a graph store, and the other way round
    assert_one_line_error(cli("query", "amounts", "--endpoint", oxigraph.store), "HTTP 4")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("file:///etc/passwd", "http(s)"),
        ("ftp://127.0.0.1/store", "http(s)"),
        ("127.0.0.1:7878/store", "http(s)"),
        ("http://", "no host"),
        ("http:///store", "no host"),
        ("http://127.0.0.1:99999/store", "usable"),
        ("http://127.0.0.1:port/store", "usable"),
        ("http://127.0.0.1/a b", "usable"),
        ("http://user:secret@127.0.0.1:1/store", "credentials"),
    ],
)
def test_bad_urls_are_refused(cli: CliRunnerFor, url: str, fragment: str) -> None:
    for command in (["query", "amounts"], ["push"]):
        message = assert_one_line_error(cli(*command, "--endpoint", url), fragment)
        assert "secret" not in message


@pytest.mark.parametrize(
    "iri", ["not an iri", "relative/path", "http://example.org/a b", "<http://example.org/g>", ""]
)
def test_bad_graph_iris_are_refused(cli: CliRunnerFor, iri: str) -> None:
    port = free_port()  # nothing listens: the IRI is checked before anything is sent
    result = cli("push", "--endpoint", f"http://{HOST}:{port}/store", "--graph", iri)
    assert_one_line_error(result, "absolute IRI")


# ---------------------------------------------------------------------------- hostile servers


@dataclass
class Fake:
    base: str
    target: str  # where the redirecting routes send the client


def _handler(target: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def _send(self, code: int, body: bytes, content_type: str, **headers: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            path = urllib.parse.urlsplit(self.path).path
            html = b"<html><head><style>p{}</style></head><body><h1>Welcome</h1>"
            if path == "/html":
                self._send(200, html + b"<p>" + b"x" * 5000 + b"</p></body></html>", "text/html")
            elif path == "/empty":
                self._send(200, b"", "application/sparql-results+json")
            elif path == "/ask":
                self._send(200, b'{"head": {}, "boolean": true}', "application/sparql-results+json")
            elif path == "/deep":
                self._send(200, b"[" * 200_000, "application/json")
            elif path == "/odd-term":
                odd = {
                    "head": {"vars": ["x"]},
                    "results": {"bindings": [{"x": {"type": "triple", "value": "?"}}]},
                }
                self._send(200, json.dumps(odd).encode(), "application/sparql-results+json")
            elif path == "/triple-term":
                iri = {"type": "uri", "value": "https://example.org/a"}
                triple = {"subject": iri, "predicate": iri, "object": iri}
                star = {
                    "head": {"vars": ["x"]},
                    "results": {"bindings": [{"x": {"type": "triple", "value": triple}}]},
                }
                self._send(200, json.dumps(star).encode(), "application/sparql-results+json")
            elif path == "/error":
                page = html + b"<p>Internal trouble " + b"y" * 5000 + b"</p></body></html>"
                self._send(500, page, "text/html")
            elif path == "/to-file":
                self._send(302, b"", "text/plain", Location="file:///etc/passwd")
            elif path == "/to-ftp":
                self._send(301, b"", "text/plain", Location="ftp://127.0.0.1/x")
            elif path == "/to-target":
                self._send(307, b"", "text/plain", Location=target)
            elif path == "/moved":
                self._send(301, b"", "text/plain", Location=target)
            elif path == "/loop":
                self._send(302, b"", "text/plain", Location="/loop")
            elif path == "/slow":
                time.sleep(3)
                self._send(200, b"{}", "application/sparql-results+json")
            else:
                self._send(404, b"no such route", "text/plain")

        do_GET = do_POST = do_PUT = _answer

    return Handler


@pytest.fixture(scope="module")
def fake(oxigraph: Server) -> Iterator[Fake]:
    """An HTTP server on 127.0.0.1 that answers badly on purpose (and redirects to Oxigraph)."""
    server = ThreadingHTTPServer((HOST, 0), _handler(oxigraph.query))
    server.daemon_threads = True
    server.block_on_close = False
    server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Fake(f"http://{HOST}:{server.server_address[1]}", oxigraph.query)
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("path", "fragments"),
    [
        ("/html", ["did not answer with SPARQL JSON results (text/html)", "Welcome"]),
        ("/empty", ["did not answer with SPARQL JSON results", "an empty answer"]),
        ("/ask", ["did not answer with SPARQL SELECT results"]),
        ("/deep", ["did not answer with SPARQL JSON results"]),
        ("/odd-term", ["did not answer with SPARQL JSON results", "triple"]),
        ("/triple-term", ["unsupported term type", "triple term"]),
        ("/error", ["HTTP 500", "Internal trouble"]),
        ("/to-file", ["file:///etc/passwd", "only redirects to http(s)"]),
        ("/to-ftp", ["ftp://", "only redirects to http(s)"]),
        ("/loop", ["HTTP 302"]),
    ],
)
def test_a_bad_answer_is_one_short_line(
    fake: Fake, cli: CliRunnerFor, path: str, fragments: list[str]
) -> None:
    message = assert_one_line_error(
        cli("query", "amounts", "--endpoint", fake.base + path), *fragments
    )
    assert len(message) < 500
    assert "<" not in message and "{" not in message


@pytest.mark.parametrize("path", ["/to-target", "/moved"])
def test_an_http_redirect_is_followed_with_the_query(
    fake: Fake, cli: CliRunnerFor, pushed: str, path: str
) -> None:
    direct = cli("query", "partners-of-ca", "-p", "ca=authority:ca-cergy-pontoise",
                 "--endpoint", fake.target, "-f", "json")  # fmt: skip
    redirected = cli("query", "partners-of-ca", "-p", "ca=authority:ca-cergy-pontoise",
                     "--endpoint", fake.base + path, "-f", "json")  # fmt: skip
    assert answer(redirected) == answer(direct)
    assert answer(direct)[1]


def test_a_silent_server_times_out(
    fake: Fake, cli: CliRunnerFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote, "TIMEOUT_SECONDS", 0.5)
    started = time.monotonic()
    assert_one_line_error(cli("query", "amounts", "--endpoint", fake.base + "/slow"), "0.5 s")
    assert time.monotonic() - started < 2.5


def test_a_host_name_that_never_resolves_times_out(
    cli: CliRunnerFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resolving a name blocks in C with no socket to shut: the deadline must still end it."""
    released = threading.Event()
    resolving: list[str] = []

    def silent_resolver(host: str, *args: object, **kwargs: object) -> list[Any]:
        resolving.append(host)
        released.wait(30)
        resolving.append("gave up")
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(remote, "TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr(remote, "_GRACE_SECONDS", 0.1)
    monkeypatch.setattr(socket, "getaddrinfo", silent_resolver)
    try:
        result = cli("query", "amounts", "--endpoint", "http://sparql.invalid/query")
        assert resolving == ["sparql.invalid"]  # the answer came while the name was resolving
    finally:
        released.set()
    assert_one_line_error(result, "within 0.3 s")


def test_an_oversized_answer_is_refused(
    fake: Fake, cli: CliRunnerFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote, "MAX_ANSWER_BYTES", 1000)
    assert_one_line_error(cli("query", "amounts", "--endpoint", fake.base + "/html"), "1000 bytes")


def test_a_server_that_does_not_speak_http_is_one_line(cli: CliRunnerFor) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((HOST, 0))
        listener.listen(1)

        def babble() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"this is not HTTP\r\n\r\n")

        thread = threading.Thread(target=babble, daemon=True)
        thread.start()
        url = f"http://{HOST}:{listener.getsockname()[1]}/query"
        assert_one_line_error(cli("query", "amounts", "--endpoint", url), "cannot talk to")
        thread.join(timeout=5)


# ---------------------------------------------------------------------------- answers


XSD_DECIMAL = "http://www.w3.org/2001/XMLSchema#decimal"


@pytest.mark.parametrize(
    ("binding", "term"),
    [
        ({"type": "uri", "value": "https://example.org/a"}, ox.NamedNode("https://example.org/a")),
        ({"type": "literal", "value": "a", "xml:lang": "fr"}, ox.Literal("a", language="fr")),
        (
            {"type": "typed-literal", "value": "2", "datatype": XSD_INTEGER},
            ox.Literal("2", datatype=ox.NamedNode(XSD_INTEGER)),
        ),
        ({"type": "literal", "value": "a"}, ox.Literal("a")),
        ({"type": "bnode", "value": "b0"}, ox.BlankNode("b0")),
    ],
)
def test_json_terms(binding: dict[str, str], term: object) -> None:
    document = {"head": {"vars": ["x"]}, "results": {"bindings": [{"x": binding}]}}
    answer = parse_answer(json.dumps(document).encode(), RESULTS_JSON, "http://x/q")
    assert answer == (["x"], [(term,)])


def test_an_answer_is_read_in_the_format_the_server_sent() -> None:
    """JSON, TSV or XML, whatever was asked for: the same terms, lexical forms as sent."""
    decimal = ox.Literal("1.50", datatype=ox.NamedNode(XSD_DECIMAL))
    expected = (["x", "y"], [(ox.NamedNode("https://example.org/a"), decimal), (None, None)])
    tsv = b'?x\t?y\n<https://example.org/a>\t"1.50"^^<' + XSD_DECIMAL.encode() + b">\n\t\n"
    assert parse_answer(tsv, "text/tab-separated-values; charset=utf-8", "http://x") == expected
    bindings = [
        {
            "x": {"type": "uri", "value": "https://example.org/a"},
            "y": {"type": "literal", "value": "1.50", "datatype": XSD_DECIMAL},
        },
        {},
    ]
    document = {"head": {"vars": ["x", "y"]}, "results": {"bindings": bindings}}
    assert parse_answer(json.dumps(document).encode(), None, "http://x") == expected


@pytest.mark.parametrize(
    "binding",
    [
        {"type": "uri"},
        {"type": "uri", "value": 3},
        "text",
        {"type": "literal", "value": "a", "datatype": 1},
        {"type": "literal", "value": "a", "xml:lang": "not a tag"},
    ],
)
def test_malformed_json_terms_are_refused(binding: object) -> None:
    document = {"head": {"vars": ["x"]}, "results": {"bindings": [{"x": binding}]}}
    with pytest.raises(EndpointError, match="did not answer with SPARQL JSON results"):
        parse_answer(json.dumps(document).encode(), RESULTS_JSON, "http://x/q")


@pytest.mark.parametrize("output_format", ["csv", "tsv", "json"])
@pytest.mark.parametrize(
    ("name", "parameters"),
    [("amounts", []), ("partners-of-ca", ["-p", "ca=authority:ca-cergy-pontoise"])],
)
def test_the_same_bytes_as_the_store(
    oxigraph: Server,
    cli: CliRunnerFor,
    pushed: str,
    name: str,
    parameters: list[str],
    output_format: str,
) -> None:
    """The answer read from the server's TSV or JSON is written exactly as the store's."""
    local = cli("query", name, *parameters, "--format", output_format)
    distant = cli(
        "query", name, *parameters, "--endpoint", oxigraph.query, "--format", output_format
    )
    assert local.exit_code == 0 and distant.exit_code == 0, distant.stderr
    assert distant.stdout == local.stdout


def test_a_value_that_is_not_unicode_is_refused(oxigraph: Server, cli: CliRunnerFor) -> None:
    """An undecodable byte on the command line arrives as a lone surrogate: it cannot be sent."""
    result = cli("query", "search", "-p", "text=\udcff", "--endpoint", oxigraph.query)
    assert_one_line_error(result, "not valid Unicode")


def test_sparql_asks_the_endpoint_the_same_question(
    oxigraph: Server, cli: CliRunnerFor, pushed: str
) -> None:
    question = (
        "SELECT ?ca ?name WHERE { ?ca a cdo:AgglomerationCommunity ; skos:prefLabel ?name } "
        "ORDER BY ?ca ?name"
    )
    local = cli("sparql", question, "--engine", "rdflib", "--format", "json")
    distant = cli("sparql", question, "--endpoint", oxigraph.query, "--format", "json")
    same_answer(local, distant, True)
    assert answer(distant)[1], "the CA of the report are there"
    before = count(oxigraph.query)
    refused = cli("sparql", "DROP ALL", "--endpoint", oxigraph.query)
    assert_one_line_error(refused, "update")
    assert count(oxigraph.query) == before
