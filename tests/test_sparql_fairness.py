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


def test_a_client_is_heavy_while_its_query_runs_long_and_for_the_cooldown_after() -> None:
    ledger = ClientLedger(POLICY, size=2)
    running = [Running("a", started=0.0, heavy=False)]
    assert not ledger.is_heavy("a", running, now=0.5)
    assert ledger.is_heavy("a", running, now=1.0)  # its query has now run long_query seconds
    assert not ledger.is_heavy("b", running, now=1.0)
    ledger.enter("a", now=0.0, deadline=10.0)
    ledger.leave("a", ran=3.0, now=3.0)
    assert ledger.is_heavy("a", [], now=3.0 + 29.9)
    assert not ledger.is_heavy("a", [], now=3.0 + 30.0)
    ledger.enter("c", now=0.0, deadline=10.0)
    ledger.leave("c", ran=0.99, now=1.0)  # quick queries never make a client heavy
    assert not ledger.is_heavy("c", [], now=1.0)


def test_heavy_clients_share_the_unreserved_workers_while_others_are_about() -> None:
    ledger = ClientLedger(POLICY, size=2)
    for client in ("x", "y", "light"):
        ledger.enter(client, now=0.0, deadline=10.0)
    ledger.leave("x", ran=10.0, now=10.0)
    ledger.leave("y", ran=10.0, now=10.0)
    ledger.leave("light", ran=0.01, now=10.0)
    # x runs a query on one worker; the other worker is the reserved one.
    running = [Running("x", started=10.0, heavy=True)]
    assert ledger.may_start("y", running, 2, now=10.1) == (False, True)
    assert ledger.may_start("x", running, 2, now=10.1) == (False, True)
    assert ledger.may_start("light", running, 2, now=10.1) == (True, False)
    assert ledger.may_start("newcomer", running, 2, now=10.1) == (True, False)
    # Once x's query ends, one heavy query may run again.
    assert ledger.may_start("y", [], 2, now=12.0) == (True, True)
    # A light client's query that has run long counts against the heavy lane too.
    long_light = [Running("light", started=10.0, heavy=False)]
    assert ledger.may_start("y", long_light, 2, now=11.5) == (False, True)


def test_a_heavy_client_alone_may_use_the_whole_pool() -> None:
    ledger = ClientLedger(POLICY, size=2)
    ledger.enter("analyst", now=0.0, deadline=10.0)
    ledger.leave("analyst", ran=10.0, now=10.0)
    running = [Running("analyst", started=10.0, heavy=True)]
    # Nobody else sent a query: nothing to keep the reserved worker for.
    assert ledger.may_start("analyst", running, 2, now=10.5) == (True, True)
    # Another client shows up: the reserved worker is kept for it from now on ...
    ledger.enter("other", now=11.0, deadline=10.0)
    assert ledger.may_start("analyst", running, 2, now=11.0) == (False, True)
    ledger.leave("other", ran=0.01, now=11.0)
    # ... until it has been quiet for the cooldown.
    assert ledger.may_start("analyst", running, 2, now=11.0 + 30.0) == (True, True)


def test_one_worker_pools_have_no_reserved_lane() -> None:
    assert ClientLedger(FairShare(reserved=1), size=1).reserved == 0
    assert ClientLedger(FairShare(reserved=5), size=3).reserved == 2
    assert ClientLedger(FairShare(reserved=0), size=3).reserved == 0


def test_the_reserve_holds_while_a_killed_worker_is_replaced() -> None:
    ledger = ClientLedger(POLICY, size=2)
    ledger.enter("light", now=0.0, deadline=10.0)
    ledger.enter("x", now=0.0, deadline=10.0)
    ledger.leave("x", ran=10.0, now=10.0)
    # x's last query was killed: one worker is ready, its replacement is starting. Nothing
    # runs, but the one ready worker is the reserve.
    assert ledger.may_start("x", [], 1, now=10.0) == (False, True)
    assert ledger.may_start("light", [], 1, now=10.0) == (True, False)
    assert ledger.may_start("x", [], 2, now=11.0) == (True, True)


def test_the_ledger_forgets_clients_it_no_longer_needs() -> None:
    ledger = ClientLedger(POLICY, size=2)
    for i in range(5000):
        ledger.enter(f"c{i}", now=float(i), deadline=10.0)
        ledger.leave(f"c{i}", ran=2.0, now=float(i))
    assert ledger._in_flight == {}
    assert len(ledger._heavy_until) <= 4097
    assert len(ledger._light_seen) <= 4097
