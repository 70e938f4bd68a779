"""The query worker: a process forked from the zygote that holds the store, answering jobs.

A worker evaluates one query at a time: the SERVICE guard, then pyoxigraph, then the
serialiser, all inside the process the pool can kill at the deadline. Replies are plain
frozen dataclasses sent back over a pipe; errors travel as ``Refusal`` records that the
parent turns into typed exceptions.

Workers come in two kinds (``mqmkg.sparql.isolation``): most have no network at all; a
query the guard finds calling allow-listed endpoints gets a ``Federated`` reply from them
and is sent again to a worker that has the network (limited to those endpoints' ports).
Workers are forked from a zygote that holds the store (``mqmkg.sparql.zygote``), and run
each job on their main thread, whose stack may grow to ``STACK_BYTES``: the engine's
recursive parser and evaluator have a wide margin above the depth limits the endpoint
enforces, and a worker never has a thread of its own besides (an on-disk store's library
aside), so its death is seen at once.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection

import pyoxigraph as ox

from mqmkg.errors import ServiceRefused
from mqmkg.sparql.dataset import load_store
from mqmkg.sparql.formats import BY_NAME, ResultKind
from mqmkg.sparql.guard import check_services, mentions_service
from mqmkg.sparql.isolation import Isolation, cut_network, limit_connections
from mqmkg.sparql.prefixes import find_undeclared
from mqmkg.sparql.results import Capped, serialize_boolean, write_solutions, write_triples

# The stack jobs run on: a worker's main thread, whose stack grows as needed up to its limit
# (raised by the worker). pyoxigraph's parser and evaluator recurse once per level of the
# query's parse tree and need about 4 KiB per level at worst (measured: 2,208 nested groups
# overflow the default 8 MiB). The endpoint refuses trees deeper than
# Settings.max_query_complexity (1,000) first, so this leaves a margin of about 20; the kernel
# keeps at least 128 MiB free below a process's stack, so it is always there to grow into.
# Under a small address-space cap the stack takes an eighth of it at most.
STACK_BYTES = 96 * 1024 * 1024
# Python frames allowed on that stack (rdflib's parser recurses about 40 frames per level).
RECURSION_LIMIT = 50_000

_POSITION = re.compile(r"^error at (\d+):(\d+): (.*)$", re.DOTALL)
_PYPARSING = re.compile(r"^(.*?)\s*\(at char \d+\), \(line:(\d+), col:(\d+)\)$")


@dataclass(frozen=True)
class Job:
    """One query to evaluate, with its dataset, the formats negotiated and the row and byte caps."""

    query: str
    base_iri: str | None
    default_graphs: tuple[str, ...] | None
    named_graphs: tuple[str, ...] | None
    results_format: str | None
    graph_format: str | None
    max_rows: int
    allowlist: tuple[str, ...]
    substitutions: tuple[tuple[str, ox.NamedNode | ox.Literal], ...] = ()
    # Prefixes the query may use without declaring them (the house prefixes); the guard and
    # the engine both read the query with them.
    prefixes: tuple[tuple[str, str], ...] = ()
    max_bytes: int = 0  # largest body in bytes (0: no cap)


@dataclass(frozen=True)
class Answer:
    """A serialised result: its kind and format, the body, and how many rows it holds.

    ``truncated_by`` names the cap that cut a truncated result: ``"rows"`` or ``"bytes"``.
    """

    kind: ResultKind
    format_name: str
    body: bytes
    rows: int
    truncated: bool
    services: tuple[str, ...]
    truncated_by: str | None = None
    # The worker's resident memory (MiB) as it sends the answer, the body still in memory: what
    # the job made it grow to, for the pool's recycling (Settings.worker_recycle_mb).
    resident_mib: float = 0.0


@dataclass(frozen=True)
class Refusal:
    """A query the worker would not or could not answer.

    ``error`` is one of ``syntax``, ``service-refused``, ``service-blocked`` (the engine tried
    a SERVICE call the guard had not found, in a worker with no network), ``service-failed``,
    ``evaluation``, ``not-acceptable``.
    """

    error: str
    message: str
    line: int | None = None
    column: int | None = None
    prefix: str | None = None  # an undeclared prefix: the prefix, and the PREFIX line to add if known
    declaration: str | None = None


@dataclass(frozen=True)
class Federated:
    """The query calls these allow-listed endpoints: run it on a worker that has the network."""

    services: tuple[str, ...]


@dataclass(frozen=True)
class Ready:
    """Sent once by a worker when its store is loaded, saying how it is cut off from the network."""

    pid: int
    isolation: Isolation


def rdflib_diagnosis(query: str) -> str | None:
    """Return rdflib's parse error for a query, reworded, or None if rdflib parses it.

    pyoxigraph 0.5.13 often reports the furthest position it reached (the end of the query);
    rdflib names the construct that failed and where it starts, which helps a person more.
    """
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        parseQuery(query)
    except RecursionError:
        return None
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        match = _PYPARSING.match(first)
        if match is None:
            return first
        return f"{match.group(1).strip()} at line {match.group(2)}, column {match.group(3)}"
    return None


def syntax_refusal(exc: SyntaxError, query: str, prefixes: Mapping[str, str] | None = None) -> Refusal:
    """Turn pyoxigraph's ``error at LINE:COLUMN: message`` into a syntax refusal.

    The position is pyoxigraph's; rdflib's reading of the same error is appended when it
    has one. An undeclared prefix (pyoxigraph: "Prefix not found", followed by a wall of
    character ranges) is named instead, at its own position, with the line to add.
    """
    text = str(exc.msg if exc.msg else exc)
    if "Prefix not found" in text:
        undeclared = find_undeclared(query, prefixes or {})
        if undeclared is not None:
            where = f"line {undeclared.line}, column {undeclared.column}"
            message = f"syntax error at {where}: {undeclared.message()}"
            return Refusal(
                "syntax", message, undeclared.line, undeclared.column, undeclared.prefix, undeclared.suggestion
            )
    hint = rdflib_diagnosis(query)
    suffix = f" (rdflib: {hint})" if hint else ""
    match = _POSITION.match(text)
    if match is None:
        return Refusal("syntax", f"syntax error: {text}{suffix}")
    line, column, message = int(match.group(1)), int(match.group(2)), match.group(3)
    return Refusal("syntax", f"syntax error at line {line}, column {column}: {message}{suffix}", line, column)


def _dataset_options(job: Job) -> dict[str, object]:
    if job.default_graphs is None and job.named_graphs is None:
        return {}
    return {
        "default_graph": [ox.NamedNode(g) for g in job.default_graphs or ()],
        "named_graphs": [ox.NamedNode(g) for g in job.named_graphs or ()],
    }


def _not_acceptable(kind: ResultKind) -> Refusal:
    return Refusal("not-acceptable", kind.value)


def execute(store: ox.Store, job: Job, network: bool = False) -> Answer | Refusal | Federated:
    """Evaluate one job against a store and serialise its result, or say why not.

    A worker without the network (``network=False``) answers a query that calls
    allow-listed endpoints with ``Federated`` instead of running it.
    """
    prefixes = dict(job.prefixes)
    try:
        services = check_services(job.query, job.base_iri, job.allowlist, prefixes)
    except ServiceRefused as exc:
        return Refusal("service-refused", exc.message)
    if services and not network:
        return Federated(services)
    try:
        bindings = {ox.Variable(name): term for name, term in job.substitutions}
        result = store.query(
            job.query,
            base_iri=job.base_iri,
            prefixes=prefixes or None,
            substitutions=bindings or None,
            **_dataset_options(job),
        )
        if isinstance(result, ox.QueryBoolean):
            return _boolean(bool(result), job, services)
        if isinstance(result, ox.QuerySolutions):
            return _solutions(result, job, services)
        return _graph(result, job, services)
    except SyntaxError as exc:
        return syntax_refusal(exc, job.query, prefixes)
    except Exception as exc:  # the engine's evaluation errors: OSError, ValueError, …
        message = str(exc) or type(exc).__name__
        if not network and isinstance(exc, OSError) and mentions_service(job.query):
            return Refusal(
                "service-blocked",
                "the engine tried to call a SERVICE endpoint that the guard did not find; this query worker has "
                f"no network, so nothing was sent ({message})",
            )
        return Refusal("service-failed" if services else "evaluation", message)


def _boolean(value: bool, job: Job, services: tuple[str, ...]) -> Answer | Refusal:
    if job.results_format is None:
        return _not_acceptable(ResultKind.RESULTS)
    fmt = BY_NAME[job.results_format]
    return Answer(ResultKind.RESULTS, fmt.name, serialize_boolean(value, fmt), 1, False, services)


def _solutions(result: ox.QuerySolutions, job: Job, services: tuple[str, ...]) -> Answer | Refusal:
    if job.results_format is None:
        return _not_acceptable(ResultKind.RESULTS)
    fmt = BY_NAME[job.results_format]
    variables = [v.value for v in result.variables]
    rows = (tuple(solution) for solution in result)
    capped = write_solutions(variables, rows, fmt, job.max_rows, job.max_bytes)
    return _answer(ResultKind.RESULTS, fmt.name, capped, services)


def _graph(result: ox.QueryTriples, job: Job, services: tuple[str, ...]) -> Answer | Refusal:
    if job.graph_format is None:
        return _not_acceptable(ResultKind.GRAPH)
    fmt = BY_NAME[job.graph_format]
    capped = write_triples(result, fmt, job.max_rows, job.max_bytes)
    return _answer(ResultKind.GRAPH, fmt.name, capped, services)


def _answer(kind: ResultKind, format_name: str, capped: Capped, services: tuple[str, ...]) -> Answer:
    truncated = capped.truncated_by is not None
    return Answer(kind, format_name, capped.body, capped.rows, truncated, services, capped.truncated_by)


def _limit_memory(megabytes: int) -> None:
    if megabytes <= 0:
        return
    import resource

    limit = megabytes * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def isolate(network: bool, allowlist: tuple[str, ...]) -> Isolation:
    """Cut this worker off from the network, or limit it to the allow-listed endpoints' ports."""
    return limit_connections(allowlist) if network else cut_network()


def job_stack_bytes(memory_mb: int) -> int:
    """Return how far a worker's stack may grow under an address-space cap of ``memory_mb`` (0: none)."""
    if memory_mb <= 0:
        return STACK_BYTES
    return max(min(STACK_BYTES, memory_mb * 1024 * 1024 // 8), 16 * 1024 * 1024)


@dataclass(frozen=True)
class Prepared:
    """What the zygote holds for every worker it forks: the store (in memory), or the path of an
    on-disk store each worker opens read-only, and the limits a worker sets itself."""

    store: ox.Store | None
    path: str | None
    memory_mb: int
    allowlist: tuple[str, ...]


def prepare(source: bytes | str, memory_mb: int, allowlist: tuple[str, ...]) -> Prepared:
    """Run once in the zygote: load the store (N-Quads bytes) or note its path, and warm up.

    An on-disk store is not opened here: its library starts threads, and a process with
    threads must not be forked.
    """
    store = load_store(source) if isinstance(source, bytes) else None
    import rdflib.plugins.sparql.parser  # noqa: F401  (warm the SERVICE guard's parser)

    sys.setrecursionlimit(RECURSION_LIMIT)
    return Prepared(store, source if isinstance(source, str) else None, memory_mb, allowlist)


def serve(conn: Connection, lane: int, prepared: Prepared) -> None:
    """Run a worker forked by the zygote: isolate it, set its limits, report ready, then answer
    jobs on its main thread until the pipe closes (``lane``: 1 for a worker with the network)."""
    network = bool(lane)
    isolation = isolate(network, prepared.allowlist)  # first, while the process has a single thread
    _limit_memory(prepared.memory_mb)
    _grow_stack(job_stack_bytes(prepared.memory_mb))
    store = prepared.store if prepared.store is not None else ox.Store.read_only(prepared.path or "")
    conn.send(Ready(os.getpid(), isolation))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        reply = execute(store, job, network)
        if isinstance(reply, Answer):
            reply = replace(reply, resident_mib=_own_resident_mib())
        try:
            conn.send(reply)
        except OSError:
            return


def _grow_stack(size: int) -> None:
    """Let the main thread's stack grow to ``size`` bytes (the kernel reads the limit as it grows)."""
    import resource

    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
        if soft != resource.RLIM_INFINITY and soft < size:
            wanted = size if hard == resource.RLIM_INFINITY else min(size, hard)
            resource.setrlimit(resource.RLIMIT_STACK, (wanted, hard))


def _own_resident_mib() -> float:
    """Return this process's resident memory in MiB (``/proc/self/statm``), 0 if unknown."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    except (OSError, IndexError, ValueError):
        return 0.0
