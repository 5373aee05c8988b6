"""Review mode: the item grid (shared with the project page) with decisions on the checked
items or on every item matching the filter, and the issues panel."""

from __future__ import annotations

import re
import time
from typing import Any

from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from scholia.core import consensus, counts, items, labels, membership, projects, review
from scholia.core.errors import Conflict, InvalidInput

from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page
from .forms import Form, value, values
from .grid import GRID_QUERY, GridQuery, fold_counts_when_due, grid_context
from .viewing import views_state

__all__ = ["review_pages"]

SORT_TITLES = {
    "added": "Oldest first",
    "-added": "Newest first",
    "name": "Name A–Z",
    "-name": "Name Z–A",
    "-updated": "Recently changed",
    "updated": "Least recently changed",
}
MATCHING_BUDGET_S = 2.0
"""How long one request of "decide on all matching" runs batches before it hands back the
progress (the page asks for the next stretch at once, so the browser shows it moving)."""


def _review_context(
    request: Request[Any, Any, Any], project_id: int, query: GridQuery
) -> dict[str, Any]:
    base = f"/projects/{project_id}/review"
    runtime = runtime_of(request)
    with runtime.reading() as session:
        project = projects.get_project(session, project_id)
        context = grid_context(request, session, project_id, query, base)
        query = context["grid_query"]
        # Each tile shows the labels that count on its item, drawn by their types' views.
        shown = [item.id for item in context["grid_items"]]
        context["tile_labels"] = consensus.valid_annotations(session, shown)
        live = labels.live_categories(session, project_id)
        context["annotators"] = [
            m.user for m in membership.list_members(session, project_id) if m.role == "annotator"
        ]
        context["matching_total"] = items.count_items(
            session,
            project_id,
            **query.matching().arguments(),  # type: ignore[arg-type]
        )
    fold_counts_when_due(request, project_id, context["counts"])
    state = views_state(runtime.plugins, project, live)
    return {
        "project": project,
        "selectable": True,
        "state": state,
        "sort_titles": SORT_TITLES,
        **context,
    }


@get("/projects/{project_id:int}/review", dependencies=GRID_QUERY)
def review_page(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    grid: NamedDependency[GridQuery],
) -> Response[Any]:
    return page(request, "projects/review.html", **_review_context(request, project_id, grid))


@get("/projects/{project_id:int}/review/issues")
def review_issues(request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
    """The issues panel, loaded after the page: finding labeled items without a category
    reads every labeled item, which the grid itself must not wait for on a large project."""
    with runtime_of(request).reading() as session:
        project = projects.get_project(session, project_id)
        found = counts.issues(session, project_id)
    return page(request, "projects/_review_issues.html", project=project, issues=found)


def _query_of(data: Form) -> GridQuery:
    return GridQuery.parse(
        value(data, "group") or None,
        value(data, "status") or None,
        value(data, "category") or None,
        value(data, "after") or None,
        value(data, "before") or None,
        value(data, "last") or None,
        value(data, "q") or None,
        value(data, "annotator") or None,
        value(data, "sort") or None,
    )


@post("/projects/{project_id:int}/review", status_code=200)
def review_decide(
    request: Request[Any, Any, Any], project_id: FromPath[int], data: Form
) -> Response[Any]:
    """A decision on the checked items, or (``scope=matching``) on every item matching the
    filter, in batches until ``MATCHING_BUDGET_S`` is spent. From htmx: the refreshed grid
    with what was decided and what was refused (and why). Without htmx: back to the page."""
    query = _query_of(data)
    decision = value(data, "decision")
    comment = value(data, "comment") or None
    reviewer_id = user_of(request).id
    assert reviewer_id is not None
    outcome: review.Decision | None = None
    progress: dict[str, Any] | None = None
    error: str | None = None
    try:
        if value(data, "scope") == "matching":
            progress = _decide_matching(request, project_id, query, data, decision, comment)
        else:
            ids = [int(v) for v in values(data, "item_ids") if v.strip().isdigit()]
            with runtime_of(request).session() as session:
                projects.get_project(session, project_id)
                outcome = review.decide(
                    session,
                    item_ids=ids,
                    decision=decision,
                    reviewer_id=reviewer_id,
                    comment=comment,
                    project_id=project_id,
                )
    except (InvalidInput, Conflict) as problem:
        error = str(problem)
    if request.headers.get("hx-request") != "true":
        back = query.url(f"/projects/{project_id}/review")
        item_page = value(data, "back") or ""
        if re.fullmatch(rf"/projects/{project_id}/items/\d+", item_page):
            back = item_page  # decided from the item page: back to it
        if error is not None:
            return flash(Redirect(back), error, "error")
        if progress is not None:
            return flash(Redirect(back), _progress_text(progress), "success")
        assert outcome is not None
        return flash(Redirect(back), _summary(outcome), "error" if outcome.refused else "success")
    context = _review_context(request, project_id, query)
    return page(
        request,
        "projects/_grid_review.html",
        outcome=outcome,
        outcome_text=_summary(outcome) if outcome else None,
        progress=progress,
        progress_text=_progress_text(progress) if progress else None,
        comment=comment if error else None,
        error=error,
        **context,
    )


def _decide_matching(
    request: Request[Any, Any, Any],
    project_id: int,
    query: GridQuery,
    data: Form,
    decision: str,
    comment: str | None,
) -> dict[str, Any]:
    """Batches of ``review.decide_matching``, each its own unit of work, for at most
    ``MATCHING_BUDGET_S``; returns the running totals and where to go on from."""
    reviewer_id = user_of(request).id
    assert reviewer_id is not None

    def number(name: str) -> int:
        text = value(data, name)
        return int(text) if text and text.isdigit() else 0

    cursor = number("cursor") or None
    expected = number("expected") if cursor is None else None
    progress = {
        "decision": decision,
        "decided": number("decided"),
        "refused": number("refused"),
        "total": number("expected") or number("total"),
        "next_after": cursor,
    }
    started = time.monotonic()
    while True:
        with runtime_of(request).session() as session:
            projects.get_project(session, project_id)
            batch = review.decide_matching(
                session,
                project_id=project_id,
                matching=query.matching(),
                decision=decision,
                reviewer_id=reviewer_id,
                comment=comment,
                after_id=progress["next_after"],
                expected=expected,
            )
        expected = None
        progress["decided"] += len(batch.decided)
        progress["refused"] += sum(batch.refused.values())
        progress["next_after"] = batch.next_after
        if batch.next_after is None or time.monotonic() - started > MATCHING_BUDGET_S:
            break
    progress["comment"] = comment
    return progress


def _progress_text(progress: dict[str, Any]) -> str:
    verb = {"approved": "Approved", "needs_review": "Sent back for review", "rejected": "Rejected"}
    done = progress["next_after"] is None
    text = (
        f"{verb[progress['decision']]}: {progress['decided']:,} of {progress['total']:,} matching"
    )
    if progress["refused"]:
        text += f"; {progress['refused']:,} left as they were (their state does not allow it)"
    return text + ("." if done else "… still going.")


def _summary(outcome: review.Decision) -> str:
    verb = {"approved": "Approved", "needs_review": "Sent back for review", "rejected": "Rejected"}
    text = f"{verb[outcome.decision]}: {len(outcome.decided)} item(s)."
    if outcome.refused:
        text += " Not decided: " + " ".join(r.message for r in outcome.refused)
    return text


review_pages = [review_page, review_issues, review_decide]
