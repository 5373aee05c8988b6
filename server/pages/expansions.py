"""The project page's expansions panel: videos being turned into frame items, their progress
(polled while one runs), and cancelling or retrying one."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath
from litestar.response import Redirect

from scholia.core import expansions, jobs, projects
from scholia.core.errors import Conflict
from scholia.core.expansions import JOB
from scholia.core.models import Expansion
from scholia.core.runtime import Runtime

from ..background import Jobs, jobs_of
from ..option_fields import option_fields
from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page

__all__ = ["expansion_context", "expansion_pages", "upload_context"]


def upload_context(runtime: Runtime, modality_name: str) -> dict[str, Any]:
    """What the upload form offers beyond the project's own media: the container files that
    expand into its items (videos into an image project's frames) and their options."""
    containers = [m for m in runtime.plugins.modalities.values() if m.yields == modality_name]
    own = runtime.plugins.modalities.get(modality_name)
    accepted = [*(own.extensions if own else ()), *(e for m in containers for e in m.extensions)]
    return {
        "containers": containers,
        "accepted": accepted,
        "container_options": [
            {"title": m.title, "fields": option_fields(m.expand_options)}
            for m in containers
            if m.expand_options is not None
        ],
    }


def expansion_context(
    request: Request[Any, Any, Any], session: Any, project_id: int
) -> dict[str, Any]:
    running = jobs_of(request.app.state, runtime_of(request))
    found = expansions.list_expansions(session, project_id, limit=10)
    return {
        "expansions": found,
        "expansion_views": {e.id: _view(e, running) for e in found},
        "expansions_polling": any(_view(e, running)["moving"] for e in found),
    }


def _view(expansion: Expansion, running: Jobs) -> dict[str, Any]:
    can_retry = running.can_retry(JOB, expansion)
    total = expansion.total
    done = expansion.status == "done"
    return {
        "can_retry": can_retry,
        "moving": expansion.status == "running" and not can_retry,
        "stalled": expansion.status == "running" and can_retry,
        "percent": 100 if done else round(100 * expansion.processed / total) if total else 0,
    }


@get("/projects/{project_id:int}/expansions")
def expansions_panel(request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
    """The panel alone, for polling. Once the last running expansion stopped, the poll
    reloads the page, so the grid and the counts show the new items."""
    with runtime_of(request).reading() as session:
        project = projects.get_project(session, project_id)
        context = expansion_context(request, session, project_id)
    response = page(request, "projects/_expansions.html", project=project, **context)
    if request.headers.get("hx-request") == "true" and not context["expansions_polling"]:
        response.headers["HX-Refresh"] = "true"
    return response


@post(
    "/projects/{project_id:int}/expansions/{expansion_id:int}/cancel",
)
def cancel_expansion(
    request: Request[Any, Any, Any], project_id: FromPath[int], expansion_id: FromPath[int]
) -> Response[Any]:
    back = Redirect(f"/projects/{project_id}")
    try:
        with runtime_of(request).session() as session:
            expansion = expansions.get_expansion(session, expansion_id, project_id)
            jobs.cancel(session, JOB, expansion, user_of(request).id)  # type: ignore[arg-type]
    except Conflict as error:
        return flash(back, error.message, "error")
    return flash(back, f"Stopping {expansion.name}: the frames made so far stay.")


@post(
    "/projects/{project_id:int}/expansions/{expansion_id:int}/retry",
)
def retry_expansion(
    request: Request[Any, Any, Any], project_id: FromPath[int], expansion_id: FromPath[int]
) -> Response[Any]:
    runtime = runtime_of(request)
    back = Redirect(f"/projects/{project_id}")
    with runtime.reading() as session:
        expansion = expansions.get_expansion(session, expansion_id, project_id)
    try:
        jobs_of(request.app.state, runtime).retry(JOB, expansion, user_of(request).id)  # type: ignore[arg-type]
    except Conflict as error:
        return flash(back, error.message, "error")
    return flash(back, f"Retrying {expansion.name}: frames already made are not made again.")


expansion_pages = [expansions_panel, cancel_expansion, retry_expansion]
