"""Fair sharing: the per-client limit and the lane heavy clients share, judged on a clock the
test sets (``now`` is passed in), so no test here depends on the machine's speed."""

from __future__ import annotations

import pytest

from mqmkg.errors import RateLimited, ServerBusy
from mqmkg.server.errors import status_for
from mqmkg.sparql.fairness import ClientLedger, FairShare, Running

POLICY = FairShare(max_per_client=2, reserved=1, long_query=1.0, cooldown=30.0)


def test_a_client_past_its_share_of_concurrent_queries_is_refused_with_429() -> None:
    ledger = ClientLedger(POLICY, size=2)
    ledger.enter("a", now=0.0, deadline=10.0)
    ledger.enter("a", now=0.0, deadline=10.0)
    with pytest.raises(RateLimited, match=r"already has 2 queries running or waiting") as refused:
        ledger.enter("a", now=0.0, deadline=10.0)
    assert status_for(refused.value) == 429
    assert isinstance(refused.value, ServerBusy)  # so the error map adds Retry-After
    assert refused.value.retry_after == 1  # its queries have been quick: retry soon
    ledger.enter("b", now=0.0, deadline=10.0)  # another client is not affected
    ledger.leave("a", ran=0.01, now=0.1)
    ledger.enter("a", now=0.1, deadline=10.0)  # one answered: room for one more


def test_a_heavy_client_is_told_to_retry_after_a_deadline() -> None:
    ledger = ClientLedger(POLICY, size=2)
    ledger.enter("a", now=0.0, deadline=10.0)
    ledger.leave("a", ran=10.0, now=10.0)  # hit its deadline
    ledger.enter("a", now=10.0, deadline=10.0)
    ledger.enter("a", now=10.0, deadline=10.0)
    with pytest.raises(RateLimited) as refused:
        ledger.enter("a", now=10.0, deadline=10.0)
    assert refused.value.retry_after == 10


def test_no_limit_when_max_per_client_is_zero() -> None:
    ledger = ClientLedger(FairShare(max_per_client=0), size=2)
    for _ in range(1000):
        ledger.enter("a", now=0.0, deadline=10.0)


def test_a_client_is_light_after_a_quick_query_until_it_runs_a_long_one() -> None:
    ledger = ClientLedger(POLICY, size=2)
    assert not ledger.is_light("a", [], now=0.0)  # a new client has shown nothing yet
    ledger.enter("a", now=0.0, deadline=10.0)
    ledger.leave("a", ran=0.01, now=1.0)
    assert ledger.is_light("a", [], now=1.0)
    assert ledger.is_light("a", [], now=30.9)
    assert not ledger.is_light("a", [], now=31.0)  # quiet for the cooldown: shown nothing lately
    # Running a query for long_query seconds makes it heavy at once, before the query ends.
    ledger.enter("a", now=2.0, deadline=10.0)
    assert ledger.is_light("a", [Running("a", started=2.0, light=True)], now=2.9)
    assert not ledger.is_light("a", [Running("a", started=2.0, light=True)], now=3.0)
    ledger.leave("a", ran=10.0, now=12.0)  # it hit its deadline
    assert not ledger.is_light("a", [], now=20.0)
    ledger.enter("a", now=20.0, deadline=10.0)
    ledger.leave("a", ran=0.01, now=20.0)  # one quick query does not clear a recent long one
    assert not ledger.is_light("a", [], now=41.9)
    assert ledger.is_light("a", [], now=42.0)
    ledger.enter("b", now=0.0, deadline=10.0)
    ledger.leave("b", ran=None, now=15.0)  # refused after waiting: it never ran, shows nothing
    assert not ledger.is_light("b", [], now=15.0)


def prove(ledger: ClientLedger, client: str, ran: float, now: float) -> None:
    ledger.enter(client, now=now, deadline=10.0)
    ledger.leave(client, ran=ran, now=now)


def test_heavy_clients_share_the_unreserved_workers_while_a_light_client_is_about() -> None:
    ledger = ClientLedger(POLICY, size=2)
    prove(ledger, "light", ran=0.01, now=10.0)
    prove(ledger, "x", ran=10.0, now=10.0)
    # x runs a query on one worker; the other is the reserve.
    running = [Running("x", started=10.0, light=False)]
    assert ledger.may_start("x", running, 2, now=10.1) == (False, False)
    assert ledger.may_start("light", running, 2, now=10.1) == (True, True)
    assert ledger.may_start("newcomer", running, 2, now=10.1) == (True, False)  # served at once
    # ... for one query at a time, until it has shown a quick one.
    newcomer = [Running("newcomer", started=10.1, light=False)]
    assert ledger.may_start("newcomer", newcomer, 2, now=10.2) == (False, False)
    # Once x's query ends, x may run again ...
    assert ledger.may_start("x", [], 2, now=12.0) == (True, False)
    # ... unless a newcomer's query, whose cost nobody knows yet, holds the other worker.
    assert ledger.may_start("x", [Running("newcomer", started=12.0, light=False)], 2, now=12.1) == (False, False)
    # A light client's young query leaves room; once it has run long it is heavy work too.
    young = [Running("light", started=12.0, light=True)]
    assert ledger.may_start("x", young, 2, now=12.5) == (True, False)
    assert ledger.may_start("x", young, 2, now=13.0) == (False, False)
    # Running long, the light client is heavy itself: the reserve is for the others.
    prove(ledger, "another", ran=0.01, now=13.0)
    assert ledger.may_start("light", young, 2, now=13.0) == (False, False)
    assert ledger.may_start("another", young, 2, now=13.0) == (True, True)


def test_with_no_light_client_about_anyone_may_use_the_whole_pool() -> None:
    ledger = ClientLedger(POLICY, size=2)
    prove(ledger, "analyst", ran=10.0, now=10.0)
    running = [Running("analyst", started=10.0, light=False)]
    # Nobody has shown a cheap query: nothing to keep the reserve for (a cold start, or one analyst).
    assert ledger.may_start("analyst", running, 2, now=10.5) == (True, False)
    assert ledger.may_start("newcomer", running, 2, now=10.5) == (True, False)
    # Another client shows a cheap query: the reserve is kept for it from now on ...
    prove(ledger, "other", ran=0.01, now=11.0)
    assert ledger.may_start("analyst", running, 2, now=11.0) == (False, False)
    # ... until it has been quiet for the cooldown.
    assert ledger.may_start("analyst", running, 2, now=11.0 + 30.0) == (True, False)


def test_the_reserve_holds_while_a_killed_worker_is_replaced() -> None:
    ledger = ClientLedger(POLICY, size=2)
    prove(ledger, "light", ran=0.01, now=10.0)
    prove(ledger, "x", ran=10.0, now=10.0)
    # x's last query was killed: one worker is ready, its replacement is starting. Nothing
    # runs, but the one ready worker is the reserve.
    assert ledger.may_start("x", [], 1, now=10.0) == (False, False)
    assert ledger.may_start("light", [], 1, now=10.0) == (True, True)
    assert ledger.may_start("x", [], 2, now=11.0) == (True, False)


def test_one_worker_pools_have_no_reserved_lane() -> None:
    assert ClientLedger(FairShare(reserved=1), size=1).reserved == 0
    assert ClientLedger(FairShare(reserved=5), size=3).reserved == 2
    assert ClientLedger(FairShare(reserved=0), size=3).reserved == 0


def test_the_ledger_forgets_clients_it_no_longer_needs() -> None:
    ledger = ClientLedger(POLICY, size=2)
    for i in range(5000):
        prove(ledger, f"h{i}", ran=2.0, now=float(i))
        prove(ledger, f"l{i}", ran=0.1, now=float(i))
    assert ledger._in_flight == {}
    assert len(ledger._heavy_until) <= 4097
    assert len(ledger._light_until) <= 4097
    assert ledger.is_light("l4999", [], now=4999.0)
