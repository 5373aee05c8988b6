"""API: exact counters of a project, and review decisions on items: on chosen items, or on
every item matching a filter, batch by batch."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.params import FromPath, FromQuery, JSONBody

from scholia.core import counts, items, labels, limits, projects, review
from scholia.core.errors import InvalidInput
from scholia.core.item_state import ItemState
from scholia.core.limits import Choice, Id, Name, Text

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


class MatchingIn(msgspec.Struct, forbid_unknown_fields=True):
    """The grid's filters, as on ``GET /projects/{id}/items``."""

    status: Choice | None = None
    group: Choice | None = None
    category: Id | None = None
    q: Name | None = None
    annotator: Id | None = None


class MatchingReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    matching: MatchingIn
    decision: Choice
    """approved, needs_review or rejected (the page asks for a comment on a rejection)."""
    comment: Text | None = None
    after: Id | None = None
    """The ``next_after`` of the previous batch; none for the first."""
    expected: Id | None = None
    """On the first batch: how many items the caller saw match (``GET .../items/count``).
    When the filter matches another number now, 409 and nothing is decided."""


class MatchingReviewOut(msgspec.Struct):
    decision: str
    decided: list[int]
    """Items decided in this batch."""
    refused: dict[str, int]
    """Items of this batch left as they were, per current state."""
    next_after: int | None
    """Pass as ``after`` for the next batch; null when every matching item was seen."""


class MatchingCountOut(msgspec.Struct):
    total: int


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


def item_filter(session: Any, project_id: int, matching: MatchingIn) -> review.ItemFilter:
    """The filter, checked against the project: a bad field is named by its path."""
    if matching.status is not None and matching.status not in ItemState.__members__:
        raise InvalidInput(
            f"Unknown status {matching.status!r}; statuses are {', '.join(ItemState)}",
            "$.matching.status",
        )
    if matching.group is not None and matching.group not in counts.GROUPS:
        raise InvalidInput(
            f"Unknown group {matching.group!r}; groups are {', '.join(counts.GROUPS)}",
            "$.matching.group",
        )
    if matching.category is not None and matching.category not in {
        c.id for c in labels.all_categories(session, project_id)
    }:
        raise InvalidInput(
            f"Project {project_id} has no category {matching.category}", "$.matching.category"
        )
    return review.ItemFilter(
        status=matching.status,
        group=matching.group,
        category_id=matching.category,
        name=matching.q or None,
        annotator_id=matching.annotator,
    )


@get("/projects/{project_id:int}/items/count")
def count_matching(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    status: FromQuery[str | None] = None,
    group: FromQuery[str | None] = None,
    category: FromQuery[int | None] = None,
    q: FromQuery[str | None] = None,
    annotator: FromQuery[int | None] = None,
) -> MatchingCountOut:
    """How many items match these filters (those of ``GET .../items``): what "select all N
    matching" acts on. From the kept counts for states or one category, else one COUNT."""
    limits.check(q, "$.q", limits.NAME_MAX)
    with runtime_of(request).reading() as session:
        projects.get_project(session, project_id)
        found = item_filter(session, project_id, MatchingIn(status, group, category, q, annotator))
        total = items.count_items(session, project_id, **found.arguments())  # type: ignore[arg-type]
    return MatchingCountOut(total)


@post("/projects/{project_id:int}/reviews/matching", status_code=200)
def review_matching(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    data: JSONBody[MatchingReviewIn],
) -> MatchingReviewOut:
    """Decide on every item matching a filter, one batch (``review.BATCH`` items in id order)
    per call, each committed on its own: call again with ``after`` = ``next_after`` until it
    is null. A stopped run resumes from its last ``next_after`` without deciding twice."""
    with runtime_of(request).session() as session:
        projects.get_project(session, project_id)
        batch = review.decide_matching(
            session,
            project_id=project_id,
            matching=item_filter(session, project_id, data.matching),
            decision=data.decision,
            reviewer_id=user_of(request).id,  # type: ignore[arg-type]
            comment=data.comment,
            after_id=data.after,
            expected=data.expected,
        )
    return MatchingReviewOut(batch.decision, batch.decided, batch.refused, batch.next_after)


review_api = [project_counts, create_reviews, count_matching, review_matching]
