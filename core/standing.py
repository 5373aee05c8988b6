"""An annotator's standing in a project: suspended or not, and what suspending them undoes.

A suspension takes the annotator off the project's queue (their other projects are not
touched) and queues their recent work for re-annotation: each non-gold item they submitted
since ``since`` has their slot voided (the annotation stays, but no longer counts), gets a
new open slot for someone else, and goes back to ``in_progress`` through the lifecycle. An
item the lifecycle cannot move is reported in the audit event, never dropped silently. A
manager can lift the suspension; the row stays as history.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, update
from sqlmodel import Session, col, select

from . import audit, lifecycle, slots
from .errors import Conflict, IllegalTransition, NotFound
from .item_state import TRANSITIONS, ItemState
from .models import Assignment, Item, Suspension
from .models.types import utcnow

__all__ = [
    "ACTIVE",
    "Requeued",
    "is_suspended",
    "last_lifted",
    "lift",
    "refusal",
    "requeue",
    "suspend",
    "suspensions",
]

ACTIVE = and_(
    col(Suspension.annotator_id) == bindparam("annotator_id"),
    col(Suspension.lifted_at).is_(None),
)
"""The annotator's suspensions in force (which project's is the statement's to say)."""
_ACTIVE = select(Suspension).where(col(Suspension.project_id) == bindparam("project_id"), ACTIVE)


def is_suspended(session: Session, project_id: int, annotator_id: int) -> Suspension | None:
    """The annotator's active suspension in the project, if any."""
    return session.exec(
        _ACTIVE, params={"project_id": project_id, "annotator_id": annotator_id}
    ).first()


def refusal(suspension: Suspension) -> str:
    """What a suspended annotator is told when they ask for work: the numbers, in words that
    do not say which items were checked (nor what they are called inside)."""
    found = suspension.evidence
    why = suspension.reason
    if found.get("accuracy") is not None and found.get("wilson_interval"):
        low, high = found["wilson_interval"]
        why = (
            f"{found['accuracy']:.0%} of your last {found['count']} checked answers were "
            f"correct (95% Wilson interval {low:.0%}-{high:.0%}), below the project's "
            f"{found['threshold']:.0%}."
        )
    return (
        f"You are suspended from this project since {suspension.suspended_at:%Y-%m-%d %H:%M} "
        f"UTC: {why} Your other projects are not affected; a manager can lift the suspension."
    )


@dataclass
class Requeued:
    """What re-queueing an annotator's work did, item by item."""

    requeued: list[int] = field(default_factory=list)
    """Items back in ``in_progress`` with a fresh open slot."""
    unmoved: list[dict[str, Any]] = field(default_factory=list)
    """Items whose slot was voided and a fresh one added, but whose state the lifecycle would
    not move (item id, state, why)."""
    released: list[int] = field(default_factory=list)
    """Items the annotator held but had not submitted: their slot is open again."""


_DECISIONS = (ItemState.approved, ItemState.rejected)
"""Never passed through on the way back: re-queueing must not record a review decision."""


def _path_to_in_progress(state: str) -> list[ItemState]:
    """The shortest chain of allowed transitions from ``state`` to ``in_progress`` that
    passes through no review decision."""
    start = ItemState(state)
    if start == ItemState.in_progress:
        return []
    seen: dict[ItemState, list[ItemState]] = {start: [start]}
    todo: deque[ItemState] = deque([start])
    while todo:
        here = todo.popleft()
        for there in TRANSITIONS.get(here, ()):
            if there in seen or there in _DECISIONS:
                continue
            seen[there] = [*seen[here], there]
            if there == ItemState.in_progress:
                return seen[there][1:]
            todo.append(there)
    raise IllegalTransition(0, state, ItemState.in_progress, TRANSITIONS.get(start, ()))


_RELEASE = (
    update(Assignment)
    .where(col(Assignment.id) == bindparam("assignment_id"), col(Assignment.submitted_at).is_(None))
    .values(annotator_id=None, claimed_at=None)
)


def requeue(
    session: Session,
    project_id: int,
    annotator_id: int,
    since: datetime,
    *,
    reason: str,
    actor_id: int | None,
) -> Requeued:
    """Queue the annotator's non-gold work submitted since ``since`` for re-annotation, and
    open again the slots they hold but had not submitted (see the module docstring)."""
    done = Requeued()
    rows = session.exec(
        select(Assignment, Item)
        .join(Item, col(Item.id) == col(Assignment.item_id))
        .where(
            col(Item.project_id) == project_id,
            col(Assignment.annotator_id) == annotator_id,
            col(Assignment.voided_at).is_(None),
        )
        .order_by(col(Item.id))
    ).all()
    now = utcnow()
    for slot, item in rows:
        assert item.id is not None and slot.id is not None
        if slot.submitted_at is None:
            session.connection().execute(_RELEASE, {"assignment_id": slot.id})
            done.released.append(item.id)
            continue
        if item.is_gold or slot.submitted_at < since:
            continue
        slot.voided_at = now
        slot.void_reason = reason[:200]
        session.add(slot)
        session.flush()
        slots.add_slot(session, item.id)
        try:
            for step in _path_to_in_progress(item.status):
                lifecycle.transition(session, item.id, step, actor_id=actor_id, reason=reason)
        except IllegalTransition as error:
            done.unmoved.append({"item_id": item.id, "state": item.status, "why": error.message})
            continue
        done.requeued.append(item.id)
    return done


def suspend(
    session: Session,
    project_id: int,
    annotator_id: int,
    *,
    reason: str,
    evidence: dict[str, Any],
    since: datetime,
    actor_id: int | None = None,
) -> Suspension:
    """Suspend the annotator from the project and re-queue their work since ``since``."""
    if is_suspended(session, project_id, annotator_id) is not None:
        raise Conflict("This annotator is already suspended from the project.")
    suspension = Suspension(
        project_id=project_id,
        annotator_id=annotator_id,
        reason=reason,
        evidence=evidence,
        suspended_by=actor_id,
    )
    session.add(suspension)
    session.flush()
    work = requeue(
        session,
        project_id,
        annotator_id,
        since,
        reason=f"re-annotation: annotator suspended ({reason})",
        actor_id=actor_id,
    )
    audit.record(
        session,
        actor_id=actor_id,
        project_id=project_id,
        entity="suspension",
        entity_id=suspension.id,
        action="suspend",
        reason=reason,
        data={
            "annotator_id": annotator_id,
            "evidence": evidence,
            "since": since.isoformat(),
            "requeued": work.requeued,
            "unmoved": work.unmoved,
            "released": work.released,
        },
    )
    return suspension


def lift(session: Session, project_id: int, suspension_id: int, *, actor_id: int) -> Suspension:
    """End a suspension (a manager's call); the annotator gets work again."""
    suspension = session.get(Suspension, suspension_id)
    if suspension is None or suspension.project_id != project_id:
        raise NotFound("suspension", suspension_id)
    if suspension.lifted_at is not None:
        raise Conflict(f"Suspension {suspension_id} was lifted already.")
    suspension.lifted_at = utcnow()
    suspension.lifted_by = actor_id
    session.add(suspension)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        project_id=project_id,
        entity="suspension",
        entity_id=suspension_id,
        action="lift",
        data={"annotator_id": suspension.annotator_id},
    )
    return suspension


def suspensions(session: Session, project_id: int, *, active: bool = False) -> list[Suspension]:
    """The project's suspensions, newest first (only the active ones with ``active``)."""
    query = select(Suspension).where(col(Suspension.project_id) == project_id)
    if active:
        query = query.where(col(Suspension.lifted_at).is_(None))
    return list(session.exec(query.order_by(col(Suspension.id).desc())))


def last_lifted(session: Session, project_id: int, annotator_id: int) -> datetime | None:
    """When the annotator's latest suspension was lifted: rolling accuracy starts afresh."""
    return session.exec(
        select(Suspension.lifted_at)
        .where(
            col(Suspension.project_id) == project_id,
            col(Suspension.annotator_id) == annotator_id,
            col(Suspension.lifted_at).is_not(None),
        )
        .order_by(col(Suspension.lifted_at).desc())
        .limit(1)
    ).first()
