"""API: exact counters of a project, and review decisions on items (one or many)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.params import FromPath, JSONBody

from scholia.core import counts, projects, review
from scholia.core.limits import Choice, Id, Text

from ..routing import get, post, runtime_of, user_of

__all__ = ["review_api"]


class CategoryCountOut(msgspec.Struct):
    id: int
    name: str
    count: int


class CountsOut(msgspec.Struct):
    statuses: dict[str, int]
    """Items per lifecycle state (every state, 0 where none)."""
    groups: dict[str, int]
    """The grid's tabs: all, unlabeled (unlabeled + in_progress), in_review (labeled, skipped,
    needs_review, adjudication), done (approved, rejected)."""
    categories: list[CategoryCountOut]
    """Live categories in display order: items whose current annotations use each one."""


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    item_ids: list[Id]
    decision: Choice
    """approved, needs_review or rejected."""
    comment: Text | None = None


class RefusalOut(msgspec.Struct):
    item_id: int
    current: str | None
    """The item's state; null when the project has no such item."""
    allowed: list[str]
    message: str


class ReviewOut(msgspec.Struct):
    decision: str
    decided: list[int]
    refused: list[RefusalOut]
    """Items left undecided, each with the reason; the others were decided."""


@get("/projects/{project_id:int}/counts")
def project_counts(request: Request[Any, Any, Any], project_id: FromPath[int]) -> CountsOut:
    """Exact counts, in the request's transaction (kept by the database with every change, no
    cache); for reviewers and above
    (an annotator's own counts are in their queue)."""
    with runtime_of(request).reading() as session:
        projects.get_project(session, project_id)
        found = counts.project_counts(session, project_id)
    if found.changes > counts.FOLD_AT:
        with runtime_of(request).session() as session:
            counts.fold(session, project_id)
    return CountsOut(
        statuses=found.statuses,
        groups=found.groups,
        categories=[CategoryCountOut(c.id, c.name, c.count) for c in found.categories],
    )


@post("/projects/{project_id:int}/reviews", status_code=200)
def create_reviews(
    request: Request[Any, Any, Any], project_id: FromPath[int], data: JSONBody[ReviewIn]
) -> ReviewOut:
    """Decide on items: each is decided on its own; those whose state does not allow the
    decision are listed in ``refused`` with their state and the states they can move to."""
    with runtime_of(request).session() as session:
        projects.get_project(session, project_id)
        result = review.decide(
            session,
            item_ids=data.item_ids,
            decision=data.decision,
            reviewer_id=user_of(request).id,  # type: ignore[arg-type]
            comment=data.comment,
            project_id=project_id,
        )
    return ReviewOut(
        decision=result.decision,
        decided=result.decided,
        refused=[RefusalOut(r.item_id, r.current, r.allowed, r.message) for r in result.refused],
    )


review_api = [project_counts, create_reviews]
