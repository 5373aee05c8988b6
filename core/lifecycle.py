"""The item lifecycle: the one place where an item's state changes.

    unlabeled → in_progress → labeled | skipped → needs_review → approved | rejected
    approved | rejected → in_progress (reopened) or needs_review
    labeled | needs_review → adjudication → approved | rejected | needs_review

A reviewer may approve or reject a labeled item directly (reviewing it is what
``needs_review`` waits for). Every accepted transition writes an audit event; an illegal one
raises ``IllegalTransition`` naming the allowed states.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from . import audit, events
from .errors import IllegalTransition, NotFound
from .item_state import ItemState, allowed_transitions
from .models import AuditEvent, Item
from .models.types import utcnow

__all__ = [
    "LOCK",
    "Step",
    "advance",
    "lock",
    "lock_unless_busy",
    "transition",
]


_MOVE = (
    update(Item)
    .where(col(Item.id) == bindparam("item_id"), col(Item.status) == bindparam("current"))
    .values(status=bindparam("to_state"), updated_at=bindparam("at"))
)
"""Conditional on the state that was read (built once: every label submission runs it)."""


LOCK = (
    select(Item)
    .where(col(Item.id) == bindparam("item_id"))
    .with_for_update(of=Item)
    .execution_options(populate_existing=True)
)
"""The item, its row locked to the end of the unit of work (built once)."""
_LOCK_UNLESS_BUSY = LOCK.with_for_update(of=Item, skip_locked=True)


def lock(session: Session, item_id: int) -> Item:
    """The item, read afresh with its row locked until the unit of work ends.

    Every write that changes an item's labels or state takes this first, so such writes on
    one item run one after another and each sees what the previous one committed: two
    annotators' labels are settled together, a replay finds its original. PostgreSQL locks
    the row (``SELECT … FOR UPDATE``; READ COMMITTED reads afresh after the wait); SQLite has
    nothing to add, its writers already hold the database's one write lock
    (``BEGIN IMMEDIATE``, see ``db``)."""
    item = session.exec(LOCK, params={"item_id": item_id}).first()
    if item is None:
        raise NotFound("item", item_id)
    return item


def lock_unless_busy(session: Session, item_id: int) -> Item | None:
    """``lock``, or None at once if another unit of work holds the item's lock (PostgreSQL's
    ``SKIP LOCKED``): for work that can take another item instead of waiting, such as a
    claim, which would otherwise wait on items in an order others may not share."""
    found: Item | None = session.exec(_LOCK_UNLESS_BUSY, params={"item_id": item_id}).first()
    return found


@dataclass(frozen=True)
class Step:
    """One move of ``advance``: the state, who made it (None: the system) and why."""

    to: str
    actor_id: int | None
    reason: str | None = None


def transition(
    session: Session,
    item_id: int,
    to: str,
    *,
    actor_id: int | None,
    reason: str | None = None,
) -> AuditEvent:
    """Move item ``item_id`` to state ``to``, or raise ``IllegalTransition``.

    The update is conditional on the state that was read, so two concurrent transitions
    cannot both succeed from the same state: the loser is refused like any illegal move.
    """
    return advance(session, item_id, [Step(to, actor_id, reason)])[0]


def advance(session: Session, item_id: int, steps: Sequence[Step]) -> list[AuditEvent]:
    """``transition`` through ``steps`` in order, each checked as its own move and audited
    as its own event, written as one update of the item and one insert of the events (an
    item's first label takes it from unlabeled through in_progress to labeled)."""
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound("item", item_id)
    current = state = item.status
    moves: list[tuple[str, ItemState, Step]] = []
    for step in steps:
        try:
            target = ItemState(step.to)
        except ValueError:
            raise IllegalTransition(item_id, state, step.to, allowed_transitions(state)) from None
        allowed = allowed_transitions(state)
        if target not in allowed:
            raise IllegalTransition(item_id, state, target, allowed)
        moves.append((state, target, step))
        state = target
    if not moves:
        return []
    now = utcnow()
    if session.new or session.dirty:
        session.flush()  # what the ORM holds goes first, as an autoflush would
    # On the connection: a Core UPDATE skips the ORM's bulk-update machinery (the loaded item
    # is brought up to date below).
    result = session.connection().execute(
        _MOVE, {"item_id": item_id, "current": current, "to_state": state, "at": now}
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(item)
        target = moves[0][1]
        raise IllegalTransition(item_id, item.status, target, allowed_transitions(item.status))
    # What the UPDATE wrote, without reading the row back.
    set_committed_value(item, "status", state)
    set_committed_value(item, "updated_at", now)
    written = audit.record_many(
        session,
        [
            audit.Entry(
                actor_id=step.actor_id,
                project_id=item.project_id,
                entity="item",
                entity_id=item_id,
                action="transition",
                from_state=from_state,
                to_state=target.value,
                reason=step.reason,
            )
            for from_state, target, step in moves
        ],
    )
    for from_state, target, step in moves:
        events.emit(
            session,
            events.Event(
                kind="item.transitioned",
                project_id=item.project_id,
                entity_id=str(item_id),
                actor_id=step.actor_id,
                data={"from": from_state, "to": target.value, "reason": step.reason},
            ),
        )
    return written
