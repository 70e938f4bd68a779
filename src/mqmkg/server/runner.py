"""Run the app under uvicorn, with a shutdown that does not wait for running queries.

On SIGTERM or SIGINT uvicorn stops accepting connections, then waits for the open ones, and
a query running in a worker would hold its connection until its deadline. Here the signal
first closes the worker pool (in a thread of its own: a signal handler must not block):
every worker is killed at once, each running query is answered 503 at once, and no worker
is started again. uvicorn is then left with short responses to finish, and gives up on any
connection still open after ``GRACE_SECONDS``.
"""

from __future__ import annotations

import copy
import gc
import threading
from collections.abc import Callable
from types import FrameType

import uvicorn
from fastapi import FastAPI

from mqmkg.config import Settings
from mqmkg.server.http11 import timed_h11

# Seconds uvicorn waits for open connections once the pool is closed.
GRACE_SECONDS = 1


class _Server(uvicorn.Server):
    """A uvicorn server that calls ``on_signal`` first thing when asked to exit."""

    def __init__(self, config: uvicorn.Config, on_signal: Callable[[], None]):
        super().__init__(config)
        self._on_signal = on_signal

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.should_exit:
            threading.Thread(target=self._on_signal, name="mqmkg-shutdown", daemon=True).start()
        super().handle_exit(sig, frame)


def run(application: FastAPI, settings: Settings, on_signal: Callable[[], None]) -> bool:
    """Serve ``application`` until a signal; return False if it could not start.

    The client of a request is its peer address, or the X-Forwarded-For client when the
    peer is one of ``settings.trusted_proxies`` (uvicorn's proxy-headers middleware).
    """
    # One access-log line per request comes from mqmkg.access (with result rows), so
    # uvicorn's own access log is off; mqmkg's loggers share uvicorn's handler.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["loggers"]["mqmkg"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    config = uvicorn.Config(
        application,
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=log_config,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=list(settings.trusted_proxies),
        timeout_graceful_shutdown=GRACE_SECONDS,
        # The h11 protocol with read and write deadlines (slowloris); see mqmkg.server.http11.
        http=timed_h11(settings.header_timeout, settings.body_timeout, settings.send_timeout),
        timeout_keep_alive=settings.keep_alive_timeout,  # type: ignore[arg-type]
    )
    server = _Server(config, on_signal)
    # The app's objects live as long as the process: keep the garbage collector from walking
    # them at every collection, and at exit (halves the time a stopped server takes to end).
    gc.freeze()
    server.run()
    return server.started
