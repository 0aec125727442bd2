"""A submission is untrusted input: the traps of ../shared/research/security.md, one test each.

Network access is observed with a loopback sentinel server that counts the requests it gets;
local files with a sentinel JSON document that would be a valid @context if it were read.
"""

from __future__ import annotations

import http.server
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import URIRef
from typer.testing import CliRunner

from coopdec_kg.cli import app
from coopdec_kg.content.graph import MAX_LITERAL_CHARS, SUBMISSION_NAMESPACE, parse_submission
from coopdec_kg.content.project import Project
from coopdec_kg.errors import CoopdecError, InputError, RdfSyntaxError
from coopdec_kg.law.validation import validate_files

FIXTURES = Path(__file__).parent / "fixtures" / "submissions"
SHAPES = "https://w3id.org/coopdec-kg/shapes#"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


class Sentinel:
    """A loopback HTTP server that records every request (it must record none)."""

    def __init__(self) -> None:
        requests: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                body = json.dumps({"@context": {"name": "http://evil.example/name"}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/ld+json")
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *_args: object) -> None:
                return

        self.requests = requests
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Sentinel:
        self.thread.start()
        return self

    def __exit__(self, *_args: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sentinel() -> Iterator[Sentinel]:
    with Sentinel() as server:
        yield server


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def billion_laughs(levels: int) -> str:
    entities = ['<!ENTITY lol0 "lol">']
    for level in range(1, levels + 1):
        entities.append(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">')
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n  '
        + "\n  ".join(entities)
        + f'\n]>\n<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:ex="https://example.org/">'
        + f'<rdf:Description rdf:about="https://example.org/x"><ex:p>&lol{levels};</ex:p>'
        + "</rdf:Description></rdf:RDF>"
    )


# ---------------------------------------------------------------- RDF/XML (checklist 10, 11, 19)


@pytest.mark.parametrize("levels", [5, 9])
def test_billion_laughs_is_refused_at_once(tmp_path: Path, levels: int) -> None:
    path = write(tmp_path, "bomb.rdf", billion_laughs(levels))
    started = time.monotonic()
    with pytest.raises(InputError, match="DTD"):
        parse_submission(path)
    assert time.monotonic() - started < 1


def test_external_entities_are_refused(tmp_path: Path) -> None:
    secret = write(tmp_path, "secret.txt", "TOP-SECRET")
    path = write(
        tmp_path,
        "xxe.rdf",
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        f'<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:ex="https://example.org/">'
        '<rdf:Description rdf:about="https://example.org/x"><ex:p>&xxe;</ex:p>'
        "</rdf:Description></rdf:RDF>",
    )
    with pytest.raises(InputError, match="DTD"):
        parse_submission(path)


def test_utf16_rdfxml_cannot_hide_a_dtd(tmp_path: Path) -> None:
    path = write(tmp_path, "bomb16.rdf", billion_laughs(3).encode("utf-16"))
    with pytest.raises(InputError, match="UTF-8"):
        parse_submission(path)


def test_plain_xml_is_not_rdf(tmp_path: Path) -> None:
    with pytest.raises(RdfSyntaxError):
        parse_submission(write(tmp_path, "root.xml", "<root/>"))


def test_rdfxml_base_cannot_point_at_local_files(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "base.rdf",
        f'<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:ex="https://example.org/" xml:base="file:///etc/">'
        '<rdf:Description rdf:about="passwd"><ex:p>x</ex:p></rdf:Description></rdf:RDF>',
    )
    with pytest.raises(InputError, match="refused"):
        parse_submission(path)


def test_ordinary_rdfxml_parses(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ok.rdf",
        f'<?xml version="1.0" encoding="UTF-8"?><rdf:RDF xmlns:rdf="{RDF_NS}" '
        'xmlns:ex="https://example.org/"><rdf:Description rdf:about="#me">'
        "<ex:p>a &amp; b</ex:p></rdf:Description></rdf:RDF>",
    )
    submission = parse_submission(path)
    subject = URIRef(f"{SUBMISSION_NAMESPACE}{submission.identifier}/#me")
    assert str(submission.graph.value(subject, URIRef("https://example.org/p"))) == "a & b"


# ---------------------------------------------------------------- JSON-LD contexts (12, 13)


def test_remote_jsonld_context_is_never_fetched(tmp_path: Path, sentinel: Sentinel) -> None:
    path = write(
        tmp_path,
        "remote.jsonld",
        json.dumps(
            {"@context": f"{sentinel.url}/ctx", "@id": "https://example.org/x", "name": "x"}
        ),
    )
    with pytest.raises(InputError, match="remote JSON-LD contexts"):
        parse_submission(path)
    nested = write(
        tmp_path,
        "nested.jsonld",
        json.dumps(
            {
                "@context": {
                    "p": {"@id": "https://example.org/p", "@context": [f"{sentinel.url}/x"]}
                },
                "@id": "https://example.org/x",
                "p": {"q": 1},
            }
        ),
    )
    with pytest.raises(InputError):
        parse_submission(nested)
    imported = write(
        tmp_path,
        "import.jsonld",
        json.dumps({"@context": {"@import": f"{sentinel.url}/i"}, "@id": "https://example.org/x"}),
    )
    with pytest.raises(InputError):
        parse_submission(imported)
    assert sentinel.requests == []


def test_local_file_context_is_never_read(tmp_path: Path) -> None:
    context = write(tmp_path, "ctx.jsonld", json.dumps({"@context": {"name": "https://evil/n"}}))
    path = write(
        tmp_path,
        "local.jsonld",
        json.dumps({"@context": context.as_uri(), "@id": "https://example.org/x", "name": "x"}),
    )
    with pytest.raises(InputError, match="never fetched"):
        parse_submission(path)


def test_inline_jsonld_parses(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "inline.jsonld",
        json.dumps(
            {
                "@context": {"name": "https://example.org/name"},
                "@id": "https://example.org/x",
                "name": "x",
            }
        ),
    )
    assert len(parse_submission(path).graph) == 1


# ---------------------------------------------------------------- IRIs (14, 15, 16, 17)


def test_relative_iris_resolve_against_the_submission_not_the_path(tmp_path: Path) -> None:
    path = write(tmp_path, "rel.ttl", "<x> <https://example.org/p> <y> .")
    submission = parse_submission(path)
    iris = {str(term) for triple in submission.graph for term in triple}
    base = f"{SUBMISSION_NAMESPACE}{submission.identifier}/"
    assert {base + "x", base + "y"} <= iris
    assert not any(str(tmp_path) in iri or iri.startswith("file:") for iri in iris)


@pytest.mark.parametrize(
    "text",
    [
        '@base <file:///etc/> . <passwd> <https://example.org/p> "x" .',
        "<https://example.org/s> <https://example.org/p> <javascript:alert(1)> .",
        "<https://example.org/s> <https://example.org/p> <ftp://example.org/x> .",
    ],
)
def test_iris_with_other_schemes_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(InputError, match="refused"):
        parse_submission(write(tmp_path, "scheme.ttl", text))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("space.ttl", '<https://example.org/s p> <https://example.org/p> "x" .'),
        ("literal-subject.ttl", '"lit" <https://example.org/p> <https://example.org/o> .'),
        ("surrogate.nt", '<https://example.org/s> <https://example.org/p> "ok\\uD800" .\n'),
        ("truncated.ttl", '<https://example.org/s> <https://example.org/p> "x'),
        ("no-dot.ttl", '<https://example.org/s> <https://example.org/p> "x"'),
        ("undefined.ttl", "ex:s ex:p ex:o ."),
        ("broken.jsonld", '{"@id": '),
    ],
)
def test_malformed_input_is_a_clean_syntax_error(tmp_path: Path, name: str, text: str) -> None:
    with pytest.raises(RdfSyntaxError):
        parse_submission(write(tmp_path, name, text))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "latin1.ttl",
            '<https://example.org/s> <https://example.org/p> "caf\xe9" .'.encode("latin-1"),
        ),
        ("empty.ttl", b""),
        ("empty.jsonld", b"[]"),
    ],
)
def test_unusable_input_is_refused(tmp_path: Path, name: str, content: bytes) -> None:
    with pytest.raises(InputError):
        parse_submission(write(tmp_path, name, content))


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = write(
        tmp_path, "bom.ttl", b"\xef\xbb\xbf<https://example.org/s> <https://example.org/p> 1 ."
    )
    assert len(parse_submission(path).graph) == 1


def test_directional_and_triple_term_literals_are_refused(tmp_path: Path) -> None:
    directional = write(tmp_path, "dir.ttl", '<https://e.org/s> <https://e.org/p> "x"@en--ltr .')
    with pytest.raises(InputError, match="direction"):
        parse_submission(directional)
    triple = write(
        tmp_path,
        "triple.ttl",
        "<https://e.org/s> <https://e.org/p> "
        "<<( <https://e.org/a> <https://e.org/b> <https://e.org/c> )>> .",
    )
    with pytest.raises(InputError, match="triple terms"):
        parse_submission(triple)


# ---------------------------------------------------------------- nesting and sizes (18, 19, 20)


def test_deep_turtle_nesting_parses_without_recursion(tmp_path: Path) -> None:
    depth = 5000
    text = (
        "<https://e.org/s> <https://e.org/p> "
        + "[ <https://e.org/p> " * depth
        + '"v"'
        + " ]" * depth
        + " ."
    )
    submission = parse_submission(write(tmp_path, "deep.ttl", text))
    assert len(submission.graph) == depth + 1


@pytest.mark.parametrize("depth", [101, 5000, 100_000])
def test_deep_jsonld_nesting_is_refused_before_parsing(tmp_path: Path, depth: int) -> None:
    text = (
        '{"@id":"https://e.org/x",'
        + '"https://e.org/p":{' * depth
        + '"https://e.org/q":"v"'
        + "}" * depth
        + "}"
    )
    with pytest.raises(InputError, match="nested"):
        parse_submission(write(tmp_path, "deep.jsonld", text))


def test_deep_rdfxml_nesting_is_refused(tmp_path: Path) -> None:
    depth = 5000
    text = (
        f'<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:e="https://e.org/">'
        '<rdf:Description rdf:about="https://e.org/s">'
        + "<e:p><rdf:Description>" * depth
        + "<e:q>v</e:q>"
        + "</rdf:Description></e:p>" * depth
        + "</rdf:Description></rdf:RDF>"
    )
    with pytest.raises(InputError, match="nested"):
        parse_submission(write(tmp_path, "deep.rdf", text))


def test_size_limit_is_checked_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "big.nt", b"#" * 2048)

    def never(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("the parser must not run on an oversized file")

    monkeypatch.setattr("pyoxigraph.parse", never)
    with pytest.raises(InputError, match="limit"):
        parse_submission(path, max_bytes=1024)


def test_long_literals_are_refused(tmp_path: Path) -> None:
    text = '<https://e.org/s> <https://e.org/p> "' + "a" * (MAX_LITERAL_CHARS + 1) + '" .\n'
    started = time.monotonic()
    with pytest.raises(InputError, match="longer than"):
        parse_submission(write(tmp_path, "long.nt", text))
    assert time.monotonic() - started < 2


def test_too_many_triples_are_refused(tmp_path: Path) -> None:
    text = "".join(f'<https://e.org/s{i}> <https://e.org/p> "{i}" .\n' for i in range(20))
    with pytest.raises(InputError, match="more than 10 triples"):
        parse_submission(write(tmp_path, "many.nt", text), max_triples=10)


def test_special_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="regular file"):
        parse_submission(tmp_path, input_format="turtle")
    fifo = tmp_path / "pipe.ttl"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="regular file"):
        parse_submission(fifo)  # would block forever if it were opened


# ---------------------------------------------------------------- literals (21, 22)


@pytest.mark.parametrize(
    "literal",
    [
        '"abc"^^<http://www.w3.org/2001/XMLSchema#integer>',
        '"1"^^<http://www.w3.org/2001/XMLSchema#dateTime>',
        '"' + "9" * 5000 + '"^^<http://www.w3.org/2001/XMLSchema#integer>',
    ],
)
def test_ill_typed_literals_are_refused_quietly(
    tmp_path: Path, literal: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "typed.nt", f"<https://e.org/s> <https://e.org/p> {literal} .\n")
    with pytest.raises(InputError, match="ill-typed"):
        parse_submission(path)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_literals_are_normalised_to_nfc(tmp_path: Path) -> None:
    decomposed = "Cafe\u0301"
    path = write(tmp_path, "nfd.ttl", f'<https://e.org/s> <https://e.org/p> "{decomposed}"@fr .')
    submission = parse_submission(path)
    assert submission.normalised_literals == 1
    assert {str(o) for o in submission.graph.objects()} == {"Caf\u00e9"}


# ---------------------------------------------------------------- blank nodes (23, 24)


def test_jsonld_blank_node_labels_never_collide_across_submissions(tmp_path: Path) -> None:
    document = {"@id": "_:b1", "https://example.org/name": "one"}
    first = parse_submission(write(tmp_path, "a.jsonld", json.dumps(document)))
    document["https://example.org/name"] = "two"
    second = parse_submission(write(tmp_path, "b.jsonld", json.dumps(document)))
    assert set(first.graph.subjects()).isdisjoint(second.graph.subjects())


def test_skolem_iris_are_stable_for_the_same_file(tmp_path: Path) -> None:
    path = write(tmp_path, "b.ttl", "[] <https://e.org/p> [ <https://e.org/q> 1 ] .")
    first, second = parse_submission(path), parse_submission(path)
    assert set(first.graph) == set(second.graph)
    assert all(str(s).startswith(SUBMISSION_NAMESPACE) for s in first.graph.subjects())


# ---------------------------------------------------------------- shapes and imports (26, 27)


def test_shapes_in_a_submission_are_ignored(project: Project, tmp_path: Path) -> None:
    fixture = (FIXTURES / "rule2-ok-region-action.ttl").read_text(encoding="utf-8")
    hostile = (
        fixture
        + """
@prefix sh: <http://www.w3.org/ns/shacl#> .
ex:everything-is-wrong a sh:NodeShape ;
    sh:targetClass cdo:CooperationAction ;
    sh:severity sh:Violation ;
    sh:sparql [ sh:select "SELECT $this WHERE { }" ] ;
    sh:property [ sh:path cdo:neverThere ; sh:minCount 1 ] .
"""
    )
    path = write(tmp_path, "hostile.ttl", hostile)
    report = validate_files(project, [path])
    assert report.conforms and not report.findings
    assert report.submissions[0].ignored_triples >= 6
    assert any("ignor" in note for note in report.notes("fr"))


def test_owl_imports_are_never_followed(
    project: Project, tmp_path: Path, sentinel: Sentinel
) -> None:
    fixture = (FIXTURES / "rule2-ok-region-action.ttl").read_text(encoding="utf-8")
    text = (
        fixture
        + f"""
@prefix owl: <http://www.w3.org/2002/07/owl#> .
<> a owl:Ontology ; owl:imports <{sentinel.url}/onto.owl> .
"""
    )
    report = validate_files(project, [write(tmp_path, "imports.ttl", text)])
    assert report.conforms
    assert sentinel.requests == []


def test_a_submission_cannot_redefine_the_ontology(project: Project, tmp_path: Path) -> None:
    fixture = (FIXTURES / "rule1-bad-ngo-party.ttl").read_text(encoding="utf-8")
    text = (
        fixture
        + """
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
cdo:NonGovernmentalOrganisation rdfs:subClassOf cdo:ForeignTerritorialAuthority .
ex:ong-eau-vive rdfs:subClassOf cdo:LocalAuthority .
"""
    )
    report = validate_files(project, [write(tmp_path, "tbox.ttl", text)])
    shapes = {str(f.shape) for f in report.findings}
    assert SHAPES + "AgreementPartyNotIneligibleKind" in shapes
    assert SHAPES + "AgreementPartyIsAuthority" in shapes


# ---------------------------------------------------------------- paths that look like URLs (37)


def test_a_url_given_as_a_file_is_never_fetched(
    runner: CliRunner, project: Project, sentinel: Sentinel
) -> None:
    result = runner.invoke(app, ["--root", str(project.root), "validate", f"{sentinel.url}/x.ttl"])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr
    assert sentinel.requests == []


# ---------------------------------------------------------------- fuzzing the parser


SEED = (FIXTURES / "rule6-ok-agreement-in-force.ttl").read_bytes()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(SEED)), st.integers(0, 8), st.binary(max_size=6)),
        min_size=1,
        max_size=6,
    ),
    suffix=st.sampled_from([".ttl", ".nt", ".jsonld", ".rdf"]),
)
def test_mutated_input_parses_or_fails_cleanly(
    tmp_path: Path, edits: list[tuple[int, int, bytes]], suffix: str
) -> None:
    data = bytearray(SEED)
    for position, length, replacement in edits:
        data[position : position + length] = replacement
    path = tmp_path / f"mutant{suffix}"
    path.write_bytes(bytes(data))
    try:
        submission = parse_submission(path)
    except CoopdecError:
        return
    assert all(
        str(term).startswith(("http", "urn"))
        for triple in submission.graph
        for term in triple
        if isinstance(term, URIRef)
    )
