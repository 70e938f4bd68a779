"""A value computed once, on first use, off the request that asked for it.

The server starts fast by building nothing it does not need to answer ``/health``: the
reconciliation index, the data-quality report and the like are ``Deferred`` and computed when
first asked for. ``get`` waits for the value; ``start`` and ``peek`` let a page answer at
once while the value is computed in a background thread. A failure is kept until the next
``start``, which tries again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")


class Deferred(Generic[T]):
    """Compute ``compute()`` at most once at a time, in a thread of its own, when first needed."""

    def __init__(self, compute: Callable[[], T], name: str = "mqmkg-deferred"):
        self._compute = compute
        self._name = name
        self._lock = threading.Lock()
        self._future: Future[T] | None = None

    def start(self) -> Future[T]:
        """Begin computing unless it is done or under way (a failed attempt is retried)."""
        with self._lock:
            if self._future is None or (self._future.done() and self._future.exception() is not None):
                future: Future[T] = Future()
                self._future = future
                threading.Thread(target=self._run, args=(future,), name=self._name, daemon=True).start()
            return self._future

    def _run(self, future: Future[T]) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(self._compute())
        except BaseException as exc:  # handed to whoever waits; the thread itself must not die noisily
            future.set_exception(exc)

    def get(self, timeout: float | None = None) -> T:
        """Return the value, computing it first if needed; re-raise the computation's error."""
        return self.start().result(timeout)

    def peek(self) -> Future[T] | None:
        """Return the computation if one was started (done or not), without starting one."""
        with self._lock:
            return self._future
