"""Named-query files: the strict `#+` header, typed parameters, safe binding, result writers."""

from __future__ import annotations

import csv
import io
import json
import shutil
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.query import Result

from conftest import REPO
from coopdec_kg.content.namespaces import prefixes
from coopdec_kg.content.project import Project
from coopdec_kg.engines.queries import (
    NamedQuery,
    bind,
    find_query,
    load_queries,
    load_query,
    parse_assignments,
    parse_header,
    parse_iri,
    parse_value,
    query_names,
    run,
)
from coopdec_kg.engines.results import QueryResult, shorten, to_csv, to_json, to_tsv
from coopdec_kg.errors import BadQueryHeader, ParameterError, QueryError, UnknownQuery

AUTHORITY = "https://w3id.org/coopdec-kg/id/authority/"
CERGY = URIRef(AUTHORITY + "ca-cergy-pontoise")
CERGY_TERM = ox.NamedNode(str(CERGY))  # a parameter's value, as `bind` gives it
INJECTION = 'x" } ; DROP ALL #'
XSD = "http://www.w3.org/2001/XMLSchema#"

HEADER = """#+ summary: Résumé
#+ summary_en: Summary
"""
BODY = "PREFIX ex: <https://example.org/>\nSELECT ?s WHERE { ?s ex:p ?o }\n"


def write_query(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.rq"
    path.write_text(text, encoding="utf-8")
    return path


def tiny_project(tmp_path: Path, queries: dict[str, str]) -> Project:
    for folder in ("ontology", "data", "queries"):
        (tmp_path / folder).mkdir()
    (tmp_path / "ontology" / "coopdec.ttl").write_text("", encoding="utf-8")
    for name, text in queries.items():
        write_query(tmp_path / "queries", name, text)
    return Project.at(tmp_path)


# ------------------------------------------------------------------------- the real folder


def test_every_query_loads_and_runs_on_the_real_graph(project: Project, graph: Graph) -> None:
    """Each file parses, has fr and en summaries, and answers (optional parameters unset)."""
    before = len(graph)
    named = load_queries(project)
    assert len(named) >= 26
    for query in named:
        assert query.summary and query.summary_en and query.description and query.description_en
        assert all(p.description for p in query.parameters)
        if any(p.required for p in query.parameters):
            continue
        result = run(graph, query)
        assert result.variables == query.columns
        assert len(result) > 0, f"{query.name} answers nothing"
    assert len(graph) == before


@pytest.mark.parametrize(
    ("name", "columns"),
    [  # the contract of issue 3
        ("national-context", ("indicator", "label", "value")),
        ("ca-legal-definition", ("requirement", "label", "value")),
        ("legal-texts", ("text", "label", "type", "date", "establishes")),
        ("engagement-levels", ("level", "label", "statedCount", "namedCount")),
        ("ca-by-level", ("ca", "label", "level", "levelLabel")),
        ("links-by-area", ("area", "areaLabel", "level", "levelLabel", "links")),
        ("partner-countries", ("area", "areaLabel", "country", "countryLabel")),
        ("partners-of-ca", ("partner", "partnerLabel", "country", "countryLabel")),
        ("actions-of-ca", ("action", "description", "domain", "domainLabel", "amount")),
        ("actions-by-domain", ("domain", "domainLabel", "action", "ca", "caLabel")),
        ("cross-border", ("ca", "caLabel", "country", "countryLabel")),
        ("amounts", ("action", "label", "amountMin", "amountMax")),
        ("speciality-check", ("action", "ca", "domain", "domainLabel", "status")),
        ("report-audit", ("check", "label", "stated", "computed")),
        ("place-of-groupings", ()),
        ("specialisation", ()),
        ("non-engagement-reasons", ()),
        ("roles", ()),
        ("intervention-logics", ()),
        ("objectives", ()),
        ("stakes", ()),
        ("formalisation-instruments", ()),
        ("geographic-strategies", ()),
        ("sensitisation", ()),
        ("millennium-goals", ()),
        ("multilateral-funding", ()),
    ],
)
def test_required_queries_exist_with_their_columns(
    project: Project, name: str, columns: tuple[str, ...]
) -> None:
    assert set(columns) <= set(find_query(project, name).columns)


@pytest.mark.parametrize(
    ("name", "parameter", "required"),
    [
        ("ca-by-level", "level", False),
        ("partner-countries", "area", False),
        ("partners-of-ca", "ca", True),
        ("actions-of-ca", "ca", True),
        ("actions-by-domain", "domain", False),
    ],
)
def test_declared_parameters(project: Project, name: str, parameter: str, required: bool) -> None:
    declared = find_query(project, name).parameter(parameter)
    assert declared is not None
    assert (declared.kind, declared.required) == ("iri", required)


def test_query_names_need_no_parsing(project: Project) -> None:
    assert "engagement-levels" in query_names(project)
    assert query_names(project) == sorted(query_names(project))


def test_unknown_query_names_close_matches(project: Project) -> None:
    with pytest.raises(UnknownQuery, match="engagement-levels"):
        find_query(project, "engagement-level")
    with pytest.raises(UnknownQuery, match=r"^unknown query 'zzz' \("):
        find_query(project, "zzz")


def test_a_name_is_never_a_path(project: Project) -> None:
    with pytest.raises(UnknownQuery):
        find_query(project, "../queries/engagement-levels")


# ------------------------------------------------------------------------- header parsing


def test_header_is_yaml_in_plus_comments() -> None:
    header = parse_header(
        HEADER + "#+ description: >-\n#+   deux\n#+   lignes\n#+ tags:\n#+   - a\n#+   - b\n" + BODY
    )
    assert header["description"] == "deux lignes"
    assert header["tags"] == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("#+ summary: [unclosed\n#+ summary_en: x\n", "not valid YAML"),
        ("#+ - a list\n", "mapping"),
        (BODY, "mapping"),
        ("#+ summary_en: x\n", "no summary"),
        ("#+ summary: x\n", "no summary_en"),
        (HEADER + "#+ endpoint: http://example.org/sparql\n", "unknown #\\+ header key"),
        (HEADER + "#+ tags: one\n", "tags must be a list"),
        (HEADER + "#+ params: [ca]\n", "params must map"),
        (HEADER + "#+ params:\n#+   ca: ''\n", "params must map"),
        (HEADER + "#+ method: DELETE\n", "method"),
        (HEADER + "#+ pagination: 0\n", "pagination"),
        (HEADER + "#+ enumerate:\n#+   - ca\n", "list the values instead"),
        (HEADER + "#+ defaults: {ca: x}\n", "defaults must be a list"),
        ("#+ summary: ''\n#+ summary_en: x\n", "summary must be a non-empty text"),
        (HEADER + BODY + "#+ tags: [late]\n", "must all come first"),
    ],
)
def test_malformed_headers_are_refused(text: str, message: str) -> None:
    with pytest.raises(BadQueryHeader, match=message):
        parse_header(text, "q.rq")


@pytest.mark.parametrize(
    ("body", "header", "error", "message"),
    [
        (  # a parameter variable the header does not declare
            "SELECT ?s WHERE { ?s ?p ?_ca_iri }",
            "",
            BadQueryHeader,
            "not declared",
        ),
        (  # a declared parameter the body does not use
            BODY,
            "#+ params:\n#+   ca: the grouping\n",
            BadQueryHeader,
            "uses no",
        ),
        (  # one parameter spelt two ways
            "SELECT ?s WHERE { ?s ?p ?_ca_iri . ?s ?q ?__ca_iri }",
            "#+ params:\n#+   ca: the grouping\n",
            BadQueryHeader,
            "written both",
        ),
        (
            "SELECT ?s WHERE { ?s ?p ?_ca_iri_x_y }",
            "#+ params:\n#+   ca: the grouping\n",
            BadQueryHeader,
            "not a valid parameter variable",
        ),
        (
            "SELECT ?s WHERE { ?s ?p ?_ca_unknowntype }",
            "#+ params:\n#+   ca: the grouping\n",
            BadQueryHeader,
            "unsupported type",
        ),
        (
            "SELECT ?s WHERE { ?s ?p ?_ca_iri }",
            "#+ params:\n#+   ca: the grouping\n#+ defaults:\n#+   - other: x\n",
            BadQueryHeader,
            "not a parameter",
        ),
        (
            "SELECT ?s WHERE { ?s ?p ?_n_integer }",
            "#+ params:\n#+   n: a number\n#+ enumerate:\n#+   - n: [1, two]\n",
            BadQueryHeader,
            "enumerate",
        ),
        ("SELECT ?s WHERE { ?s ?p }", "", QueryError, "syntax error"),
        ("SELECT ?s WHERE { ?s undeclared:p ?o }", "", QueryError, "invalid SPARQL"),
        ("ASK { ?s ?p ?o }", "", QueryError, "SELECT"),
        (
            "SELECT ?s WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
            "",
            QueryError,
            "SERVICE",
        ),
        ("SELECT ?s FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", "", QueryError, "FROM"),
    ],
)
def test_inconsistent_files_are_refused(
    tmp_path: Path, body: str, header: str, error: type[Exception], message: str
) -> None:
    path = write_query(tmp_path, "q", HEADER + header + body)
    with pytest.raises(error, match=message):
        load_query(path)


def test_parameter_types_follow_grlc_names(tmp_path: Path) -> None:
    body = (
        "SELECT ?s WHERE { ?s ?a ?_ca_iri ; ?b ?__year_integer ; ?c ?_label_fr ; "
        "?d ?_text ; ?e ?_day_xsd_date ; ?f ?__n_number }"
    )
    header = "#+ params:\n" + "".join(
        f"#+   {name}: {name}\n" for name in ["ca", "year", "label", "text", "day", "n"]
    )
    query = load_query(write_query(tmp_path, "q", HEADER + header + body))
    kinds = {p.name: (p.kind, p.required, p.type_label) for p in query.parameters}
    assert kinds == {
        "ca": ("iri", True, "iri"),
        "year": ("datatype", False, "xsd:integer"),
        "label": ("language", True, "@fr"),
        "text": ("literal", True, "literal"),
        "day": ("datatype", True, "xsd:date"),
        "n": ("number", False, "number"),
    }
    bindings = bind(
        query,
        {"ca": "authority:x", "year": "2005", "label": "Kayes", "text": "a", "day": "2005-02-09"},
    )
    assert bindings == {
        "_ca_iri": ox.NamedNode(AUTHORITY + "x"),
        "__year_integer": ox.Literal("2005", datatype=ox.NamedNode(XSD + "integer")),
        "_label_fr": ox.Literal("Kayes", language="fr"),
        "_text": ox.Literal("a"),
        "_day_xsd_date": ox.Literal("2005-02-09", datatype=ox.NamedNode(XSD + "date")),
    }


# ------------------------------------------------------------------------- binding values


def test_curies_and_iris_expand_alike() -> None:
    for text in (
        "authority:ca-cergy-pontoise",
        "cdr:authority/ca-cergy-pontoise",
        "https://w3id.org/coopdec-kg/id/authority/ca-cergy-pontoise",
        "<https://w3id.org/coopdec-kg/id/authority/ca-cergy-pontoise>",
    ):
        assert parse_iri(text) == CERGY_TERM


@pytest.mark.parametrize(
    "text",
    [
        INJECTION,
        "<x> } ; DROP ALL #",
        "nope:thing",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "<authority:ca-cergy-pontoise>",
        "https://example.org/a b",
        "https://example.org/>",
        "https://example.org/%zz",
        "",
    ],
)
def test_values_that_are_not_iris_are_refused(text: str) -> None:
    with pytest.raises(ParameterError):
        parse_iri(text)


def test_binding_checks_names_presence_types_and_choices(project: Project) -> None:
    partners = find_query(project, "partners-of-ca")
    with pytest.raises(ParameterError, match="needs -p ca="):
        bind(partners, {})
    with pytest.raises(ParameterError, match="no parameter 'level'"):
        bind(partners, {"ca": "authority:ca-cergy-pontoise", "level": "x"})
    with pytest.raises(ParameterError, match="not an IRI"):
        bind(partners, {"ca": INJECTION})
    by_level = find_query(project, "ca-by-level")
    assert bind(by_level, {}) == {}  # an optional parameter left unset stays unbound
    with pytest.raises(ParameterError, match="must be one of"):
        bind(by_level, {"level": "authority:ca-cergy-pontoise"})
    assert bind(by_level, {"level": "engagement-level:cooperation-avancee"})


@pytest.mark.parametrize(
    ("kind_var", "good", "bad"),
    [
        ("_v_integer", "-12", "1.5"),
        ("_v_decimal", "1.50", "1e3"),
        ("_v_double", "1e3", "e3"),
        ("_v_boolean", "true", "yes"),
        ("_v_gYear", "2005", "05"),
        ("_v_date", "2005-02-09", "2005-02-30"),
        ("_v_positiveInteger", "3", "0"),
        ("_v_number", "2.5", "two"),
    ],
)
def test_typed_values(tmp_path: Path, kind_var: str, good: str, bad: str) -> None:
    text = HEADER + "#+ params:\n#+   v: value\n" + f"SELECT ?s WHERE {{ ?s ?p ?{kind_var} }}"
    query = load_query(write_query(tmp_path, "q", text))
    (parameter,) = query.parameters
    term = parse_value(parameter, good)
    assert isinstance(term, ox.Literal)
    assert term == ox.Literal(good, datatype=term.datatype)
    with pytest.raises(ParameterError):
        parse_value(parameter, bad)


def test_defaults_fill_missing_values(tmp_path: Path) -> None:
    text = (
        HEADER
        + "#+ params:\n#+   ca: c\n#+ defaults:\n#+   - ca: authority:ca-cergy-pontoise\n"
        + "SELECT ?s WHERE { ?s ?p ?_ca_iri }"
    )
    query = load_query(write_query(tmp_path, "q", text))
    assert bind(query, {}) == {"_ca_iri": CERGY_TERM}


def test_assignments() -> None:
    assert parse_assignments(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ParameterError, match="KEY=VALUE"):
        parse_assignments(["novalue"])
    with pytest.raises(ParameterError, match="twice"):
        parse_assignments(["a=1", "a=2"])


def test_injection_matches_nothing_and_changes_nothing(project: Project, graph: Graph) -> None:
    """A literal parameter is bound as a term: quotes, braces and DROP are just characters."""
    search = find_query(project, "search")
    before = len(graph)
    found = run(graph, search, {"text": "cergy"})
    assert CERGY in found.column("entity")
    assert len(run(graph, search, {"text": INJECTION})) == 0
    assert len(run(graph, search, {"text": '"} UNION { ?entity ?p ?matched } #'})) == 0
    assert len(graph) == before


# One hostile value per kind of parameter: refused when the type cannot hold it, else bound as
# one term that both engines read back exactly (nothing of it becomes query text).
HOSTILE = [
    INJECTION,
    '"} UNION { ?s ?p ?o } #',
    "x' } ; CLEAR ALL #",
    "\\u0022 } UNION { ?s ?p ?o } #",  # a \uXXXX escape some engines expand before parsing
    "\\\\u0022",
    "> } ; DROP ALL #",
    "1 } UNION { ?s ?p ?o }",
    'x"@en } #',
    'x"^^<urn:x> } #',
]
PARAMETER_KINDS = [
    "_v_iri",
    "_v",
    "_v_literal",
    "_v_fr",
    "_v_number",
    "_v_integer",
    "_v_nonNegativeInteger",
    "_v_positiveInteger",
    "_v_decimal",
    "_v_double",
    "_v_boolean",
    "_v_gYear",
    "_v_date",
    "_v_xsd_date",
]


def echo_query(tmp_path: Path, variable: str) -> NamedQuery:
    """A query that answers the bound value (and its length) and matches it against a pattern."""
    text = (
        HEADER
        + "#+ params:\n#+   v: value\n"
        + f"SELECT ?value ?length ?s WHERE {{ BIND(?{variable} AS ?value) "
        + f"BIND(STRLEN(STR(?{variable})) AS ?length) OPTIONAL {{ ?s ?p ?{variable} }} }}"
    )
    return load_query(write_query(tmp_path, f"echo{variable}", text))


@pytest.mark.parametrize("variable", PARAMETER_KINDS)
def test_no_value_of_any_parameter_type_changes_the_query(
    tmp_path: Path, project: Project, graph: Graph, variable: str
) -> None:
    """Each kind: a hostile value is refused, or it is one term, the same on the store's engine
    and on rdflib, that matches nothing and adds nothing."""
    from coopdec_kg.engines.queries import run_on_store

    query = echo_query(tmp_path, variable)
    (parameter,) = query.parameters
    store = ox.Store()
    before = len(graph)
    for value in HOSTILE:
        try:
            term = parse_value(parameter, value)
        except ParameterError:
            continue
        assert parameter.kind in ("literal", "language"), f"{variable} took {value!r}"
        for result in (run(graph, query, {"v": value}), run_on_store(store, query, {"v": value})):
            ((echoed, length, subject),) = result.rows
            assert isinstance(echoed, Literal) and str(echoed) == term.value == value
            assert echoed.language == (parameter.language or None)
            assert int(length) == len(value)
            assert subject is None
    assert len(graph) == before and len(store) == 0


@pytest.mark.parametrize("variable", PARAMETER_KINDS)
def test_a_good_value_of_each_type_is_written_as_that_term(tmp_path: Path, variable: str) -> None:
    from coopdec_kg.engines.queries import SAMPLE_VALUES, bound_text, run_on_store
    from coopdec_kg.engines.terms import to_rdflib

    query = echo_query(tmp_path, variable)
    (parameter,) = query.parameters
    if parameter.kind == "iri":
        value = "authority:ca-cergy-pontoise"
    elif parameter.kind == "number":
        value = "2.5"
    elif parameter.datatype is not None:
        value = SAMPLE_VALUES[parameter.datatype.removeprefix(XSD)]
    else:
        value = "Kayes"
    term = parse_value(parameter, value)
    assert str(term) in bound_text(query, {"v": value})
    on_rdflib = run(Graph(), query, {"v": value})
    ((echoed, _, _),) = on_rdflib.rows
    assert echoed == to_rdflib(term)
    on_store = run_on_store(ox.Store(), query, {"v": value})
    ((stored, _, _),) = on_store.terms
    assert to_rdflib(stored).eq(to_rdflib(term))  # type: ignore[union-attr]
    if parameter.kind in ("iri", "literal", "language"):  # the same bytes whatever the engine
        for write in (to_csv, to_tsv, to_json):
            assert write(on_store) == write(on_rdflib)
    # (Oxigraph's parser writes a typed number in its canonical form: "1.0"^^xsd:decimal is "1",
    # "1"^^xsd:positiveInteger an xsd:integer; the same value, as with a VALUES block before.)


@settings(deadline=None)  # the first call parses with rdflib's SPARQL grammar (slow once)
@given(text=st.text(max_size=40))
def test_any_text_is_written_as_one_literal_that_reads_back_as_itself(text: str) -> None:
    """Quotes, braces, newlines, #, backslashes and \\u escapes: both engines read exactly it."""
    from coopdec_kg.engines.sparql_text import term_text, with_terms

    query = "SELECT ?t ?n WHERE { BIND(STRLEN(?t) AS ?n) }"
    bound = with_terms(query, {"t": term_text(ox.Literal(text))}, "q")
    (solution,) = ox.Store().query(bound)  # type: ignore[misc]
    assert solution["t"].value == text and int(solution["n"].value) == len(text)
    ((echoed, length),) = Graph().query(bound)  # type: ignore[misc]
    assert str(echoed) == text and int(length) == len(text)


def test_optional_parameter_restricts_when_given(project: Project, graph: Graph) -> None:
    by_level = find_query(project, "ca-by-level")
    every = run(graph, by_level)
    advanced = run(graph, by_level, {"level": "engagement-level:cooperation-avancee"})
    assert 0 < len(advanced) < len(every)
    assert set(advanced.column("level")) == {
        URIRef("https://w3id.org/coopdec-kg/id/engagement-level/cooperation-avancee")
    }


def test_queries_of_a_copied_folder(tmp_path: Path, project: Project) -> None:
    """The loader reads whatever folder it is given, and a broken file is reported by path."""
    shutil.copytree(project.queries_dir, tmp_path / "queries")
    for folder in ("ontology", "data"):
        (tmp_path / folder).mkdir()
    write_query(tmp_path / "queries", "broken", "#+ summary: [\n" + BODY)
    copy = Project.at(tmp_path)
    with pytest.raises(BadQueryHeader, match=r"broken\.rq"):
        load_queries(copy)


# ------------------------------------------------------------------------- property tests

LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=30)


@given(prefix=st.sampled_from(sorted(prefixes())), local=LOCAL)
def test_any_project_curie_expands_to_its_namespace(prefix: str, local: str) -> None:
    assert parse_iri(f"{prefix}:{local}") == ox.NamedNode(prefixes()[prefix] + local)


@given(st.text(max_size=60))
def test_any_text_is_an_iri_or_refused(text: str) -> None:
    try:
        term = parse_iri(text)
    except ParameterError:
        return
    assert isinstance(term, ox.NamedNode)
    assert not any(c in term.value for c in ' <>"{}|\\^`\n\t')
    assert term.value.startswith(("http://", "https://", "urn:"))


@pytest.fixture(scope="module")
def text_query(tmp_path_factory: pytest.TempPathFactory) -> NamedQuery:
    folder = tmp_path_factory.mktemp("q")
    text = HEADER + "#+ params:\n#+   t: text\nSELECT ?s WHERE { ?s ?p ?_t }"
    return load_query(write_query(folder, "q", text))


@given(text=st.text(min_size=1, max_size=60))
def test_any_text_is_a_literal_of_itself(text: str, text_query: NamedQuery) -> None:
    assert bind(text_query, {"t": text}) == {"_t": ox.Literal(text)}


@given(
    summary=st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
        min_size=1,
        max_size=40,
    ).filter(lambda s: s.strip()),
    tags=st.lists(st.text(alphabet="abcdefghij-", min_size=1, max_size=8), max_size=4),
)
def test_headers_round_trip_through_yaml(summary: str, tags: list[str]) -> None:
    lines = [f"#+ summary: {json.dumps(summary, ensure_ascii=False)}", "#+ summary_en: x"]
    if tags:
        lines += ["#+ tags:"] + [f"#+   - {json.dumps(tag)}" for tag in tags]
    header = parse_header("\n".join(lines) + "\n" + BODY)
    assert header["summary"] == summary
    assert header.get("tags", []) == tags


# ------------------------------------------------------------------------- result writers

SAMPLE = QueryResult(
    ("s", "label", "n", "note"),
    (
        (CERGY, Literal("Cergy, « Pontoise »", lang="fr"), Literal(48), None),
        (
            BNode("b0"),
            Literal('a "quoted"\ttab\nline'),
            Literal("2.5", datatype=URIRef(XSD + "decimal")),
            None,
        ),
        (
            URIRef("https://example.org/x"),
            Literal("plain"),
            None,
            Literal("true", datatype=URIRef(XSD + "boolean")),
        ),
    ),
)


def test_csv_is_sparql_csv_and_reads_back() -> None:
    text = to_csv(SAMPLE)
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["s", "label", "n", "note"]
    assert rows[1] == [str(CERGY), "Cergy, « Pontoise »", "48", ""]
    assert rows[2] == ["_:b0", 'a "quoted"\ttab\nline', "2.5", ""]
    parsed = Result.parse(io.BytesIO(text.encode()), format="csv")
    assert [str(v) for v in parsed.vars] == ["s", "label", "n", "note"]
    assert len(parsed) == 3


def test_tsv_is_sparql_tsv_and_rdflib_reads_it_back() -> None:
    text = to_tsv(SAMPLE)
    lines = text.splitlines()
    assert lines[0] == "?s\t?label\t?n\t?note"
    assert len(lines) == 4  # tabs and newlines inside literals are escaped
    parsed = Result.parse(io.BytesIO(text.encode()), format="tsv")
    rows = [tuple(row) for row in parsed]
    assert rows[0][:3] == SAMPLE.rows[0][:3]
    assert rows[1][1] == SAMPLE.rows[1][1]
    assert rows[2][3] == Literal(True)


def test_json_is_sparql_results_json_and_rdflib_reads_it_back() -> None:
    document = json.loads(to_json(SAMPLE))
    assert document["head"]["vars"] == ["s", "label", "n", "note"]
    first, second, third = document["results"]["bindings"]
    assert first["s"] == {"type": "uri", "value": str(CERGY)}
    assert first["label"] == {"type": "literal", "value": "Cergy, « Pontoise »", "xml:lang": "fr"}
    assert first["n"]["datatype"] == str(URIRef(XSD + "integer"))
    assert "note" not in first  # unbound
    assert second["s"] == {"type": "bnode", "value": "b0"}
    assert third["label"] == {"type": "literal", "value": "plain"}
    parsed = Result.parse(io.BytesIO(to_json(SAMPLE).encode()), format="json")
    assert next(tuple(row) for row in parsed) == SAMPLE.rows[0]


def test_shorten_prefers_the_most_specific_prefix() -> None:
    assert shorten(str(CERGY)) == "authority:ca-cergy-pontoise"
    assert shorten("http://publications.europa.eu/resource/authority/country/BEN") == "country:BEN"
    assert shorten("https://example.org/x") == "https://example.org/x"


@pytest.mark.parametrize("name", ["links-by-area", "report-audit", "partner-countries"])
def test_real_results_parse_in_every_format(project: Project, graph: Graph, name: str) -> None:
    result = run(graph, find_query(project, name))
    for writer, fmt in ((to_json, "json"), (to_csv, "csv"), (to_tsv, "tsv")):
        parsed = Result.parse(io.BytesIO(writer(result).encode()), format=fmt)
        assert [str(v) for v in parsed.vars] == list(result.variables)
        assert len(parsed) == len(result)


# ------------------------------------------------------------------------- portability


def _comparable(value: str) -> object:
    """Engines may write the same decimal differently (200000.0 and 200000)."""
    try:
        return Decimal(value)
    except InvalidOperation:
        return value


@pytest.fixture(scope="module")
def oxigraph(project: Project, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The same content in the on-disk pyoxigraph store the scale commands use."""
    import pyoxigraph

    from coopdec_kg.engines.store import build

    info = build(project, location=tmp_path_factory.mktemp("store"))
    return pyoxigraph.Store.read_only(str(info.path))


@pytest.mark.parametrize(
    ("name", "values"),
    [
        *((path.stem, {}) for path in sorted((REPO / "queries").glob("*.rq")) if path.stem not in
          {"partners-of-ca", "actions-of-ca", "search", "links-of-country"}),
        ("partners-of-ca", {"ca": "authority:ca-cergy-pontoise"}),
        ("links-of-country", {"country": "country:MRT"}),
        ("actions-of-ca", {"ca": "authority:ca-evry-centre-essonne"}),
        ("ca-by-level", {"level": "engagement-level:cooperation-avancee"}),
        ("partner-countries", {"area": "world-area:asie"}),
        ("actions-by-domain", {"domain": "domain:amenagement-de-l-espace"}),
        ("search", {"text": "cergy"}),
        ("search", {"text": INJECTION}),
    ],
)  # fmt: skip
def test_queries_are_portable_sparql(  # type: ignore[no-untyped-def]
    project: Project, graph: Graph, oxigraph, name: str, values: dict[str, str]
) -> None:
    """Oxigraph gives the same rows, in the same order, for the text with its parameters written
    as terms (what the store and a remote endpoint receive)."""
    from coopdec_kg.engines.queries import bound_text

    query = find_query(project, name)
    expected = [
        tuple("" if term is None else _comparable(str(term)) for term in row)
        for row in run(graph, query, values)
    ]
    solutions = oxigraph.query(bound_text(query, values))
    variables = [variable.value for variable in solutions.variables]
    assert variables == list(query.columns)
    got = [
        tuple("" if s[v] is None else _comparable(s[v].value) for v in variables) for s in solutions
    ]
    assert got == expected


def test_a_value_that_is_not_unicode_text_is_a_parameter_error() -> None:
    # What the shell hands over for an undecodable byte (-p text=$'\xff'): a lone surrogate.
    with pytest.raises(ParameterError, match="not valid Unicode"):
        parse_assignments(["text=\udcff"])


# ---------------------------------------------------------------- the outline cache


def test_a_query_text_is_parsed_once_then_recalled(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coopdec_kg.engines import queries

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    parsed: list[str] = []
    real = queries._prepare

    def spy(text: str, path: Path | str) -> object:
        parsed.append(text)
        return real(text, path)

    monkeypatch.setattr(queries, "_prepare", spy)
    path = project.queries_dir / "partners-of-ca.rq"
    first = load_query(path)
    assert len(parsed) == 2, "the text, then the text with its parameter written as a term"
    assert load_query(path) == first
    assert len(parsed) == 2, "the second load recalls the outline"
    assert first.columns == ("partner", "partnerLabel", "country", "countryLabel")
    assert [p.name for p in first.parameters] == ["ca"]

    changed = tmp_path / "partners-of-ca.rq"
    changed.write_text(path.read_text(encoding="utf-8") + "LIMIT 5\n", encoding="utf-8")
    assert load_query(changed).columns == first.columns
    assert len(parsed) == 4, "another text is parsed anew"


def test_a_damaged_or_unwritable_cache_is_only_a_lost_saving(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = project.queries_dir / "ca-by-level.rq"
    reference = load_query(path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    load_query(path)
    (entry,) = (tmp_path / "cache" / "coopdec-kg" / "query-outlines").glob("*.json")
    entry.write_text('{"columns": [1]', encoding="utf-8")
    assert load_query(path) == reference
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert load_query(path) == reference


def test_a_broken_query_is_reported_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    broken = tmp_path / "broken.rq"
    broken.write_text(
        "#+ summary: x\n#+ summary_en: x\nSELECT ?a WHERE { ?a ?b }\n", encoding="utf-8"
    )
    for _ in range(2):
        with pytest.raises(QueryError, match="SPARQL syntax error"):
            load_query(broken)
    assert not list((tmp_path / "cache").rglob("*.json")), "nothing remembered"
