"""API: expansions, the jobs that turn an uploaded container file (a video) into items (its
frames): their progress, and cancelling or retrying one (the jobs API's calls, under the
expansion's own path)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from scholia.core import expansions, projects
from scholia.core.expansions import JOB
from scholia.core.models import Expansion

from ..background import Jobs, jobs_of
from ..routing import get, post, runtime_of
from . import jobs as job_calls
from .schemas import ExpansionOut

__all__ = ["expansion_api", "expansion_out"]


def expansion_out(expansion: Expansion, running: Jobs) -> ExpansionOut:
    return ExpansionOut(
        id=expansion.id or 0,
        project_id=expansion.project_id,
        name=expansion.name,
        sha256=expansion.source_sha256,
        modality=expansion.modality,
        options=expansion.options,
        meta=expansion.meta,
        status=expansion.status,
        total=expansion.total,
        processed=expansion.processed,
        created=expansion.created,
        existing=expansion.existing,
        error=expansion.error,
        can_retry=running.can_retry(JOB, expansion),
        created_at=expansion.created_at,
        finished_at=expansion.finished_at,
        url=f"/api/v1/expansions/{expansion.id}",
    )


def _out(request: Request[Any, Any, Any], expansion: Expansion) -> ExpansionOut:
    return expansion_out(expansion, jobs_of(request.app.state, runtime_of(request)))


@get("/projects/{project_id:int}/expansions")
def list_expansions(
    request: Request[Any, Any, Any], project_id: FromPath[int]
) -> list[ExpansionOut]:
    """The project's latest expansions, newest first."""
    with runtime_of(request).reading() as session:
        projects.get_project(session, project_id)
        found = expansions.list_expansions(session, project_id)
    return [_out(request, e) for e in found]


@get("/expansions/{expansion_id:int}")
def get_expansion(request: Request[Any, Any, Any], expansion_id: FromPath[int]) -> ExpansionOut:
    """Progress (``processed`` of ``total``, the items made and those already there) and,
    when it failed, why."""
    return _out(request, job_calls.load(request, JOB, expansion_id))


@post("/expansions/{expansion_id:int}/cancel", status_code=200)
def cancel_expansion(request: Request[Any, Any, Any], expansion_id: FromPath[int]) -> ExpansionOut:
    """Stop after the current batch; the items made stay, and it can be retried."""
    return _out(request, job_calls.cancel(request, JOB, expansion_id))


@post("/expansions/{expansion_id:int}/retry", status_code=202)
def retry_expansion(
    request: Request[Any, Any, Any], expansion_id: FromPath[int]
) -> Response[ExpansionOut]:
    """Run a failed, cancelled or stalled expansion again; its items so far stay and are not
    made twice."""
    out = _out(request, job_calls.retry(request, JOB, expansion_id))
    return Response(out, status_code=202, headers={"Location": out.url})


expansion_api = [list_expansions, get_expansion, cancel_expansion, retry_expansion]
