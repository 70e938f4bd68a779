"""Stopping the server: SIGTERM or SIGINT ends the running queries at once and the process
exits within 2 s (it used to wait for their deadlines); no query worker outlives it, and none
is started while it stops."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from conftest import ENDPOINT_ROOT, EXPLOSIVE, alive, start_live_server, wait_until

# Six-way cartesian product of all 57 triples: hours of CPU.


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_running_queries_and_the_server_within_2_s(sig: signal.Signals, tmp_path: Path) -> None:
    server = start_live_server({"root": ENDPOINT_ROOT, "query_timeout": "60", "workers": "2"}, tmp_path / "server.log")
    responses: list[httpx.Response] = []

    def ask() -> None:
        responses.append(httpx.get(server.sparql, params={"query": EXPLOSIVE}, timeout=60))

    # Two runaway queries hold both workers for a minute; a third waits for one.
    clients = [threading.Thread(target=ask) for _ in range(3)]
    try:
        for client in clients:
            client.start()
        assert wait_until(lambda: server.health()["workers"]["busy"] == 2)  # type: ignore[index]
        federated = server.health()["isolation"]["federated_workers"]["pids"]  # type: ignore[index]
        pids = server.worker_pids() + list(federated)
        time.sleep(0.3)
        started = time.monotonic()
        os.kill(server.process.pid, sig)
        server.process.wait(30)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    for client in clients:
        client.join(10)
    assert elapsed < 2.0, f"the server took {elapsed:.2f} s to exit"
    # Each query was answered, at once: 503 with Retry-After, not a dropped connection.
    assert [r.status_code for r in responses] == [503, 503, 503]
    for response in responses:
        assert response.json()["detail"] == "the server is shutting down; retry later"
        assert "retry-after" in response.headers
    # No worker survives, and none was started after the first ones (two, and one federated).
    log = server.log()
    started_pids = {int(pid) for pid in re.findall(r"query worker (\d+) starting", log)}
    assert started_pids == set(pids)
    assert not any(alive(pid) for pid in started_pids)
    assert "killed and replaced" not in log
    assert "Traceback" not in log
