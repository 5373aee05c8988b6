"""Batch suggestion jobs run in the background of the server process, one thread per job.

A request starts (or resumes) a job and answers at once; ``suggestion_jobs.run`` moves it
batch by batch and writes its progress on the job's row, which the pages poll and the API
reports. A job another process left (``scholia suggest`` stopped with Ctrl-C, a crash) is
resumed from its cursor.
"""

from __future__ import annotations

from litestar.datastructures import State

from scholia.core import jobs, suggestion_jobs
from scholia.core.errors import Conflict
from scholia.core.models import JobStatus, SuggestionJob
from scholia.core.runtime import Runtime

from .background import Threads, threads_of

__all__ = ["SuggestionJobs", "jobs_of"]


class SuggestionJobs:
    def __init__(self, runtime: Runtime, threads: Threads) -> None:
        self.runtime = runtime
        self.threads = threads

    def running(self, job_id: int) -> bool:
        return self.threads.running(job_id)

    def can_resume(self, job: SuggestionJob) -> bool:
        if self.running(job.id or 0):
            return False
        return job.status in (JobStatus.cancelled, JobStatus.failed) or jobs.stalled(job)

    def start(self, job_id: int) -> None:
        self.threads.start(job_id, lambda: suggestion_jobs.run(self.runtime, job_id))

    def resume(self, job: SuggestionJob, actor_id: int) -> None:
        assert job.id is not None
        if self.running(job.id):
            raise Conflict(f"Job {job.id} is running; cancel it first.")
        with self.runtime.session() as session:
            stored = suggestion_jobs.get_job(session, job.id)
            suggestion_jobs.claim_resume(session, stored, actor_id)
        self.start(job.id)


def jobs_of(state: State, runtime: Runtime) -> SuggestionJobs:
    """The app's suggestion jobs, on the app's threads for them."""
    return SuggestionJobs(runtime, threads_of(state, runtime, "suggestion job"))
