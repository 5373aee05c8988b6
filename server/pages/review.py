"""Review mode: the item grid (shared with the project page) with bulk decisions on a
selection, and the issues panel."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from scholia.core import consensus, counts, labels, projects, review
from scholia.core.errors import InvalidInput

from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page
from .forms import Form, value, values
from .grid import GRID_QUERY, GridQuery, grid_context
from .viewing import views_state

__all__ = ["review_pages"]


def _review_context(
    request: Request[Any, Any, Any], project_id: int, query: GridQuery
) -> dict[str, Any]:
    base = f"/projects/{project_id}/review"
    runtime = runtime_of(request)
    with runtime.reading() as session:
        project = projects.get_project(session, project_id)
        context = grid_context(request, session, project_id, query, base)
        context["issues"] = counts.issues(session, project_id)
        # Each tile shows the labels that count on its item, drawn by their types' views.
        shown = [item.id for item in context["grid_items"]]
        context["tile_labels"] = consensus.valid_annotations(session, shown)
        live = labels.live_categories(session, project_id)
    state = views_state(runtime.plugins, project, live)
    return {"project": project, "selectable": True, "state": state, **context}


@get("/projects/{project_id:int}/review", dependencies=GRID_QUERY)
def review_page(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    grid: NamedDependency[GridQuery],
) -> Response[Any]:
    return page(request, "projects/review.html", **_review_context(request, project_id, grid))


@post("/projects/{project_id:int}/review", status_code=200)
def review_decide(
    request: Request[Any, Any, Any], project_id: FromPath[int], data: Form
) -> Response[Any]:
    """Bulk decision on the checked items. From htmx: the refreshed counts, grid and issues,
    with what was decided and what was refused (and why). Without htmx: back to the page."""
    query = GridQuery.parse(
        value(data, "group") or None,
        value(data, "status") or None,
        value(data, "category") or None,
        value(data, "after") or None,
        value(data, "before") or None,
        value(data, "last") or None,
    )
    decision = value(data, "decision")
    ids = [int(v) for v in values(data, "item_ids") if v.strip().isdigit()]
    outcome: review.Decision | None = None
    error: str | None = None
    try:
        with runtime_of(request).session() as session:
            projects.get_project(session, project_id)
            outcome = review.decide(
                session,
                item_ids=ids,
                decision=decision,
                reviewer_id=user_of(request).id,  # type: ignore[arg-type]
                comment=value(data, "comment") or None,
                project_id=project_id,
            )
    except InvalidInput as problem:
        error = problem.reason
    if request.headers.get("hx-request") != "true":
        back = query.url(f"/projects/{project_id}/review")
        if error is not None:
            return flash(Redirect(back), error, "error")
        assert outcome is not None
        return flash(Redirect(back), _summary(outcome), "error" if outcome.refused else "success")
    context = _review_context(request, project_id, query)
    return page(
        request,
        "projects/_grid_review.html",
        outcome=outcome,
        outcome_text=_summary(outcome) if outcome else None,
        error=error,
        **context,
    )


def _summary(outcome: review.Decision) -> str:
    verb = {"approved": "Approved", "needs_review": "Sent back for review", "rejected": "Rejected"}
    text = f"{verb[outcome.decision]}: {len(outcome.decided)} item(s)."
    if outcome.refused:
        text += " Not decided: " + " ".join(r.message for r in outcome.refused)
    return text


review_pages = [review_page, review_decide]
