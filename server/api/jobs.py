"""API: every background job (expansions, suggestion jobs, dataset builds) by one key.

``GET /api/v1/jobs/{kind}-{id}`` reports any job's status and progress, ``POST …/cancel``
stops it after its current step, ``POST …/retry`` runs a cancelled, failed or stalled one
again, and ``GET /api/v1/projects/{id}/jobs`` lists a project's. The kinds' own endpoints
(``/api/v1/expansions/3/retry``…) are these same calls under their old paths.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from scholia.core import job_kinds, jobs, projects
from scholia.core.errors import PermissionDenied
from scholia.core.jobs import JobKind

from ..access import can
from ..background import jobs_of
from ..routing import get, post, runtime_of, user_of
from .schemas import BackgroundJobOut

__all__ = ["cancel", "job_api", "job_out", "load", "retry"]


def job_out(request: Request[Any, Any, Any], kind: JobKind, job: Any) -> BackgroundJobOut:
    running = jobs_of(request.app.state, runtime_of(request))
    seen = jobs.progress(kind, job)
    return BackgroundJobOut(
        key=seen.key,
        kind=seen.kind,
        id=seen.id,
        project_id=seen.project_id,
        status=seen.status,
        done=seen.done,
        total=seen.total,
        error=seen.error,
        stalled=seen.stalled and not running.running(kind, job.id),
        can_cancel=kind.cancelled is not None and job.status == kind.running,
        can_retry=running.can_retry(kind, job),
        created_at=seen.created_at,
        progress_at=seen.progress_at,
        finished_at=seen.finished_at,
        url=f"/api/v1/jobs/{seen.key}",
        detail_url=kind.url(job) if kind.url else None,
    )


def load(request: Request[Any, Any, Any], kind: JobKind, job_id: int) -> Any:
    with runtime_of(request).reading() as session:
        return jobs.get(session, kind, job_id)


def cancel(request: Request[Any, Any, Any], kind: JobKind, job_id: int) -> Any:
    """Stop the job after its current step (409 unless it runs)."""
    with runtime_of(request).session() as session:
        job = jobs.get(session, kind, job_id)
        return jobs.cancel(session, kind, job, user_of(request).id)  # type: ignore[arg-type]


def retry(request: Request[Any, Any, Any], kind: JobKind, job_id: int) -> Any:
    """Claim a cancelled, failed or stalled job and run it in the background (409 while it
    moves); the job as it is then."""
    runtime = runtime_of(request)
    jobs_of(request.app.state, runtime).retry(
        kind, load(request, kind, job_id), user_of(request).id
    )
    return load(request, kind, job_id)


def _kind(request: Request[Any, Any, Any], key: str) -> tuple[JobKind, int]:
    kind, job_id = job_kinds.key_of(key)
    if not can(request, kind.viewer):
        raise PermissionDenied(f"{kind.name} jobs need the {kind.viewer} role in this project.")
    return kind, job_id


@get("/jobs/{job_key:str}")
def get_job(request: Request[Any, Any, Any], job_key: FromPath[str]) -> BackgroundJobOut:
    """A job's status and progress (``done`` of ``total``), whether it ``stalled``, and why
    it failed. 404 for a key naming no job (a key is ``<kind>-<id>``)."""
    kind, job_id = _kind(request, job_key)
    return job_out(request, kind, load(request, kind, job_id))


@post("/jobs/{job_key:str}/cancel", status_code=200)
def cancel_job(request: Request[Any, Any, Any], job_key: FromPath[str]) -> BackgroundJobOut:
    """Stop after the current step; what it made stays, and it can be retried."""
    kind, job_id = _kind(request, job_key)
    return job_out(request, kind, cancel(request, kind, job_id))


@post("/jobs/{job_key:str}/retry", status_code=202)
def retry_job(
    request: Request[Any, Any, Any], job_key: FromPath[str]
) -> Response[BackgroundJobOut]:
    """Run a cancelled, failed or stalled job again (a suggestion job goes on from where it
    stopped); 409 while it still moves."""
    kind, job_id = _kind(request, job_key)
    out = job_out(request, kind, retry(request, kind, job_id))
    return Response(out, status_code=202, headers={"Location": out.url})


@get("/projects/{project_id:int}/jobs")
def list_project_jobs(
    request: Request[Any, Any, Any], project_id: FromPath[int]
) -> list[BackgroundJobOut]:
    """The project's latest jobs of every kind the caller may see, newest first."""
    kinds = [kind for kind in job_kinds.KINDS.values() if can(request, kind.viewer)]
    with runtime_of(request).reading() as session:
        projects.get_project(session, project_id)
        found = jobs.latest(session, kinds, project_id)
    return [job_out(request, kind, job) for kind, job in found]


job_api = [get_job, cancel_job, retry_job, list_project_jobs]
