"""A remote SPARQL 1.1 server as the store: ``mqmkg serve --backend URL``.

``RemoteStore`` answers the small part of pyoxigraph's ``Store`` interface that the
endpoint, the canned queries and the pages use (``query`` with ``substitutions`` and a
dataset, ``quads_for_pattern``, ``named_graphs``) by sending SPARQL 1.1 Protocol requests
to an Oxigraph server, Fuseki, QLever, Virtuoso or any other endpoint. Answers come back as
SPARQL JSON or N-Triples, are read as they arrive and turned back into pyoxigraph terms
(``pyoxigraph.parse_query_results``), so the serialisers and views above do not change.

Parameters are never pasted into the query as text: each bound variable becomes a
``VALUES`` row built from the term's N-Triples form (IRIs checked by pyoxigraph, literals
escaped), placed at the start of the query's outermost group, where it constrains the whole
pattern as pyoxigraph's substitutions do.

A backend that cannot be reached answers ``502``, one that does not answer within the
query's deadline ``504``; no request waits longer than its deadline plus one read.
``RemoteExecutor`` runs the endpoint's jobs this way: the same guard, caps and serialisers
as a query worker (``mqmkg.sparql.worker.execute``).
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import httpx
import pyoxigraph as ox

from mqmkg.errors import BackendError, BackendTimeout, BackendUnavailable
from mqmkg.sparql.guard import tokens
from mqmkg.sparql.pool import PoolStatus
from mqmkg.sparql.worker import Answer, Federated, Job, Refusal, execute
from mqmkg.store import GraphStats

SPARQL_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
ACCEPT = f"{SPARQL_JSON}, {N_TRIPLES};q=0.9, application/sparql-results+xml;q=0.5, text/turtle;q=0.5"
CONNECT_SECONDS = 5.0
_CHUNK = 1 << 16
_PUNCTUATION = ("other", "punct")

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
GraphName = ox.NamedNode | ox.BlankNode | ox.DefaultGraph


# -- binding parameters as a VALUES block ---------------------------------------------------


def values_block(bindings: Mapping[ox.Variable, Term]) -> str:
    """Return ``VALUES (?a ?b) { (<x> "y") }`` for the bindings, terms in N-Triples syntax."""
    names, terms = [], []
    for variable, term in bindings.items():
        if not isinstance(term, ox.NamedNode | ox.Literal):
            raise TypeError(f"only IRIs and literals can be sent as a VALUES row, not {term!r}")
        names.append(str(variable))
        terms.append(str(term))
    return f"VALUES ({' '.join(names)}) {{ ({' '.join(terms)}) }}"


def _matching_close(found: list[tuple[int, str]], opening: int) -> int:
    """Return the offset of the ``}`` that closes the brace at index ``opening`` of ``found``."""
    depth = 0
    for offset, text in found[opening:]:
        depth += 1 if text == "{" else -1 if text == "}" else 0
        if depth == 0:
            return offset
    raise ValueError("unbalanced braces")


def bind_values(query: str, bindings: Mapping[ox.Variable, Term]) -> str:
    """Return the query with ``bindings`` as a VALUES block at the start of its outermost group.

    That is where a VALUES block constrains the whole pattern (its FILTERs and OPTIONALs
    see the values), as substitutions do. A group that is a sub-SELECT is wrapped as
    ``{ VALUES … { SELECT … } }``; a query with no group (``DESCRIBE ?x``) or the short
    ``CONSTRUCT WHERE { … }`` form gets the block at the end (SPARQL 1.1 §10.2.2).
    """
    if not bindings:
        return query
    block = values_block(bindings)
    found: list[tuple[int, str]] = []  # (offset, text) of the punctuation and keywords
    for token in tokens(query):
        if token.kind in _PUNCTUATION or token.kind == "word":
            found.append((token.start, token.text.upper() if token.kind == "word" else token.text))
    form_at = next((i for i, (_, text) in enumerate(found) if text in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")), None)
    if form_at is None:
        raise ValueError("no query form (SELECT, ASK, CONSTRUCT, DESCRIBE) found")
    construct = found[form_at][1] == "CONSTRUCT"
    parens = braces = 0
    groups_seen = 0
    for index in range(form_at + 1, len(found)):
        offset, text = found[index]
        if construct and braces == 0 and parens == 0 and text == "WHERE" and groups_seen == 0:
            break  # CONSTRUCT WHERE { triples }: the short form allows no VALUES inside
        if text == "(":
            parens += 1
        elif text == ")":
            parens -= 1
        elif text == "{" and parens == 0 and braces == 0:
            if construct and groups_seen == 0:
                groups_seen = 1  # the template
                braces += 1
                continue
            inner = found[index + 1][1] if index + 1 < len(found) else ""
            if inner == "SELECT":
                close = _matching_close(found, index)
                return f"{query[: offset + 1]} {block} {{{query[offset + 1 : close]}}} {query[close:]}"
            return f"{query[: offset + 1]} {block}\n{query[offset + 1 :]}"
        elif text == "{":
            braces += 1
        elif text == "}":
            braces -= 1
    return f"{query}\n{block}\n"


# -- reading answers as they arrive ------------------------------------------------------------


class _Reader(io.RawIOBase):
    """The body of a streamed response as a file, cut at the deadline, closing the response when done."""

    def __init__(self, response: httpx.Response, deadline: float, store: RemoteStore):
        super().__init__()
        self._response = response
        self._chunks = response.iter_raw(_CHUNK)
        self._pending = b""
        self._deadline = deadline
        self._store = store

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if not self._pending:
            if time.monotonic() > self._deadline:
                raise self._store.failed(BackendTimeout, "did not finish its answer in time")
            try:
                self._pending = next(self._chunks, b"")
            except httpx.TimeoutException as exc:
                raise self._store.failed(BackendTimeout, f"stopped answering: {exc}") from exc
            except httpx.HTTPError as exc:
                raise self._store.failed(BackendUnavailable, f"broke off: {exc}") from exc
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            self._response.close()
        super().close()


def _triples(parser: Iterable[ox.Quad | ox.Triple]) -> Iterator[ox.Triple]:
    for item in parser:
        yield ox.Triple(item.subject, item.predicate, item.object)


# -- the store ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteStore:
    """A SPARQL 1.1 query endpoint read through the parts of pyoxigraph's Store interface mqmkg uses.

    ``timeout`` bounds each request (connection, each read, and the whole answer); the
    endpoint gives each job its own deadline through ``for_job``. A backend failure is also
    appended to ``failures`` (when given), so that a caller that catches every error (the
    worker's ``execute``) can still tell a failing backend from a bad query.
    """

    url: str
    client: httpx.Client
    timeout: float
    failures: list[BackendError] | None = None

    def for_job(self, seconds: float) -> RemoteStore:
        """Return a view of this store with its own deadline and its own list of failures."""
        return RemoteStore(self.url, self.client, seconds, [])

    def failed(self, kind: type[BackendError], what: str) -> BackendError:
        """Return the error ``the SPARQL backend URL <what>`` to raise, recorded in ``failures``."""
        error = kind(f"the SPARQL backend {self.url} {what}")
        if self.failures is not None:
            self.failures.append(error)
        return error

    def query(
        self,
        query: str,
        *,
        base_iri: str | None = None,
        substitutions: Mapping[ox.Variable, Term] | None = None,
        default_graph: Iterable[GraphName] | GraphName | None = None,
        named_graphs: Iterable[ox.NamedNode | ox.BlankNode] | None = None,
        use_default_graph_as_union: bool = False,
        prefixes: Mapping[str, str] | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | Iterator[ox.Triple]:
        """Run a query on the backend; answers as pyoxigraph would give them.

        Raise ``SyntaxError`` with the backend's message for a query it refuses (400),
        ``BackendUnavailable`` (502) or ``BackendTimeout`` (504) when it fails or is slow.
        """
        if use_default_graph_as_union:
            raise ValueError("the backend's default graph is already the union of its graphs")
        # On the query's first line, so that the backend's error positions keep their line numbers.
        prologue = "".join(f"PREFIX {name}: <{ox.NamedNode(iri).value}> " for name, iri in (prefixes or {}).items())
        if base_iri:
            prologue = f"BASE <{ox.NamedNode(base_iri).value}> " + prologue
        text = prologue + bind_values(query, substitutions or {})
        form: list[tuple[str, str]] = [("query", text)]
        if default_graph is not None:
            graphs = [default_graph] if not isinstance(default_graph, Iterable) else list(default_graph)
            form += [("default-graph-uri", g.value) for g in graphs if isinstance(g, ox.NamedNode)]
        form += [("named-graph-uri", g.value) for g in named_graphs or () if isinstance(g, ox.NamedNode)]
        return self._send(form)

    def _send(self, form: list[tuple[str, str]]) -> ox.QuerySolutions | ox.QueryBoolean | Iterator[ox.Triple]:
        deadline = time.monotonic() + self.timeout
        timeout = httpx.Timeout(self.timeout, connect=min(CONNECT_SECONDS, self.timeout))
        request = self.client.build_request(
            "POST", self.url, data=dict(_group(form)), headers={"Accept": ACCEPT}, timeout=timeout
        )
        try:
            response = self.client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise self.failed(BackendTimeout, f"did not answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise self.failed(BackendUnavailable, f"cannot be reached: {exc}") from exc
        if response.status_code != 200:
            self._refuse(response, deadline)
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        reader = io.BufferedReader(_Reader(response, deadline, self), _CHUNK)
        if media_type in (SPARQL_JSON, "application/json"):
            return ox.parse_query_results(reader, format=ox.QueryResultsFormat.JSON)
        if media_type == "application/sparql-results+xml":
            return ox.parse_query_results(reader, format=ox.QueryResultsFormat.XML)
        if media_type in (N_TRIPLES, "text/plain"):
            return _triples(ox.parse(reader, format=ox.RdfFormat.N_TRIPLES))
        if media_type in ("text/turtle", "application/x-turtle"):
            return _triples(ox.parse(reader, format=ox.RdfFormat.TURTLE))
        reader.close()
        raise self.failed(BackendError, f"answered in another format: {media_type or 'none'}")

    def _refuse(self, response: httpx.Response, deadline: float) -> None:
        try:
            body = b"".join(_limited(response, deadline, 4096)).decode("utf-8", "replace").strip()
        finally:
            response.close()
        message = _message(body) or response.reason_phrase
        if response.status_code == 400:
            raise SyntaxError(message)
        if response.status_code in (503, 504):
            raise self.failed(BackendTimeout, f"answered {response.status_code}: {message}")
        raise self.failed(BackendError, f"answered {response.status_code}: {message}")

    def quads_for_pattern(
        self,
        subject: ox.NamedNode | ox.BlankNode | None,
        predicate: ox.NamedNode | None,
        obj: Term | None,
        graph_name: GraphName | None = None,
    ) -> Iterator[ox.Quad]:
        """Yield the quads matching a pattern (None matches anything), as pyoxigraph does.

        A blank node from an earlier answer names nothing on the server (its label was only
        valid in that answer), so a pattern holding one matches nothing.
        """
        terms = (("s", subject), ("p", predicate), ("o", obj))
        if any(isinstance(term, ox.BlankNode) for _, term in terms):
            return
        bound = {ox.Variable(name): term for name, term in terms if term is not None}
        if isinstance(graph_name, ox.DefaultGraph):
            rows = self.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", substitutions=bound)
            for row in _solutions(rows):
                yield ox.Quad(row["s"], row["p"], row["o"], ox.DefaultGraph())
            return
        if isinstance(graph_name, ox.NamedNode):
            bound[ox.Variable("g")] = graph_name
        rows = self.query("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }", substitutions=bound)
        for row in _solutions(rows):
            yield ox.Quad(row["s"], row["p"], row["o"], row["g"])
        if graph_name is None:
            yield from self.quads_for_pattern(subject, predicate, obj, ox.DefaultGraph())

    def named_graphs(self) -> Iterator[ox.NamedNode]:
        """Yield the backend's named graphs."""
        for row in _solutions(self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")):
            if isinstance(row["g"], ox.NamedNode):
                yield row["g"]

    def stats(self) -> tuple[tuple[GraphStats, ...], int]:
        """Return the triple count of every named graph and of the default graph."""
        rows = _solutions(self.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"))
        graphs = sorted((GraphStats(r["g"].value, int(r["n"].value)) for r in rows), key=lambda g: g.name)
        default = next(iter(_solutions(self.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"))))["n"]
        return tuple(graphs), int(default.value) if default is not None else 0

    def ping(self) -> None:
        """Ask the backend an empty ASK; raise BackendUnavailable or BackendTimeout if it fails."""
        answer = self.query("ASK {}")
        if not isinstance(answer, ox.QueryBoolean):
            raise BackendError(f"the SPARQL backend {self.url} answered ASK with something else than a boolean")


def _solutions(answer: object) -> ox.QuerySolutions:
    if not isinstance(answer, ox.QuerySolutions):
        raise BackendError("the SPARQL backend answered a SELECT with something else than solutions")
    return answer


def _group(form: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in form:
        grouped.setdefault(key, []).append(value)
    return grouped


def _limited(response: httpx.Response, deadline: float, limit: int) -> Iterator[bytes]:
    size = 0
    try:
        for chunk in response.iter_raw(1024):
            yield chunk
            size += len(chunk)
            if size >= limit or time.monotonic() > deadline:
                return
    except httpx.HTTPError:
        return


def _message(body: str) -> str:
    """Return the message of an error body: an RFC 9457 problem's ``detail``, else the text."""
    if body.startswith("{"):
        try:
            data = json.loads(body)
        except ValueError:
            return body
        if isinstance(data, dict):
            return str(data.get("detail") or data.get("message") or body)
    return body[:1000]


def connect(url: str, timeout: float, connections: int = 64) -> RemoteStore:
    """Return a store on ``url`` with a connection pool of its own."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    client = httpx.Client(limits=limits, timeout=timeout, follow_redirects=False)
    return RemoteStore(ox.NamedNode(url).value, client, timeout)


# -- the executor ------------------------------------------------------------------------------


def _status(size: int, idle: int, busy: int) -> PoolStatus:
    return PoolStatus(
        size=size,
        idle=idle,
        busy=busy,
        starting=0,
        pids=(),
        replaced=0,
        recycled=0,
        dead=0,
        closed=False,
        isolation="the SPARQL backend runs the queries" if size else "",
    )


class RemoteExecutor:
    """Run the endpoint's jobs on a remote server: the worker's guard, caps and serialisers, here.

    The query runs on the backend, whose answer is read as it arrives and cut at the row
    cap, so nothing here needs killing: a job ends at its deadline with ``BackendTimeout``.
    """

    def __init__(self, store: RemoteStore, concurrency: int):
        self.store = store
        self.size = concurrency
        self._slots = threading.BoundedSemaphore(concurrency)
        self._busy = 0
        self._lock = threading.Lock()

    def run(self, job: Job, deadline: float, client: str = "", network: bool = False) -> Answer | Refusal | Federated:
        """Evaluate one job on the backend within ``deadline`` seconds (``client`` is not used:
        the backend is shared by every client, and limits its own work)."""
        started = time.monotonic()
        if not self._slots.acquire(timeout=deadline):
            raise BackendTimeout(f"every connection to the SPARQL backend stayed busy for {deadline:g} s")
        with self._lock:
            self._busy += 1
        try:
            view = self.store.for_job(max(0.1, deadline - (time.monotonic() - started)))
            reply = execute(view, job, network=True)  # type: ignore[arg-type]  # the backend calls SERVICE
            if view.failures:
                raise view.failures[0]
            return reply
        finally:
            with self._lock:
                self._busy -= 1
            self._slots.release()

    def status(self, network: bool = False) -> PoolStatus:
        """Report the connections to the backend in the shape of the worker pool's status.

        The backend is asked an empty ``ASK`` (within 2 s); while it does not answer, no
        connection counts as idle or busy, so ``/health`` says the server cannot serve. (There
        is no separate lane with the network: the backend makes its own SERVICE calls.)
        """
        if network:
            return _status(0, 0, 0)
        try:
            self.store.for_job(min(2.0, self.store.timeout)).ping()
        except (BackendError, SyntaxError):
            return _status(self.size, 0, 0)
        with self._lock:
            busy = self._busy
        return _status(self.size, self.size - busy, busy)

    def close(self) -> None:
        self.store.client.close()
