"""Answer SPARQL protocol requests: parse, refuse, negotiate, run with a deadline, respond.

This is the framework-free core the server routes call (from a thread pool, since it
blocks while a worker evaluates the query).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import pyoxigraph as ox

from mqmkg.config import Settings
from mqmkg.errors import (
    NotAcceptable,
    ProtocolError,
    QueryEvaluationError,
    QuerySyntaxError,
    QueryTimeout,
    ServiceFailed,
    ServiceRefused,
    SparqlError,
    UndeclaredPrefix,
    UpdateRefused,
)
from mqmkg.sparql.dataset import Snapshot
from mqmkg.sparql.formats import Choice, ResultKind, choose, describe_offers, formats_of
from mqmkg.sparql.guard import UPDATE_KEYWORDS, check_limits, inspect, mentions_service
from mqmkg.sparql.pool import WorkerPool
from mqmkg.sparql.prefixes import HOUSE_PREFIXES
from mqmkg.sparql.protocol import READ_ONLY, HttpInput, QueryRequest, parse_request
from mqmkg.sparql.results import serialize_triples
from mqmkg.sparql.service_description import service_description
from mqmkg.sparql.worker import Answer, Federated, Job, Refusal

log = logging.getLogger("mqmkg.sparql")

ROWS_HEADER = "X-MQMKG-Rows"
TRUNCATED_HEADER = "X-MQMKG-Truncated"
ROW_LIMIT_HEADER = "X-MQMKG-Row-Limit"
# Which cap cut a truncated result: "rows" or "bytes" (absent when the result is complete).
TRUNCATED_BY_HEADER = "X-MQMKG-Truncated-By"
BYTE_LIMIT_HEADER = "X-MQMKG-Byte-Limit"
EXPOSED_HEADERS = (ROWS_HEADER, TRUNCATED_HEADER, ROW_LIMIT_HEADER, TRUNCATED_BY_HEADER, BYTE_LIMIT_HEADER)


@dataclass(frozen=True)
class SparqlResponse:
    """A successful response: body, Content-Type, extra headers, and rows for the access log."""

    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...]
    rows: int | None
    form: str


def not_acceptable(kind: ResultKind, what: str) -> NotAcceptable:
    """Build the 406 error for a result kind, naming every type the endpoint offers for it."""
    offered = tuple(f.media_type for f in formats_of(kind))
    return NotAcceptable(f"cannot produce any requested format for {what}; offered: {describe_offers(kind)}", offered)


def refusal_error(refusal: Refusal) -> SparqlError:
    """Turn a worker's refusal record into the typed exception the error map knows."""
    if refusal.error == "syntax" and refusal.prefix is not None:
        return UndeclaredPrefix(refusal.message, refusal.line, refusal.column, refusal.prefix, refusal.declaration)
    if refusal.error == "syntax":
        return QuerySyntaxError(refusal.message, refusal.line, refusal.column)
    if refusal.error == "service-refused":
        return ServiceRefused(refusal.message)
    if refusal.error == "service-blocked":  # the guard missed a SERVICE; the worker had no network
        log.warning("a worker without network stopped a SERVICE call the guard had not found: %s", refusal.message)
        return ServiceRefused(refusal.message)
    if refusal.error == "service-failed":
        return ServiceFailed(f"a SERVICE endpoint failed: {refusal.message}")
    if refusal.error == "not-acceptable":
        kind = ResultKind(refusal.message)
        what = "a solution table or boolean" if kind is ResultKind.RESULTS else "a graph"
        return not_acceptable(kind, what)
    return QueryEvaluationError(f"query evaluation failed: {refusal.message}")


class SparqlEndpoint:
    """The SPARQL 1.1 query endpoint over one dataset snapshot and one worker pool."""

    def __init__(self, settings: Settings, snapshot: Snapshot, pool: WorkerPool):
        self.settings = settings
        self.snapshot = snapshot
        self.pool = pool

    def handle(self, inp: HttpInput, client: str = "") -> SparqlResponse:
        """Answer one HTTP request to ``/sparql``; raise a SparqlError subclass if it fails.

        ``client`` identifies the caller (its address) for the per-client limits.
        """
        request = parse_request(inp)
        if request.query is None:
            return self.describe(request, inp.url)
        return self.answer(request, request.query, client=client)

    def describe(self, request: QueryRequest, fetched: str | None = None) -> SparqlResponse:
        """Return the service description in the negotiated graph format.

        ``fetched`` is the URL the client asked for (the endpoint, perhaps with a query
        string): the service is described under that IRI, where clients look for it.
        """
        choice = choose(request.formats, request.accept, ResultKind.GRAPH)
        if choice is None:
            raise not_acceptable(ResultKind.GRAPH, "the service description")
        triples = service_description(
            request.endpoint,
            self.snapshot,
            fetched=fetched,
            query_timeout=self.settings.query_timeout,
            max_rows=self.settings.max_rows,
            allowlist=self.settings.service_allowlist,
        )
        body = serialize_triples(triples, choice.format)
        return SparqlResponse(body, choice.content_type, (("Vary", "Accept"),), None, "DESCRIPTION")

    def answer(
        self,
        request: QueryRequest,
        query: str,
        substitutions: tuple[tuple[str, ox.NamedNode | ox.Literal], ...] = (),
        client: str = "",
    ) -> SparqlResponse:
        """Run one query in the worker pool and return its serialised result.

        ``substitutions`` bind variables to RDF terms (pyoxigraph substitutions, SEP-0007):
        the canned queries' parameters, never pasted into the query text. ``client``
        identifies the caller for the pool's fair sharing (``mqmkg.sparql.fairness``).
        """
        facts = inspect(query)
        form = facts.form
        if form in UPDATE_KEYWORDS:
            raise UpdateRefused(f"{READ_ONLY}; the text is a {form} operation")
        check_limits(facts, self.settings.max_query_depth, self.settings.max_query_complexity)
        self._check_dataset(request)
        results = choose(request.formats, request.accept, ResultKind.RESULTS)
        graph = choose(request.formats, request.accept, ResultKind.GRAPH)
        if form in ("SELECT", "ASK") and results is None:
            raise not_acceptable(ResultKind.RESULTS, f"a {form} result")
        if form in ("CONSTRUCT", "DESCRIBE") and graph is None:
            raise not_acceptable(ResultKind.GRAPH, f"a {form} result")
        job = Job(
            query=query,
            base_iri=request.endpoint,
            default_graphs=request.default_graphs if request.has_dataset else None,
            named_graphs=request.named_graphs if request.has_dataset else None,
            results_format=results.format.name if results else None,
            graph_format=graph.format.name if graph else None,
            max_rows=self.settings.max_rows,
            allowlist=self.settings.service_allowlist,
            substitutions=substitutions,
            prefixes=tuple(HOUSE_PREFIXES.items()),
            max_bytes=self.settings.max_response_bytes,
        )
        reply = self.run(job, client)
        if isinstance(reply, Refusal):
            raise refusal_error(reply)
        choice: Choice | None = results if reply.kind is ResultKind.RESULTS else graph
        if choice is None:  # cannot happen: the worker refuses a kind with no negotiated format
            raise not_acceptable(reply.kind, "this result")
        return SparqlResponse(reply.body, choice.content_type, self._result_headers(reply), reply.rows, form or "?")

    def _result_headers(self, reply: Answer) -> tuple[tuple[str, str], ...]:
        """Say how many rows the result holds, whether a cap cut it and which, and the caps."""
        headers = [
            (ROWS_HEADER, str(reply.rows)),
            (TRUNCATED_HEADER, "true" if reply.truncated else "false"),
            (ROW_LIMIT_HEADER, str(self.settings.max_rows)),
        ]
        if reply.truncated_by is not None:
            headers.append((TRUNCATED_BY_HEADER, reply.truncated_by))
        if self.settings.max_response_bytes > 0:
            headers.append((BYTE_LIMIT_HEADER, str(self.settings.max_response_bytes)))
        headers.append(("Vary", "Accept"))
        return tuple(headers)

    def run(self, job: Job, client: str = "") -> Answer | Refusal:
        """Run a job on a worker with no network; a query calling allow-listed endpoints goes on to
        a worker that has it (the first worker only judged it), within the same deadline."""
        deadline = self.deadline(job.query)
        started = time.monotonic()
        reply = self.pool.run(job, deadline, client)
        if isinstance(reply, Federated):
            remaining = max(deadline - (time.monotonic() - started), 0.1)
            try:
                reply = self.pool.run(job, remaining, client, network=True)
            except QueryTimeout:
                raise QueryTimeout(deadline) from None  # the client's deadline, not what was left of it
        if isinstance(reply, Federated):  # cannot happen: a worker with the network runs what it judged
            return Refusal("service-refused", "no query worker with network access took the query")
        return reply

    def deadline(self, query: str) -> float:
        """Return the query's deadline: the SERVICE timeout bounds queries that may call out.

        pyoxigraph 0.5.13 exposes no HTTP timeout for SERVICE calls, so the whole query of
        a federated request is bounded by ``min(query_timeout, service_timeout)``.
        """
        if mentions_service(query):
            return min(self.settings.query_timeout, self.settings.service_timeout)
        return self.settings.query_timeout

    def _check_dataset(self, request: QueryRequest) -> None:
        known = self.snapshot.graph_names
        for parameter, names in (
            ("default-graph-uri", request.default_graphs),
            ("named-graph-uri", request.named_graphs),
        ):
            unknown = [name for name in names if name not in known]
            if unknown:
                listing = ", ".join(f"<{g}>" for g in sorted(known))
                raise ProtocolError(
                    f"{parameter} <{unknown[0]}> names no graph in this store (graphs are never fetched); "
                    f"the store holds: {listing}"
                )
