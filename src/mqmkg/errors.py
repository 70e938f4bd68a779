"""The exception hierarchy: every error the package raises on purpose."""

from __future__ import annotations

from pathlib import Path


class MqmkgError(Exception):
    """Base class of every mqmkg error."""


class SourceMismatch(MqmkgError):
    """The source copy, a quote or an offset does not match the pinned document."""


class GraphFileError(MqmkgError):
    """A graph file is missing, unreadable or not valid Turtle."""

    def __init__(self, path: Path, message: str, line: int | None = None, column: int | None = None):
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        where = str(path)
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}")


class EmptyGraph(MqmkgError):
    """The files loaded hold no triples."""


class CheckDefinitionError(GraphFileError):
    """A shapes file, QC query or QC profile is missing or malformed, so a check cannot run.

    It names its file as GraphFileError does (``path:line:column: message``).
    """


# SPARQL endpoint errors. Each carries the message shown to the client; the one map from
# these classes to HTTP status codes is mqmkg.server.errors.


class SparqlError(MqmkgError):
    """A SPARQL request that cannot be answered; ``message`` is safe to show to the client."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class ProtocolError(SparqlError):
    """The request breaks the SPARQL 1.1 Protocol (§2.1): a missing or repeated ``query``,
    parameters or body that are not UTF-8, or a dataset graph the store does not hold."""


class UnsupportedMediaType(SparqlError):
    """A POST body whose Content-Type is neither form-encoded nor ``application/sparql-query``."""


class PayloadTooLarge(SparqlError):
    """The request body is larger than ``Settings.max_body_bytes``."""

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(f"request body larger than {limit} bytes (Settings.max_body_bytes)")


class QuerySyntaxError(SparqlError):
    """The query does not parse; line and column are 1-based, as the parser reports them."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.line = line
        self.column = column
        super().__init__(message)


class UpdateRefused(SparqlError):
    """A SPARQL Update (``update=``, ``application/sparql-update``, INSERT, LOAD, …): read-only endpoint."""


class ServiceRefused(SparqlError):
    """A ``SERVICE`` call to an endpoint that is not on ``Settings.service_allowlist``, or one
    the guard cannot verify (``SERVICE ?var``)."""


class NotAcceptable(SparqlError):
    """No result format the client accepts can carry this kind of result."""

    def __init__(self, message: str, offered: tuple[str, ...]):
        self.offered = offered
        super().__init__(message)


class QueryEvaluationError(SparqlError):
    """The query parsed but the engine reported an error while evaluating it."""


class ServiceFailed(SparqlError):
    """An allow-listed ``SERVICE`` endpoint failed or answered something unusable."""


class QueryTimeout(SparqlError):
    """The query ran past its deadline; its worker process was killed and replaced."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"query stopped after its deadline of {seconds:g} s; the worker running it was replaced")


class ServerBusy(SparqlError):
    """Every query worker is busy and the wait queue is full or its wait expired."""

    def __init__(self, message: str, retry_after: int):
        self.retry_after = retry_after
        super().__init__(message)


class QueryAborted(SparqlError):
    """The worker running the query died (at its memory cap, or a stack overflow in the engine
    on a huge expression) before answering; it was replaced."""


class NotFound(MqmkgError):
    """No entity, term, canned query or export file at the requested address."""

    def __init__(self, message: str, suggestions: tuple[dict[str, str], ...] = ()):
        self.suggestions = suggestions
        super().__init__(message)


class QueryFileError(MqmkgError):
    """A canned query file has a missing or malformed header."""


class ParameterError(MqmkgError):
    """A query parameter cannot be bound: unknown name, or a value of the wrong form."""


class LinkError(MqmkgError):
    """The Wikidata IRI map names a QID the reference does not list, or a row is malformed."""


class QueryTooComplex(ProtocolError):
    """A query whose brackets, operator chains or chained patterns nest deeper than the engine's
    recursive parser and evaluator are allowed to go (``Settings.max_query_depth``,
    ``Settings.max_query_complexity``); refused before any worker sees it."""
