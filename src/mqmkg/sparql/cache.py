"""Answers that never change: the result cache and the HTTP validators (ETag, Cache-Control, 304).

The graph is read-only and versioned by its content fingerprint (``mqmkg.store``), so the
answer to a query is fixed by what reaches the engine: the query text and its base IRI, the
dataset, the bound parameters, the negotiated format and the caps, plus the fingerprint and
the mqmkg version. That is the cache key. The same key gives a weak ``ETag`` (``W/"…"``:
the same answer, though the labels of blank nodes may differ between two evaluations), so
a client's ``If-None-Match`` is answered ``304`` without running anything, and ``Cache-Control``
lets shared caches keep the answer.

Answers that can change with the same key are never cached: queries calling ``SERVICE``
(another server's data) or ``RAND``, ``NOW``, ``UUID``, ``STRUUID``. They get a strong
``ETag`` of their bytes and ``Cache-Control: no-cache``, so a conditional request still
gets its ``304`` when the new answer is the same.

Only successful answers are kept, truncated ones included: a truncated answer is what the
same query gives again under the same caps (which are part of the key), and those large
answers are the ones a cache spares the workers most. Errors and deadline overruns are
never kept. The cache is bounded both by entries and by bytes (least recently used go
first); an answer larger than a quarter of the byte bound is not kept.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

from mqmkg import __version__
from mqmkg.sparql.guard import QueryFacts, inspect, mentions_service

V = TypeVar("V")
VOLATILE_FUNCTIONS = frozenset({"RAND", "NOW", "UUID", "STRUUID"})


def volatile(query: str, facts: QueryFacts | None = None) -> bool:
    """Tell whether a query's answer may change without the graph changing (SERVICE, RAND, NOW, …).

    ``facts`` is the guard's reading of the query (``guard.inspect``), when it has been read.
    """
    if mentions_service(query):
        return True
    return bool((facts or inspect(query)).words & VOLATILE_FUNCTIONS)


def cache_key(fingerprint: str, *parts: object) -> str:
    """Return the key of an answer: the graph's fingerprint, the mqmkg version and ``parts``.

    ``parts`` must determine the answer completely (the job sent to the engine, the
    Content-Type announced); they are compared through their ``repr``.
    """
    digest = hashlib.sha256(f"{__version__}\x00{fingerprint}".encode())
    for part in parts:
        digest.update(b"\x00" + repr(part).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def weak_etag(key: str) -> str:
    """Return the weak entity tag of an answer known by its key."""
    return f'W/"{key[:40]}"'


def strong_etag(body: bytes) -> str:
    """Return the strong entity tag of exact bytes."""
    return f'"{hashlib.sha256(body).hexdigest()[:40]}"'


def none_match(header: str | None, etag: str) -> bool:
    """Tell whether an ``If-None-Match`` header matches ``etag`` (RFC 9110 §13.1.2: weak comparison)."""
    if not header:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == wanted:
            return True
    return False


def cache_control(max_age: int) -> str:
    """Return the Cache-Control of an answer that changes only with the graph."""
    return f"public, max-age={max_age}"


REVALIDATE = "no-cache"


@dataclass(frozen=True)
class CacheStats:
    """How full the cache is and how often it answered, for ``/health``."""

    entries: int
    bytes: int
    hits: int
    misses: int
    max_entries: int
    max_bytes: int


class ResultCache(Generic[V]):
    """A thread-safe least-recently-used map bounded by entries and by bytes."""

    def __init__(self, max_entries: int, max_bytes: int):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0 and self.max_bytes > 0

    def get(self, key: str) -> V | None:
        """Return the value under ``key`` (and mark it recently used), or None."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self._misses += 1
                return None
            self._items.move_to_end(key)
            self._hits += 1
            return item[0]

    def put(self, key: str, value: V, size: int) -> bool:
        """Keep ``value`` (``size`` bytes) under ``key``; return False if it is too large to keep."""
        if not self.enabled or size > self.max_bytes // 4:
            return False
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, size)
            self._bytes += size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped
        return True

    def stats(self) -> CacheStats:
        """Return the cache's size, bounds and hit counts."""
        with self._lock:
            return CacheStats(len(self._items), self._bytes, self._hits, self._misses, self.max_entries, self.max_bytes)
