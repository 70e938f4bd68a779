"""Run SHACL validations in a process of their own, killed at a deadline.

pySHACL cannot be stopped from another thread, and a submission of a few hundred nodes keeps
it busy for tens of seconds, so validations run in a spawned worker process (started on first
use, not with the server). A job that overruns its deadline gets the process killed
(SIGKILL) and the next job starts a fresh one. One job runs at a time; a caller that cannot
get the worker within ``wait`` seconds gets ``ServerBusy``. The worker exits by itself when
the server goes away (its end of the pipe closes).

Jobs: ``SubmissionJob`` validates contributed data with the graph (``mqmkg.shacl``), keeping
the parsed graph and shapes between jobs; ``ProjectJob`` runs ``mqmkg validate`` in full
(``mqmkg.validate.run_validation``), for the data-quality page.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from mqmkg.config import Settings
from mqmkg.errors import ServerBusy, ValidationAborted, ValidationTimeout

log = logging.getLogger("mqmkg.validation")


@dataclass(frozen=True)
class SubmissionJob:
    """Validate these N-Triples with the graph (``mqmkg.shacl.validate_submission``)."""

    ntriples: bytes


@dataclass(frozen=True)
class ProjectJob:
    """Run the whole project validation; the answer is a ``mqmkg.quality.ProjectValidation``."""


@dataclass(frozen=True)
class _Failed:
    """A job raised instead of answering; ``message`` says what."""

    kind: str
    message: str


def serve(conn: Connection, settings: Settings) -> None:
    """The worker process: answer jobs until the server closes the pipe."""
    from mqmkg.quality import ProjectValidation
    from mqmkg.shacl import Base, load_base, validate_submission
    from mqmkg.validate import load_checks, run_validation

    base: Base | None = None
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if isinstance(job, SubmissionJob):
                base = base or load_base(settings)
                reply: object = validate_submission(base, job.ntriples)
            else:
                started = time.perf_counter()
                report = run_validation(settings)
                checks, _ = load_checks(settings.queries_dir / "qc")
                reply = ProjectValidation(report, checks, time.perf_counter() - started)
        except Exception as exc:  # sent back to the server, which raises it as ValidationAborted
            reply = _Failed(type(exc).__name__, str(exc))
        conn.send(reply)


class ValidationWorker:
    """One validation process at a time, started on demand, killed at a job's deadline."""

    def __init__(self, settings: Settings, name: str, start_timeout: float = 120.0):
        self._settings = settings
        self._name = name
        self._start_timeout = start_timeout
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        """The worker's process id, if one is running."""
        return self._process.pid if self._process is not None and self._process.is_alive() else None

    def run(self, job: SubmissionJob | ProjectJob, deadline: float, wait: float) -> object:
        """Run ``job``; kill the worker if it takes longer than ``deadline`` seconds."""
        if not self._lock.acquire(timeout=wait):
            raise ServerBusy(
                f"the validator stayed busy with another job for {wait:g} s; retry later", math.ceil(deadline)
            )
        try:
            conn = self._started()
            try:
                conn.send(job)
                answered = conn.poll(deadline)
            except OSError as exc:
                self._stop("its pipe broke")
                raise ValidationAborted("the validation process stopped before answering") from exc
            if not answered:
                self._stop(f"it overran the {deadline:g} s deadline")
                raise ValidationTimeout(deadline)
            try:
                reply = conn.recv()
            except (EOFError, OSError) as exc:
                code = self._process.exitcode if self._process else None
                self._stop(f"it died (exit code {code})")
                raise ValidationAborted(
                    f"the validation process died (exit code {code}); it will be restarted"
                ) from exc
        finally:
            self._lock.release()
        if isinstance(reply, _Failed):
            raise ValidationAborted(f"validation failed: {reply.kind}: {reply.message}")
        return reply

    def _started(self) -> Connection:
        """Return the pipe to a live worker, starting one if needed (the lock is held)."""
        if self._process is not None and self._process.is_alive() and self._conn is not None:
            return self._conn
        self._stop("it is no longer running")
        parent, child = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(target=serve, args=(child, self._settings), name=self._name, daemon=True)
        process.start()
        child.close()
        self._process, self._conn = process, parent
        try:
            ready = parent.poll(self._start_timeout) and parent.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self._stop("it did not start")
            raise ValidationAborted(f"the validation process did not start within {self._start_timeout:g} s")
        return parent

    def _stop(self, reason: str) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if process is None:
            return
        if process.is_alive():
            log.warning("validation worker %s (pid %d) stopped: %s", self._name, process.pid, reason)
            self.restarts += 1
        process.kill()
        process.join(5)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Kill the worker now (server shutdown); a job waiting on it ends as ValidationAborted."""
        process = self._process
        if process is not None:
            process.kill()
            process.join(5)
