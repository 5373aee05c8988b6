"""Asking a model about items: the one path from items to stored suggestions.

Batches (``suggestion_jobs``) and single inline requests both go through ``suggest``: the
model must be usable (not retired, trained on the project's current labels), its predictor is
the process's loaded one, the prediction runs outside any database transaction, and every
candidate it returns is validated like an annotation before it is stored, so a backend that
answers with a label the schema lacks fails that item, with the reason, and no bad suggestion
reaches an annotator. A model that cannot load at all keeps the reason in ``Model.problem``,
shown on its page, until it answers again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from sqlmodel import Session, col, select

from . import labels, model_registry, suggestions
from .contributions import (
    AnnotationType,
    Candidate,
    Prediction,
    PredictionInput,
    ValidationContext,
)
from .errors import Conflict, InvalidInput, ModelFailed
from .models import Item, Model, ModelStatus, Project
from .payloads import decode_payload, validation_context
from .project_settings import settings_of
from .runtime import Runtime

__all__ = ["Failure", "Suggested", "check_usable", "suggest"]


@dataclass(frozen=True)
class Failure:
    item_id: int
    name: str
    error: str


@dataclass
class Suggested:
    suggestions: list[uuid.UUID] = field(default_factory=list)
    """The new suggestions' ids."""
    failures: list[Failure] = field(default_factory=list)


def check_usable(session: Session, model: Model) -> None:
    """Refuse a retired model, or one trained on other labels than the project's (naming both
    hashes and the categories that differ)."""
    if model.status == ModelStatus.retired:
        raise Conflict(f"Model {model.name} {model.version} is retired; it suggests nothing more.")
    model_registry.check_schema(session, model)


def _checked(
    kind: AnnotationType, candidates: Sequence[Candidate], context: ValidationContext
) -> list[Candidate] | str:
    """The candidates if every one is a valid label of the project now, else why not."""
    if not candidates:
        return "the model returned no candidate"
    for candidate in candidates:
        if not 0.0 <= candidate.score <= 1.0:
            return f"the model gave a score of {candidate.score}, outside [0, 1]"
        try:
            decode_payload(kind, dict(candidate.payload), context)
        except InvalidInput as error:
            return f"the model suggested a label this project cannot take: {error.message}"
    return list(candidates)


def _record_problem(runtime: Runtime, model_id: int, problem: str | None) -> None:
    with runtime.session() as session:
        model = session.get(Model, model_id)
        if model is not None and model.problem != problem:
            model.problem = problem
            session.add(model)


def suggest(
    runtime: Runtime,
    model_id: int,
    item_ids: Sequence[int],
    then: Callable[[Session, Suggested], None] | None = None,
) -> Suggested:
    """Ask model ``model_id`` about ``item_ids`` and store what it suggests; ``then`` runs in
    the same transaction (a job records its progress with the batch it is about).

    Gold items are asked about like the others: an item without a suggestion among items
    with one would tell annotators which items are gold, and gold then scores the work as it
    is really made (with the model's help)."""
    with runtime.reading() as session:
        model = model_registry.get_model(session, model_id)
        check_usable(session, model)
        kind = runtime.plugins.annotation_types.get(model.annotation_type)
        if kind is None:
            raise ModelFailed(
                f"Model {model.name} {model.version} suggests {model.annotation_type!r}, "
                "which no installed plugin provides."
            )
        chosen = [
            PredictionInput(
                item_id=item_id,
                name=name,
                media_path=runtime.store.path(content_hash),
                media_type=media_type,
                metadata=meta,
            )
            for item_id, name, content_hash, media_type, meta in session.exec(
                select(  # type: ignore[call-overload]  # five columns: plain rows, no ORM objects
                    Item.id, Item.name, Item.content_hash, Item.media_type, Item.meta
                )
                .where(
                    col(Item.id).in_(list(item_ids)),
                    col(Item.project_id) == model.project_id,
                )
                .order_by(col(Item.id))
            )
        ]
    try:
        predictor = runtime.predictors.get(runtime.plugins, model)
        predictions: list[Prediction] = predictor.predict(chosen) if chosen else []
        if len(predictions) != len(chosen):
            raise ModelFailed(
                f"Model {model.name} {model.version} answered {len(predictions)} predictions "
                f"for {len(chosen)} items."
            )
    except ModelFailed as error:
        _record_problem(runtime, model_id, error.message)
        raise
    done = Suggested()
    with runtime.session() as session:
        project = session.get(Project, model.project_id)
        assert project is not None
        schema = labels.current_schema(session, model.project_id)
        top_k = settings_of(project).suggestions.top_k
        kept: list[tuple[int, list[Candidate]]] = []
        checking = validation_context({}, project, schema)  # one per batch; meta per item
        for item, prediction in zip(chosen, predictions, strict=True):
            checked = (
                prediction.error
                if prediction.error is not None
                else _checked(
                    kind, prediction.candidates, replace(checking, item_meta=item.metadata)
                )
            )
            if isinstance(checked, str):
                done.failures.append(Failure(item.item_id, item.name, checked))
                continue
            kept.append((item.item_id, checked))
        done.suggestions = suggestions.store(session, model, kept, top_k)
        if then is not None:
            then(session, done)
        if model.problem is not None:
            stored = session.get(Model, model_id)
            if stored is not None:
                stored.problem = None
                session.add(stored)
    return done
