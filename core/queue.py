"""Annotators' queues: items reach annotators through assignment slots.

A slot is claimed with a conditional UPDATE (``WHERE annotator_id IS NULL``), so two
annotators can never hold the same slot, whatever the timing. An annotator holds at most one
slot per item, so with overlap N an item is labeled by N different people.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, bindparam, case, func, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from . import lifecycle
from .errors import Conflict, IllegalTransition
from .lifecycle import ItemState
from .models import Assignment, Item
from .models.types import utcnow

__all__ = [
    "QUEUE_FILTERS",
    "QueueEntry",
    "claim_next",
    "ensure_slot",
    "mark_submitted",
    "my_queue",
    "my_queue_counts",
    "reserve",
    "skip",
]

OPEN_STATES = (ItemState.unlabeled, ItemState.in_progress)


@dataclass(frozen=True)
class QueueEntry:
    item: Item
    assignment: Assignment


# Claiming and submitting are the hot paths: their statements are built once.
_CLAIM = (
    update(Assignment)
    .where(col(Assignment.id) == bindparam("assignment_id"), col(Assignment.annotator_id).is_(None))
    .values(annotator_id=bindparam("annotator_id"), claimed_at=bindparam("at"))
)
"""Conditional on the slot being open: of two annotators racing for it, one wins."""
_CANDIDATES = (
    select(Assignment, Item)
    .join(Item, col(Item.id) == col(Assignment.item_id))
    .where(
        col(Item.project_id) == bindparam("project_id"),
        col(Assignment.annotator_id).is_(None),
        col(Item.status).in_(OPEN_STATES),
        col(Item.id).not_in(
            select(Assignment.item_id).where(
                col(Assignment.annotator_id) == bindparam("annotator_id")
            )
        ),
    )
    .order_by(col(Item.id), col(Assignment.slot))
    .limit(5)
)
_HELD = (
    select(Item)
    .join(Assignment, col(Assignment.item_id) == col(Item.id))
    .where(
        col(Item.project_id) == bindparam("project_id"),
        col(Assignment.annotator_id) == bindparam("annotator_id"),
        col(Assignment.submitted_at).is_(None),
        col(Item.status).in_(OPEN_STATES),
    )
    .order_by(col(Item.id))
    .limit(1)
)
_MINE = select(Assignment).where(
    col(Assignment.item_id) == bindparam("item_id"),
    col(Assignment.annotator_id) == bindparam("annotator_id"),
)
_SUBMITTED = (
    update(Assignment)
    .where(col(Assignment.id) == bindparam("assignment_id"))
    .values(submitted_at=bindparam("at"))
)


def _try_claim(session: Session, assignment_id: int, annotator_id: int) -> bool:
    result = session.connection().execute(
        _CLAIM, {"assignment_id": assignment_id, "annotator_id": annotator_id, "at": utcnow()}
    )
    return result.rowcount == 1


def _start(session: Session, item: Item, annotator_id: int) -> None:
    if item.status != ItemState.unlabeled or item.id is None:
        return
    # Another annotator's claim on another slot may have started it already.
    with contextlib.suppress(IllegalTransition):
        lifecycle.transition(
            session, item.id, ItemState.in_progress, actor_id=annotator_id, reason="claimed"
        )


def _claim_new(session: Session, project_id: int, annotator_id: int) -> Item | None:
    """Claim one more open slot (lowest item id first); None when there is none."""
    for _ in range(20):  # a few retries when others win the race for the same slots
        candidates = session.exec(
            _CANDIDATES, params={"project_id": project_id, "annotator_id": annotator_id}
        ).all()
        if not candidates:
            return None
        for assignment, item in candidates:
            if _try_claim(session, assignment.id, annotator_id):  # type: ignore[arg-type]
                _start(session, item, annotator_id)
                session.refresh(item)
                return item
    return None


def claim_next(session: Session, project_id: int, annotator_id: int) -> Item | None:
    """The annotator's next item: an open slot of theirs not yet submitted, else a newly
    claimed one (lowest item id first); None when the queue is empty."""
    held = session.exec(
        _HELD, params={"project_id": project_id, "annotator_id": annotator_id}
    ).first()
    return held if held is not None else _claim_new(session, project_id, annotator_id)


def reserve(session: Session, project_id: int, annotator_id: int, ahead: int) -> None:
    """Hold up to ``ahead`` open slots beyond the current one, so the page can link straight
    to the next item and preload its image (claims stay atomic, one slot at a time)."""
    waiting = session.exec(
        select(Assignment.id)
        .join(Item, col(Item.id) == col(Assignment.item_id))
        .where(
            col(Item.project_id) == project_id,
            col(Assignment.annotator_id) == annotator_id,
            col(Assignment.submitted_at).is_(None),
            col(Item.status).in_(OPEN_STATES),
        )
    ).all()
    for _ in range(max(0, ahead + 1 - len(waiting))):
        if _claim_new(session, project_id, annotator_id) is None:
            return


def ensure_slot(session: Session, item: Item, annotator_id: int) -> Assignment:
    """The annotator's slot on ``item``, claiming an open one if they hold none."""
    mine = session.exec(_MINE, params={"item_id": item.id, "annotator_id": annotator_id}).first()
    if mine is not None:
        return mine
    open_slots = session.exec(
        select(Assignment)
        .where(col(Assignment.item_id) == item.id, col(Assignment.annotator_id).is_(None))
        .order_by(col(Assignment.slot))
    ).all()
    for slot in open_slots:
        if _try_claim(session, slot.id, annotator_id):  # type: ignore[arg-type]
            session.refresh(slot)
            return slot
    raise Conflict(
        f"Item {item.id} is already assigned to other annotators (all its slots are taken); "
        "take the next item from your queue instead."
    )


def mark_submitted(session: Session, assignment: Assignment) -> None:
    if assignment.submitted_at is None:
        now = utcnow()
        session.connection().execute(_SUBMITTED, {"assignment_id": assignment.id, "at": now})
        set_committed_value(assignment, "submitted_at", now)


QUEUE_FILTERS = ("all", "todo", "done", "skipped")
"""What the queue panel can show: every item I hold a slot on, those still to label (my slot
not submitted, the item open), those I submitted, and those skipped."""


def _queue_filter(show: str) -> list[ColumnElement[bool]]:
    if show == "all":
        return []
    if show == "todo":
        return [col(Assignment.submitted_at).is_(None), col(Item.status).in_(OPEN_STATES)]
    if show == "done":
        return [col(Assignment.submitted_at).is_not(None)]
    if show == "skipped":
        return [col(Item.status) == ItemState.skipped]
    raise ValueError(f"Unknown queue filter {show!r}; use one of {', '.join(QUEUE_FILTERS)}.")


def my_queue(
    session: Session,
    project_id: int,
    annotator_id: int,
    around: int,
    *,
    before: int = 10,
    after: int = 20,
    show: str = "all",
) -> list[Item]:
    """A window of the items the annotator holds slots on, in id order, around item
    ``around``: what the queue panel lists (keyset reads, whatever the queue's length).
    ``show`` narrows it to one of ``QUEUE_FILTERS``; ``around`` need not be in the result."""
    held = (
        select(Item)
        .join(Assignment, col(Assignment.item_id) == col(Item.id))
        .where(
            col(Item.project_id) == project_id,
            col(Assignment.annotator_id) == annotator_id,
            *_queue_filter(show),
        )
    )
    earlier = session.exec(
        held.where(col(Item.id) < around).order_by(col(Item.id).desc()).limit(before)
    ).all()
    later = session.exec(
        held.where(col(Item.id) >= around).order_by(col(Item.id)).limit(after + 1)
    ).all()
    return [*reversed(earlier), *later]


def my_queue_counts(session: Session, project_id: int, annotator_id: int) -> dict[str, int]:
    """How many of the annotator's items each of ``QUEUE_FILTERS`` holds (one query)."""

    def count(show: str) -> ColumnElement[int]:
        conditions = _queue_filter(show)
        return func.count(case((and_(*conditions), 1))) if conditions else func.count()

    row = session.execute(
        select(*(count(show) for show in QUEUE_FILTERS))
        .select_from(Assignment)
        .join(Item, col(Item.id) == col(Assignment.item_id))
        .where(col(Item.project_id) == project_id, col(Assignment.annotator_id) == annotator_id)
    ).one()
    return dict(zip(QUEUE_FILTERS, row, strict=True))


def skip(session: Session, item: Item, annotator_id: int, reason: str | None = None) -> None:
    """The annotator passes on an item they hold: it becomes ``skipped`` for review."""
    assert item.id is not None
    ensure_slot(session, item, annotator_id)
    _start(session, item, annotator_id)
    session.refresh(item)
    lifecycle.transition(
        session,
        item.id,
        ItemState.skipped,
        actor_id=annotator_id,
        reason=reason or "skipped",  # type: ignore[arg-type]
    )
