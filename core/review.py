"""Review decisions on items, one at a time or in bulk.

A decision moves the item through the lifecycle (``scholia.core.lifecycle.transition``, which
writes the audit event with the reviewer as actor) and stores a ``Review`` row naming the
reviewer, the decision and the comment.

Bulk decisions are **per item**, not all-or-nothing: each item is decided in its own savepoint.
An item whose state does not allow the decision (or that is not in the project) is not
silently skipped: it is listed in ``refused`` with its current state, the states it can move
to, and a message, while the others are decided. A reviewer who selected 48 items and finds
2 were already approved by a colleague keeps the other 46 decisions, and is told about the 2.

A decision on **every item matching a filter** ("select all N matching") is taken in bounded
batches (``decide_matching``), each its own unit of work, in id order with a cursor: a
million matching items never sit in one transaction or one request, progress is the cursor,
and an interrupted run resumes where it stopped without deciding anything twice. The first
batch checks that the filter still matches the number of items the reviewer saw; otherwise
the selection is stale and nothing is decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from . import items, lifecycle, limits
from .errors import Conflict, IllegalTransition, InvalidInput
from .item_state import ItemState
from .models import Item, Review

__all__ = [
    "BATCH",
    "DECISIONS",
    "MAX_ITEMS",
    "Batch",
    "Decision",
    "ItemFilter",
    "Refusal",
    "decide",
    "decide_matching",
    "history",
]

DECISIONS = (ItemState.approved, ItemState.needs_review, ItemState.rejected)
MAX_ITEMS = 1000
BATCH = 500
"""Items decided per unit of work when deciding on a filter."""


@dataclass(frozen=True)
class ItemFilter:
    """Which items of a project "select all matching" means: the grid's filters."""

    status: str | None = None
    group: str | None = None
    category_id: int | None = None
    name: str | None = None
    annotator_id: int | None = None

    def arguments(self) -> dict[str, object]:
        return {
            "status": self.status,
            "group": self.group,
            "category_id": self.category_id,
            "name": self.name,
            "annotator_id": self.annotator_id,
        }


@dataclass(frozen=True)
class Refusal:
    item_id: int
    current: str | None
    """The item's state, or None when there is no such item in the project."""
    allowed: list[str]
    """The states the item can move to from ``current``."""
    message: str


@dataclass
class Decision:
    decision: str
    decided: list[int] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def decide(
    session: Session,
    *,
    item_ids: Sequence[int],
    decision: str,
    reviewer_id: int,
    comment: str | None = None,
    project_id: int | None = None,
) -> Decision:
    """Decide ``item_ids`` (in the order given, duplicates once); see the module docstring.

    With ``project_id``, an id of another project (or of no item) is a mistake in the request,
    not a stale selection: ``InvalidInput`` at its index, and nothing is decided.
    """
    if decision not in {d.value for d in DECISIONS}:
        raise InvalidInput(
            f"Unknown decision {decision!r}; a review decides one of "
            f"{', '.join(d.value for d in DECISIONS)}",
            "$.decision",
        )
    limits.check(comment, "$.comment", limits.TEXT_MAX)
    unique = list(dict.fromkeys(item_ids))
    if not unique:
        raise InvalidInput("Select at least one item to decide on", "$.item_ids")
    if len(unique) > MAX_ITEMS:
        raise InvalidInput(
            f"At most {MAX_ITEMS} items per decision (got {len(unique)})", "$.item_ids"
        )
    comment = (comment or "").strip() or None
    if project_id is not None:
        ours = set(
            session.exec(
                select(Item.id).where(  # type: ignore[call-overload]
                    col(Item.id).in_(unique), col(Item.project_id) == project_id
                )
            )
        )
        for index, item_id in enumerate(item_ids):
            if item_id not in ours:
                raise InvalidInput(
                    f"Project {project_id} has no item {item_id}; nothing was decided",
                    f"$.item_ids[{index}]",
                )
    result = Decision(decision=decision)
    for item_id in unique:
        item = session.get(Item, item_id)
        if item is None:
            result.refused.append(Refusal(item_id, None, [], f"No item {item_id}."))
            continue
        try:
            with session.begin_nested():
                lifecycle.transition(
                    session, item_id, decision, actor_id=reviewer_id, reason=comment or "review"
                )
                session.add(
                    Review(
                        item_id=item_id,
                        reviewer_id=reviewer_id,
                        decision=decision,
                        comment=comment,
                    )
                )
                session.flush()
        except IllegalTransition as error:
            result.refused.append(
                Refusal(item_id, error.current, [str(s) for s in error.allowed], error.message)
            )
            continue
        result.decided.append(item_id)
    return result


@dataclass
class Batch:
    """One batch of a decision on a filter."""

    decision: str
    decided: list[int] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)
    """Items left as they were, per current state (their state does not allow the decision)."""
    next_after: int | None = None
    """The cursor to pass as ``after_id`` for the next batch; None when none is left."""


def decide_matching(
    session: Session,
    *,
    project_id: int,
    matching: ItemFilter,
    decision: str,
    reviewer_id: int,
    comment: str | None = None,
    after_id: int | None = None,
    expected: int | None = None,
    batch: int = BATCH,
) -> Batch:
    """Decide the next ``batch`` items matching the filter after ``after_id`` (see the module
    docstring). ``expected``, on the first batch, is how many items the reviewer saw match:
    when the filter matches another number now, ``Conflict`` and nothing is decided."""
    if expected is not None and after_id is None:
        now = items.count_items(session, project_id, **matching.arguments())  # type: ignore[arg-type]
        if now != expected:
            raise Conflict(
                f"The selection is stale: the filter matched {expected:,} items when they were "
                f"selected and matches {now:,} now. Look at the grid again and select again "
                "(at $.expected)"
            )
    page = items.list_items(
        session,
        project_id,
        **matching.arguments(),  # type: ignore[arg-type]
        after_id=after_id,
        limit=batch,
    )
    result = Batch(decision=decision)
    if not page:
        return result
    outcome = decide(
        session,
        item_ids=[i.id for i in page],  # type: ignore[misc]
        decision=decision,
        reviewer_id=reviewer_id,
        comment=comment,
        project_id=project_id,
    )
    result.decided = outcome.decided
    for refusal in outcome.refused:
        state = refusal.current or "missing"
        result.refused[state] = result.refused.get(state, 0) + 1
    result.next_after = page[-1].id if len(page) == batch else None
    return result


def history(session: Session, item_id: int) -> list[Review]:
    """Every review decision on the item with its comment, oldest first: what the item page
    shows reviewers and the dataset's provenance carries."""
    return list(
        session.exec(select(Review).where(col(Review.item_id) == item_id).order_by(col(Review.id)))
    )
