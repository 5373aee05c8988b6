"""API: gold items, rolling gold accuracy, suspensions (QA roles), and the signed-in
annotator's own calibration results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Request
from litestar.params import FromPath, JSONBody
from sqlmodel import col, select

from scholia.core import calibration, gold, projects, standing
from scholia.core.limits import Choice, Text
from scholia.core.models import GoldAnswer, Suspension, User

from ..routing import delete, get, post, runtime_of, user_of

__all__ = ["gold_api"]


class GoldIn(msgspec.Struct, forbid_unknown_fields=True):
    annotation_type: Choice
    payload: Any
    """The expected answer, as a submission of that type would carry it."""
    explanation: Text = ""
    """Shown to annotators with their calibration results: why this is the answer."""


class PromoteIn(msgspec.Struct, forbid_unknown_fields=True):
    explanation: Text = ""


class GoldAnswerOut(msgspec.Struct):
    item_id: int
    annotation_type: str
    payload: Any
    explanation: str
    source: str
    """``manual`` or ``adjudication``."""
    adjudication_id: int | None
    created_by: int
    created_at: datetime

    @classmethod
    def of(cls, answer: GoldAnswer) -> GoldAnswerOut:
        return cls(
            item_id=answer.item_id,
            annotation_type=answer.annotation_type,
            payload=answer.payload,
            explanation=answer.explanation,
            source=answer.source,
            adjudication_id=answer.adjudication_id,
            created_by=answer.created_by,
            created_at=answer.created_at,
        )


class GoldItemOut(msgspec.Struct):
    item_id: int
    name: str
    status: str
    answers: list[GoldAnswerOut]
    answered: int
    """Answers scored on it (calibration included)."""
    correct: int


class AccuracyOut(msgspec.Struct):
    annotator_id: int
    annotator: str
    """Username (QA roles see who is who)."""
    count: int
    correct: int
    window: int
    min_count: int
    threshold: float
    accuracy: float | None
    """None with fewer than ``min_count`` answers: ``message`` then says not enough data."""
    wilson_interval: list[float] | None
    message: str
    suspended: bool


class SuspensionOut(msgspec.Struct):
    id: int
    annotator_id: int
    annotator: str
    reason: str
    evidence: dict[str, Any]
    suspended_at: datetime
    suspended_by: int | None
    lifted_at: datetime | None
    lifted_by: int | None

    @classmethod
    def of(cls, suspension: Suspension, username: str) -> SuspensionOut:
        return cls(
            id=suspension.id or 0,
            annotator_id=suspension.annotator_id,
            annotator=username,
            reason=suspension.reason,
            evidence=suspension.evidence,
            suspended_at=suspension.suspended_at,
            suspended_by=suspension.suspended_by,
            lifted_at=suspension.lifted_at,
            lifted_by=suspension.lifted_by,
        )


class CalibrationItemOut(msgspec.Struct):
    item_id: int
    name: str
    expected: dict[str, Any]
    """Expected payload per annotation type."""
    explanation: str
    answer: Any
    correct: bool


class CalibrationAttemptOut(msgspec.Struct):
    attempt: int
    items: int
    answered: int
    correct: int | None
    """None while the attempt is open (results show once it is over)."""
    score: float | None
    passed: bool | None
    started_at: datetime
    finished_at: datetime | None
    results: list[CalibrationItemOut]


class CalibrationOut(msgspec.Struct):
    required: bool
    passed: bool
    pass_mark: float
    items_per_attempt: int
    attempts_allowed: int
    production: bool
    """Whether the queue gives production items now."""
    message: str
    """Why not, when not."""
    attempts: list[CalibrationAttemptOut]


def _names(session: Any, ids: set[int]) -> dict[int, str]:
    return {u.id: u.username for u in session.exec(select(User).where(col(User.id).in_(ids)))}


@post("/projects/{project_id:int}/items/{item_id:int}/gold")
def mark_gold(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    item_id: FromPath[int],
    data: JSONBody[GoldIn],
) -> GoldAnswerOut:
    """Make the item gold with its expected answer for one annotation type (an earlier answer
    of that type is replaced). The payload is checked as a submission would be."""
    runtime = runtime_of(request)
    with runtime.session() as session:
        answer = gold.mark_gold(
            session,
            runtime.plugins,
            project_id,
            item_id,
            annotation_type=data.annotation_type,
            payload=data.payload,
            explanation=data.explanation,
            actor_id=user_of(request).id,  # type: ignore[arg-type]
        )
        return GoldAnswerOut.of(answer)


@post(
    "/projects/{project_id:int}/items/{item_id:int}/gold/promote",
)
def promote_gold(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    item_id: FromPath[int],
    data: JSONBody[PromoteIn],
) -> GoldAnswerOut:
    """Make an adjudicated item gold: its adjudicated annotation is the expected answer."""
    runtime = runtime_of(request)
    with runtime.session() as session:
        answer = gold.promote(
            session,
            runtime.plugins,
            project_id,
            item_id,
            actor_id=user_of(request).id,  # type: ignore[arg-type]
            explanation=data.explanation,
        )
        return GoldAnswerOut.of(answer)


@delete(
    "/projects/{project_id:int}/items/{item_id:int}/gold",
    status_code=204,
)
def unmark_gold(
    request: Request[Any, Any, Any], project_id: FromPath[int], item_id: FromPath[int]
) -> None:
    """The item is no longer gold (answers already scored stay in the results)."""
    with runtime_of(request).session() as session:
        gold.unmark(session, project_id, item_id, actor_id=user_of(request).id)  # type: ignore[arg-type]


@get("/projects/{project_id:int}/gold")
def list_gold(request: Request[Any, Any, Any], project_id: FromPath[int]) -> list[GoldItemOut]:
    """The project's gold items with their expected answers."""
    with runtime_of(request).reading() as session:
        found = gold.list_gold(session, project_id)
    return [
        GoldItemOut(
            item_id=g.item.id or 0,
            name=g.item.name,
            status=g.item.status,
            answers=[GoldAnswerOut.of(a) for a in g.answers],
            answered=g.answered,
            correct=g.correct,
        )
        for g in found
    ]


@get("/projects/{project_id:int}/gold/accuracy")
def gold_accuracy(request: Request[Any, Any, Any], project_id: FromPath[int]) -> list[AccuracyOut]:
    """Rolling gold accuracy of each annotator who answered gold items (calibration aside)."""
    with runtime_of(request).reading() as session:
        found = gold.accuracies(session, project_id)
        active = {s.annotator_id for s in standing.suspensions(session, project_id, active=True)}
    return [
        AccuracyOut(
            annotator_id=user.id or 0,
            annotator=user.username,
            count=a.count,
            correct=a.correct,
            window=a.window,
            min_count=a.min_count,
            threshold=a.threshold,
            accuracy=a.rate,
            wilson_interval=list(a.interval) if a.interval else None,
            message=a.message,
            suspended=user.id in active,
        )
        for user, a in found
    ]


@get("/projects/{project_id:int}/suspensions")
def list_suspensions(
    request: Request[Any, Any, Any], project_id: FromPath[int]
) -> list[SuspensionOut]:
    """Every suspension in the project, newest first (lifted ones too)."""
    with runtime_of(request).reading() as session:
        projects.get_project(session, project_id)
        found = standing.suspensions(session, project_id)
        names = _names(session, {s.annotator_id for s in found})
    return [SuspensionOut.of(s, names.get(s.annotator_id, "")) for s in found]


@post(
    "/projects/{project_id:int}/suspensions/{suspension_id:int}/lift",
    status_code=200,
)
def lift_suspension(
    request: Request[Any, Any, Any], project_id: FromPath[int], suspension_id: FromPath[int]
) -> SuspensionOut:
    """End a suspension: the annotator gets work again, their accuracy starts afresh."""
    with runtime_of(request).session() as session:
        lifted = standing.lift(
            session,
            project_id,
            suspension_id,
            actor_id=user_of(request).id,  # type: ignore[arg-type]
        )
        names = _names(session, {lifted.annotator_id})
    return SuspensionOut.of(lifted, names.get(lifted.annotator_id, ""))


@post(
    "/projects/{project_id:int}/calibration/{annotator_id:int}/grant",
    status_code=200,
)
def grant_attempt(
    request: Request[Any, Any, Any], project_id: FromPath[int], annotator_id: FromPath[int]
) -> CalibrationOut:
    """Give an annotator who used up their calibration attempts one more."""
    with runtime_of(request).session() as session:
        calibration.grant_attempt(
            session,
            project_id,
            annotator_id,
            actor_id=user_of(request).id,  # type: ignore[arg-type]
        )
        return calibration_out(calibration.status(session, project_id, annotator_id))


def calibration_out(found: calibration.CalibrationStatus) -> CalibrationOut:
    return CalibrationOut(
        required=found.required,
        passed=found.passed,
        pass_mark=found.pass_mark,
        items_per_attempt=found.items_per_attempt,
        attempts_allowed=found.attempts_allowed,
        production=found.step.production,
        message=found.step.message,
        attempts=[
            CalibrationAttemptOut(
                attempt=r.attempt.attempt,
                items=len(r.attempt.item_ids),
                answered=r.attempt.answered,
                correct=r.attempt.correct if r.attempt.passed is not None else None,
                score=r.score if r.attempt.passed is not None else None,
                passed=r.attempt.passed,
                started_at=r.attempt.started_at,
                finished_at=r.attempt.finished_at,
                results=[
                    CalibrationItemOut(
                        item_id=i.item.id or 0,
                        name=i.item.name,
                        expected=i.expected,
                        explanation=i.explanation,
                        answer=i.answer,
                        correct=i.correct,
                    )
                    for i in r.items
                ],
            )
            for r in found.attempts
        ],
    )


@get("/projects/{project_id:int}/calibration")
def my_calibration(request: Request[Any, Any, Any], project_id: FromPath[int]) -> CalibrationOut:
    """Your calibration in the project: each attempt, and once it is over every item's
    expected answer with its explanation."""
    with runtime_of(request).session() as session:
        found = calibration.status(session, project_id, user_of(request).id)  # type: ignore[arg-type]
        return calibration_out(found)


gold_api = [
    mark_gold,
    promote_gold,
    unmark_gold,
    list_gold,
    gold_accuracy,
    list_suspensions,
    lift_suspension,
    grant_attempt,
    my_calibration,
]
