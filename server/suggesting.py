"""Batch suggestion jobs run in the background of the server process, one thread per job.

A request starts (or resumes) a job and answers at once; ``suggestion_jobs.run`` moves it
batch by batch and writes its progress on the job's row, which the pages poll and the API
reports. This registry only knows which jobs this process runs, so that none runs twice here;
a job another process left (``scholia suggest`` stopped with Ctrl-C, a crash) is resumed from
its cursor.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from litestar.datastructures import State

from scholia.core import suggestion_jobs
from scholia.core.errors import Conflict
from scholia.core.models import JobStatus, SuggestionJob
from scholia.core.runtime import Runtime

__all__ = ["SuggestionJobs", "jobs_of"]

log = logging.getLogger(__name__)


class SuggestionJobs:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        self._threads: dict[int, threading.Thread] = {}

    def running(self, job_id: int) -> bool:
        with self._lock:
            thread = self._threads.get(job_id)
            return thread is not None and thread.is_alive()

    def can_resume(self, job: SuggestionJob) -> bool:
        if self.running(job.id or 0):
            return False
        return job.status in (JobStatus.cancelled, JobStatus.failed) or suggestion_jobs.stalled(job)

    def start(self, job_id: int) -> None:
        with self._lock:
            thread = self._threads.get(job_id)
            if thread is not None and thread.is_alive():
                raise Conflict(f"Job {job_id} is running already.")
            thread = threading.Thread(target=self._run, args=(job_id,), name=f"suggest-{job_id}")
            thread.daemon = True  # cut short by shutdown, the job stalls and can be resumed
            self._threads[job_id] = thread
            thread.start()

    def resume(self, job: SuggestionJob, actor_id: int) -> None:
        assert job.id is not None
        if self.running(job.id):
            raise Conflict(f"Job {job.id} is running; cancel it first.")
        with self.runtime.session() as session:
            stored = suggestion_jobs.get_job(session, job.id)
            suggestion_jobs.claim_resume(session, stored, actor_id)
        self.start(job.id)

    def _run(self, job_id: int) -> None:
        try:
            suggestion_jobs.run(self.runtime, job_id)
        except Exception:
            log.exception("suggestion job %s stopped unexpectedly", job_id)
        finally:
            with self._lock:
                if self._threads.get(job_id) is threading.current_thread():
                    del self._threads[job_id]


_STATE_LOCK = threading.Lock()


def jobs_of(state: State, runtime: Runtime) -> SuggestionJobs:
    """The app's ``SuggestionJobs``, made on first use (handlers run in several threads)."""
    with _STATE_LOCK:
        jobs: Any = state.get("suggestion_jobs")
        if jobs is None:
            jobs = state["suggestion_jobs"] = SuggestionJobs(runtime)
        assert isinstance(jobs, SuggestionJobs)
        return jobs
