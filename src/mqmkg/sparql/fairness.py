"""Fair sharing of the query workers between clients.

A query's cost is unknown until it has run, so a client is judged by what its queries do:

- **A per-client limit.** A client may have at most ``max_per_client`` queries running or
  waiting; one more is refused at once (``RateLimited``: 429 with Retry-After), as the
  Wikidata Query Service limits concurrent queries per address.
- **A reserved lane.** A client is *heavy* while a query of its own has been running for
  ``long_query`` seconds or more, and for ``cooldown`` seconds after such a query ended (or
  hit its deadline). While other clients are about (one sent a query as a light client in
  the last ``cooldown`` seconds), a heavy client's query may start only if ``reserved`` of
  the ready workers stay clear of heavy work (queries of heavy clients, or queries already
  running long) once it has started: cheap queries are answered at once while one or two
  clients loop runaway queries, which still run, in the lane they share. Counting ready
  workers, not the pool's size, keeps the reserve while a killed worker is being replaced.
  With no one else about (one analyst on a local server), a heavy client may use the whole
  pool.

Known limit: a client is recognised as heavy only once a query of its own has run long, so
a new client's first runaway query may take any free worker, until its deadline at most.

The pool (``mqmkg.sparql.pool``) owns the workers and asks ``ClientLedger.may_start`` whom
a free worker may go to; this module keeps only the per-client record.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection
from dataclasses import dataclass

from mqmkg.errors import RateLimited

# Forget expired heavy marks once this many clients are remembered.
_PRUNE_AT = 4096


@dataclass(frozen=True)
class FairShare:
    """The fair-sharing policy (Settings.client_max_queries, reserved_workers, long_query_seconds,
    heavy_cooldown); the defaults switch it off."""

    max_per_client: int = 0
    reserved: int = 0
    long_query: float = 1.0
    cooldown: float = 30.0


@dataclass(frozen=True)
class Running:
    """A query on a worker: whose it is, since when, and whether its client was heavy at its start."""

    client: str
    started: float
    heavy: bool

    def is_long(self, now: float, long_query: float) -> bool:
        return now - self.started >= long_query


class ClientLedger:
    """Each client's queries in flight and the time it stops being heavy (thread-safe)."""

    def __init__(self, policy: FairShare, size: int):
        self.policy = policy
        # Workers kept clear of heavy work: never all of them, so heavy queries can run.
        self.reserved = max(0, min(policy.reserved, size - 1))
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}
        self._heavy_until: dict[str, float] = {}
        self._light_seen: dict[str, float] = {}  # when each light client last sent a query

    def enter(self, client: str, now: float, deadline: float) -> None:
        """Count one more query of ``client``, or raise ``RateLimited`` if it has its share already.

        Retry-After is a second for a client whose queries are quick, and one deadline for a
        heavy one (its next query ends by then at the latest).
        """
        limit = self.policy.max_per_client
        with self._lock:
            count = self._in_flight.get(client, 0)
            if limit and count >= limit:
                retry_after = math.ceil(deadline) if self._heavy_until.get(client, 0.0) > now else 1
                raise RateLimited(
                    f"this client already has {count} queries running or waiting, the most one client may "
                    f"have (Settings.client_max_queries); retry when one has been answered",
                    max(1, retry_after),
                )
            self._in_flight[client] = count + 1
            if self._heavy_until.get(client, 0.0) <= now:
                self._light_seen[client] = now
            if len(self._light_seen) > _PRUNE_AT:
                since = now - self.policy.cooldown
                self._light_seen = {c: t for c, t in self._light_seen.items() if t > since}

    def leave(self, client: str, ran: float, now: float) -> None:
        """Count one query of ``client`` as done after ``ran`` seconds on a worker."""
        with self._lock:
            count = self._in_flight.pop(client, 1) - 1
            if count > 0:
                self._in_flight[client] = count
            if ran >= self.policy.long_query:
                self._heavy_until[client] = now + self.policy.cooldown
            if len(self._heavy_until) > _PRUNE_AT:
                self._heavy_until = {c: t for c, t in self._heavy_until.items() if t > now}

    def is_heavy(self, client: str, running: Collection[Running], now: float) -> bool:
        """Tell whether ``client`` ran a long query lately or is running one now."""
        if self._heavy_until.get(client, 0.0) > now:
            return True
        return any(r.client == client and r.is_long(now, self.policy.long_query) for r in running)

    def others_about(self, client: str, now: float) -> bool:
        """Tell whether a client other than ``client`` sent a query as a light client lately."""
        since = now - self.policy.cooldown
        with self._lock:
            return any(t > since for c, t in self._light_seen.items() if c != client)

    def may_start(self, client: str, running: Collection[Running], ready: int, now: float) -> tuple[bool, bool]:
        """Return whether a query of ``client`` may take a free worker now, and whether it is heavy.

        ``running`` are the queries on workers now and ``ready`` the workers that can take
        queries (idle or running).
        """
        if not self.is_heavy(client, running, now):
            return True, False
        if not self.others_about(client, now):
            return True, True
        heavy_busy = sum(1 for r in running if r.heavy or r.is_long(now, self.policy.long_query))
        return heavy_busy < ready - self.reserved, True
