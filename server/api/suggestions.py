"""API: an item's suggestion as its annotator may see it; accepting, dismissing, and asking
the active model about one item at once."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath, JSONBody

from scholia.core import (
    annotations,
    items,
    model_registry,
    prelabeling,
    projects,
    revisions,
    suggestions,
)
from scholia.core.errors import InvalidInput

from ..routing import get, post, runtime_of, user_of
from .schemas import AcceptIn, AnnotationOut, SuggestionOut

__all__ = ["suggestion_api"]


@get("/items/{item_id:int}/suggestions")
def item_suggestions(
    request: Request[Any, Any, Any], item_id: FromPath[int]
) -> list[SuggestionOut]:
    """The active models' current suggestions for the item, one per annotation type, as the
    caller may see them (hidden until their own first label under anti-anchoring; none once
    the project's labels changed, and none on your calibration items)."""
    me = user_of(request)
    assert me.id is not None
    runtime = runtime_of(request)
    with runtime.reading() as session:
        item = items.get_item(session, item_id)
        project = projects.get_project(session, item.project_id)
        found = []
        yours: dict[str, Any] | None = None
        for annotation_type in project.annotation_types:
            shown = suggestions.shown_to(session, project, item, annotation_type, me.id)
            if shown is None:
                continue
            if yours is None and not shown.hidden:
                yours = {
                    a.annotation_type: a.payload
                    for a in revisions.current_annotations(session, item_id)
                    if a.annotator_id == me.id
                }
            found.append(
                SuggestionOut.of(shown, (yours or {}).get(annotation_type), runtime.plugins)
            )
    return found


@post("/items/{item_id:int}/suggest", status_code=200)
def suggest_now(request: Request[Any, Any, Any], item_id: FromPath[int]) -> list[SuggestionOut]:
    """Ask the project's active models about this one item now (superseding what they said
    before). A model trained on other labels than the project's is refused (422 naming both
    hashes and the categories that differ); an item the model fails on is a 422 with why."""
    runtime = runtime_of(request)
    me = user_of(request)
    with runtime.reading() as session:
        item = items.get_item(session, item_id)
        active = model_registry.active_models(session, item.project_id)
    if not active:
        raise InvalidInput("This project has no active model: register one and activate it.")
    for model in active:
        assert model.id is not None
        result = prelabeling.suggest(runtime, model.id, [item_id])
        if result.failures:
            raise InvalidInput(f"{model.name} {model.version}: {result.failures[0].error}")
    with runtime.reading() as session:
        project = projects.get_project(session, item.project_id)
        shown = [
            suggestions.shown_to(session, project, item, m.annotation_type, me.id or 0)
            for m in active
        ]
    return [SuggestionOut.of(s) for s in shown if s is not None]


@post("/suggestions/{suggestion_id:uuid}/accept")
def accept_suggestion(
    request: Request[Any, Any, Any], suggestion_id: FromPath[uuid.UUID], data: JSONBody[AcceptIn]
) -> Response[AnnotationOut]:
    """Take the suggestion as your label (201; 200 for a replay by ``client_op_id``): a normal
    annotation with ``source`` suggestion, naming the suggestion and its model version."""
    runtime = runtime_of(request)
    user = user_of(request)
    with runtime.session() as session:
        result = annotations.accept_suggestion(
            session,
            runtime.plugins,
            suggestion_id,
            annotator_id=user.id,  # type: ignore[arg-type]
            supersedes_id=data.supersedes_id,
            client_op_id=data.client_op_id,
            time_spent_ms=data.time_spent_ms,
        )
    return Response(
        AnnotationOut.of(result.annotation, user.pseudonym),
        status_code=201 if result.created else 200,
    )


@post("/suggestions/{suggestion_id:uuid}/dismiss", status_code=200)
def dismiss_suggestion(
    request: Request[Any, Any, Any], suggestion_id: FromPath[uuid.UUID]
) -> dict[str, str]:
    """Dismiss the suggestion without labeling (the outcome log counts it as rejected)."""
    with runtime_of(request).session() as session:
        suggestion = suggestions.get_suggestion(session, suggestion_id)
        decision = suggestions.decide(session, suggestion, user_of(request).id)  # type: ignore[arg-type]
    return {"outcome": decision.outcome}


suggestion_api = [item_suggestions, suggest_now, accept_suggestion, dismiss_suggestion]
