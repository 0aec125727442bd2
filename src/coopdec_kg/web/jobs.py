"""The work a query worker does on the graph held in memory, each job a call to the library.

A job takes the loaded graph (`Served`) and plain arguments, and returns bytes or plain data
(they travel back to the serving process pickled): an ad-hoc SPARQL query answered in the
negotiated format (pyoxigraph's own W3C writers, the answer capped while it is written), a
named query run exactly as `coopdec-kg query` runs it (typed binding, rdflib's order, the CLI's
writers), a resource's description or page view (publish/resources), the ontology's
documentation and the dataset's description and dumps (publish/docs, publish/export).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from coopdec_kg.content.project import Project
from coopdec_kg.engines.queries import NamedQuery
from coopdec_kg.web import negotiation
from coopdec_kg.web.negotiation import Format
from coopdec_kg.web.protocol import AnswerTooLarge, BadRequest, NotAcceptable, answer_too_large

if TYPE_CHECKING:
    import pyoxigraph

    from coopdec_kg.engines.results import QueryResult
    from coopdec_kg.engines.search import NameIndex
    from coopdec_kg.law.validation import Validator
    from coopdec_kg.publish.resources import Resource, Value
    from coopdec_kg.web.answers import KeptAnswers

MAX_SHOWN_ROWS = 1000  # rows of an ad-hoc query shown in a page (the downloads have them all)


@dataclass
class Served:
    """What the workers share: the content, its named queries, and the store in memory."""

    project: Project
    extra: tuple[Path, ...]
    queries: dict[str, NamedQuery]
    store: pyoxigraph.Store

    @cached_property
    def validator(self) -> Validator:
        """The law, read once per worker: the validation page's checks run on the store."""
        from coopdec_kg.law.validation import Validator

        return Validator(self.project, targeted=True, store=self.store)

    @cached_property
    def answers(self) -> KeptAnswers:
        """The named queries' answers this worker computed, kept (web/answers says why they
        cannot go stale)."""
        from coopdec_kg.web.answers import KeptAnswers

        return KeptAnswers(self.store)

    @cached_property
    def names(self) -> NameIndex:
        """Every name of the graph folded, read by the worker's first search and kept for the
        next ones (the store does not change: web/answers)."""
        from coopdec_kg.engines.search import NameIndex

        return NameIndex.of_store(self.store)


def load(
    project: Project, extra: Sequence[Path], queries: Mapping[str, NamedQuery]
) -> tuple[Served, dict[str, Any]]:
    """Load ontology + data + extra files into a store in memory (run by the spawner)."""
    from coopdec_kg.engines.store import load_in_memory, source_files

    files = source_files(project, extra)
    store = load_in_memory(files)
    summary = {"triples": len(store), "files": len(files)}
    served = Served(project, tuple(extra), dict(queries), store)
    served.validator.prepare()  # the workers, forked after this, share the compiled law
    return served, summary


# ---------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Answer:
    """An answer ready to send: its format and bytes (and, for a named query, its row count)."""

    media_type: str
    body: bytes
    rows: int | None = None
    extension: str | None = None  # its format's file extension (csv, srj, ttl …)


class _Capped(io.RawIOBase):
    """A binary sink that refuses to hold more than `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.size += len(chunk)
        if self.size > self.limit:
            raise answer_too_large(self.limit)
        self.parts.append(chunk)
        return len(chunk)


_RESULT_FORMATS = {
    "json": "JSON",
    "xml": "XML",
    "csv": "CSV",
    "tsv": "TSV",
}
_GRAPH_FORMATS = {
    "turtle": "TURTLE",
    "ntriples": "N_TRIPLES",
    "jsonld": "JSON_LD",
    "rdfxml": "RDF_XML",
}


def sparql(
    served: Served,
    text: str,
    accept: str | None,
    format_name: str | None,
    default_graphs: Sequence[str],
    named_graphs: Sequence[str],
    limit: int,
    for_people: bool = False,
) -> Answer:
    """An ad-hoc query (already checked by protocol.check_query), answered in the format the
    client accepts among those its form allows. `for_people`: a CSV file to open in a
    spreadsheet, written by the CLI's writer with its text cells guarded against formulas."""
    import pyoxigraph

    options: dict[str, Any] = {}
    try:
        if default_graphs:
            options["default_graph"] = [pyoxigraph.NamedNode(g) for g in default_graphs]
        if named_graphs:
            options["named_graphs"] = [pyoxigraph.NamedNode(g) for g in named_graphs]
    except ValueError as error:
        raise BadRequest(f"a graph IRI is not valid: {error}") from None
    try:
        result = served.store.query(text, **options)
    except SyntaxError as error:
        raise BadRequest(f"SPARQL syntax error: {' '.join(str(error).split())}") from None
    graph = isinstance(result, pyoxigraph.QueryTriples)
    offered = negotiation.GRAPHS if graph else negotiation.RESULTS
    chosen = _chosen(accept, format_name, offered)
    if for_people and chosen.name == "csv":
        return _people_csv(result, limit)
    capped = _Capped(limit)
    sink = cast(IO[bytes], capped)
    try:
        if graph:
            result.serialize(
                sink, format=getattr(pyoxigraph.RdfFormat, _GRAPH_FORMATS[chosen.name])
            )
        else:
            result.serialize(
                sink, format=getattr(pyoxigraph.QueryResultsFormat, _RESULT_FORMATS[chosen.name])
            )
    except AnswerTooLarge:
        raise
    except (OSError, RuntimeError, ValueError) as error:
        raise BadRequest(f"the query failed: {' '.join(str(error).split())}") from None
    return Answer(chosen.media_type, b"".join(capped.parts), extension=chosen.extension)


def _people_csv(solutions: Any, limit: int) -> Answer:
    """A SELECT answer as guarded CSV (engines/results.to_csv), refused past `limit` bytes."""
    from coopdec_kg.engines.results import QueryResult, to_csv

    variables = tuple(v.value for v in solutions.variables)
    try:
        rows = [tuple(solution[name] for name in variables) for solution in solutions]
    except (OSError, RuntimeError, ValueError) as error:
        raise BadRequest(f"the query failed: {' '.join(str(error).split())}") from None
    body = to_csv(QueryResult(variables, rows), guarded=True).encode("utf-8")
    if len(body) > limit:
        raise answer_too_large(limit)
    return Answer(negotiation.CSV.media_type, body, len(rows), negotiation.CSV.extension)


def _chosen(accept: str | None, format_name: str | None, offered: Sequence[Format]) -> Format:
    if format_name:
        found = negotiation.named(format_name, offered) or negotiation.choose(format_name, offered)
        if found is None:
            names = ", ".join(f.name for f in offered)
            raise NotAcceptable(f"format {format_name!r} cannot hold this answer (use {names})")
        return found
    found = negotiation.choose(accept, offered)
    if found is None:
        raise NotAcceptable(
            f"none of the accepted media types can hold this answer; offered: "
            f"{negotiation.listing(offered)}"
        )
    return found


def named_query(
    served: Served,
    name: str,
    values: Mapping[str, str],
    format_name: str,
    offset: int,
    limit: int | None,
    max_bytes: int,
    for_people: bool = False,
) -> Answer:
    """A named query run as `coopdec-kg query` runs it (the same binding, order and writers),
    then the page asked for. `rows` is the whole answer's row count; `for_people`, a file to
    open in a spreadsheet, as `query --format csv` writes it (text cells guarded)."""
    from coopdec_kg.engines.results import render

    result = served.answers.named(served.queries[name], values)
    fmt = negotiation.named(format_name, negotiation.TABLES)
    assert fmt is not None
    body = render(result.page(offset, limit), fmt.name, for_people).encode("utf-8")
    if len(body) > max_bytes:
        raise answer_too_large(max_bytes)
    return Answer(fmt.media_type, body, len(result), fmt.extension)


# ---------------------------------------------------------------------------- documents


def resource_view(served: Served, iri: str, lang: str) -> Resource | None:
    """A resource as its page shows it, or None when the graph says nothing about it."""
    from coopdec_kg.publish import resources

    if not resources.exists(served.store, iri):
        return None
    return resources.view(served.store, iri, lang)


def resource_document(served: Served, iri: str, format_name: str) -> bytes | None:
    """A resource's description in Turtle, N-Triples or JSON-LD (None: unknown resource)."""
    from coopdec_kg.publish import resources

    if not resources.exists(served.store, iri):
        return None
    return written(resources.description(served.store, iri), format_name)


def written(graph: Any, format_name: str) -> bytes:
    """A small graph in Turtle, N-Triples or JSON-LD, with the project's writers."""
    from coopdec_kg.content.turtle import to_ntriples, to_turtle
    from coopdec_kg.publish.export import to_jsonld

    writers = {"turtle": to_turtle, "ntriples": to_ntriples, "jsonld": to_jsonld}
    return writers[format_name](graph)


def ontology_page(served: Served, lang: str) -> str:
    """The ontology's documentation (`coopdec-kg docs`) in one language."""
    from coopdec_kg.content.graph import load_data, load_ontology
    from coopdec_kg.publish.docs import build_pages, page_name

    pages = build_pages(load_ontology(served.project), load_data(served.project))
    return pages[page_name(lang)]


def ontology_document(served: Served, format_name: str) -> bytes:
    """The ontology: its Turtle file as written, or N-Triples and JSON-LD of it."""
    if format_name == "turtle":
        return served.project.ontology_file.read_bytes()
    from coopdec_kg.content.graph import load_ontology

    return written(load_ontology(served.project), format_name)


def dataset_description(served: Served, format_name: str) -> bytes:
    """The DCAT-AP and VoID description of what is served (`export --metadata`)."""
    from coopdec_kg.publish.export import export

    return export(served.project, format_name, extra=served.extra, metadata_only=True)


def dump(served: Served, format_name: str, path: str) -> int:
    """The whole dump of what is served (`export`), written atomically to `path`."""
    from coopdec_kg.publish.export import export_file

    return export_file(served.project, Path(path), format_name, extra=served.extra)


# ---------------------------------------------------------------------------- people's pages


@dataclass(frozen=True)
class Table:
    """An answer as a page shows it, one page of `total` rows from `offset`: `columns` are
    the titles (a named query's `#+ columns` in the reader's language) or the variables, the
    cells are Values (a name linked to its resource, numbers as the language writes them; None
    for an empty cell), `numeric` says which columns to right-align."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Value | None, ...], ...]
    total: int
    offset: int = 0
    numeric: tuple[bool, ...] = ()


def _laid_out(
    served: Served,
    result: QueryResult,
    headers: Mapping[str, Any],
    lang: str,
    total: int,
    offset: int = 0,
) -> Table:
    """Rows laid out for people as the CLI's tables are (publish/tables), each cell with the
    resource it names, so that a page can link it."""
    from coopdec_kg.engines.engine import OnStore
    from coopdec_kg.publish.resources import Value
    from coopdec_kg.publish.tables import lay_out

    layout = lay_out(result, headers, lang, OnStore(served.store).select)
    rows = tuple(
        tuple(
            Value(text, iri=iri) if text or iri else None
            for text, iri in zip(row, links, strict=True)
        )
        for row, links in zip(layout.rows, layout.resources, strict=True)
    )
    return Table(
        tuple(c.title for c in layout.columns),
        rows,
        total,
        offset,
        tuple(c.numeric for c in layout.columns),
    )


def named_table(
    served: Served,
    name: str,
    values: Mapping[str, str],
    offset: int,
    limit: int | None,
    lang: str,
) -> Table:
    """A named query answered as `coopdec-kg query` answers it (its IRIs checked, `search`
    forgiving), one page of it laid out for people; the whole answer is kept for the next."""
    from coopdec_kg.engines.search import SEARCH_QUERY, answer

    query = served.queries[name]
    names = served.names if name == SEARCH_QUERY else None  # (read on a first search only)
    result = answer(served.answers, query, values, lang, names)
    return _laid_out(served, result.page(offset, limit), query.headers, lang, len(result), offset)


def whole_table(served: Served, name: str, lang: str) -> Table:
    """A named query without parameters, whole, its columns the query's variables and each
    resource by its label: what the home page, the charts and the map draw from. The same for
    the whole run (the graph does not change), so the server keeps it."""
    from rdflib import Literal, URIRef

    from coopdec_kg.engines.queries import run_on_store
    from coopdec_kg.publish.resources import Value, labels

    result = run_on_store(served.store, served.queries[name], {})
    iris = {str(term) for row in result.rows for term in row if isinstance(term, URIRef)}
    named = labels(served.store, sorted(iris), lang)

    def cell(term: Any) -> Value | None:
        if isinstance(term, URIRef):
            return named[str(term)]
        if isinstance(term, Literal):
            return Value(str(term), language=term.language)
        return None if term is None else Value(f"_:{term}")

    rows = tuple(tuple(cell(term) for term in row) for row in result.rows)
    return Table(result.variables, rows, len(rows))


def parameter_choices(served: Served, name: str, lang: str) -> dict[str, tuple[Value, ...]]:
    """For each IRI parameter of a named query, the resources it can take, by label."""
    from coopdec_kg.engines.queries import choices_query
    from coopdec_kg.engines.store import select
    from coopdec_kg.publish.resources import labels

    query = served.queries[name]
    found: dict[str, tuple[Value, ...]] = {}
    for parameter in query.parameters:
        text = choices_query(query, parameter)
        if text is None:
            continue
        _, rows = select(served.store, text)
        named = labels(served.store, [str(row[0]) for row in rows if row[0] is not None], lang)
        found[parameter.name] = tuple(
            sorted(named.values(), key=lambda v: (v.text.casefold(), v.iri or ""))
        )
    return found


def sparql_table(served: Served, text: str, lang: str) -> Table | bool:
    """An ad-hoc query (checked by protocol.check_query) for the SPARQL page: a SELECT's
    first MAX_SHOWN_ROWS rows laid out for people, or an ASK's answer; a graph as subject,
    predicate and object."""
    import pyoxigraph

    from coopdec_kg.engines.results import QueryResult
    from coopdec_kg.engines.terms import to_rdflib

    try:
        result = served.store.query(text)
    except SyntaxError as error:
        raise BadRequest(f"SPARQL syntax error: {' '.join(str(error).split())}") from None
    if isinstance(result, pyoxigraph.QueryBoolean):
        return bool(result)
    columns: tuple[str, ...]
    if isinstance(result, pyoxigraph.QueryTriples):
        columns = ("subject", "predicate", "object")
        rows: list[tuple[Any, ...]] = [(t.subject, t.predicate, t.object) for t in result]
    else:
        columns = tuple(variable.value for variable in result.variables)
        rows = [tuple(solution[c] for c in columns) for solution in result]
    shown = tuple(tuple(to_rdflib(term) for term in row) for row in rows[:MAX_SHOWN_ROWS])
    return _laid_out(served, QueryResult(columns, shown), {}, lang, len(rows))


def search(
    served: Served, text: str, lang: str, limit: int
) -> list[tuple[Value, tuple[Value, ...]]]:
    """The resources whose names hold `text`, by the CLI's forgiving search (engines/search:
    accents, case, hyphens do not count), best first, with their kinds."""
    from coopdec_kg.publish.resources import labels

    found = served.names.search(text, lang, limit)
    kinds = labels(served.store, sorted({str(k) for f in found for k in f.kinds}), lang)
    named = labels(served.store, [str(f.entity) for f in found], lang)
    return [(named[str(f.entity)], tuple(kinds[str(k)] for k in f.kinds)) for f in found]


def validation(
    served: Served, name: str, payload: bytes, input_format: str, lang: str
) -> dict[str, Any]:
    """An uploaded submission validated as `coopdec-kg validate` does (the boundary, then the
    shapes on its neighbourhood), read from the graph in memory: nothing is written. The
    report as `validate --format json` gives it, in the reader's language."""
    import json

    from coopdec_kg.content.graph import parse_submission_bytes

    submission = parse_submission_bytes(Path(name), payload, input_format)
    report = served.validator.validate([submission])
    found: dict[str, Any] = json.loads(report.to_json(lang))
    return found


JOBS = {
    job.__name__: job
    for job in (
        sparql,
        named_query,
        resource_view,
        resource_document,
        ontology_page,
        ontology_document,
        dataset_description,
        dump,
        named_table,
        whole_table,
        parameter_choices,
        sparql_table,
        search,
        validation,
    )
}
