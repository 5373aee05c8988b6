"""Annotators' queues: items reach annotators through assignment slots.

A slot is claimed with a conditional UPDATE (``WHERE annotator_id IS NULL``, or the holder's
lease ran out), so two annotators can never hold the same slot, whatever the timing. An
annotator holds at most one slot per item, so with overlap N an item is labeled by N different
people.

Each annotator's queue is a seeded shuffle: open slots come in the order of a keyed hash of the
item id under a secret seed of theirs (``QueueSeed``), computed in SQL, stable across reloads.
Gold items are not claimed from open slots: among an annotator's new claims, a share
(``gold_rate``) is drawn at random (``secrets``) from the gold items they have never held, and
the gold item gets a new slot for them. Since production ids come in an order the annotator
cannot predict, a gold item's id does not stand out in it. Nothing else of this shows to the
annotator: what they see of an item's status is their own slot's (``MINE``).

A claim is a lease (``claims.lease_minutes``, from ``claimed_at``): an unsubmitted slot whose
lease ran out counts as open in the claim queries themselves, so no sweeper is needed;
opening the item renews it (``slots.renew``). The holder's late submit is taken while the slot is
still theirs; once another annotator took it, it is refused (``ensure_slot``).

Before anything else, the annotator's standing is checked: a suspended annotator, or one
who has not passed a required calibration, gets no production items (``PermissionDenied``
with the reason; calibration items are served instead while an attempt is open).
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    literal_column,
    or_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from . import calibration, lifecycle, limits, slots, standing, uncertainty
from .errors import Conflict, IllegalTransition, NotFound, PermissionDenied
from .item_state import ItemState
from .models import (
    Assignment,
    Item,
    Model,
    ModelStatus,
    Project,
    QueueSeed,
    Suggestion,
    SuggestionStatus,
)
from .models.types import utcnow
from .project_settings import settings_of

__all__ = [
    "MINE",
    "QUEUE_FILTERS",
    "QueueEntry",
    "claim_next",
    "claim_slot",
    "ensure_slot",
    "my_queue",
    "my_queue_counts",
    "my_status",
    "my_statuses",
    "refuse_suspended",
    "reserve",
    "skip",
]

OPEN_STATES = (ItemState.unlabeled, ItemState.in_progress)
SKIPPED = "skipped"
"""``void_reason`` of a gold slot its annotator passed on (a gold item's state never moves
for one annotator)."""
MINE = ("todo", "done", "skipped")
"""What an annotator sees of an item's status: their own slot's, never the item's lifecycle
state (which would tell a gold item, whose state annotators never move, from the others)."""

_random = secrets.SystemRandom()


@dataclass(frozen=True)
class QueueEntry:
    item: Item
    assignment: Assignment


# --- the seeded shuffle -----------------------------------------------------------------------

_PRIME = 2_147_483_647
"""2**31 - 1: every step stays below 2**62, in the 64-bit integers of SQLite and PostgreSQL."""
_ORDER_KEYS = ("s1", "a1", "s2", "a2", "s3", "a3")


def _round(value: Any, add: str, times: str) -> Any:
    return (
        (value + bindparam(add, type_=BigInteger)) * bindparam(times, type_=BigInteger)
    ) % literal(_PRIME, BigInteger)


def _xorshift(value: Any, bits: int) -> Any:
    """``value XOR (value >> bits)``, written with ``|``, ``&`` and ``-`` (SQLite has no XOR)."""
    shifted = value.op(">>")(literal_column(str(int(bits))))  # PostgreSQL: bigint >> int
    return value.op("|")(shifted) - value.op("&")(shifted)


def _shuffle_key(item_id: Any) -> Any:
    """A keyed hash of the item id (three multiply-mod-prime rounds with xorshifts between,
    keyed by the annotator's ``_ORDER_KEYS``): not linear in the id, so the order of the ids
    an annotator has seen says nothing of the next one."""
    value = _round(cast(item_id, BigInteger), "s1", "a1")
    value = _round(_xorshift(value, 13), "s2", "a2")
    return _round(_xorshift(value, 11), "s3", "a3")


_SHUFFLED = _shuffle_key(col(Item.id))
_SEED = select(QueueSeed.seed).where(
    col(QueueSeed.project_id) == bindparam("project_id"),
    col(QueueSeed.annotator_id) == bindparam("annotator_id"),
)


def _order_keys(seed: int) -> dict[str, int]:
    """The hash's keys, 30 bits each, from the annotator's seed (multipliers odd, non-zero)."""
    digest = hashlib.sha256(seed.to_bytes(8, "big", signed=True)).digest()
    values = [int.from_bytes(digest[4 * n : 4 * n + 4], "big") >> 2 for n in range(6)]
    return {k: v | 1 if k.startswith("a") else v for k, v in zip(_ORDER_KEYS, values, strict=True)}


def _queue_order(session: Session, project_id: int, annotator_id: int) -> dict[str, int]:
    """The annotator's shuffle keys in the project, their seed drawn on first use (a
    concurrent first use by another request of theirs wins, and both then use its seed)."""
    params = {"project_id": project_id, "annotator_id": annotator_id}
    seed = session.exec(_SEED, params=params).first()  # type: ignore[call-overload]
    if seed is None:
        with contextlib.suppress(IntegrityError), session.begin_nested():
            session.connection().execute(
                insert(QueueSeed).values(
                    project_id=project_id, annotator_id=annotator_id, seed=_random.getrandbits(62)
                )
            )
        seed = session.exec(_SEED, params=params).one()  # type: ignore[call-overload]
    return _order_keys(int(seed))


_CANDIDATE_FILTER = and_(
    col(Item.project_id) == bindparam("project_id"),
    slots.OPEN,
    col(Item.status).in_(OPEN_STATES),
    col(Item.is_gold).is_(False),
    col(Item.id).not_in(
        select(Assignment.item_id).where(col(Assignment.annotator_id) == bindparam("annotator_id"))
    ),
)
_LOCKED = (Assignment, Item)
"""The candidates' rows are locked as they are read, and rows another claim holds are passed
over (``SKIP LOCKED``; SQLite writes one at a time and needs none): every annotator goes
through the items in an order of their own, and a claim that waited for a row another held
could wait in a circle (a deadlock) where everyone went in id order before."""
_CANDIDATES = (
    select(Assignment, Item)
    .join(Item, col(Item.id) == col(Assignment.item_id))
    .where(_CANDIDATE_FILTER)
    .order_by(_SHUFFLED, col(Item.id), col(Assignment.slot))
    .limit(5)
    .with_for_update(skip_locked=True, of=_LOCKED)
)
_UNCERTAIN_FIRST = {
    order: (
        select(Assignment, Item)
        .join(Item, col(Item.id) == col(Assignment.item_id))
        .outerjoin(
            Suggestion,
            and_(
                col(Suggestion.item_id) == col(Item.id),
                col(Suggestion.model_id) == bindparam("model_id"),
                col(Suggestion.status) != SuggestionStatus.superseded,
            ),
        )
        .where(_CANDIDATE_FILTER)
        .order_by(
            getattr(Suggestion, order).desc().nulls_last(),
            _SHUFFLED,
            col(Item.id),
            col(Assignment.slot),
        )
        .limit(5)
        .with_for_update(skip_locked=True, of=_LOCKED)
    )
    for order in uncertainty.MEASURES
}
"""Active learning: the items the active model is least sure of first, by each measure;
items it has not been asked about come after, in the annotator's shuffled order."""
_NEVER_HELD_GOLD = and_(
    col(Item.project_id) == bindparam("project_id"),
    col(Item.is_gold).is_(True),
    col(Item.id).not_in(
        select(Assignment.item_id).where(col(Assignment.annotator_id) == bindparam("annotator_id"))
    ),
)
_GOLD_COUNT = select(func.count()).select_from(Item).where(_NEVER_HELD_GOLD)
_GOLD_AT = (
    select(Item).where(_NEVER_HELD_GOLD).order_by(col(Item.id)).offset(bindparam("offset")).limit(1)
)
_WAITING = and_(
    col(Assignment.submitted_at).is_(None),
    col(Assignment.voided_at).is_(None),
    or_(col(Item.is_gold).is_(True), col(Item.status).in_(OPEN_STATES)),
)
"""A slot of the annotator's still to label (a gold item's state says nothing: it never moves
for annotators)."""
_HELD = (
    select(Item)
    .join(Assignment, col(Assignment.item_id) == col(Item.id))
    .where(
        col(Item.project_id) == bindparam("project_id"),
        col(Assignment.annotator_id) == bindparam("annotator_id"),
        _WAITING,
    )
    .order_by(col(Item.id))
    .limit(1)
)
_OPEN_SLOTS = (
    select(Assignment)
    .where(col(Assignment.item_id) == bindparam("item_id"), slots.OPEN)
    .order_by(case((col(Assignment.annotator_id).is_(None), 0), else_=1), col(Assignment.slot))
)
"""An item's open slots, unheld ones first: a label posted without a claim takes one."""


def _start(session: Session, item: Item, annotator_id: int) -> None:
    if item.status != ItemState.unlabeled or item.id is None or item.is_gold:
        return
    # Another annotator's claim on another slot may have started it already.
    with contextlib.suppress(IllegalTransition):
        lifecycle.transition(
            session, item.id, ItemState.in_progress, actor_id=annotator_id, reason="claimed"
        )


def _draw_gold(session: Session, project_id: int, annotator_id: int) -> Item | None:
    """A gold item the annotator never held, chosen at random, with a new slot of theirs."""
    params = {"project_id": project_id, "annotator_id": annotator_id}
    available = session.exec(_GOLD_COUNT, params=params).one()  # type: ignore[call-overload]
    if not available:
        return None
    offset = _random.randrange(int(available))
    item = session.exec(_GOLD_AT, params={**params, "offset": offset}).first()
    if item is None or item.id is None:  # unmarked meanwhile
        return None
    slots.add_slot(session, item.id, annotator_id)
    return item


def _ordering(session: Session, project: Project) -> tuple[Any, dict[str, Any]]:
    """The candidates' statement for the project's queue order, and its extra parameters."""
    order = settings_of(project).suggestions.order
    if order == "default":
        return _CANDIDATES, {}
    model_id = session.exec(
        select(Model.id)
        .where(col(Model.project_id) == project.id, col(Model.status) == ModelStatus.active)
        .order_by(col(Model.id))
        .limit(1)
    ).first()
    if model_id is None:  # no active model: nothing to be uncertain about
        return _CANDIDATES, {}
    return _UNCERTAIN_FIRST[order], {"model_id": model_id}


def _claim_open(session: Session, project: Project, annotator_id: int) -> Item | None:
    """Claim one more open slot (in the project's queue order); None when there is none."""
    assert project.id is not None
    statement, extra = _ordering(session, project)
    expired_before = slots.expired_before_of(project)
    params = {
        "project_id": project.id,
        "annotator_id": annotator_id,
        "expired_before": expired_before,
        **_queue_order(session, project.id, annotator_id),
        **extra,
    }
    for _ in range(20):  # a few retries when others win the race for the same slots
        candidates = session.exec(statement, params=params).all()
        if not candidates:
            return None
        for assignment, item in candidates:
            # _start moves an unlabeled item: its lock first, then the slot, as submit does
            # (no deadlock); one busy with another write is passed over, never waited on.
            if item.status == ItemState.unlabeled and (
                lifecycle.lock_unless_busy(session, item.id) is None  # type: ignore[arg-type]
            ):
                continue
            if slots.try_claim(session, assignment.id, annotator_id, expired_before):  # type: ignore[arg-type]
                _start(session, item, annotator_id)
                session.refresh(item)
                claimed: Item = item
                return claimed
    return None


def _claim_new(session: Session, project: Project, annotator_id: int) -> Item | None:
    """One new item: a gold item at the project's gold rate, else the next open slot. With no
    production work left the queue is empty (it never ends on a run of gold items)."""
    assert project.id is not None
    rate = settings_of(project).gold_rate
    if rate > 0 and _random.random() < rate:
        drawn = _draw_gold(session, project.id, annotator_id)
        if drawn is not None:
            return drawn
    return _claim_open(session, project, annotator_id)


def _project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound("project", project_id)
    return project


def _check_standing(session: Session, project: Project, annotator_id: int) -> None:
    """Refuse production work to a suspended annotator, saying why."""
    assert project.id is not None
    refuse_suspended(session, project.id, annotator_id)


def claim_next(session: Session, project_id: int, annotator_id: int) -> Item | None:
    """The annotator's next item: during calibration the next calibration item; else an open
    slot of theirs not yet submitted, else a newly claimed one; None when the queue is empty.
    ``PermissionDenied`` (with the reason) for a suspended annotator, or one who may not have
    production items before passing calibration."""
    project = _project(session, project_id)
    _check_standing(session, project, annotator_id)
    step = calibration.next_step(session, project, annotator_id)
    if step.item is not None:
        ensure_slot(session, step.item, annotator_id)
        return step.item
    if not step.production:
        raise PermissionDenied(step.message)
    held = session.exec(
        _HELD, params={"project_id": project_id, "annotator_id": annotator_id}
    ).first()
    if held is None:
        return _claim_new(session, project, annotator_id)
    assert held.id is not None
    slots.renew(session, held.id, annotator_id)  # taken up again: the lease starts over
    return held


def reserve(session: Session, project_id: int, annotator_id: int, ahead: int) -> None:
    """Hold up to ``ahead`` open slots beyond the current one, so the page can link straight
    to the next item and preload its image (claims stay atomic, one slot at a time). This is
    where gold items are drawn into the queue, ahead of the request that shows them.

    Nothing is reserved for a suspended annotator or during calibration."""
    project = _project(session, project_id)
    if standing.is_suspended(session, project_id, annotator_id) is not None:
        return
    if not calibration.next_step(session, project, annotator_id).production:
        return
    waiting = session.exec(
        select(Assignment.id)
        .join(Item, col(Item.id) == col(Assignment.item_id))
        .where(
            col(Item.project_id) == project_id,
            col(Assignment.annotator_id) == annotator_id,
            _WAITING,
        )
    ).all()
    for _ in range(max(0, ahead + 1 - len(waiting))):
        if _claim_new(session, project, annotator_id) is None:
            return


def ensure_slot(session: Session, item: Item, annotator_id: int) -> Assignment:
    """The annotator's slot on ``item``, claiming an open one if they hold none.
    ``PermissionDenied`` for an annotator suspended from the item's project (no labeling by
    URL around the empty queue)."""
    refuse_suspended(session, item.project_id, annotator_id)
    mine = slots.slot_of(session, item.id, annotator_id)  # type: ignore[arg-type]
    return mine if mine is not None else claim_slot(session, item, annotator_id)


def refuse_suspended(session: Session, project_id: int, annotator_id: int) -> None:
    """``PermissionDenied`` saying why, for an annotator suspended from the project."""
    suspension = standing.is_suspended(session, project_id, annotator_id)
    if suspension is not None:
        raise PermissionDenied(standing.refusal(suspension))


def claim_slot(
    session: Session,
    item: Item,
    annotator_id: int,
    *,
    submitted: bool = False,
    unheld: Assignment | None = None,
) -> Assignment:
    """Claim an open slot on ``item`` for an annotator who holds none there and is not
    suspended (the caller checked both); ``submitted``: the label comes with the claim, so
    the slot is claimed and submitted in one write; ``unheld``: a slot nobody held when the
    caller read it, tried before the open slots are read. ``Conflict`` when every slot is
    taken."""
    if not calibration.serves(session, item, annotator_id):
        project = _project(session, item.project_id)
        refusal = calibration.production_refusal(session, project, annotator_id)
        if refusal is not None:  # no production item by URL around calibration
            raise PermissionDenied(refusal)
    project = _project(session, item.project_id)
    expired_before = slots.expired_before_of(project)
    claim = slots.claim_submitted if submitted else slots.try_claim

    def claimed(slot: Assignment) -> bool:
        at = claim(session, slot.id, annotator_id, expired_before)  # type: ignore[arg-type]
        if at is not None:  # what the claim wrote, without reading the row back
            set_committed_value(slot, "annotator_id", annotator_id)
            set_committed_value(slot, "claimed_at", at)
            if submitted:
                set_committed_value(slot, "submitted_at", at)
        return at is not None

    if unheld is not None and claimed(unheld):
        return unheld
    if submitted:
        # The caller read its slots beside the item, and that read may be older than the
        # item's lock (on PostgreSQL a locking read keeps its statement's snapshot): the
        # annotator's own claim of this item (the labeling page takes the item up as the label
        # is posted) may have come in meanwhile.
        mine = slots.slot_of(session, item.id, annotator_id)  # type: ignore[arg-type]
        if mine is not None:
            return mine
    for slot in session.exec(
        _OPEN_SLOTS, params={"item_id": item.id, "expired_before": expired_before}
    ).all():
        if claimed(slot):
            return slot
    if item.is_gold and calibration.serves(session, item, annotator_id):
        assert item.id is not None
        return slots.add_slot(session, item.id, annotator_id)
    lease = settings_of(project).claims.lease_minutes
    raise Conflict(
        f"Item {item.id} is already assigned to other annotators (all its slots are taken; "
        f"a claim not submitted within {lease} minutes goes back to the pool, where someone "
        "else may take it). Nothing was saved: take the next item from your queue instead."
    )


QUEUE_FILTERS = ("all", "todo", "done", "skipped")
"""What the queue panel can show: every item I hold a slot on, those still to label (my slot
not submitted, the item open), those I submitted, and those I skipped."""

_SKIPPED_MINE = or_(
    col(Assignment.void_reason) == SKIPPED,
    and_(
        col(Item.is_gold).is_(False),
        col(Assignment.submitted_at).is_(None),
        col(Item.status) == ItemState.skipped,
    ),
)


def _queue_filter(show: str) -> list[ColumnElement[bool]]:
    if show == "all":
        return []
    if show == "todo":
        return [_WAITING]
    if show == "done":
        return [col(Assignment.submitted_at).is_not(None)]
    if show == "skipped":
        return [_SKIPPED_MINE]
    raise ValueError(f"Unknown queue filter {show!r}; use one of {', '.join(QUEUE_FILTERS)}.")


def my_status(item: Item, slot: Assignment | None) -> str:
    """The item's status as its annotator sees it (one of ``MINE``), from their own slot."""
    if slot is None:
        return "skipped" if item.status == ItemState.skipped and not item.is_gold else "todo"
    if slot.submitted_at is not None:
        return "done"
    if slot.void_reason == SKIPPED or (item.status == ItemState.skipped and not item.is_gold):
        return "skipped"
    return "todo"


def my_statuses(session: Session, items: list[Item], annotator_id: int) -> dict[int, str]:
    """``my_status`` of each of ``items`` (one query for their slots)."""
    ids = [i.id for i in items if i.id is not None]
    slots = {
        s.item_id: s
        for s in session.exec(
            select(Assignment).where(
                col(Assignment.item_id).in_(ids), col(Assignment.annotator_id) == annotator_id
            )
        )
    }
    return {i.id: my_status(i, slots.get(i.id)) for i in items if i.id is not None}


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


_VOID_SKIPPED = (
    update(Assignment)
    .where(col(Assignment.id) == bindparam("assignment_id"), col(Assignment.submitted_at).is_(None))
    .values(voided_at=bindparam("at"), void_reason=SKIPPED)
)


def _held(session: Session, item: Item, annotator_id: int) -> Assignment:
    """The annotator's own live slot on ``item``; ``Conflict`` when they hold none (only the
    holder of a slot may pass on it: nobody takes items out of other queues)."""
    suspension = standing.is_suspended(session, item.project_id, annotator_id)
    if suspension is not None:
        raise PermissionDenied(standing.refusal(suspension))
    mine = slots.slot_of(session, item.id, annotator_id)  # type: ignore[arg-type]
    if mine is None or mine.voided_at is not None:
        raise Conflict(
            f"You do not hold item {item.id}: only an item from your own queue can be "
            "skipped. Take the next item from your queue instead."
        )
    return mine


def skip(session: Session, item: Item, annotator_id: int, reason: str | None = None) -> None:
    """The annotator passes on an item they hold: it becomes ``skipped`` for review. On a gold
    item only their own slot is set aside (its state is the same for everyone)."""
    limits.check(reason, "$.reason", limits.TEXT_MAX)
    assert item.id is not None
    lifecycle.lock(session, item.id)  # state moves under the item's lock (refreshes ``item``)
    if calibration.serves(session, item, annotator_id):
        raise Conflict(
            "Calibration items cannot be skipped: give your best answer, the results page "
            "explains each one once the set is done."
        )
    slot = _held(session, item, annotator_id)
    if item.is_gold:
        session.connection().execute(_VOID_SKIPPED, {"assignment_id": slot.id, "at": utcnow()})
        session.refresh(slot)
        return
    _start(session, item, annotator_id)
    session.refresh(item)
    lifecycle.transition(
        session,
        item.id,
        ItemState.skipped,
        actor_id=annotator_id,
        reason=reason or "skipped",  # type: ignore[arg-type]
    )
