"""Adjudication: an adjudicator's final word on an item its annotators disagreed on.

Items reach the ``adjudication`` state on their own (``scholia.core.consensus``: low
agreement, a tied vote) or by a rule. A *case* gathers the evidence: each distinct label
(a *version*), who gave it, how long they took, how sure they were and why. Deciding needs
written reasoning; the decision is an ``Adjudication`` record and a new annotation
(``source="adjudication"``) that links to it, and the item is approved.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
from sqlmodel import Session, col, select

from . import audit, labels, lifecycle, limits
from .annotations import record_adjudicated
from .comparison import plain_key, same_as
from .consensus import valid_annotations
from .contributions import AnnotationType
from .errors import Conflict, InvalidInput, NotFound
from .item_state import ItemState
from .models import Adjudication, Annotation, AuditEvent, Item, User
from .payloads import decode_payload, enabled_type, validation_context
from .plugins import Plugins
from .projects import get_project
from .quality.aggregation import majority_vote

__all__ = ["Case", "Opinion", "Version", "backlog", "case_of", "decide"]


@dataclass(frozen=True)
class Opinion:
    """One annotator's annotation within a version."""

    annotation_id: uuid.UUID
    annotator: str
    """Pseudonym: adjudicators judge labels, not people."""
    time_spent_ms: int | None
    confidence: str | None
    reasoning: str | None
    created_at: datetime


@dataclass(frozen=True)
class Version:
    """One distinct label on the item, and everyone who gave it."""

    annotation_type: str
    payload: dict[str, Any]
    labels: list[str]
    """The category names it uses, for display."""
    opinions: list[Opinion] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.opinions)

    @property
    def key(self) -> str:
        return self.opinions[0].annotation_id.hex


@dataclass(frozen=True)
class Case:
    item: Item
    reason: str
    """Why the item was routed here, as recorded in the audit log."""
    routed_at: datetime
    versions: list[Version]
    suggested: Version | None
    """The most common version; None on a tie (nothing is pre-selected then)."""


def _versions(plugins: Plugins, annotations: Sequence[Annotation]) -> list[list[Annotation]]:
    """The annotations grouped into versions, in order of first appearance: two annotations
    are the same version when their type says they agree fully (agreement 1.0)."""
    groups: list[tuple[AnnotationType, Any, list[Annotation]]] = []
    seen: dict[tuple[str, bytes], list[Annotation]] = {}
    for annotation in annotations:
        kind = plugins.annotation_type(annotation.annotation_type)
        decoded = kind.decode(annotation.payload)
        exact = (annotation.annotation_type, plain_key(decoded))
        group = seen.get(exact)  # equal plain data needs no comparison
        if group is None:
            group = next(
                (
                    members
                    for other, payload, members in groups
                    if other.name == kind.name and same_as(kind, payload, decoded)
                ),
                None,
            )
        if group is None:
            group = []
            groups.append((kind, decoded, group))
        seen[exact] = group
        group.append(annotation)
    return [members for _, _, members in groups]


def _routing(session: Session, item_ids: Sequence[int]) -> dict[int, AuditEvent]:
    """The latest move into ``adjudication`` of each item."""
    found: dict[int, AuditEvent] = {}
    for event in session.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.entity) == "item",
            col(AuditEvent.entity_id).in_([str(i) for i in item_ids]),
            col(AuditEvent.to_state) == ItemState.adjudication,
        )
        .order_by(col(AuditEvent.id))
    ):
        found[int(event.entity_id)] = event
    return found


@dataclass(frozen=True)
class Waiting:
    """An item in the backlog, without the evidence (the list needs only this)."""

    item: Item
    reason: str
    routed_at: datetime
    versions: int
    """Distinct labels on the item (as its case counts them)."""
    annotators: int


def backlog(
    session: Session, plugins: Plugins, project_id: int, *, limit: int = 200
) -> list[Waiting]:
    """The items waiting for an adjudicator, the longest-waiting first."""
    waiting = list(
        session.exec(
            select(Item)
            .where(col(Item.project_id) == project_id, col(Item.status) == ItemState.adjudication)
            .order_by(col(Item.updated_at), col(Item.id))
            .limit(limit)
        )
    )
    ids = [i.id for i in waiting if i.id is not None]
    routed = _routing(session, ids)
    current = valid_annotations(session, ids)
    return [
        Waiting(
            item=i,
            reason=(routed[i.id].reason or "") if i.id in routed else "",
            routed_at=routed[i.id].at if i.id in routed else i.updated_at,
            versions=len(_versions(plugins, current.get(i.id, []))),  # type: ignore[arg-type]
            annotators=len(current.get(i.id, [])),  # type: ignore[arg-type]
        )
        for i in waiting
    ]


def case_of(session: Session, plugins: Plugins, item_id: int) -> Case:
    """The evidence on one item in adjudication."""
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound("item", item_id)
    if item.status != ItemState.adjudication:
        raise Conflict(f"Item {item_id} is not waiting for adjudication (it is {item.status}).")
    current = valid_annotations(session, [item_id]).get(item_id, [])
    names = {c["id"]: c["name"] for c in labels.current_schema(session, item.project_id).categories}
    people = {
        u.id: u.pseudonym
        for u in session.exec(
            select(User).where(col(User.id).in_({a.annotator_id for a in current}))
        )
    }
    versions: list[Version] = []
    for group in _versions(plugins, current):
        first = group[0]
        kind = plugins.annotation_type(first.annotation_type)
        used = list(kind.categories(kind.decode(first.payload))) if kind.categories else []
        versions.append(
            Version(
                annotation_type=first.annotation_type,
                payload=first.payload,
                labels=[names.get(c, f"category {c}") for c in used],
                opinions=[
                    Opinion(
                        annotation_id=annotation.id,
                        annotator=people.get(
                            annotation.annotator_id, f"user-{annotation.annotator_id}"
                        ),
                        time_spent_ms=annotation.time_spent_ms,
                        confidence=annotation.annotator_confidence,
                        reasoning=annotation.reasoning,
                        created_at=annotation.created_at,
                    )
                    for annotation in group
                ],
            )
        )
    ordered = sorted(versions, key=lambda v: (-v.count, v.opinions[0].created_at))
    vote = majority_vote([v.key for v in ordered for _ in v.opinions])
    suggested = next((v for v in ordered if v.key == vote.label), None)
    routed = _routing(session, [item_id]).get(item_id)
    return Case(
        item=item,
        reason=(routed.reason or "") if routed else "",
        routed_at=routed.at if routed else item.updated_at,
        versions=ordered,
        suggested=suggested,
    )


def decide(
    session: Session,
    plugins: Plugins,
    item_id: int,
    *,
    adjudicator_id: int,
    reasoning: str,
    annotation_id: uuid.UUID | None = None,
    annotation_type: str | None = None,
    payload: Any = None,
) -> Adjudication:
    """Settle a case: choose one annotator's annotation (``annotation_id``) or give a label of
    your own (``payload``, of ``annotation_type`` — the case's only type when omitted)."""
    reasoning = limits.check((reasoning or "").strip(), "$.reasoning", limits.TEXT_MAX) or ""
    if not reasoning:
        raise InvalidInput(
            "Write down why you decided this way: adjudication needs reasoning", "$.reasoning"
        )
    case = case_of(session, plugins, item_id)
    considered = [o.annotation_id for v in case.versions for o in v.opinions]
    chosen: Annotation | None = None
    if annotation_id is not None:
        chosen = session.get(Annotation, annotation_id)
        if chosen is None or chosen.id not in considered:
            raise InvalidInput(
                f"Annotation {annotation_id} is not one of the labels on item {item_id}",
                "$.annotation_id",
            )
        annotation_type, raw = chosen.annotation_type, chosen.payload
    elif payload is not None:
        types = sorted({v.annotation_type for v in case.versions})
        annotation_type = annotation_type or (types[0] if len(types) == 1 else None)
        if annotation_type not in types:
            raise InvalidInput(
                f"Say which annotation type the label is ({', '.join(types)})",
                "$.annotation_type",
            )
        raw = payload
    else:
        raise InvalidInput("Choose one of the labels, or give one of your own", "$.annotation_id")
    project = get_project(session, case.item.project_id)
    kind = enabled_type(plugins, project, annotation_type)
    schema = labels.current_schema(session, case.item.project_id)
    decoded = decode_payload(kind, raw, validation_context(case.item.meta, project, schema))
    record = Adjudication(
        item_id=item_id,
        adjudicator_id=adjudicator_id,
        reasoning=reasoning,
        considered=[str(i) for i in considered],
        chosen_annotation_id=chosen.id if chosen is not None else None,
        evidence={
            "routed_because": case.reason,
            "versions": [
                {
                    "annotation_type": v.annotation_type,
                    "payload": v.payload,
                    "annotators": [o.annotator for o in v.opinions],
                }
                for v in case.versions
            ],
        },
    )
    session.add(record)
    session.flush()
    assert record.id is not None
    record_adjudicated(
        session,
        plugins,
        case.item,
        annotation_type=annotation_type,
        payload=msgspec.to_builtins(decoded),
        adjudicator_id=adjudicator_id,
        adjudication_id=record.id,
        reasoning=reasoning,
    )
    lifecycle.transition(
        session, item_id, ItemState.approved, actor_id=adjudicator_id, reason="adjudicated"
    )
    audit.record(
        session,
        actor_id=adjudicator_id,
        project_id=project.id,
        entity="adjudication",
        entity_id=record.id,
        action="decide",
        reason=reasoning,
        data={"item_id": item_id, "chosen": str(chosen.id) if chosen else None},
    )
    return record
