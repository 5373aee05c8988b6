"""Submitting annotations: validated by their plugin, stored immutably with full provenance.

A correction names the revision it corrects (``supersedes_id``). If that revision was already
corrected by someone else, the submission is refused as stale: nobody's work is overwritten.
Resubmitting with the same ``client_op_id`` returns the stored annotation (safe retries).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import and_, bindparam, delete, func, insert
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from . import (
    audit,
    consensus,
    events,
    gold,
    lifecycle,
    limits,
    queue,
    slots,
    standing,
    suggestions,
)
from .errors import Conflict, InvalidInput, NotFound, PermissionDenied
from .item_state import ItemState
from .models import (
    Annotation,
    AnnotationSource,
    Assignment,
    Confidence,
    GuidelineVersion,
    Item,
    ItemCategory,
    LabelSchemaVersion,
    Project,
    Suggestion,
    Suspension,
)
from .models.types import utcnow
from .payloads import decode_payload, enabled_type, validation_context
from .plugins import Plugins
from .project_settings import settings_of
from .revisions import current_annotations

__all__ = [
    "SubmitResult",
    "accept_suggestion",
    "record_adjudicated",
    "submit",
    "withdraw",
]


@dataclass(frozen=True)
class SubmitResult:
    annotation: Annotation
    created: bool
    """False when ``client_op_id`` matched an earlier submission (nothing new was written)."""


def _submit_read_statement() -> Any:
    """The item, its project, the current schema version (its snapshot of the categories is
    what validation needs), the current guideline's id and whether it has suggestions, in one
    read, which also locks the
    item's row (as ``lifecycle.lock`` does, without a round trip of its own): concurrent
    writes on one item run one after another, each seeing every label committed before it."""
    older = aliased(LabelSchemaVersion)
    latest_schema = (
        select(func.max(older.id))
        .where(older.project_id == col(Item.project_id))
        .correlate(Item)
        .scalar_subquery()
    )
    latest_guideline = (
        select(GuidelineVersion.id)
        .where(col(GuidelineVersion.project_id) == col(Item.project_id))
        .order_by(col(GuidelineVersion.version).desc())
        .limit(1)
        .correlate(Item)
        .scalar_subquery()
    )
    # Whether the item has a suggestion at all: most have none, and then the submission need
    # not look for the one it answers.
    suggested = (
        select(Suggestion.id)
        .where(col(Suggestion.item_id) == col(Item.id))
        .correlate(Item)
        .exists()
    )
    # The annotator's earlier submission of this op (a replay), whether they are suspended
    # from the project, and their slot on the item: each would be a statement of its own.
    earlier = (
        select(Annotation.id)
        .where(
            col(Annotation.annotator_id) == bindparam("annotator_id"),
            col(Annotation.client_op_id) == bindparam("client_op_id"),
        )
        .scalar_subquery()
    )
    suspended = (
        select(Suspension.id)
        .where(standing.ACTIVE, col(Suspension.project_id) == col(Item.project_id))
        .correlate(Item)
        .exists()
    )
    mine = aliased(Assignment)
    # A slot nobody holds (the first made), for a label posted without a claim.
    unheld = aliased(Assignment)
    first_unheld = (
        select(func.min(Assignment.id))
        .where(col(Assignment.item_id) == col(Item.id), col(Assignment.annotator_id).is_(None))
        .correlate(Item)
        .scalar_subquery()
    )
    return (  # SQLAlchemy's select: SQLModel's types stop at four columns
        sa_select(
            Item,
            Project,
            # The schema's columns, not a mapped object (building one costs more than reading).
            col(LabelSchemaVersion.schema_version),
            col(LabelSchemaVersion.labels_hash),
            col(LabelSchemaVersion.categories),
            latest_guideline,
            suggested,
            earlier,
            suspended,
            mine,
            unheld,
        )
        .join(Project, col(Project.id) == col(Item.project_id))
        .join(LabelSchemaVersion, col(LabelSchemaVersion.id) == latest_schema)
        .outerjoin(
            mine,
            and_(
                col(mine.item_id) == col(Item.id),
                col(mine.annotator_id) == bindparam("annotator_id"),
            ),
        )
        .outerjoin(unheld, col(unheld.id) == first_unheld)
        .where(col(Item.id) == bindparam("item_id"))
        .with_for_update(of=Item)
        .execution_options(populate_existing=True)
    )


# Submitting is the hot path: its statements are built once, with bound parameters, rather
# than on every call (building a statement costs more than SQLite running it).
_SUBMIT_READ = _submit_read_statement()
_BY_CLIENT_OP = select(Annotation).where(
    col(Annotation.annotator_id) == bindparam("annotator_id"),
    col(Annotation.client_op_id) == bindparam("client_op_id"),
)

_CLEAR_CATEGORIES = delete(ItemCategory).where(col(ItemCategory.item_id) == bindparam("item_id"))
_ADD_CATEGORY = insert(ItemCategory)
_INSERT = insert(Annotation)


def withdraw(
    session: Session,
    plugins: Plugins,
    *,
    annotation_id: uuid.UUID,
    actor_id: int,
    client_op_id: str | None = None,
) -> SubmitResult:
    """Take back an annotation (undo): a withdrawal revision supersedes it. With nothing
    current left on a labeled item, the item goes back to ``in_progress``."""
    limits.check(client_op_id, "$.client_op_id", limits.OP_ID_MAX, min_length=1)
    target = session.get(Annotation, annotation_id)
    # The item is locked before anything is checked: a replay racing its original waits for
    # it and then finds it; a submission racing the withdrawal is settled after it.
    item = lifecycle.lock(session, target.item_id) if target is not None else None
    if client_op_id is not None:
        earlier = _by_client_op(session, actor_id, client_op_id)
        if earlier is not None:
            return SubmitResult(annotation=earlier, created=False)
    if target is None or item is None or target.source == AnnotationSource.withdrawal:
        raise NotFound("annotation", str(annotation_id))
    if target.annotator_id != actor_id:
        raise PermissionDenied("Only the annotator who made an annotation can withdraw it.")
    assert item.id is not None
    _check_not_stale(session, item.id, annotation_id)
    withdrawal = Annotation(
        item_id=item.id,
        project_id=target.project_id,
        annotator_id=actor_id,
        annotation_type=target.annotation_type,
        payload={},
        guideline_version_id=target.guideline_version_id,
        schema_version=target.schema_version,
        labels_hash=target.labels_hash,
        source=AnnotationSource.withdrawal,
        client_op_id=client_op_id,
        supersedes_id=annotation_id,
    )
    _insert(session, withdrawal)
    current = current_annotations(session, item.id)
    if not any(a.annotator_id == actor_id for a in current):
        slots.reopen(session, item.id, actor_id)
    _refresh_item_categories(session, plugins, item, current)
    if item.status == ItemState.labeled and not item.is_gold and _short_of_overlap(session, item):
        lifecycle.transition(
            session, item.id, ItemState.in_progress, actor_id=actor_id, reason="withdrawn"
        )
    audit.record(
        session,
        actor_id=actor_id,
        project_id=target.project_id,
        entity="annotation",
        entity_id=withdrawal.id,
        action="withdraw",
        data={"withdrawn": str(annotation_id)},
    )
    return SubmitResult(annotation=withdrawal, created=True)


def _short_of_overlap(session: Session, item: Item) -> bool:
    """Whether fewer annotators' work counts on ``item`` than its project's overlap asks."""
    assert item.id is not None
    project = session.get(Project, item.project_id)
    assert project is not None
    remaining = consensus.valid_annotations(session, [item.id]).get(item.id, [])
    return len({a.annotator_id for a in remaining}) < settings_of(project).overlap


def _by_client_op(session: Session, annotator_id: int, client_op_id: str) -> Annotation | None:
    return session.exec(
        _BY_CLIENT_OP, params={"annotator_id": annotator_id, "client_op_id": client_op_id}
    ).first()


def _insert(session: Session, annotation: Annotation) -> None:
    """Insert; losing the race to supersede the same revision is reported as stale (the
    whole unit of work is then rolled back: nothing of the refused submission stays)."""
    session.add(annotation)
    try:
        session.flush()
    except IntegrityError:
        raise _stale() from None


def _insert_row(session: Session, values: dict[str, Any]) -> Annotation:
    """``_insert`` for the hot path: a plain INSERT of every column on the session's
    connection, and the annotation as a detached object of what was written (the ORM's unit
    of work and building a mapped object cost more than the rest of a submission)."""
    if session.new or session.dirty:
        session.flush()  # what the ORM holds goes first, as an autoflush would
    try:
        session.connection().execute(_INSERT, values)
    except IntegrityError:
        raise _stale() from None
    return Annotation.model_construct(**values)


def _stale() -> Conflict:
    return Conflict(
        "Someone else corrected this annotation a moment ago; reload to see the latest "
        "revision, then try again."
    )


def submit(
    session: Session,
    plugins: Plugins,
    *,
    item_id: int,
    annotator_id: int,
    annotation_type: str,
    payload: Any,
    supersedes_id: uuid.UUID | None = None,
    client_op_id: str | None = None,
    annotator_confidence: str | None = None,
    reasoning: str | None = None,
    time_spent_ms: int | None = None,
    source: str = AnnotationSource.human,
    suggestion: Suggestion | None = None,
) -> SubmitResult:
    limits.check(client_op_id, "$.client_op_id", limits.OP_ID_MAX, min_length=1)
    limits.check(reasoning, "$.reasoning", limits.TEXT_MAX)
    # Locks the item (see ``_submit_read_statement``): from here on this submission sees every
    # label committed on it, and a replay of an op still in flight waits for it and finds it.
    found = session.exec(
        _SUBMIT_READ,
        params={"item_id": item_id, "annotator_id": annotator_id, "client_op_id": client_op_id},
    ).first()
    if found is None:
        raise NotFound("item", item_id)
    item, project, schema_version, labels_hash, snapshot, guideline_id, *rest = found
    suggested, earlier_id, suspended, mine, unheld = rest
    schema = LabelSchemaVersion.model_construct(
        schema_version=schema_version, labels_hash=labels_hash, categories=snapshot
    )
    assert project.id is not None

    if earlier_id is not None:  # a replay: the annotation it made, nothing new
        earlier = session.get(Annotation, earlier_id)
        assert earlier is not None
        return SubmitResult(annotation=earlier, created=False)
    before = current_annotations(session, item_id)
    # A replay racing its original waited for the item's lock while the original committed;
    # on PostgreSQL the read above kept its statement's snapshot, this one sees the original.
    if client_op_id is not None:
        for raced in before:
            if raced.annotator_id == annotator_id and raced.client_op_id == client_op_id:
                return SubmitResult(annotation=raced, created=False)

    kind = enabled_type(plugins, project, annotation_type)
    if annotator_confidence is not None and annotator_confidence not in Confidence.__members__:
        raise InvalidInput(
            f"annotator_confidence must be one of {', '.join(Confidence.__members__)}",
            "$.annotator_confidence",
        )
    if time_spent_ms is not None and time_spent_ms < 0:
        raise InvalidInput("time_spent_ms cannot be negative", "$.time_spent_ms")
    if time_spent_ms is not None and time_spent_ms > limits.INT32_MAX:
        raise InvalidInput(f"time_spent_ms is at most {limits.INT32_MAX}", "$.time_spent_ms")

    decoded = decode_payload(kind, payload, validation_context(item.meta, project, schema))

    if supersedes_id is not None:
        _check_not_stale(session, item_id, supersedes_id)
        _check_own(session, supersedes_id, annotator_id, annotation_type)
    else:
        _check_no_open_revision(before, item_id, annotator_id, annotation_type)

    if suspended:
        queue.refuse_suspended(session, project.id, annotator_id)
    slot = mine or queue.claim_slot(session, item, annotator_id, submitted=True, unheld=unheld)
    annotation = _insert_row(
        session,
        {
            "id": uuid.uuid4(),
            "created_at": utcnow(),
            "quality_flags": [],
            "item_id": item_id,
            "project_id": project.id,
            "assignment_id": slot.id,
            "annotator_id": annotator_id,
            "annotation_type": annotation_type,
            "payload": msgspec.to_builtins(decoded),
            "guideline_version_id": guideline_id,
            "schema_version": schema.schema_version,
            "labels_hash": schema.labels_hash,
            "annotator_confidence": annotator_confidence,
            "reasoning": reasoning,
            "time_spent_ms": time_spent_ms,
            "source": source,
            "client_op_id": client_op_id,
            "supersedes_id": supersedes_id,
            "suggestion_id": suggestion.id if suggestion is not None else None,
            "model_version": suggestion.model_version if suggestion is not None else None,
            "adjudication_id": None,
        },
    )
    slots.mark_submitted(session, slot)
    settings = settings_of(project)
    if suggested:
        suggestions.note_label(session, kind, annotation, decoded, settings.suggestions.reveal)
    current = [a for a in before if a.id != supersedes_id] + [annotation]
    _refresh_item_categories(session, plugins, item, current, had_any=bool(before))
    if item.is_gold:
        gold.record_answer(session, plugins, item, annotation)  # gold items keep their state
    else:
        # The first label on an item, from a slot that counts, is all the item's valid work.
        first = not before and slot.voided_at is None
        consensus.settle(
            session, plugins, item, settings, annotator_id, valid=[annotation] if first else None
        )
    audit.record(
        session,
        actor_id=annotator_id,
        project_id=project.id,
        entity="annotation",
        entity_id=annotation.id,
        action="submit",
        data={
            "item_id": item_id,
            "type": annotation_type,
            "supersedes": str(supersedes_id) if supersedes_id else None,
        },
    )
    events.emit(
        session,
        events.Event(
            kind="annotation.submitted",
            project_id=project.id,
            entity_id=str(annotation.id),
            actor_id=annotator_id,
            data={"item_id": item_id, "annotation_type": annotation_type},
        ),
    )
    return SubmitResult(annotation=annotation, created=True)


def accept_suggestion(
    session: Session,
    plugins: Plugins,
    suggestion_id: uuid.UUID,
    *,
    annotator_id: int,
    supersedes_id: uuid.UUID | None = None,
    client_op_id: str | None = None,
    time_spent_ms: int | None = None,
) -> SubmitResult:
    """Take a suggestion as the annotator's label: a normal annotation (validated, counted,
    reviewed like any other) whose provenance names the suggestion and its model version.
    Only the suggestion the annotator is shown can be taken (``suggestions.offered``): not a
    replaced one, not one of a retired model or of labels since changed, not one still hidden
    by anti-anchoring, none during calibration."""
    suggestion = suggestions.get_suggestion(session, suggestion_id)
    if client_op_id is not None:
        earlier = _by_client_op(session, annotator_id, client_op_id)
        if earlier is not None:
            return SubmitResult(annotation=earlier, created=False)
    item = session.get(Item, suggestion.item_id)
    project = session.get(Project, suggestion.project_id)
    assert item is not None and project is not None
    suggestions.offered(session, project, item, suggestion, annotator_id)
    return submit(
        session,
        plugins,
        item_id=suggestion.item_id,
        annotator_id=annotator_id,
        annotation_type=suggestion.annotation_type,
        payload=suggestion.payload,
        supersedes_id=supersedes_id,
        client_op_id=client_op_id,
        time_spent_ms=time_spent_ms,
        source=AnnotationSource.suggestion,
        suggestion=suggestion,
    )


def record_adjudicated(
    session: Session,
    plugins: Plugins,
    item: Item,
    *,
    annotation_type: str,
    payload: dict[str, Any],
    adjudicator_id: int,
    adjudication_id: int,
    reasoning: str,
) -> Annotation:
    """The adjudicator's decision as an annotation (``source="adjudication"``) linked to its
    ``Adjudication`` record; ``payload`` is already validated. The item's categories become
    the decision's (the annotators' labels stay, but no longer speak for the item)."""
    found = session.exec(
        _SUBMIT_READ,
        params={"item_id": item.id, "annotator_id": adjudicator_id, "client_op_id": None},
    ).first()
    assert found is not None and item.id is not None
    _, _, schema_version, labels_hash, _, guideline_id, *_ = found
    decision = Annotation(
        item_id=item.id,
        project_id=item.project_id,
        annotator_id=adjudicator_id,
        annotation_type=annotation_type,
        payload=payload,
        guideline_version_id=guideline_id,
        schema_version=schema_version,
        labels_hash=labels_hash,
        reasoning=reasoning,
        source=AnnotationSource.adjudication,
        adjudication_id=adjudication_id,
    )
    _insert(session, decision)
    others = [
        a
        for a in consensus.valid_annotations(session, [item.id]).get(item.id, [])
        if a.annotation_type != annotation_type
    ]
    _refresh_item_categories(session, plugins, item, [*others, decision])
    return decision


def _refresh_item_categories(
    session: Session,
    plugins: Plugins,
    item: Item,
    current: list[Annotation],
    had_any: bool = True,
) -> None:
    """Rewrite the item's rows in ``item_category`` from its ``current`` annotations (an item
    that had no annotation before has no rows to delete). Callers hold the item's lock
    (``_SUBMIT_READ`` or ``lifecycle.lock``), so two rewrites of one item never interleave."""
    used: set[int] = set()
    for annotation in current:
        kind = plugins.annotation_types.get(annotation.annotation_type)
        if kind is not None and kind.categories is not None:
            used.update(kind.categories(msgspec.convert(annotation.payload, kind.payload)))
    # Derived rows, never loaded as objects: plain statements on the session's connection.
    connection = session.connection()
    if had_any:
        connection.execute(_CLEAR_CATEGORIES, {"item_id": item.id})
    if used:
        connection.execute(
            _ADD_CATEGORY,
            [
                {"item_id": item.id, "category_id": c, "project_id": item.project_id}
                for c in sorted(used)
            ],
        )


def _check_not_stale(session: Session, item_id: int, supersedes_id: uuid.UUID) -> None:
    previous = session.get(Annotation, supersedes_id)
    if previous is None or previous.item_id != item_id:
        raise InvalidInput(
            f"supersedes_id {supersedes_id} is not an annotation on item {item_id}",
            "$.supersedes_id",
        )
    newer = session.exec(
        select(Annotation).where(col(Annotation.supersedes_id) == supersedes_id)
    ).first()
    if newer is not None:
        raise Conflict(
            f"Annotation {supersedes_id} was already corrected (by revision {newer.id} at "
            f"{newer.created_at:%Y-%m-%d %H:%M:%S} UTC); reload to see it, then try again."
        )


def _check_own(
    session: Session, supersedes_id: uuid.UUID, annotator_id: int, annotation_type: str
) -> None:
    """Only the author corrects an annotation, and only with one of the same type (an
    adjudicator's decision is its own record, see ``record_adjudicated``)."""
    previous = session.get(Annotation, supersedes_id)
    assert previous is not None  # _check_not_stale found it
    if previous.annotator_id != annotator_id:
        raise PermissionDenied(
            f"Annotation {supersedes_id} is not yours: only its author can correct it. "
            "Submit your own annotation instead."
        )
    if previous.annotation_type != annotation_type:
        raise InvalidInput(
            f"supersedes_id {supersedes_id} is a {previous.annotation_type!r} annotation, "
            f"not a {annotation_type!r} one",
            "$.supersedes_id",
        )


def _check_no_open_revision(
    current: list[Annotation], item_id: int, annotator_id: int, annotation_type: str
) -> None:
    mine = [
        a
        for a in current
        if a.annotator_id == annotator_id and a.annotation_type == annotation_type
    ]
    if mine:
        raise Conflict(
            f"You already have a {annotation_type!r} annotation on item {item_id} "
            f"(revision {mine[-1].id}); to change it, submit a correction with supersedes_id "
            "set to that revision."
        )
