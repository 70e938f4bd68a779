"""Query workers forked from a zygote: no interpreter to start, nothing to import, no store to load.

The server forks the zygote once, while it is still single-threaded, right after it has
built the store in memory (or before it opens an on-disk store, whose library starts
threads). The zygote is a copy of the server at that moment: it holds the store and every
module a worker needs, and does nothing but fork workers when asked. A worker is ready in
milliseconds, shares the store's pages with the zygote and its siblings (copy-on-write:
queries never write them), and one killed at its deadline is replaced at once.

Each worker talks to the server over its own socket pair, whose server end the zygote
passes back with the worker's PID and a pidfd (``SCM_RIGHTS``): the server signals the
worker through the pidfd, so a PID reused after the worker's death can never be hit. The
zygote reaps its workers and reports each exit status. If the server dies, the zygote dies
(parent-death signal), and so do the workers (theirs is the zygote).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import select
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

_LAUNCH = struct.Struct("!B")  # server -> zygote: launch a worker; the byte is passed to the worker
_LAUNCHED = struct.Struct("!i")  # zygote -> server: the worker's PID, with its socket and pidfd
_EXITED = struct.Struct("!ii")  # zygote -> server: a worker's PID and its exit code (negative: signal)
PR_SET_PDEATHSIG = 1

WorkerMain = Callable[[Connection, int], None]


class ZygoteError(OSError):
    """The zygote could not be started, or died."""


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent exits; exit now if it already has."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(1)


def _exit_code(status: int) -> int:
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _zygote(control: socket.socket, notices: socket.socket, main: WorkerMain, server_pid: int) -> None:
    """The zygote's loop: fork a worker for each request, reap the ones that exit, report both."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(server_pid)
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
                main(Connection(theirs.detach()), _LAUNCH.unpack(request)[0])
            finally:
                os._exit(0)
        theirs.close()
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            pidfd = -1  # the worker already died: its exit is reported by _reap
        try:
            fds = [ours.fileno()] + ([pidfd] if pidfd >= 0 else [])
            socket.send_fds(control, [_LAUNCHED.pack(pid)], fds)
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
        """The exit code (negative: the signal that ended it), or None while it runs."""
        return self._zygote.exitcode(self.pid)

    def is_alive(self) -> bool:
        return self.exitcode is None and self._zygote.alive

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
        """Wait until the zygote has reaped the worker (at most ``timeout`` seconds)."""
        end = None if timeout is None else time.monotonic() + timeout
        while self.is_alive():
            if end is not None and time.monotonic() >= end:
                return
            if self._pidfd >= 0:
                select.select([self._pidfd], [], [], 0.05)
            else:
                time.sleep(0.01)
            self._zygote.drain()

    def close(self) -> None:
        """Release the pidfd (after the worker is gone)."""
        if self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1


class Zygote:
    """The server's end of the zygote: launch workers, learn how they ended, stop it all."""

    def __init__(self, main: WorkerMain):
        """Fork the zygote now; ``main(connection, lane)`` is what each forked worker runs.

        Call this while the process has a single thread: a fork copies only the calling
        thread, and a lock another thread held would stay locked in the copy forever.
        """
        threads = len(os.listdir("/proc/self/task"))
        if threads != 1:
            raise ZygoteError(
                errno.EBUSY, f"the zygote must be forked by a single-threaded process ({threads} threads)"
            )
        control, zygote_control = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        notices, zygote_notices = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        server_pid = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                notices.close()
                _zygote(zygote_control, zygote_notices, main, server_pid)
            finally:
                os._exit(0)
        zygote_control.close()
        zygote_notices.close()
        notices.setblocking(False)
        self.pid = pid
        self._control = control
        self._notices = notices
        self._lock = threading.Lock()
        self._exits: dict[int, int] = {}
        self._closed = False

    @property
    def alive(self) -> bool:
        """Whether the zygote still runs (if it died, so did every worker)."""
        if self._closed:
            return False
        try:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return False
        return done == 0

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
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        self._notices.close()
