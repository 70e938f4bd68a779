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

    root: Path = field(default_factory=_default_root)
    host: str = "127.0.0.1"
    port: int = 8000
    public_base: str = INSTANCE_BASE
    query_timeout: float = 10.0
    service_timeout: float = 8.0
    max_rows: int = 10_000
    max_body_bytes: int = 1_000_000
    workers: int = 2
    service_allowlist: tuple[str, ...] = (WIKIDATA_SPARQL,)
    # The endpoint the federated canned queries call in place of the Wikidata Query Service
    # (a local stand-in in tests); it must also be on the allow-list.
    wikidata_endpoint: str = WIKIDATA_SPARQL
    store_path: Path | None = None
    # Queries that may wait for a busy worker pool, and for how long, before a 503.
    max_queue: int = 16
    queue_wait: float = 5.0
    # Address-space cap per query worker in MiB (0: none); a query that needs more dies alone.
    worker_memory_mb: int = 2048
    # Deepest bracket nesting a query may have (pyoxigraph's parser overflows at a few thousand).
    max_query_depth: int = 500
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
