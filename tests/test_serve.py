"""`coopdec-kg serve` with real clients against a real server on a free port of 127.0.0.1.

One server is started for the module (a subprocess, as a user starts it) with a short query
deadline and three workers; the clients are the project's own CLI (`query --endpoint`), rdflib's
SPARQLStore, and plain HTTP requests. Nothing but 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS, VOID
from typer.testing import CliRunner

from coopdec_kg.cli import app
from coopdec_kg.publish.resources import Resource, Statement, Value
from coopdec_kg.web import negotiation
from coopdec_kg.web.protocol import MAX_QUERY_BYTES, BadRequest, Refused, check_query
from serving import HOST, REPO, Server, environment, start, stop

DEADLINE = 4  # seconds: the server's --timeout in this module
CERGY = "https://w3id.org/coopdec-kg/id/authority/ca-cergy-pontoise"
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


# ---------------------------------------------------------------------------- the server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = start(
        ["--timeout", str(DEADLINE), "--workers", "3"], tmp_path_factory.mktemp("store")
    )
    try:
        yield started
    finally:
        stop(started)


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *arguments: Any, **options: Any) -> None:
        return None


_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0]


def request(
    url: str,
    accept: str | None = None,
    data: bytes | None = None,
    content_type: str | None = None,
    method: str | None = None,
    headers: dict[str, str] | None = None,
    follow: bool = True,
) -> Reply:
    sent = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if accept:
        sent.add_header("Accept", accept)
    if content_type:
        sent.add_header("Content-Type", content_type)
    try:
        with (_opener if follow else _direct).open(sent, timeout=60) as answer:
            return Reply(answer.status, _lower(answer.headers), answer.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, _lower(error.headers), error.read())


def _lower(headers: Any) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def query_url(server: Server, text: str, **parameters: str) -> str:
    return server.sparql + "?" + urllib.parse.urlencode({"query": text, **parameters})


# ---------------------------------------------------------------------------- real clients


def _answer(stdout: str) -> tuple[list[str], list[tuple[object, ...]]]:
    document = json.loads(stdout)
    variables = document["head"]["vars"]
    rows = [
        tuple(json.dumps(row.get(v), sort_keys=True) for v in variables)
        for row in document["results"]["bindings"]
    ]
    return variables, rows


def _ordered(text: str) -> bool:
    tail = text.rsplit("}", 1)[-1]
    body = "\n".join(line.split("#", 1)[0] for line in tail.splitlines())
    return "ORDER BY" in " ".join(body.upper().split())


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Any:
    store = tmp_path_factory.mktemp("cli-store")
    runner = CliRunner()

    def invoke(*arguments: str) -> Any:
        return runner.invoke(app, ["--root", str(REPO), *arguments], env=environment(store))

    return invoke


def test_every_parameter_free_query_answers_through_the_endpoint_as_on_the_local_engine(
    server: Server, cli: Any
) -> None:
    listing = json.loads(cli("queries", "--format", "json").stdout)
    free = [q["name"] for q in listing if not any(p["required"] for p in q["parameters"])]
    assert len(free) >= 20
    differ = []
    for name in free:
        local = cli("query", name, "--format", "json")
        distant = cli("query", name, "--endpoint", server.sparql, "--format", "json")
        assert local.exit_code == 0 and distant.exit_code == 0, (local.stderr, distant.stderr)
        ours, theirs = _answer(local.stdout), _answer(distant.stdout)
        text = (REPO / "queries" / f"{name}.rq").read_text(encoding="utf-8")
        same = (
            ours == theirs
            if _ordered(text)
            else (ours[0] == theirs[0] and Counter(ours[1]) == Counter(theirs[1]))
        )
        if not same:
            differ.append(name)
    assert not differ


def test_the_api_answers_a_named_query_with_the_bytes_the_cli_prints(
    server: Server, cli: Any
) -> None:
    for name, parameters in (
        ("engagement-levels", {}),
        ("partners-of-ca", {"ca": "authority:ca-cergy-pontoise"}),
        ("links-by-area", {}),
    ):
        options = [f"-p{k}={v}" for k, v in parameters.items()]
        for fmt in ("json", "csv", "tsv"):
            local = cli("query", name, *options, "--format", fmt)
            url = f"{server.base}api/queries/{name}?" + urllib.parse.urlencode(
                {**parameters, "format": fmt}
            )
            reply = request(url)
            assert reply.status == 200, reply.text
            assert reply.body == local.stdout_bytes, (name, fmt)


FORMULAS = (
    'SELECT ?text ?amount WHERE { VALUES (?text ?n) { ("=1+2" 1) ("@SUM(A1)" 2) '
    '("-5 €" 3) ("Porto-Novo" 4) } BIND(?n - 5 AS ?amount) } ORDER BY ?n'
)


def test_a_download_for_people_never_holds_a_formula_and_the_protocol_stays_exact(
    server: Server,
) -> None:
    """Issue 19: CSV made for a spreadsheet guards text cells; the SPARQL 1.1 answer is exact."""
    exact = request(query_url(server, FORMULAS, format="csv"))
    assert exact.status == 200 and "content-disposition" not in exact.headers
    assert exact.text.splitlines()[1:3] == ["=1+2,-4", "@SUM(A1),-3"]
    saved = request(query_url(server, FORMULAS, format="csv", download="1"))
    assert saved.status == 200, saved.text
    assert saved.headers["content-disposition"] == 'attachment; filename="answer.csv"'
    # a number stays a number, however it begins
    assert saved.text.splitlines() == [
        "text,amount",
        "'=1+2,-4",
        "'@SUM(A1),-3",
        "'-5 €,-2",
        "Porto-Novo,-1",
    ]
    as_json = request(query_url(server, FORMULAS, format="json", download="1"))
    assert as_json.headers["content-disposition"] == 'attachment; filename="answer.srj"'
    assert json.loads(as_json.body) == json.loads(request(query_url(server, FORMULAS)).body)


def test_the_atlas_downloads_a_named_answer_as_query_writes_its_csv_file(
    server: Server, cli: Any, tmp_path: Path
) -> None:
    written = tmp_path / "partners.csv"
    local = cli("query", "partners-of-ca", "-p", "ca=authority:ca-cergy-pontoise",
                "--format", "csv", "-o", str(written))  # fmt: skip
    assert local.exit_code == 0, local.stderr
    url = f"{server.base}api/queries/partners-of-ca?" + urllib.parse.urlencode(
        {"ca": "authority:ca-cergy-pontoise", "format": "csv", "download": "1"}
    )
    reply = request(url)
    assert reply.status == 200, reply.text
    assert reply.headers["content-disposition"] == 'attachment; filename="partners-of-ca.csv"'
    assert reply.body == written.read_bytes()
    refused = request(url.replace("download=1", "download=yes"))
    assert refused.status == 400 and "download must be 0 or 1" in json.loads(refused.body)["error"]


def test_rdflib_sparqlstore_reads_the_endpoint(server: Server) -> None:
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    graph = Graph(SPARQLStore(query_endpoint=server.sparql, returnFormat="xml"))
    triples = json.loads(request(server.base + "health").body)["triples"]
    (count,) = next(iter(graph.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))
    assert int(count) == triples
    labels = {
        str(label)
        for (label,) in graph.query(
            f"SELECT ?label WHERE {{ <{CERGY}> <{SKOS.prefLabel}> ?label }}"
        )
    }
    assert labels, "Cergy-Pontoise has its name as printed"


# ---------------------------------------------------------------------------- the protocol


SELECT = "SELECT ?s WHERE { ?s a <https://w3id.org/coopdec-kg/ontology#AgglomerationCommunity> }"
CONSTRUCT = f"CONSTRUCT {{ <{CERGY}> ?p ?o }} WHERE {{ <{CERGY}> ?p ?o }}"


def test_select_answers_are_negotiated_in_the_four_result_formats(server: Server) -> None:
    url = query_url(server, SELECT)
    replies = {f.name: request(url, f.media_type) for f in negotiation.RESULTS}
    assert {n: r.media_type for n, r in replies.items()} == {
        f.name: f.media_type for f in negotiation.RESULTS
    }
    count = len(json.loads(replies["json"].body)["results"]["bindings"])
    assert count > 10
    results = ElementTree.fromstring(replies["xml"].body)
    assert len(results.findall(".//{http://www.w3.org/2005/sparql-results#}result")) == count
    assert replies["csv"].text.splitlines()[0] == "s"
    assert len(replies["csv"].text.splitlines()) == count + 1
    assert replies["tsv"].text.splitlines()[0] == "?s"
    assert request(url).media_type == "application/sparql-results+json", "the default"
    assert request(query_url(server, SELECT, format="csv")).media_type == "text/csv"


def test_construct_answers_are_negotiated_in_rdf_formats(server: Server) -> None:
    url = query_url(server, CONSTRUCT)
    graphs = {}
    for fmt, parser in (("text/turtle", "turtle"), ("application/n-triples", "nt"),
                        ("application/ld+json", "json-ld")):  # fmt: skip
        reply = request(url, fmt)
        assert reply.status == 200 and reply.media_type == fmt
        graphs[fmt] = Graph().parse(data=reply.text, format=parser)
    sizes = {len(graph) for graph in graphs.values()}
    assert len(sizes) == 1 and sizes.pop() > 5
    assert request(url).media_type == "text/turtle", "the default for a graph"


def test_a_format_nobody_can_hold_is_answered_406(server: Server) -> None:
    reply = request(query_url(server, SELECT), "image/png")
    assert reply.status == 406
    assert "application/sparql-results+json" in reply.text


def test_queries_by_post_form_and_by_post_body(server: Server) -> None:
    form = urllib.parse.urlencode({"query": SELECT}).encode()
    by_form = request(server.sparql, "text/csv", form, "application/x-www-form-urlencoded")
    by_body = request(server.sparql, "text/csv", SELECT.encode(), "application/sparql-query")
    by_get = request(query_url(server, SELECT), "text/csv")
    assert by_form.status == by_body.status == 200
    assert Counter(by_form.text.splitlines()) == Counter(by_get.text.splitlines())
    assert Counter(by_body.text.splitlines()) == Counter(by_get.text.splitlines())


def test_the_service_description_is_at_the_endpoint(server: Server) -> None:
    reply = request(server.sparql, "text/turtle")
    assert reply.status == 200
    description = Graph().parse(data=reply.text, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    assert (URIRef(server.sparql), URIRef(sd + "endpoint"), URIRef(server.sparql)) in description
    assert (None, URIRef(sd + "supportedLanguage"), URIRef(sd + "SPARQL11Query")) in description
    triples = json.loads(request(server.base + "health").body)["triples"]
    assert (None, VOID.triples, Literal(triples)) in description
    assert request(server.sparql, "text/html").media_type == "text/html", "a form for people"


@pytest.mark.parametrize(
    ("how", "status", "fragment"),
    [
        ("syntax", 400, "SPARQL syntax error"),
        ("empty", 400, "empty"),
        ("twice", 400, "query 2 times"),
        ("long", 413, "limit"),
        ("media-type", 415, "application/sparql-query"),
        ("graph-iri", 400, "graph IRI"),
    ],
)
def test_bad_requests_are_answered_4xx_with_a_message(
    server: Server, how: str, status: int, fragment: str
) -> None:
    if how == "syntax":
        reply = request(query_url(server, "SELECT ?s WHERE { ?s ?p }"))
    elif how == "empty":
        reply = request(query_url(server, "  "))
    elif how == "twice":
        reply = request(server.sparql + "?query=ASK%7B%7D&query=ASK%7B%7D")
    elif how == "long":
        text = "ASK {}" + "#" * MAX_QUERY_BYTES
        reply = request(server.sparql, data=text.encode(), content_type="application/sparql-query")
    elif how == "media-type":
        reply = request(server.sparql, data=b"ASK {}", content_type="text/plain")
    else:
        reply = request(query_url(server, "ASK {}", **{"default-graph-uri": "not an iri"}))
    assert reply.status == status, reply.text
    assert reply.text.startswith("Error: ") and fragment in reply.text, reply.text
    assert reply.text.count("\n") == 1, "one line"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A port of 127.0.0.1 that records whether anything connects to it."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        probe.listen(1)
        probe.settimeout(0.5)
        yield probe


def test_updates_and_federated_queries_are_refused_and_nothing_is_contacted(
    server: Server, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    federated = f"SELECT * WHERE {{ SERVICE <http://{HOST}:{port}/sparql> {{ ?s ?p ?o }} }}"
    update = "INSERT DATA { <urn:a> <urn:b> <urn:c> }"
    replies = [
        request(query_url(server, federated)),
        request(server.sparql, data=federated.encode(), content_type="application/sparql-query"),
        request(server.sparql, data=update.encode(), content_type="application/sparql-update"),
        request(
            server.sparql,
            data=urllib.parse.urlencode({"update": update}).encode(),
            content_type="application/x-www-form-urlencoded",
        ),
        request(query_url(server, "PREFIX x: <urn:x:> " + update)),
    ]
    assert [r.status for r in replies] == [403] * 5, [r.text for r in replies]
    assert "SERVICE" in replies[0].text and "read-only" in replies[2].text
    with pytest.raises(TimeoutError):
        listener.accept()
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    unchanged = json.loads(request(query_url(server, count)).body)["results"]["bindings"]
    assert (
        int(unchanged[0]["n"]["value"])
        == json.loads(request(server.base + "health").body)["triples"]
    )


def test_a_query_past_the_deadline_is_stopped_while_another_is_answered(server: Server) -> None:
    events: list[str] = []
    slow: dict[str, Reply] = {}

    def run_slow() -> None:
        slow["reply"] = request(query_url(server, CARTESIAN))
        events.append("slow answered")

    thread = threading.Thread(target=run_slow)
    thread.start()
    time.sleep(0.5)  # let the slow query reach a worker (no assertion depends on the time)
    quick = request(query_url(server, "ASK { ?s ?p ?o }"))
    events.append("quick answered")
    thread.join(timeout=DEADLINE * 10)
    assert quick.status == 200 and b"true" in quick.body
    assert events == ["quick answered", "slow answered"]
    assert slow["reply"].status == 503
    assert f"limit of {DEADLINE} s" in slow["reply"].text and "stopped" in slow["reply"].text
    health = json.loads(request(server.base + "health").body)
    assert health["replaced_workers"] >= 1
    after = request(query_url(server, "ASK { ?s ?p ?o }"))
    assert after.status == 200, "the server still answers"


def test_twenty_concurrent_clients_are_served_without_an_error(server: Server) -> None:
    urls = [
        query_url(server, SELECT),
        f"{server.base}api/queries/engagement-levels",
        f"{server.base}page/authority/ca-cergy-pontoise",
        f"{server.base}data/authority/ca-cergy-pontoise.ttl",
        f"{server.base}health",
    ]

    def client(number: int) -> list[int]:
        return [request(urls[(number + i) % len(urls)]).status for i in range(5)]

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = [status for answers in pool.map(client, range(20)) for status in answers]
    assert statuses == [200] * 100


def test_reads_are_open_to_other_origins(server: Server) -> None:
    reply = request(query_url(server, "ASK {}"), headers={"Origin": "https://example.org"})
    assert reply.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in reply.headers
    preflight = request(
        server.sparql,
        method="OPTIONS",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_each_request_is_logged_on_stderr(server: Server) -> None:
    request(server.base + "health?from=the-log-test")
    time.sleep(0.2)  # the drain thread reads the line (no assertion depends on the time)
    assert any('"GET /health?from=the-log-test" 200' in line for line in server.log)


# ---------------------------------------------------------------------------- resolvable IRIs


def test_a_resource_iri_answers_303_to_its_page_or_document(server: Server) -> None:
    iri = server.base + "id/authority/ca-cergy-pontoise"
    page = request(iri, "text/html", follow=False)
    assert page.status == 303 and page.headers["location"] == "/page/authority/ca-cergy-pontoise"
    assert "Accept" in page.headers["vary"]
    for media_type, extension in (("text/turtle", "ttl"), ("application/n-triples", "nt"),
                                  ("application/ld+json", "jsonld")):  # fmt: skip
        moved = request(iri, media_type, follow=False)
        assert moved.status == 303
        assert moved.headers["location"] == f"/data/authority/ca-cergy-pontoise.{extension}"
    described = Graph().parse(data=request(iri, "text/turtle").text, format="turtle")
    assert (URIRef(CERGY), RDF.type, None) in described
    assert (URIRef(CERGY), SKOS.prefLabel, None) in described
    assert (None, None, URIRef(CERGY)) in described, "the resources pointing at it"
    as_jsonld = Graph().parse(data=request(iri, "application/ld+json").text, format="json-ld")
    assert len(as_jsonld) == len(described)
    assert request(server.base + "id/authority/no-such-thing", "text/turtle").status == 404


def test_a_resource_of_every_kind_resolves(server: Server) -> None:
    """One IRI of each kind the graph names (`…/id/{kind}/…`) has its page and its document."""
    namespace = "https://w3id.org/coopdec-kg/id/"
    found = request(
        query_url(
            server,
            f"SELECT ?kind (MIN(STR(?s)) AS ?example) WHERE {{ ?s ?p ?o "
            f'FILTER(STRSTARTS(STR(?s), "{namespace}")) '
            f'BIND(STRBEFORE(STRAFTER(STR(?s), "{namespace}"), "/") AS ?kind) }} GROUP BY ?kind',
        )
    )
    examples = [row["example"]["value"] for row in json.loads(found.body)["results"]["bindings"]]
    assert len(examples) >= 15
    for iri in examples:
        path = iri[len(namespace) :]
        page = request(f"{server.base}id/{path}", "text/html")
        assert page.status == 200 and iri in page.text, iri
        document = request(f"{server.base}id/{path}", "application/n-triples")
        assert document.status == 200 and f"<{iri}>" in document.text, iri


def test_a_resource_page_shows_labels_and_links_in_the_readers_language(server: Server) -> None:
    french = request(server.base + "page/authority/ca-cergy-pontoise", "text/html").text
    english = request(
        server.base + "page/authority/ca-cergy-pontoise",
        headers={"Accept-Language": "en-GB,en;q=0.8"},
    ).text
    assert '<html lang="fr">' in french and '<html lang="en">' in english
    for html in (french, english):
        assert "<main" in html and "<header" in html and "<footer" in html
        assert "Cergy-Pontoise" in html
        assert 'href="/id/' in html, "links to the graph's resources, on this server"
        assert 'href="/data/authority/ca-cergy-pontoise.ttl"' in html
    # a kind and a property are named by their labels, not by their IRIs
    assert "communauté d'agglomération" in french.replace("&#39;", "'")
    assert "agglomeration community" in english
    assert "niveau d'engagement" in french.replace("&#39;", "'").lower()
    assert "engagement level" in english.lower()


def test_the_page_template_shows_a_literal_as_text() -> None:
    from starlette.requests import Request

    from coopdec_kg.web.site import texts

    def url_for(name: str, **params: str) -> Any:
        return urllib.parse.urlsplit(f"/{name}/{params.get('path', '')}")

    evil = Value("<script>alert(1)</script>")
    resource = Resource(
        CERGY, evil, (), (), (Statement(Value("name", iri=str(SKOS.prefLabel)), (evil,)),), ()
    )
    from coopdec_kg.web.site import templates

    html = (
        templates()
        .get_template("resource.html")
        .render(
            request=Request({"type": "http"}),
            url_for=url_for,
            lang="fr",
            other_lang="en",
            switch_href="?lang=en",
            t=texts()["fr"],
            resource=resource,
            path="authority/x",
            formats=negotiation.DOCUMENTS,
            partners=None,
        )
    )
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_ontology_answers_at_its_namespace(server: Server) -> None:
    turtle = request(server.base + "ontology", "text/turtle")
    assert turtle.status == 200 and turtle.headers["content-location"] == "/ontology.ttl"
    ontology = Graph().parse(data=turtle.text, format="turtle")
    commune = URIRef("https://w3id.org/coopdec-kg/ontology#Commune")
    assert (commune, RDF.type, None) in ontology
    page = request(server.base + "ontology", "text/html")
    assert page.media_type == "text/html" and 'id="Commune"' in page.text, "anchors = fragments"
    assert request(server.base + "doc/index.en.html").status == 200


def test_the_dataset_description_and_the_dumps(server: Server) -> None:
    moved = request(server.base + "dataset", follow=False)
    assert moved.status == 303 and moved.headers["location"] == "/.well-known/void"
    description = Graph().parse(data=request(server.base + ".well-known/void").text)
    dataset = URIRef("https://w3id.org/coopdec-kg/dataset")
    assert (dataset, RDF.type, VOID.Dataset) in description
    dumps = [str(o) for o in description.objects(dataset, VOID.dataDump)]
    assert "https://w3id.org/coopdec-kg/dump/coopdec-kg.nt" in dumps
    dump = request(server.base + "dump/coopdec-kg.nt")
    assert dump.status == 200 and dump.media_type == "application/n-triples"
    (triples,) = description.objects(dataset, VOID.triples)
    assert dump.text.count("\n") > int(triples), "the data and its description"


# ---------------------------------------------------------------------------- the API


def test_the_api_lists_the_queries_and_describes_them_in_openapi(server: Server) -> None:
    listed = json.loads(request(server.base + "api/queries").body)
    names = {path.stem for path in (REPO / "queries").glob("*.rq")}
    assert {q["name"] for q in listed} == names
    assert all(q["summary"] and q["summary_en"] for q in listed)
    described = json.loads(request(server.base + "api/openapi.json").body)
    assert described["openapi"].startswith("3.")
    operations = {path.rsplit("/", 1)[-1]: item["get"] for path, item in described["paths"].items()}
    assert names <= set(operations)
    partners = {p["name"]: p for p in operations["partners-of-ca"]["parameters"]}
    assert partners["ca"]["required"] is True and partners["ca"]["schema"]["format"] == "uri"
    assert {"limit", "offset", "format"} <= set(partners)


def test_the_api_pages_an_answer(server: Server) -> None:
    url = f"{server.base}api/queries/legal-texts"
    whole = json.loads(request(url).body)["results"]["bindings"]
    assert len(whole) > 4
    reply = request(url + "?limit=2&offset=1")
    page = json.loads(reply.body)["results"]["bindings"]
    assert page == whole[1:3]
    assert reply.headers["x-total-count"] == str(len(whole))
    assert 'rel="next"' in reply.headers["link"] and "offset=3" in reply.headers["link"]


@pytest.mark.parametrize(
    ("path", "status", "fragment"),
    [
        ("api/queries/no-such-query", 404, "unknown query"),
        ("api/queries/partners-of-ca", 400, "ca"),
        ("api/queries/partners-of-ca?ca=not%20an%20iri", 400, "not an IRI"),
        ("api/queries/engagement-levels?colour=blue", 400, "no parameter 'colour'"),
        ("api/queries/engagement-levels?limit=0", 400, "limit"),
        ("api/queries/engagement-levels?format=xlsx", 406, "text/csv"),
    ],
)
def test_bad_api_requests_are_answered_with_a_json_message(
    server: Server, path: str, status: int, fragment: str
) -> None:
    reply = request(server.base + path)
    assert reply.status == status
    assert fragment in json.loads(reply.body)["error"]


def test_an_injected_value_is_bound_as_a_term(server: Server) -> None:
    value = 'x" } UNION { ?entity ?p ?label } #'
    reply = request(f"{server.base}api/queries/search?" + urllib.parse.urlencode({"text": value}))
    assert reply.status == 200
    assert json.loads(reply.body)["results"]["bindings"] == []


# ---------------------------------------------------------------------------- start and stop


def _serve(*arguments: str, store: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coopdec_kg", "--root", str(REPO), "serve", *arguments],
        capture_output=True,
        text=True,
        env=environment(store),
        timeout=120,
        check=False,
    )


def test_a_server_that_cannot_start_says_why_and_exits_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        busy = _serve("--port", port, store=tmp_path)
    broken = tmp_path / "broken.ttl"
    broken.write_text("<urn:a> <urn:b> .\n", encoding="utf-8")
    outcomes = [
        (busy, "cannot listen"),
        (_serve("--host", "192.0.2.1", "--port", "0", store=tmp_path), "cannot listen"),
        (_serve("--port", "0", "--extra", str(tmp_path / "none.ttl"), store=tmp_path), "none.ttl"),
        (_serve("--port", "0", "--extra", str(broken), store=tmp_path), "cannot load the graph"),
    ]
    for done, fragment in outcomes:
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and fragment in lines[0]


def test_an_answer_past_the_size_limit_is_refused_with_a_message(tmp_path: Path) -> None:
    """With --max-answer-bytes 2000, the whole graph is too large and a page of it is not."""
    small = start(["--max-answer-bytes", "2000", "--workers", "2"], tmp_path)
    try:
        whole = request(query_url(small, "SELECT * WHERE { ?s ?p ?o }"))
        graph = request(query_url(small, "CONSTRUCT WHERE { ?s ?p ?o }"), "text/turtle")
        named = request(f"{small.base}api/queries/legal-texts")
        paged = request(f"{small.base}api/queries/legal-texts?limit=1")
        fits = request(query_url(small, "SELECT * WHERE { ?s ?p ?o } LIMIT 2"))
    finally:
        stop(small)
    for reply in (whole, graph):
        assert reply.status == 400
        assert reply.text.startswith("Error: ") and "limit of" in reply.text, reply.text
        assert "add a LIMIT" in reply.text and reply.text.count("\n") == 1
    assert named.status == 400 and "limit and offset" in json.loads(named.body)["error"]
    assert paged.status == 200 and len(json.loads(paged.body)["results"]["bindings"]) == 1
    assert fits.status == 200 and len(json.loads(fits.body)["results"]["bindings"]) == 2


def _children(pid: int) -> list[int]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(line) for line in found.stdout.split()]


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def test_ctrl_c_stops_the_server_and_its_workers(tmp_path: Path) -> None:
    started = start(["--workers", "2"], tmp_path)
    spawners = _children(started.process.pid)
    assert len(spawners) == 1
    workers = _children(spawners[0])
    assert len(workers) == 2
    assert stop(started, signal.SIGINT) == 130
    assert "Traceback" not in "".join(started.log)
    for pid in (*spawners, *workers):
        for _ in range(100):  # a killed process is reaped by its new parent
            if _gone(pid):
                break
            time.sleep(0.05)
        assert _gone(pid), pid


# ---------------------------------------------------------------------------- the checks alone


@given(st.text(alphabet=st.characters(blacklist_characters='"\\\n\r'), max_size=40))
def test_a_keyword_inside_a_literal_is_no_keyword(text: str) -> None:
    check_query(f'SELECT * WHERE {{ ?s ?p "{text} SERVICE INSERT" }}')


@given(st.sampled_from(["SERVICE", "service", "Service"]), st.sampled_from(["", "SILENT "]))
def test_service_is_refused_in_any_case(word: str, silent: str) -> None:
    with pytest.raises(Refused):
        check_query(f"SELECT * WHERE {{ {word} {silent}<http://x/> {{ ?s ?p ?o }} }}")


def test_a_query_that_cannot_be_read_is_refused_not_let_through() -> None:
    with pytest.raises(BadRequest):
        check_query("SELECT * WHERE { ?s ?p ?o } `SERVICE`")


@given(st.lists(st.sampled_from(negotiation.RESULTS), min_size=1, max_size=4, unique=True))
def test_the_format_with_the_highest_quality_is_chosen(preferred: list[negotiation.Format]) -> None:
    accept = ", ".join(
        f"{fmt.media_type};q={1 - index / 10:.1f}" for index, fmt in enumerate(preferred)
    )
    assert negotiation.choose(accept, negotiation.RESULTS) == preferred[0]
