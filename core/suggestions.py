"""Suggestions: stored apart from annotations, shown to annotators, decided on, counted.

A model's prediction for an item becomes one ``Suggestion`` per item and annotation type: the
top candidate, the next ones (for "show more"), and how uncertain the model is (the measures
of ``uncertainty``, for active learning). A newer prediction for the same item supersedes the
older one, so re-running a batch replaces suggestions instead of piling them up.

What an annotator sees is the active model's current suggestion, and only while it fits the
project's schema (a category renamed or added since hides it: no suggestion with stale labels
reaches anyone). With anti-anchoring (``reveal = after_first_label``) it stays hidden until the
annotator submitted their own label on the item. Each annotator's first decision on a
suggestion is kept (``SuggestionDecision``): accepted with ``A``, labeled the same by hand
(confirmed), labeled differently (corrected) or dismissed (rejected); an independent first
label also records its agreement with the suggestion. The outcome log counts them.

No suggestion reaches an annotator in calibration on a calibration item: it is their own test
(and a gold item carries a suggestion like any other, so that gold is not told apart). The rule
lives here, in ``shown_to``, so the labeling context, the suggestions API and accepting all
apply it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy import bindparam, func, insert, update
from sqlmodel import Session, col, select

from . import calibration, labels, uncertainty
from .contributions import AnnotationType, Candidate
from .errors import Conflict, NotFound, PermissionDenied
from .models import (
    Annotation,
    AnnotationSource,
    Item,
    Model,
    Outcome,
    Project,
    Suggestion,
    SuggestionDecision,
    SuggestionStatus,
)
from .models.types import utcnow
from .project_settings import settings_of

__all__ = [
    "ModelOutcomes",
    "Shown",
    "current",
    "decide",
    "get_suggestion",
    "note_label",
    "offered",
    "outcome_log",
    "shown_to",
    "store",
    "suggested_items",
]

AGREE = 1.0 - 1e-9
"""Agreement at or above this is the same label (confirmed, not corrected)."""


def get_suggestion(session: Session, suggestion_id: uuid.UUID) -> Suggestion:
    suggestion = session.get(Suggestion, suggestion_id)
    if suggestion is None:
        raise NotFound("suggestion", str(suggestion_id))
    return suggestion


_SUPERSEDE = (
    update(Suggestion)
    .where(
        col(Suggestion.item_id).in_(bindparam("item_ids", expanding=True)),
        col(Suggestion.annotation_type) == bindparam("kind"),
        col(Suggestion.status) != SuggestionStatus.superseded,
    )
    .values(status=SuggestionStatus.superseded)
)
_INSERT = insert(Suggestion)
"""Batches are the hot path (10,000 images): one UPDATE and one INSERT per batch, built once,
with plain rows instead of ORM objects."""


def store(
    session: Session,
    model: Model,
    found: Sequence[tuple[int, Sequence[Candidate]]],
    top_k: int,
) -> list[uuid.UUID]:
    """Keep the model's (already validated) candidates for each item (by id) as its current
    suggestion, superseding the items' earlier ones of the same type; the new ids."""
    if not found:
        return []
    assert model.id is not None
    session.connection().execute(
        _SUPERSEDE,
        {"item_ids": [item_id for item_id, _ in found], "kind": model.annotation_type},
    )
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for item_id, candidates in found:
        assert candidates
        ranked = sorted(candidates, key=lambda c: c.score, reverse=True)
        scores = [c.score for c in ranked]
        rows.append(
            {
                "id": uuid.uuid4(),
                "item_id": item_id,
                "project_id": model.project_id,
                "annotation_type": model.annotation_type,
                "payload": dict(ranked[0].payload),
                "score": ranked[0].score,
                "model_id": model.id,
                "model_name": model.name,
                "model_version": model.version,
                "labels_hash": model.labels_hash,
                "alternatives": [
                    {"payload": dict(c.payload), "score": c.score} for c in ranked[1:top_k]
                ],
                "least_confidence": uncertainty.least_confidence(scores),
                "margin": uncertainty.margin(scores),
                "entropy": uncertainty.entropy(scores),
                "status": SuggestionStatus.pending,
                "created_at": now,
            }
        )
    session.connection().execute(_INSERT, rows)
    return [row["id"] for row in rows]


_CURRENT = (
    select(Suggestion)
    .join(Model, col(Model.id) == col(Suggestion.model_id))
    .where(
        col(Suggestion.item_id) == bindparam("item_id"),
        col(Suggestion.annotation_type) == bindparam("annotation_type"),
        col(Suggestion.status) != SuggestionStatus.superseded,
        col(Model.status) == "active",
    )
    .order_by(col(Suggestion.created_at).desc())
    .limit(1)
)
"""Built once: every label submission asks it (building the statement cost more than running
it on an item without suggestions)."""


def current(session: Session, item_id: int, annotation_type: str) -> Suggestion | None:
    """The item's current suggestion of this type from its project's active model."""
    return session.exec(
        _CURRENT, params={"item_id": item_id, "annotation_type": annotation_type}
    ).first()


@dataclass(frozen=True)
class Shown:
    """What an annotator may see of an item's suggestion."""

    suggestion: Suggestion
    hidden: bool
    """Anti-anchoring: it exists, but shows only after their own first label."""
    decision: SuggestionDecision | None


def shown_to(
    session: Session, project: Project, item: Item, annotation_type: str, annotator_id: int
) -> Shown | None:
    """The suggestion ``annotator_id`` may see on ``item``, if any: never one whose labels no
    longer match the project's schema, and none while the item is one of the annotator's
    calibration items."""
    if item.id is None:
        return None
    suggestion = current(session, item.id, annotation_type)
    if suggestion is None:
        return None
    if suggestion.labels_hash != labels.current_schema(session, item.project_id).labels_hash:
        return None
    if calibration.serves(session, item, annotator_id):
        return None
    decision = _decision(session, suggestion.id, annotator_id)
    hidden = settings_of(project).suggestions.reveal == "after_first_label" and decision is None
    return Shown(suggestion=suggestion, hidden=hidden, decision=decision)


def offered(
    session: Session, project: Project, item: Item, suggestion: Suggestion, annotator_id: int
) -> Shown:
    """``suggestion`` as offered to the annotator, who means to take it: ``PermissionDenied``
    during their calibration, ``Conflict`` (saying why) when it is not the one they are shown
    or is still hidden by anti-anchoring."""
    if calibration.serves(session, item, annotator_id):
        raise PermissionDenied(
            "No suggestions during calibration: label this item yourself (your calibration "
            "results show the expected answers once the set is done)."
        )
    shown = shown_to(session, project, item, suggestion.annotation_type, annotator_id)
    if shown is None or shown.suggestion.id != suggestion.id:
        raise Conflict(
            "This suggestion is no longer offered (a newer one replaced it, its model was "
            "retired, or the project's labels changed); reload the item."
        )
    if shown.hidden:
        raise Conflict(
            "Label the item yourself first: this project shows suggestions only after your "
            "own first label."
        )
    return shown


def _decision(
    session: Session, suggestion_id: uuid.UUID, annotator_id: int
) -> SuggestionDecision | None:
    return session.exec(
        select(SuggestionDecision).where(
            col(SuggestionDecision.suggestion_id) == suggestion_id,
            col(SuggestionDecision.annotator_id) == annotator_id,
        )
    ).first()


def _settle(suggestion: Suggestion, outcome: Outcome, annotator_id: int) -> None:
    """The suggestion's own status follows its first decision."""
    if suggestion.status != SuggestionStatus.pending:
        return
    taken = outcome in (Outcome.accepted, Outcome.confirmed)
    suggestion.status = SuggestionStatus.accepted if taken else SuggestionStatus.rejected
    suggestion.decided_at = utcnow()
    suggestion.decided_by = annotator_id


def note_label(
    session: Session,
    kind: AnnotationType,
    annotation: Annotation,
    decoded: Any,
    reveal: str,
) -> None:
    """Record what a submitted annotation says of the item's current suggestion: called for
    every submission, it costs one indexed read when the item has none."""
    suggestion = current(session, annotation.item_id, annotation.annotation_type)
    if suggestion is None or suggestion.labels_hash != annotation.labels_hash:
        return
    earlier = _decision(session, suggestion.id, annotation.annotator_id)
    accepted = annotation.source == AnnotationSource.suggestion
    if earlier is not None:
        if accepted and earlier.outcome != Outcome.accepted:  # took it after all (A)
            earlier.outcome = Outcome.accepted
            earlier.annotation_id = annotation.id
            session.add(earlier)
        return
    agreement: float | None = None
    if accepted:
        outcome = Outcome.accepted
    else:
        assert kind.agreement is not None  # completed at registration
        agreement = float(kind.agreement(decoded, kind.decode(suggestion.payload)))
        outcome = Outcome.confirmed if agreement >= AGREE else Outcome.corrected
    session.add(
        SuggestionDecision(
            suggestion_id=suggestion.id,
            annotator_id=annotation.annotator_id,
            outcome=outcome,
            annotation_id=annotation.id,
            independent=not accepted and reveal == "after_first_label",
            agreement=agreement,
        )
    )
    _settle(suggestion, outcome, annotation.annotator_id)
    session.add(suggestion)


def decide(session: Session, suggestion: Suggestion, annotator_id: int) -> SuggestionDecision:
    """Dismiss a suggestion without labeling (a decision already made stays as it was)."""
    if suggestion.status == SuggestionStatus.superseded:
        raise Conflict("This suggestion was replaced by a newer one; reload the item.")
    earlier = _decision(session, suggestion.id, annotator_id)
    if earlier is not None:
        return earlier
    decision = SuggestionDecision(
        suggestion_id=suggestion.id, annotator_id=annotator_id, outcome=Outcome.rejected
    )
    session.add(decision)
    _settle(suggestion, Outcome.rejected, annotator_id)
    session.add(suggestion)
    return decision


def suggested_items(
    session: Session, project_id: int, item_ids: Sequence[int], annotator_id: int | None = None
) -> set[int]:
    """Which of ``item_ids`` have a current suggestion of an active model that fits the
    project's labels (the queue's badge: exactly the items ``shown_to`` shows one on). Given
    ``annotator_id``, their calibration items are left out (they see no suggestion there)."""
    if annotator_id is not None:
        calibrating = calibration.open_items(session, project_id, annotator_id)
        item_ids = [i for i in item_ids if i not in calibrating]
    if not item_ids:
        return set()
    labels_hash = labels.current_schema(session, project_id).labels_hash
    rows = session.exec(
        select(Suggestion.item_id)
        .join(Model, col(Model.id) == col(Suggestion.model_id))
        .where(
            col(Suggestion.item_id).in_(item_ids),
            col(Suggestion.status) != SuggestionStatus.superseded,
            col(Suggestion.labels_hash) == labels_hash,
            col(Model.status) == "active",
        )
    ).all()
    return set(rows)


@dataclass
class ModelOutcomes:
    """One model version's record: what annotators did with its suggestions."""

    model: Model
    suggestions: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {o.value: 0 for o in Outcome})
    per_category: dict[int, dict[str, int]] = field(default_factory=dict)
    """Suggested category id → ``{"decided", "taken"}``."""
    independent: int = 0
    mean_agreement: float | None = None
    """Mean agreement of independent first labels with the suggestion (anti-anchoring)."""

    @property
    def decided(self) -> int:
        return sum(self.counts.values())

    @property
    def acceptance_rate(self) -> float | None:
        """Share of decisions that kept the suggestion's label (accepted or confirmed)."""
        taken = self.counts[Outcome.accepted] + self.counts[Outcome.confirmed]
        return taken / self.decided if self.decided else None


def outcome_log(
    session: Session, kinds: dict[str, AnnotationType], project_id: int
) -> list[ModelOutcomes]:
    """Per model version of the project, newest first: suggestions made and their outcomes,
    overall and per suggested category."""
    models = session.exec(
        select(Model).where(col(Model.project_id) == project_id).order_by(col(Model.id).desc())
    )
    records = {m.id: ModelOutcomes(model=m) for m in models}
    made = session.exec(
        select(Suggestion.model_id, func.count())
        .where(col(Suggestion.project_id) == project_id)
        .group_by(col(Suggestion.model_id))
    ).all()
    for model_id, count in made:
        if model_id in records:
            records[model_id].suggestions = int(count)
    decided = session.exec(
        select(  # type: ignore[call-overload]
            Suggestion.model_id,
            Suggestion.annotation_type,
            Suggestion.payload,
            SuggestionDecision.outcome,
            SuggestionDecision.independent,
            SuggestionDecision.agreement,
        )
        .join(SuggestionDecision, col(SuggestionDecision.suggestion_id) == col(Suggestion.id))
        .where(col(Suggestion.project_id) == project_id)
    ).all()
    agreements: dict[int, list[float]] = {}
    for model_id, type_name, payload, outcome, independent, agreement in decided:
        record = records.get(model_id)
        if record is None:
            continue
        record.counts[outcome] = record.counts.get(outcome, 0) + 1
        if independent and agreement is not None:
            record.independent += 1
            agreements.setdefault(model_id, []).append(agreement)
        kind = kinds.get(type_name)
        if kind is None or kind.categories is None:
            continue
        for category_id in kind.categories(msgspec.convert(payload, kind.payload)):
            tally = record.per_category.setdefault(category_id, {"decided": 0, "taken": 0})
            tally["decided"] += 1
            tally["taken"] += outcome in (Outcome.accepted, Outcome.confirmed)
    for model_id, values in agreements.items():
        records[model_id].mean_agreement = sum(values) / len(values)
    return list(records.values())
