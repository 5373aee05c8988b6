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
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from . import audit, events, labels, lifecycle
from .contributions import AnnotationType, ValidationContext
from .errors import Conflict, InvalidInput, NotFound, invalid_from_msgspec
from .lifecycle import ItemState
from .models import Annotation, AnnotationSource, Confidence, Item, Project
from .plugins import Plugins
from .projects import current_guideline

__all__ = ["SubmitResult", "current_annotations", "decode_payload", "submit"]


@dataclass(frozen=True)
class SubmitResult:
    annotation: Annotation
    created: bool
    """False when ``client_op_id`` matched an earlier submission (nothing new was written)."""


def decode_payload(annotation_type: AnnotationType, raw: Any, context: ValidationContext) -> Any:
    """The payload as its type's Struct, validated; errors carry the bad field's path."""
    try:
        payload = msgspec.convert(raw, annotation_type.payload)
    except msgspec.ValidationError as error:
        raise invalid_from_msgspec(error, "$.payload") from None
    try:
        annotation_type.validate(payload, context)
    except InvalidInput as error:
        path = "$.payload" + (error.path or "$").removeprefix("$")
        raise InvalidInput(error.reason, path) from None
    except ValueError as error:
        raise InvalidInput(str(error), "$.payload") from None
    return payload


def current_annotations(session: Session, item_id: int) -> list[Annotation]:
    """The latest revision of each line of annotations on an item (those nobody superseded)."""
    superseded = select(Annotation.supersedes_id).where(
        col(Annotation.item_id) == item_id, col(Annotation.supersedes_id).is_not(None)
    )
    return list(
        session.exec(
            select(Annotation)
            .where(col(Annotation.item_id) == item_id, col(Annotation.id).not_in(superseded))
            .order_by(col(Annotation.created_at))
        )
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
) -> SubmitResult:
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound("item", item_id)
    project = session.get(Project, item.project_id)
    assert project is not None and project.id is not None

    if client_op_id is not None:
        earlier = session.exec(
            select(Annotation).where(
                col(Annotation.annotator_id) == annotator_id,
                col(Annotation.client_op_id) == client_op_id,
            )
        ).first()
        if earlier is not None:
            return SubmitResult(annotation=earlier, created=False)

    kind = plugins.annotation_types.get(annotation_type)
    if kind is None or annotation_type not in project.annotation_types:
        enabled = ", ".join(project.annotation_types) or "none"
        raise InvalidInput(
            f"Annotation type {annotation_type!r} is not enabled in project {project.id} "
            f"(enabled: {enabled})",
            "$.annotation_type",
        )
    if annotator_confidence is not None and annotator_confidence not in Confidence.__members__:
        raise InvalidInput(
            f"annotator_confidence must be one of {', '.join(Confidence.__members__)}",
            "$.annotator_confidence",
        )
    if time_spent_ms is not None and time_spent_ms < 0:
        raise InvalidInput("time_spent_ms cannot be negative", "$.time_spent_ms")

    categories = {c.id: c.name for c in labels.live_categories(session, project.id)}
    context = ValidationContext(
        item_meta=item.meta, categories=categories, settings=project.settings
    )
    decoded = decode_payload(kind, payload, context)

    if supersedes_id is not None:
        _check_not_stale(session, item_id, supersedes_id)
    else:
        _check_no_open_revision(session, item_id, annotator_id, annotation_type)

    schema = labels.current_schema(session, project.id)
    annotation = Annotation(
        item_id=item_id,
        project_id=project.id,
        annotator_id=annotator_id,
        annotation_type=annotation_type,
        payload=msgspec.to_builtins(decoded),
        guideline_version_id=current_guideline(session, project.id).id,  # type: ignore[arg-type]
        schema_version=schema.schema_version,
        labels_hash=schema.labels_hash,
        annotator_confidence=annotator_confidence,
        reasoning=reasoning,
        time_spent_ms=time_spent_ms,
        source=source,
        client_op_id=client_op_id,
        supersedes_id=supersedes_id,
    )
    try:
        with session.begin_nested():
            session.add(annotation)
            session.flush()
    except IntegrityError:
        raise Conflict(
            "Someone else corrected this annotation a moment ago; reload to see the latest "
            "revision, then try again."
        ) from None

    for step in _steps_to_labeled(item.status):
        lifecycle.transition(session, item_id, step, actor_id=annotator_id, reason="submitted")
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


def _steps_to_labeled(status: str) -> tuple[ItemState, ...]:
    """Submitting labels an unlabeled, in-progress or skipped item; later states keep theirs."""
    if status in (ItemState.unlabeled, ItemState.skipped):
        return (ItemState.in_progress, ItemState.labeled)
    if status == ItemState.in_progress:
        return (ItemState.labeled,)
    return ()


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


def _check_no_open_revision(
    session: Session, item_id: int, annotator_id: int, annotation_type: str
) -> None:
    mine = [
        a
        for a in current_annotations(session, item_id)
        if a.annotator_id == annotator_id and a.annotation_type == annotation_type
    ]
    if mine:
        raise Conflict(
            f"You already have a {annotation_type!r} annotation on item {item_id} "
            f"(revision {mine[-1].id}); to change it, submit a correction with supersedes_id "
            "set to that revision."
        )
