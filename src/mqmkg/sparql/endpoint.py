"""Answer SPARQL protocol requests: parse, refuse, negotiate, run with a deadline, respond.

This is the framework-free core the server routes call (from a thread pool, since it
blocks while a worker evaluates the query).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

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
from mqmkg.sparql.cache import (
    REVALIDATE,
    ResultCache,
    cache_control,
    cache_key,
    none_match,
    strong_etag,
    volatile,
    weak_etag,
)
from mqmkg.sparql.dataset import Snapshot
from mqmkg.sparql.formats import Choice, ResultKind, choose, describe_offers, formats_of
from mqmkg.sparql.guard import UPDATE_KEYWORDS, QueryFacts, check_limits, inspect, mentions_service
from mqmkg.sparql.pool import PoolStatus
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
# hit: from the result cache; miss: evaluated (and kept); bypass: evaluated, never kept (SERVICE,
# RAND, NOW, a backend whose data can change); off: the cache is off (Settings.result_cache = 0).
CACHE_HEADER = "X-MQMKG-Cache"
EXPOSED_HEADERS = (
    ROWS_HEADER,
    TRUNCATED_HEADER,
    ROW_LIMIT_HEADER,
    TRUNCATED_BY_HEADER,
    BYTE_LIMIT_HEADER,
    CACHE_HEADER,
    "ETag",
)


@dataclass(frozen=True)
class SparqlResponse:
    """A successful response: body, Content-Type, extra headers, and rows for the access log.

    ``status`` is 200, or 304 (no body) when the client's ``If-None-Match`` matched.
    """

    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...]
    rows: int | None
    form: str
    status: int = 200

    def validated(self, etag: str, control: str) -> SparqlResponse:
        """Return this response with its ``ETag`` and ``Cache-Control``."""
        return replace(self, headers=(*self.headers, ("ETag", etag), ("Cache-Control", control)))

    def cache_status(self, status: str) -> SparqlResponse:
        """Return this response saying where it came from (``X-MQMKG-Cache``)."""
        return replace(self, headers=(*self.headers, (CACHE_HEADER, status)))

    def unless_matched(self, if_none_match: str | None) -> SparqlResponse:
        """Return the 304 for this response (validators and ``Vary`` only) if ``If-None-Match`` matches its ETag."""
        etag = dict(self.headers).get("ETag", "")
        if not none_match(if_none_match, etag):
            return self
        kept = tuple((k, v) for k, v in self.headers if k in ("ETag", "Cache-Control", "Vary"))
        return replace(self, body=b"", content_type="", headers=kept, status=304)


@dataclass(frozen=True)
class Pending:
    """A query that passed every check and has to run: its job, its negotiated formats, and how
    its answer is validated (``key``: the result cache's key, None for an answer that may
    change without the graph, which is validated by its bytes and never kept)."""

    job: Job
    results: Choice | None
    graph: Choice | None
    form: str
    key: str | None
    if_none_match: str | None
    client: str = ""


# The guard's reading of a short query, and the formats negotiated for a request's Accept and
# format=, are kept for the next request that sends the same text: most queries an endpoint
# gets are repeats (canned queries, the editor's examples, clients polling).
_REMEMBERED_QUERY_CHARS = 16 * 1024
_remembered_inspect = functools.lru_cache(maxsize=1024)(inspect)


def read_query(query: str) -> QueryFacts:
    """Return the guard's reading of a query (``guard.inspect``), remembered for short queries."""
    return _remembered_inspect(query) if len(query) <= _REMEMBERED_QUERY_CHARS else inspect(query)


def _negotiate_both(formats: tuple[str, ...], accept: str | None) -> tuple[Choice | None, Choice | None]:
    return choose(formats, accept, ResultKind.RESULTS), choose(formats, accept, ResultKind.GRAPH)


_remembered_negotiation = functools.lru_cache(maxsize=512)(_negotiate_both)


def negotiate_both(formats: tuple[str, ...], accept: str | None) -> tuple[Choice | None, Choice | None]:
    """Return the formats chosen for a solution table (or boolean) and for a graph (remembered
    for the usual short Accept headers)."""
    if len(accept or "") + sum(map(len, formats)) > 1024:
        return _negotiate_both(formats, accept)
    return _remembered_negotiation(formats, accept)


class Executor(Protocol):
    """What runs a job: the worker pool, or a remote SPARQL server (``mqmkg.sparql.remote``)."""

    def run(
        self, job: Job, deadline: float, client: str = "", network: bool = False
    ) -> Answer | Refusal | Federated: ...

    def status(self, network: bool = False) -> PoolStatus: ...

    def close(self) -> None: ...


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

    def __init__(
        self,
        settings: Settings,
        snapshot: Snapshot | Callable[[], Snapshot],
        pool: Executor,
        cache: ResultCache[SparqlResponse] | None = None,
    ):
        self.settings = settings
        self._snapshot = snapshot
        self.pool = pool
        self.cache: ResultCache[SparqlResponse] = cache or ResultCache(0, 0)

    @property
    def snapshot(self) -> Snapshot:
        """The dataset's statistics and fingerprint (read from a backend when first needed)."""
        return self._snapshot if isinstance(self._snapshot, Snapshot) else self._snapshot()

    def handle(self, inp: HttpInput, client: str = "") -> SparqlResponse:
        """Answer one HTTP request to ``/sparql``; raise a SparqlError subclass if it fails.

        ``client`` identifies the caller (its address) for the per-client limits.
        """
        started = self.start(inp, client)
        return started if isinstance(started, SparqlResponse) else self.finish(started)

    def start(self, inp: HttpInput, client: str = "") -> SparqlResponse | Pending:
        """Do everything that needs no worker: parse, refuse, negotiate, describe, and answer
        from the validators or the result cache; what is left to run comes back as ``Pending``.

        It never waits, so the server may call it on its event loop and send a cached answer
        without a thread hop; ``finish`` (which waits for a worker) runs in a thread.
        """
        request = parse_request(inp)
        if request.query is None:
            description = self.describe(request, inp.url)
            control = cache_control(self.settings.result_max_age)
            return description.validated(strong_etag(description.body), control).unless_matched(inp.if_none_match)
        return self.plan(request, request.query, if_none_match=inp.if_none_match, client=client)

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
        if_none_match: str | None = None,
        client: str = "",
    ) -> SparqlResponse:
        """Run one query in the worker pool and return its serialised result.

        ``substitutions`` bind variables to RDF terms (pyoxigraph substitutions, SEP-0007):
        the canned queries' parameters, never pasted into the query text. An answer that
        changes only with the graph comes from the result cache when it is there, and a
        matching ``If-None-Match`` gets 304 without running anything (``mqmkg.sparql.cache``).
        ``client`` identifies the caller for the pool's fair sharing (``mqmkg.sparql.fairness``).
        """
        planned = self.plan(request, query, substitutions, if_none_match, client)
        return planned if isinstance(planned, SparqlResponse) else self.finish(planned)

    def plan(
        self,
        request: QueryRequest,
        query: str,
        substitutions: tuple[tuple[str, ox.NamedNode | ox.Literal], ...] = (),
        if_none_match: str | None = None,
        client: str = "",
    ) -> SparqlResponse | Pending:
        """Check and negotiate a query; answer it from the validators or the cache, or say what to run."""
        facts = read_query(query)
        form = facts.form
        if form in UPDATE_KEYWORDS:
            raise UpdateRefused(f"{READ_ONLY}; the text is a {form} operation")
        check_limits(facts, self.settings.max_query_depth, self.settings.max_query_complexity)
        self._check_dataset(request)
        results, graph = negotiate_both(request.formats, request.accept)
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
        if not self.snapshot.fingerprint or volatile(query, facts):  # may change: validated by bytes, never kept
            return Pending(job, results, graph, form or "?", None, if_none_match, client)
        content_types = (results.content_type if results else None, graph.content_type if graph else None)
        key = cache_key(self.snapshot.fingerprint, job, content_types)
        etag, control = weak_etag(key), cache_control(self.settings.result_max_age)
        if none_match(if_none_match, etag):
            headers = (("ETag", etag), ("Cache-Control", control), ("Vary", "Accept"))
            return SparqlResponse(b"", "", headers, None, form or "?", status=304)
        cached = self.cache.get(key) if self.cache.enabled else None
        if cached is not None:
            return cached.cache_status("hit")
        return Pending(job, results, graph, form or "?", key, if_none_match, client)

    def finish(self, pending: Pending) -> SparqlResponse:
        """Run a pending query (waiting for a worker), validate its answer and keep it if it may be kept."""
        response = self.respond(pending.job, pending.results, pending.graph, pending.form, pending.client)
        if pending.key is None:
            validated = response.validated(strong_etag(response.body), REVALIDATE).cache_status("bypass")
            return validated.unless_matched(pending.if_none_match)
        response = response.validated(weak_etag(pending.key), cache_control(self.settings.result_max_age))
        if not self.cache.enabled:
            return response.cache_status("off")
        self.cache.put(pending.key, response, len(response.body))
        return response.cache_status("miss")

    def respond(
        self, job: Job, results: Choice | None, graph: Choice | None, form: str | None, client: str = ""
    ) -> SparqlResponse:
        """Run a job in the worker pool (or on the backend) and return its response, without validators."""
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
