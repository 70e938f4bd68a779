"""Query workers forked from a zygote: no interpreter to start, nothing to import, no store to load.

The pool starts one zygote: a fresh interpreter (spawned, so nothing of the threaded server
is copied into it) that imports what a worker needs, loads the store once, and then does
nothing but fork workers when asked. A worker is therefore ready in milliseconds, shares the
store's pages with the zygote and its siblings (copy-on-write: queries never write them),
and one killed at its deadline is replaced at once.

Each worker talks to the server over its own socket pair, whose server end the zygote passes
back with the worker's PID and a pidfd (``SCM_RIGHTS``): the server signals the worker
through the pidfd, so a PID reused after the worker's death can never be hit. The zygote
reaps its workers and reports each exit status. If the thread that started the zygote ends
(or the server dies), the zygote dies (parent-death signal), and so do the workers (theirs
is the zygote).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import gc
import os
import select
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any

_LAUNCH = struct.Struct("!B")  # server -> zygote: launch a worker; the byte is passed to the worker
_LAUNCHED = struct.Struct("!i")  # zygote -> server: the worker's PID, with its socket and pidfd
_EXITED = struct.Struct("!ii")  # zygote -> server: a worker's PID and its exit code (negative: signal)
_READY = b"R"  # zygote -> server, once: the zygote has prepared and takes requests
PR_SET_PDEATHSIG = 1

# prepare(*args) runs once in the zygote; main(connection, lane, prepared) in each worker.
Prepare = Callable[..., Any]
WorkerMain = Callable[[Connection, int, Any], None]


class ZygoteError(OSError):
    """The zygote could not be started, or died."""


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when the thread that started it exits; exit now if it has."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(1)


def _exit_code(status: int) -> int:
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _zygote_entry(
    control: socket.socket,
    notices: socket.socket,
    server_pid: int,
    prepare: Prepare,
    prepare_args: tuple[Any, ...],
    main: WorkerMain,
) -> None:
    """The zygote process: prepare once, say so, then fork workers until the server hangs up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    die_with_parent(server_pid)
    prepared = prepare(*prepare_args)
    # Keep the collector out of everything made so far: a worker's collections then never touch
    # (and so never copy) the pages it shares with the zygote.
    gc.freeze()
    control.send(_READY)
    _serve_launches(control, notices, main, prepared)


def _serve_launches(control: socket.socket, notices: socket.socket, main: WorkerMain, prepared: Any) -> None:
    """Fork a worker for each request, reap the ones that exit, report both."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the select below
    zygote_pid = os.getpid()
    while True:
        ready, _, _ = select.select([control, wake_read], [], [])
        if wake_read in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_read, 512)
            _reap(notices)
        if control not in ready:
            continue
        request = control.recv(_LAUNCH.size)
        if not request:  # the server closed its end: stop
            os._exit(0)
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:  # the worker
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for item in (control, notices, ours):
                    item.close()
                os.close(wake_read)
                os.close(wake_write)
                die_with_parent(zygote_pid)
                main(Connection(theirs.detach()), _LAUNCH.unpack(request)[0], prepared)
            finally:
                os._exit(0)
        theirs.close()
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            pidfd = -1  # the worker already died: its exit is reported by _reap
        try:
            socket.send_fds(control, [_LAUNCHED.pack(pid)], [ours.fileno()] + ([pidfd] if pidfd >= 0 else []))
        finally:
            ours.close()
            if pidfd >= 0:
                os.close(pidfd)


def _reap(notices: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        with contextlib.suppress(OSError):
            notices.send(_EXITED.pack(pid, _exit_code(status)))


class ForkedWorker:
    """A worker forked by the zygote, with the parts of ``multiprocessing.Process`` the pool uses."""

    def __init__(self, zygote: Zygote, pid: int, pidfd: int):
        self._zygote = zygote
        self.pid = pid
        self._pidfd = pidfd

    @property
    def exitcode(self) -> int | None:
        """The exit code (negative: the signal that ended it), or None while it runs.

        Once the process has ended, the zygote's report of it is waited for (briefly).
        """
        code = self._zygote.exitcode(self.pid)
        if code is None and self._ended():
            end = time.monotonic() + 0.5
            while code is None and time.monotonic() < end:
                time.sleep(0.005)
                code = self._zygote.exitcode(self.pid)
        return code

    def _ended(self) -> bool:
        if self._pidfd < 0:
            return not self._zygote.alive
        readable, _, _ = select.select([self._pidfd], [], [], 0)
        return bool(readable)

    def is_alive(self) -> bool:
        return not self._ended() and self._zygote.exitcode(self.pid) is None

    def kill(self) -> None:
        """SIGKILL the worker through its pidfd (a PID reused after its death is never hit)."""
        self._signal(signal.SIGKILL)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, number: int) -> None:
        if self._pidfd < 0:
            return
        with contextlib.suppress(ProcessLookupError, OSError):
            signal.pidfd_send_signal(self._pidfd, number)

    def join(self, timeout: float | None = None) -> None:
        """Wait until the worker has ended (at most ``timeout`` seconds)."""
        if self._pidfd >= 0:
            select.select([self._pidfd], [], [], timeout)
            return
        end = None if timeout is None else time.monotonic() + timeout
        while self.is_alive() and (end is None or time.monotonic() < end):
            time.sleep(0.01)

    def close(self) -> None:
        """Release the pidfd (once the worker is gone)."""
        if self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1


class Zygote:
    """The server's end of the zygote: start it, launch workers, learn how they ended, stop it all."""

    def __init__(
        self,
        context: BaseContext,
        prepare: Prepare,
        prepare_args: tuple[Any, ...],
        main: WorkerMain,
        start_timeout: float = 120.0,
    ):
        """Spawn the zygote (from the calling thread, which it outlives only by dying) and wait
        until it has run ``prepare(*prepare_args)``; each worker then runs
        ``main(connection, lane, prepared)``. Module-level functions only (they are pickled)."""
        control, zygote_control = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        notices, zygote_notices = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = context.Process(  # type: ignore[attr-defined]
            target=_zygote_entry,
            args=(zygote_control, zygote_notices, os.getpid(), prepare, prepare_args, main),
            name="mqmkg-zygote",
            daemon=True,
        )
        self.process.start()
        zygote_control.close()
        zygote_notices.close()
        notices.setblocking(False)
        self._control = control
        self._notices = notices
        self._lock = threading.Lock()
        self._exits: dict[int, int] = {}
        self._closed = False
        readable, _, _ = select.select([control], [], [], start_timeout)
        if not readable or control.recv(len(_READY)) != _READY:
            code = self.process.exitcode
            self.close()
            raise ZygoteError(errno.ECHILD, f"the zygote did not start (exit code {code})")

    @property
    def pid(self) -> int:
        return int(self.process.pid or 0)

    @property
    def alive(self) -> bool:
        """Whether the zygote still runs (if it died, so did every worker)."""
        return not self._closed and bool(self.process.is_alive())

    def launch(self, lane: int = 0) -> tuple[ForkedWorker, Connection]:
        """Fork a worker (passing it ``lane``); return it and the server's end of its connection."""
        with self._lock:
            if self._closed:
                raise ZygoteError(errno.ESHUTDOWN, "the zygote is closed")
            try:
                self._control.send(_LAUNCH.pack(lane))
                message, fds, _, _ = socket.recv_fds(self._control, _LAUNCHED.size, 2)
            except OSError as exc:
                raise ZygoteError(exc.errno or errno.EPIPE, f"the zygote did not answer: {exc}") from exc
        if not message or not fds:
            raise ZygoteError(errno.EPIPE, "the zygote died")
        (pid,) = _LAUNCHED.unpack(message)
        pidfd = fds[1] if len(fds) > 1 else -1
        return ForkedWorker(self, pid, pidfd), Connection(fds[0])

    def drain(self) -> None:
        """Read every exit the zygote has reported so far."""
        with contextlib.suppress(BlockingIOError, OSError):
            while message := self._notices.recv(_EXITED.size):
                pid, code = _EXITED.unpack(message)
                self._exits[pid] = code

    def exitcode(self, pid: int) -> int | None:
        """Return how a worker ended (negative: the signal), or None while it runs."""
        self.drain()
        if pid in self._exits:
            return self._exits[pid]
        return None if self.alive else -signal.SIGKILL

    def close(self) -> None:
        """Stop the zygote (its workers die with it) and reap it."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self._control.close()
        with contextlib.suppress(OSError, AttributeError, ValueError):
            self.process.kill()
            self.process.join(5)
        self._notices.close()
