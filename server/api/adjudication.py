"""API: the adjudication backlog, a case with its evidence, and the adjudicator's decision."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from litestar import Request
from litestar.params import FromPath, JSONBody
from sqlmodel import Session

from scholia.core import adjudication, projects
from scholia.core.limits import Choice, Text
from scholia.core.models import Adjudication, Item, User

from ..media import media_url
from ..routing import get, post, runtime_of, user_of
from .schemas import ItemOut

__all__ = ["adjudication_api"]


class CaseSummaryOut(msgspec.Struct):
    """One item of the backlog."""

    item: ItemOut
    thumbnail_url: str
    reason: str
    """Why it was routed, e.g. "agreement 0.00 below 0.50" or "tie between dog and cats"."""
    routed_at: datetime
    versions: int
    """How many distinct versions the annotators gave."""
    annotators: int


class EvidenceOut(msgspec.Struct):
    """One annotator's submission behind a version."""

    annotation_id: uuid.UUID
    annotator: str
    """The annotator's pseudonym."""
    time_spent_ms: int | None
    annotator_confidence: str | None
    reasoning: str | None
    created_at: datetime


class VersionOut(msgspec.Struct):
    """A distinct answer, with everyone who gave it."""

    annotation_type: str
    payload: dict[str, Any]
    labels: list[str]
    """Category names, for display."""
    count: int
    """How many annotators gave this version."""
    suggested: bool
    """The most common version (none is suggested on a tie)."""
    annotators: list[EvidenceOut]


class CaseOut(msgspec.Struct):
    item: ItemOut
    reason: str
    routed_at: datetime
    versions: list[VersionOut]
    tie: bool
    """Two or more versions share the highest count, so none is suggested."""


class AdjudicationIn(msgspec.Struct, forbid_unknown_fields=True):
    reasoning: Text = ""
    """Why this is the final label; required (a blank one is refused with 422)."""
    annotation_id: uuid.UUID | None = None
    """Pick a version: the id of any annotation in it."""
    payload: dict[str, Any] | None = None
    """Or give the final label yourself (checked like any annotation)."""
    annotation_type: Choice | None = None
    """The type of ``payload``; needed only when the item has labels of several types."""


class AdjudicationOut(msgspec.Struct):
    id: int
    item_id: int
    adjudicator: str
    """The adjudicator's pseudonym."""
    reasoning: str
    considered: list[str]
    """Ids of the annotations that were weighed."""
    chosen_annotation_id: uuid.UUID | None
    evidence: dict[str, Any]
    created_at: datetime
    item_status: str


def _item(request: Request[Any, Any, Any], item: Any) -> ItemOut:
    return ItemOut.of(item, media_url(runtime_of(request).settings.secret_key, item.content_hash))


@get("/projects/{project_id:int}/adjudication")
def list_backlog(
    request: Request[Any, Any, Any], project_id: FromPath[int]
) -> list[CaseSummaryOut]:
    """Items waiting for adjudication, oldest routed first."""
    runtime = runtime_of(request)
    secret = runtime.settings.secret_key
    out = []
    with runtime.reading() as session:
        projects.get_project(session, project_id)
        for waiting in adjudication.backlog(session, runtime.plugins, project_id):
            assert waiting.item.id is not None
            out.append(
                CaseSummaryOut(
                    item=_item(request, waiting.item),
                    thumbnail_url=media_url(secret, waiting.item.content_hash, "thumb"),
                    reason=waiting.reason,
                    routed_at=waiting.routed_at,
                    versions=waiting.versions,
                    annotators=waiting.annotators,
                )
            )
    return out


@get("/items/{item_id:int}/adjudication")
def get_case(request: Request[Any, Any, Any], item_id: FromPath[int]) -> CaseOut:
    """The case: why it was routed and each version with its annotators' evidence."""
    runtime = runtime_of(request)
    with runtime.reading() as session:
        case = adjudication.case_of(session, runtime.plugins, item_id)
    versions = [
        VersionOut(
            annotation_type=v.annotation_type,
            payload=v.payload,
            labels=list(v.labels),
            count=v.count,
            suggested=v is case.suggested,
            annotators=[
                EvidenceOut(
                    annotation_id=a.annotation_id,
                    annotator=a.annotator,
                    time_spent_ms=a.time_spent_ms,
                    annotator_confidence=a.confidence,
                    reasoning=a.reasoning,
                    created_at=a.created_at,
                )
                for a in v.opinions
            ],
        )
        for v in case.versions
    ]
    return CaseOut(
        item=_item(request, case.item),
        reason=case.reason,
        routed_at=case.routed_at,
        versions=versions,
        tie=case.suggested is None and len(versions) > 1,
    )


def _out(session: Session, record: Adjudication, status: str) -> AdjudicationOut:
    adjudicator = session.get(User, record.adjudicator_id)
    return AdjudicationOut(
        id=record.id or 0,
        item_id=record.item_id,
        adjudicator=adjudicator.pseudonym if adjudicator else "",
        reasoning=record.reasoning,
        considered=list(record.considered),
        chosen_annotation_id=record.chosen_annotation_id,
        evidence=record.evidence,
        created_at=record.created_at,
        item_status=status,
    )


@post("/items/{item_id:int}/adjudication", status_code=201)
def decide(
    request: Request[Any, Any, Any], item_id: FromPath[int], data: JSONBody[AdjudicationIn]
) -> AdjudicationOut:
    """Decide a case: pick a version (``annotation_id``) or give the ``payload``, with
    ``reasoning``. The item is approved; 422 names the field on bad input, 409 when the item
    is not (or no longer) waiting for adjudication."""
    runtime = runtime_of(request)
    with runtime.session() as session:
        record = adjudication.decide(
            session,
            runtime.plugins,
            item_id,
            adjudicator_id=user_of(request).id,  # type: ignore[arg-type]
            reasoning=data.reasoning,
            annotation_id=data.annotation_id,
            annotation_type=data.annotation_type,
            payload=data.payload,
        )
        item = session.get(Item, item_id)
        assert item is not None
        return _out(session, record, item.status)


adjudication_api = [list_backlog, get_case, decide]
