"""Settings: the one home of defaults, built from the environment and CLI flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

INSTANCE_BASE = "https://w3id.org/mqmkg/id/"
ONTOLOGY_NS = "https://w3id.org/mqmkg/ontology#"
GRAPH_BASE = "https://w3id.org/mqmkg/graph/"
DOC_IRI = INSTANCE_BASE + "doc-globalsecurity-mqm"
WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"


def _default_root() -> Path:
    """Return the project root: the checkout holding ``graph/`` next to ``src/``."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "graph").is_dir() else Path.cwd()


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with its default.

    Each field can be set from the environment as ``MQMKG_<FIELD>`` (upper case);
    tuples are comma-separated.
    """

    # The project root holding graph/, ontology/, shapes/ and queries/ (default: this checkout).
    root: Path = field(default_factory=_default_root)
    # The interface the server binds (loopback only by default).
    host: str = "127.0.0.1"
    # The server's TCP port.
    port: int = 8000
    # The base of entity IRIs; links on pages follow it.
    public_base: str = INSTANCE_BASE
    # Seconds a query may run before its worker is killed (503).
    query_timeout: float = 10.0
    # Deadline in seconds of a query that uses SERVICE (the shorter of the two applies).
    service_timeout: float = 8.0
    # Result rows (or triples) beyond which results are cut and marked truncated.
    max_rows: int = 10_000
    # Largest request body in bytes (413 beyond).
    max_body_bytes: int = 1_000_000
    # Query worker processes, forked from a zygote that holds the store (they share its pages).
    workers: int = 2
    # The SPARQL endpoints SERVICE may call, comma-separated (403 for any other).
    service_allowlist: tuple[str, ...] = (WIKIDATA_SPARQL,)
    # The endpoint the federated canned queries call in place of the Wikidata Query Service
    # (a local stand-in in tests); it must also be on the allow-list.
    wikidata_endpoint: str = WIKIDATA_SPARQL
    # Keep an on-disk Oxigraph store in this directory (default: in memory).
    store_path: Path | None = None
    # Queries that may wait for a busy worker pool, and for how long, before a 503. The wait is
    # bounded by time (a burst of cheap queries waits and is served); the count is only the
    # memory-safe ceiling (each waiting query holds its text and a thread).
    max_queue: int = 256
    # Longer than a deadline plus a worker's restart, so a query that arrives while runaway
    # queries hold every worker is still served when they are stopped.
    queue_wait: float = 15.0
    # Address-space cap per query worker in MiB (0: none); a query that needs more dies alone.
    worker_memory_mb: int = 2048
    # Deepest bracket nesting a query may have (pyoxigraph's parser overflows at a few thousand).
    max_query_depth: int = 500
    # Answers kept in the result cache (0: off), and its size bound in MiB; keyed by the graph's
    # content fingerprint, the query, dataset, format and parameters (mqmkg.sparql.cache).
    result_cache: int = 1024
    result_cache_mb: int = 64
    # Seconds a client or shared cache may reuse an answer that changes only with the graph
    # (Cache-Control: max-age); a conditional request (If-None-Match) is answered 304.
    result_max_age: int = 300
    # Answer from a remote SPARQL 1.1 endpoint (Oxigraph server, Fuseki, QLever, Virtuoso) instead
    # of the embedded store; the same limits, canned queries and pages apply (mqmkg.sparql.remote).
    backend: str = ""
    # /shacl: the largest submission in bytes; a validation takes about 0.1-0.3 s per node.
    shacl_max_bytes: int = 262_144
    # /shacl: the deadline of one validation in seconds; past it the validation process is killed.
    shacl_timeout: float = 30.0
    # /quality: the deadline of the full `mqmkg validate` run the page reports (once, on first request).
    quality_timeout: float = 900.0
    # The server's public URL behind a reverse proxy (e.g. https://kg.example.org/): links, the
    # service description and VoID use it whatever Host header a request carries. Empty: links
    # follow the request's Host header (which must be a valid host[:port]).
    public_url: str = ""
    # Seconds a client has to send a whole request head (request line and headers), and a whole
    # request body, before the connection is cut with 408 (slowloris); and how long an idle
    # keep-alive connection stays open.
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive_timeout: float = 5.0
    # Seconds a client may leave a response unread (the server's writes paused) before it is dropped.
    send_timeout: float = 30.0
    # Largest response body in bytes (0: no cap); a result is cut before the row that would pass
    # it, like the row cap, and says so in X-MQMKG-Truncated / X-MQMKG-Truncated-By.
    max_response_bytes: int = 32 * 1024 * 1024
    # A query worker whose resident memory grew by more than this many MiB since it started is
    # replaced after its job (0: never), so one huge result does not leave a worker large.
    worker_recycle_mb: int = 200
    # Queries one client (peer address) may have running or waiting at once; past it: 429 (0: no limit).
    client_max_queries: int = 4
    # Workers kept for clients that are not running long queries (at most workers - 1).
    reserved_workers: int = 1
    # A client is "heavy" while a query of its own has run this many seconds, and for
    # heavy_cooldown seconds after; while other clients are about, heavy clients share only
    # workers - reserved_workers workers (mqmkg.sparql.fairness).
    long_query_seconds: float = 1.0
    heavy_cooldown: float = 30.0
    # Peers whose X-Forwarded-For names the client (reverse proxies on this host by default);
    # the address of any other peer is the client's identity. Addresses or networks (CIDR).
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    # Deepest parse tree a query may have, counting brackets, operator chains (1+1+…, !!…, a/b/…)
    # and chained patterns (UNION, OPTIONAL, FILTER, …): the engine recurses once per level.
    max_query_complexity: int = 1000
    # Query workers with network access, for queries whose every SERVICE is allow-listed (their
    # TCP connections are limited to the allow-listed endpoints' ports); the others have none.
    federated_workers: int = 1
    # Refuse to start if the kernel cannot cut query workers off the network (Linux network
    # namespaces, Landlock); false runs anyway, logging it and showing it in /health.
    require_isolation: bool = True

    @property
    def graph_dir(self) -> Path:
        return self.root / "graph"

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def shapes_dir(self) -> Path:
        return self.root / "shapes"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def source_path(self) -> Path:
        return self.graph_dir / "source" / "globalsecurity-mqm.txt"

    @property
    def reference_tsv(self) -> Path:
        return self.graph_dir / "reference" / "wikidata-links.tsv"

    def with_overrides(self, **changes: object) -> Settings:
        """Return a copy with the given non-None fields replaced."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _coerce(kind: object, raw: str) -> object:
    """Convert an environment string to the type of a Settings field."""
    text = str(kind)
    if "tuple" in text:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if "Path" in text:
        return Path(raw)
    if text in ("int", "<class 'int'>"):
        return int(raw)
    if text in ("float", "<class 'float'>"):
        return float(raw)
    if text in ("bool", "<class 'bool'>"):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return raw


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from ``MQMKG_*`` variables over the defaults."""
    env = os.environ if env is None else env
    values = {
        f.name: _coerce(f.type, env[f"MQMKG_{f.name.upper()}"])
        for f in fields(Settings)
        if f"MQMKG_{f.name.upper()}" in env
    }
    return Settings(**values)
