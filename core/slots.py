"""Assignment slots: an item's places for annotators, and claiming one under a lease.

A slot is claimed with a conditional UPDATE (``WHERE annotator_id IS NULL``, or the holder's
lease ran out), so two annotators can never hold the same slot, whatever the timing. A claim is
a lease (``claims.lease_minutes``, from ``claimed_at``): an unsubmitted slot whose lease ran
out counts as open (``OPEN``), so no sweeper is needed; opening the item renews it.

Only the mechanics live here; who may claim what (standing, calibration, gold draws, the
order of a queue) is ``queue``'s, so the modules that only add or reopen a slot (standing,
consensus, annotations) need none of it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from .errors import Conflict
from .models import Assignment, Project
from .models.types import utcnow
from .project_settings import settings_of

__all__ = [
    "OPEN",
    "add_slot",
    "claim_submitted",
    "expired_before_of",
    "mark_submitted",
    "renew",
    "reopen",
    "slot_of",
    "try_claim",
]


OPEN = or_(
    col(Assignment.annotator_id).is_(None),
    and_(
        col(Assignment.submitted_at).is_(None),
        col(Assignment.voided_at).is_(None),
        col(Assignment.claimed_at) < bindparam("expired_before"),
    ),
)
"""A slot anyone may claim: no holder, or a holder whose lease ran out before submitting."""


def expired_before_of(project: Project) -> datetime:
    """Claims taken (or last renewed) before this have lapsed."""
    return utcnow() - timedelta(minutes=settings_of(project).claims.lease_minutes)


# Claiming and submitting are the hot paths: their statements are built once.
_CLAIM = (
    update(Assignment)
    .where(col(Assignment.id) == bindparam("assignment_id"), OPEN)
    .values(annotator_id=bindparam("annotator_id"), claimed_at=bindparam("at"))
)
"""Conditional on the slot being open (or lapsed): of two annotators racing for it, one wins."""
_CLAIM_SUBMITTED = _CLAIM.values(submitted_at=bindparam("at"))
_RENEW = (
    update(Assignment)
    .where(
        col(Assignment.item_id) == bindparam("renewed_item"),
        col(Assignment.annotator_id) == bindparam("renewed_by"),
        col(Assignment.submitted_at).is_(None),
        col(Assignment.voided_at).is_(None),
    )
    .values(claimed_at=bindparam("at"))
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
_NEXT_SLOT = select(func.coalesce(func.max(Assignment.slot), -1) + 1).where(
    col(Assignment.item_id) == bindparam("item_id")
)


def slot_of(session: Session, item_id: int, annotator_id: int) -> Assignment | None:
    """The annotator's slot on ``item_id``, if they hold one (live, submitted or voided)."""
    found: Assignment | None = session.exec(
        _MINE, params={"item_id": item_id, "annotator_id": annotator_id}
    ).first()
    return found


def try_claim(
    session: Session, assignment_id: int, annotator_id: int, expired_before: datetime
) -> datetime | None:
    """Claim the slot if it is still open (or its lease lapsed); the claim's time, or None
    when it was lost. A claim that would give the annotator a second slot on the same item
    (two tabs racing) is refused by the database and counts as lost."""
    at = utcnow()
    try:
        with session.begin_nested():
            result = session.connection().execute(
                _CLAIM,
                {
                    "assignment_id": assignment_id,
                    "annotator_id": annotator_id,
                    "at": at,
                    "expired_before": expired_before,
                },
            )
    except IntegrityError:
        return None
    return at if result.rowcount == 1 else None


def claim_submitted(
    session: Session, assignment_id: int, annotator_id: int, expired_before: datetime
) -> datetime | None:
    """``try_claim`` for a label posted without a claim: the slot claimed and submitted in
    one write, without the savepoint (which cost more than the write). The caller holds the
    item's lock; a claim of the same item racing it from the annotator's other tab is
    refused by the database, and then so is this label (``Conflict``; the unit of work rolls
    back)."""
    at = utcnow()
    try:
        result = session.connection().execute(
            _CLAIM_SUBMITTED,
            {
                "assignment_id": assignment_id,
                "annotator_id": annotator_id,
                "at": at,
                "expired_before": expired_before,
            },
        )
    except IntegrityError:
        raise Conflict(
            "You took this item in another tab a moment ago; nothing was saved here. Reload "
            "the page to label it there."
        ) from None
    return at if result.rowcount == 1 else None


def add_slot(session: Session, item_id: int, annotator_id: int | None = None) -> Assignment:
    """A new slot on ``item_id`` (held by ``annotator_id`` if given, else open): the next slot
    number, taken again if a concurrent insert got it first (slots are unique per item)."""
    for _ in range(20):
        number = session.exec(_NEXT_SLOT, params={"item_id": item_id}).one()  # type: ignore[call-overload]
        slot = Assignment(
            item_id=item_id,
            slot=int(number),
            annotator_id=annotator_id,
            claimed_at=utcnow() if annotator_id is not None else None,
        )
        try:
            with session.begin_nested():
                session.add(slot)
                session.flush()
        except IntegrityError:
            continue
        return slot
    raise Conflict(f"Could not add a slot to item {item_id}: too many at once; try again.")


def renew(session: Session, item_id: int, annotator_id: int) -> None:
    """The annotator is working on ``item_id``: their unsubmitted claim on it (if they still
    hold one) starts a new lease."""
    session.connection().execute(
        _RENEW, {"renewed_item": item_id, "renewed_by": annotator_id, "at": utcnow()}
    )


def mark_submitted(session: Session, assignment: Assignment) -> None:
    if assignment.submitted_at is None:
        now = utcnow()
        session.connection().execute(_SUBMITTED, {"assignment_id": assignment.id, "at": now})
        set_committed_value(assignment, "submitted_at", now)


def reopen(session: Session, item_id: int, annotator_id: int) -> None:
    """The annotator's slot on the item is theirs to do again: they took back their last label
    on it (undo, or a multi-label with every category unticked)."""
    slot = slot_of(session, item_id, annotator_id)
    if slot is not None and slot.submitted_at is not None:
        session.connection().execute(_SUBMITTED, {"assignment_id": slot.id, "at": None})
        set_committed_value(slot, "submitted_at", None)
