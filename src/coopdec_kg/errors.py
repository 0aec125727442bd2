"""One exception tree for the library; only the CLI turns it into messages and exit codes.

CoopdecError                 every error a user can cause (exit 2 unless stated)
├── ContentError             the content folder (ontology/, data/, queries/) is unusable
├── RdfSyntaxError           an RDF file does not parse (carries the path)
├── InputError               a submission is unreadable, too large, unsafe or of unknown format
├── QueryError               named queries
│   ├── UnknownQuery
│   ├── BadQueryHeader
│   ├── ParameterError       missing, undeclared or ill-typed parameter
│   └── UnknownResource      a given IRI is in no triple (the message suggests the closest)
├── EndpointError            a remote SPARQL endpoint failed or is unreachable
├── ExportError              an export cannot be written
├── StoreError               the persistent store cannot be built or read
│   └── StoreCorrupted       a read of the store met corrupt data
└── ReasonerUnavailable      Java or owlready2 cannot run
"""

from __future__ import annotations

from pathlib import Path


class CoopdecError(Exception):
    """Base class: a one-line message for the user."""


class ContentError(CoopdecError):
    """The content folder is missing or incomplete."""


class RdfSyntaxError(CoopdecError):
    """An RDF file could not be parsed."""

    def __init__(self, path: Path | str, detail: str) -> None:
        self.path = Path(path)
        self.detail = " ".join(detail.split())
        super().__init__(f"{self.path}: cannot parse RDF: {self.detail}")


class InputError(CoopdecError):
    """A submitted file is unreadable, too large, unsafe or of an unknown format."""


class QueryError(CoopdecError):
    """A named query cannot be loaded or run."""


class UnknownQuery(QueryError):
    """No named query has this name."""


class BadQueryHeader(QueryError):
    """A query file's `#+` header is malformed or inconsistent with its body."""


class ParameterError(QueryError):
    """A query parameter is missing, undeclared or has a value of the wrong kind."""


class UnknownResource(QueryError):
    """An IRI given by the user is in no triple of the graph."""


class EndpointError(CoopdecError):
    """A remote SPARQL endpoint failed."""


class ExportError(CoopdecError):
    """An export could not be written."""


class StoreError(CoopdecError):
    """The persistent store cannot be built (no space, read-only folder) or read."""


class StoreCorrupted(StoreError):
    """A read of the store met corrupt data (`store.with_current` rebuilds and reads again)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"the store is corrupt ({detail}): `coopdec-kg build` rebuilds it")


class ReasonerUnavailable(CoopdecError):
    """The OWL reasoner cannot run here (Java missing, owlready2 failure)."""


class ServeError(CoopdecError):
    """The server cannot start (address in use, unknown host) or its query workers failed."""
