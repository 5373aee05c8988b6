"""API: expansions, the jobs that turn an uploaded container file (a video) into items (its
frames): their progress, and cancelling or retrying one."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from scholia.core import expansions, projects
from scholia.core.models import Expansion

from ..expanding import Expansions, expansions_of
from ..routing import get, post, runtime_of, user_of
from .schemas import ExpansionOut

__all__ = ["expansion_api", "expansion_out"]


def expansion_out(expansion: Expansion, running: Expansions) -> ExpansionOut:
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
        can_retry=running.can_retry(expansion),
        created_at=expansion.created_at,
        finished_at=expansion.finished_at,
        url=f"/api/v1/expansions/{expansion.id}",
    )


@get("/projects/{project_id:int}/expansions")
def list_expansions(
    request: Request[Any, Any, Any], project_id: FromPath[int]
) -> list[ExpansionOut]:
    """The project's latest expansions, newest first."""
    runtime = runtime_of(request)
    running = expansions_of(request.app.state, runtime)
    with runtime.reading() as session:
        projects.get_project(session, project_id)
        found = expansions.list_expansions(session, project_id)
    return [expansion_out(e, running) for e in found]


@get("/expansions/{expansion_id:int}")
def get_expansion(request: Request[Any, Any, Any], expansion_id: FromPath[int]) -> ExpansionOut:
    """Progress (``processed`` of ``total``, the items made and those already there) and,
    when it failed, why."""
    runtime = runtime_of(request)
    with runtime.reading() as session:
        expansion = expansions.get_expansion(session, expansion_id)
    return expansion_out(expansion, expansions_of(request.app.state, runtime))


@post("/expansions/{expansion_id:int}/cancel", status_code=200)
def cancel_expansion(request: Request[Any, Any, Any], expansion_id: FromPath[int]) -> ExpansionOut:
    """Stop after the current batch; the items made stay, and it can be retried."""
    runtime = runtime_of(request)
    with runtime.session() as session:
        expansion = expansions.get_expansion(session, expansion_id)
        expansions.cancel(session, expansion, user_of(request).id)  # type: ignore[arg-type]
    return expansion_out(expansion, expansions_of(request.app.state, runtime))


@post("/expansions/{expansion_id:int}/retry", status_code=202)
def retry_expansion(
    request: Request[Any, Any, Any], expansion_id: FromPath[int]
) -> Response[ExpansionOut]:
    """Run a failed, cancelled or stalled expansion again; its items so far stay and are not
    made twice."""
    runtime = runtime_of(request)
    running = expansions_of(request.app.state, runtime)
    with runtime.reading() as session:
        expansion = expansions.get_expansion(session, expansion_id)
    running.retry(expansion, user_of(request).id)  # type: ignore[arg-type]
    with runtime.reading() as session:
        expansion = expansions.get_expansion(session, expansion_id)
    out = expansion_out(expansion, running)
    return Response(out, status_code=202, headers={"Location": out.url})


expansion_api = [list_expansions, get_expansion, cancel_expansion, retry_expansion]
