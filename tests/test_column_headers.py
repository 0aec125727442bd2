"""The `#+ columns` header: every column of every named query has a title in French and in
English, and a header that says otherwise is refused (grlc ignores the key; we check it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import URIRef

from coopdec_kg.content.project import Project
from coopdec_kg.engines.queries import load_queries, load_query
from coopdec_kg.errors import BadQueryHeader

HEADER = "#+ summary: Résumé\n#+ summary_en: Summary\n"
BODY = "PREFIX ex: <https://example.org/>\nSELECT ?s ?label ?n WHERE { ?s ex:p ?label ; ex:n ?n }\n"
COLUMNS = """#+ columns:
#+   s: {fr: Chose, en: Thing}
#+   label: {fr: Nom, en: Name, of: s}
#+   n: {fr: Nombre, en: Number, plain: true}
"""


def write(tmp_path: Path, columns: str, body: str = BODY) -> Path:
    path = tmp_path / "q.rq"
    path.write_text(HEADER + columns + body, encoding="utf-8")
    return path


def test_every_column_of_every_named_query_has_a_title_in_both_languages(
    project: Project,
) -> None:
    for query in load_queries(project):
        assert list(query.headers) == list(query.columns), query.name
        for header in query.headers.values():
            for lang in ("fr", "en"):
                assert header.title(lang) not in ("", header.name), (query.name, header.name)


def test_a_complete_header_is_read(tmp_path: Path) -> None:
    query = load_query(write(tmp_path, COLUMNS))
    assert query.headers["s"].title("fr") == "Chose" and query.headers["s"].title("en") == "Thing"
    assert query.headers["label"].of == "s" and query.headers["n"].plain


def test_values_and_via_are_read(tmp_path: Path) -> None:
    columns = """#+ columns:
#+   s: {fr: Chose, en: Thing, code: true}
#+   label: {fr: Définition, en: Definition, of: s, via: skos:definition}
#+   n:
#+     fr: Statut
#+     en: Status
#+     values:
#+       within: {fr: dedans, en: inside}
"""
    query = load_query(write(tmp_path, columns))
    assert query.headers["s"].code
    assert query.headers["label"].via == URIRef("http://www.w3.org/2004/02/skos/core#definition")
    assert query.headers["n"].value("within", "fr") == "dedans"
    assert query.headers["n"].value("within", "en") == "inside"
    assert query.headers["n"].value("other", "en") == "other"


def test_a_query_without_the_key_keeps_its_variable_names(tmp_path: Path) -> None:
    assert load_query(write(tmp_path, "")).headers == {}


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ("#+ columns: [s, label, n]\n", "must map each column"),
        ("#+ columns:\n#+   s: {fr: Chose, en: Thing}\n", "gives no title to label, n"),
        (COLUMNS + "#+   other: {fr: Autre, en: Other}\n", "names other, not a column"),
        (COLUMNS.replace("en: Thing", "de: Ding"), "unknown key"),
        (COLUMNS.replace(", en: Thing", ""), "one-line title in fr and in en"),
        (COLUMNS.replace("en: Thing", 'en: ""'), "one-line title in fr and in en"),
        (COLUMNS.replace("of: s", "of: nothing"), "of must name another column"),
        (COLUMNS.replace("of: s", "of: label"), "of must name another column"),
        (COLUMNS.replace("of: s", "via: skos:definition"), "via must be a property CURIE"),
        (COLUMNS.replace("of: s", "of: s, via: nope:x"), "via must be a property CURIE"),
        (COLUMNS.replace("plain: true", "plain: yes please"), "plain must be true or false"),
        (COLUMNS.replace("plain: true", "values: {a: b}"), "values must map each code"),
        (COLUMNS.replace("plain: true", "values: {a: {fr: x}}"), "values must map each code"),
        ("#+ columns:\n#+   s: Chose\n#+   label: Nom\n#+   n: Nombre\n", "must give its titles"),
    ],
)
def test_a_malformed_columns_header_is_an_error(tmp_path: Path, columns: str, message: str) -> None:
    with pytest.raises(BadQueryHeader, match=message):
        load_query(write(tmp_path, columns))
