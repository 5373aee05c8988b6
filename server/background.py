"""The server's background jobs: one thread per job, never two for the same job in this process.

Every kind of job (``scholia.core.job_kinds``) keeps its progress on its own row, so this only
knows which of them this process runs: a request creates or claims a job and answers at once,
and the job runs in a daemon thread here (shutdown cuts it short; it then stalls and can be
retried). A job another process left is claimed again through its row (``jobs.claim_again``),
never from here.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from litestar.datastructures import State

from scholia.core import job_kinds, jobs
from scholia.core.errors import Conflict
from scholia.core.jobs import JobKind
from scholia.core.runtime import Runtime

from . import heap

__all__ = ["WATCH_EVERY_S", "Jobs", "StallWatch", "jobs_of"]

log = logging.getLogger(__name__)


class Jobs:
    """The jobs this process runs, by key (``expansion-3``)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}

    def running(self, kind: JobKind, job_id: int | None) -> bool:
        with self._lock:
            thread = self._threads.get(kind.key(job_id))
            return thread is not None and thread.is_alive()

    def can_retry(self, kind: JobKind, job: Any) -> bool:
        """Cancelled, failed or stalled, and not moved by a thread of this process."""
        return not self.running(kind, job.id) and jobs.can_retry(kind, job)

    def start(self, kind: JobKind, job_id: int) -> None:
        """Run a claimed job in a new thread; refused while this process runs it already."""
        key = kind.key(job_id)
        with self._lock:
            thread = self._threads.get(key)
            if thread is not None and thread.is_alive():
                raise Conflict(f"{key} is running already.")
            self._threads[key] = self.runtime.spawn(lambda: self._run(kind, job_id), key)

    def retry(self, kind: JobKind, job: Any, actor_id: int | None) -> None:
        """Claim a cancelled, failed or stalled job (of two claims at once, one wins) and run
        it here."""
        if self.running(kind, job.id):
            then = "cancel it first" if kind.cancelled else "wait until it stops"
            raise Conflict(f"{kind.describe(job)} is {kind.doing} in this server; {then}.")
        with self.runtime.session() as session:
            jobs.claim_again(session, kind, jobs.get(session, kind, job.id), actor_id)
        self.start(kind, job.id)

    def resume_stalled(self) -> list[str]:
        """Claim every stalled job (found in one query) and run it here; their keys. Of two
        processes doing this at once, each job goes to one."""
        with self.runtime.reading() as session:
            found = jobs.stalled_jobs(session, list(job_kinds.KINDS.values()))
        resumed = []
        for kind, job_id in found:
            if self.running(kind, job_id):
                continue
            try:
                with self.runtime.session() as session:
                    jobs.claim_again(session, kind, jobs.get(session, kind, job_id), None)
            except Conflict:  # another process claimed it first
                continue
            self.start(kind, job_id)
            resumed.append(kind.key(job_id))
        return resumed

    def _run(self, kind: JobKind, job_id: int) -> None:
        key = kind.key(job_id)
        with self._lock:  # wait until start() recorded this thread
            pass
        try:
            kind.run(self.runtime, job_id)
        except Exception:
            log.exception("%s stopped unexpectedly", key)
        finally:
            with self._lock:
                if self._threads.get(key) is threading.current_thread():
                    del self._threads[key]
            heap.give_back()


WATCH_EVERY_S = 60.0
"""How often a served app looks for stalled jobs (a job stalls after minutes without progress)."""


class StallWatch:
    """Resumes stalled jobs when the server starts and every ``every`` seconds after: a job
    whose server crashed or was stopped mid-way is left ``running``, and would otherwise wait
    for someone to press retry. Of several processes watching, each job goes to one (the claim
    is conditional)."""

    def __init__(self, running: Jobs, every: float = WATCH_EVERY_S) -> None:
        self.running = running
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="stall-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _watch(self) -> None:
        while True:
            try:
                resumed = self.running.resume_stalled()
                if resumed:
                    log.warning("resumed stalled jobs: %s", ", ".join(resumed))
            except Exception:  # the database away for a moment: look again next time
                log.exception("looking for stalled jobs failed")
            if self._stop.wait(self.every):
                return


_STATE_LOCK = threading.Lock()


def jobs_of(state: State, runtime: Runtime) -> Jobs:
    """The app's ``Jobs``, made on first use (handlers run in several threads)."""
    with _STATE_LOCK:
        running: Any = state.get("jobs")
        if running is None:
            running = state["jobs"] = Jobs(runtime)
        assert isinstance(running, Jobs)
        return running
