"""Fair sharing of the query workers between clients.

A query's cost is unknown until it has run, so a client is judged by what its queries did:

- **A per-client limit.** A client may have at most ``max_per_client`` queries running or
  waiting; one more is refused at once (``RateLimited``: 429 with Retry-After), as the
  Wikidata Query Service limits concurrent queries per address.
- **A lane for heavy clients.** A client is *heavy* while a query of its own has run for
  ``long_query`` seconds or more, and for ``cooldown`` seconds after such a query ended (or
  hit its deadline); it is *light* for ``cooldown`` seconds after a quick query, unless it
  is heavy; a client that is neither is *new*. A heavy client's query, or a new client's
  second query at once, may start only if ``reserved`` of the ready workers stay clear of
  work whose cost is unknown or known to be high: queries of clients that were not light
  when they started, and any query that has run long. Light clients may use every worker,
  and so may a new client's one query. So cheap queries, and a newcomer's first query, are
  answered at once while clients loop runaway queries; those still run, in the lane they
  share, one deadline each. Counting ready workers, not the pool's size, keeps the reserve
  while a killed worker is being replaced.
- **Only when there is someone to protect.** The lane applies while some other client is
  light; with no one else about (one analyst on a local server, or a cold start), any query
  may use the whole pool.

Known limit: a client is recognised as heavy only once a query of its own has run long, so
each new client's first runaway query may hold a worker for one deadline; several new
clients arriving together with runaway queries can hold every worker that long, once.

The pool (``mqmkg.sparql.pool``) owns the workers and asks ``ClientLedger.may_start`` whom
a free worker may go to; this module keeps only the per-client record.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection
from dataclasses import dataclass

from mqmkg.errors import RateLimited

# Forget expired marks once this many clients are remembered.
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
    """A query on a worker: whose it is, since when, and whether its client was light at its start."""

    client: str
    started: float
    light: bool

    def is_long(self, now: float, long_query: float) -> bool:
        return now - self.started >= long_query


class ClientLedger:
    """Each client's queries in flight and until when it counts as light or heavy (thread-safe)."""

    def __init__(self, policy: FairShare, size: int):
        self.policy = policy
        # Workers kept for light clients: never all of them, so the others can run too.
        self.reserved = max(0, min(policy.reserved, size - 1))
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}
        self._light_until: dict[str, float] = {}
        self._heavy_until: dict[str, float] = {}

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

    def leave(self, client: str, ran: float | None, now: float) -> None:
        """Count one query of ``client`` as done after ``ran`` seconds on a worker (None: it never ran)."""
        with self._lock:
            count = self._in_flight.pop(client, 1) - 1
            if count > 0:
                self._in_flight[client] = count
            if ran is None:
                return
            marks = self._heavy_until if ran >= self.policy.long_query else self._light_until
            marks[client] = now + self.policy.cooldown
            if len(marks) > _PRUNE_AT:
                kept = {c: t for c, t in marks.items() if t > now}
                marks.clear()
                marks.update(kept)

    def is_heavy(self, client: str, running: Collection[Running], now: float) -> bool:
        """Tell whether ``client`` ran a long query lately or is running one now."""
        with self._lock:
            heavy_until = self._heavy_until.get(client, 0.0)
        if heavy_until > now:
            return True
        return any(r.client == client and r.is_long(now, self.policy.long_query) for r in running)

    def is_light(self, client: str, running: Collection[Running], now: float) -> bool:
        """Tell whether ``client`` ran a quick query lately and is not heavy."""
        with self._lock:
            light_until = self._light_until.get(client, 0.0)
        return light_until > now and not self.is_heavy(client, running, now)

    def others_about(self, client: str, now: float) -> bool:
        """Tell whether a client other than ``client`` is light: someone the reserve is kept for."""
        with self._lock:
            light = (c for c, t in self._light_until.items() if t > now and c != client)
            return any(self._heavy_until.get(c, 0.0) <= now for c in light)

    def may_start(self, client: str, running: Collection[Running], ready: int, now: float) -> tuple[bool, bool]:
        """Return whether a query of ``client`` may take a free worker now, and whether its client is light.

        ``running`` are the queries on workers now and ``ready`` the workers that can take
        queries (idle or running).
        """
        if self.is_light(client, running, now):
            return True, True
        first = not self.is_heavy(client, running, now) and not any(r.client == client for r in running)
        if first or not self.others_about(client, now):
            return True, False
        outside = sum(1 for r in running if not r.light or r.is_long(now, self.policy.long_query))
        return outside < ready - self.reserved, False
