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


class UndeclaredPrefix(QuerySyntaxError):
    """A prefixed name whose prefix is declared neither in the query nor among the house
    prefixes; ``declaration`` is the ``PREFIX`` line to add when the vocabulary is known."""

    def __init__(self, message: str, line: int | None, column: int | None, prefix: str, declaration: str | None):
        self.prefix = prefix
        self.declaration = declaration
        super().__init__(message, line, column)


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
    """A query parameter cannot be bound: unknown name, or a value of the wrong form.

    ``parameter`` names the offending parameter when there is one.
    """

    def __init__(self, message: str, parameter: str | None = None):
        self.parameter = parameter
        super().__init__(message)


class LinkError(MqmkgError):
    """The Wikidata IRI map names a QID the reference does not list, or a row is malformed."""


class StoreDirError(MqmkgError):
    """The on-disk store directory (``Settings.store_path``) cannot be created, locked or opened."""


class BackendError(SparqlError):
    """The remote SPARQL server (``mqmkg serve --backend``) failed or answered something unusable (502)."""


class BackendUnavailable(BackendError):
    """The remote SPARQL server cannot be reached, or broke off its answer (502)."""


class BackendTimeout(BackendError):
    """The remote SPARQL server did not answer within the query's deadline (504)."""


# Linking services: reconciliation (/reconcile), SHACL validation of contributed data (/shacl).


class ReconciliationError(MqmkgError):
    """A reconciliation, suggest or data extension request that breaks the Reconciliation
    Service API v0.2 (a malformed ``queries=`` batch, an unknown type or property, ...)."""


class BatchTooLarge(ReconciliationError):
    """More queries in one batch (or ids in one extension) than the manifest's ``batchSize``."""


class DataSyntaxError(MqmkgError):
    """Submitted RDF does not parse; line and column are 1-based, as the parser reports them."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.line = line
        self.column = column
        super().__init__(message)


class SubmissionRefused(MqmkgError):
    """Submitted data that parses but cannot be validated (named graphs, RDF 1.2 triple terms)."""


class SubmissionTooLarge(PayloadTooLarge):
    """A /shacl submission larger than ``Settings.shacl_max_bytes``."""

    def __init__(self, limit: int):
        self.limit = limit
        SparqlError.__init__(self, f"data larger than {limit} bytes (Settings.shacl_max_bytes)")


class ValidationTimeout(MqmkgError):
    """A validation ran past its deadline; the process running it was killed."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"validation stopped after its deadline of {seconds:g} s; the validator was restarted")


class ValidationAborted(MqmkgError):
    """The validation process died or failed before answering."""


class InvalidIri(MqmkgError):
    """Text that is not an IRI (RFC 3987 §2.2); ``position`` is the 0-based index of the first problem."""

    def __init__(self, text: str, position: int, reason: str):
        self.text = text
        self.position = position
        self.reason = reason
        super().__init__(f"{text!r} is not an IRI: {reason} (at character {position + 1})")


class MalformedHeader(MqmkgError):
    """A request header that does not follow its grammar (e.g. ``Accept: text/csv;q=abc``)."""

    def __init__(self, header: str, message: str):
        self.header = header
        super().__init__(f"malformed {header} header: {message}")


class SettingsError(MqmkgError):
    """A setting whose value cannot work (e.g. a ``public_url`` that is not an http(s) URL)."""


class RateLimited(ServerBusy):
    """This client already has ``Settings.client_max_queries`` queries running or waiting (429)."""


class QueryTooComplex(ProtocolError):
    """A query whose brackets, operator chains or chained patterns nest deeper than the engine's
    recursive parser and evaluator are allowed to go (``Settings.max_query_depth``,
    ``Settings.max_query_complexity``); refused before any worker sees it."""
