"""Gold items (honeypots): items with a known answer, mixed into annotators' queues.

An annotator's answer on a gold item is scored against the gold answer with the annotation
type's ``agreement`` (the plugin's, or equality where it has none), so every type can be used
for gold. Whether an item is gold is never sent to an annotator.

Each scored answer outside calibration counts towards the annotator's rolling gold accuracy
(their last ``gold.window`` answers, since their last suspension was lifted). With at least
``gold.min_count`` answers and accuracy below ``gold.threshold``, the annotator is suspended
from the project and their work since the window began is queued for re-annotation
(``scholia.core.standing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import and_, bindparam, case, insert
from sqlmodel import Session, col, func, select

from . import audit, calibration, followups, labels, limits, payloads, standing
from .errors import Conflict, NotFound
from .models import (
    Annotation,
    CalibrationAttempt,
    GoldAnswer,
    GoldResult,
    Item,
    Project,
    User,
)
from .models.types import utcnow
from .plugins import Plugins
from .project_settings import settings_of
from .projects import get_project
from .quality.agreement import NotEnoughData
from .quality.statistics import wilson_interval
from .revisions import current_annotations

__all__ = [
    "GoldAccuracy",
    "GoldItem",
    "accuracies",
    "accuracy",
    "list_gold",
    "mark_gold",
    "promote",
    "record_answer",
    "unmark",
]


_ANSWER_AND_ATTEMPT = (
    select(GoldAnswer, CalibrationAttempt)
    .outerjoin(
        CalibrationAttempt,
        and_(
            col(CalibrationAttempt.project_id) == col(GoldAnswer.project_id),
            col(CalibrationAttempt.annotator_id) == bindparam("annotator_id"),
            col(CalibrationAttempt.passed).is_(None),
        ),
    )
    .where(
        col(GoldAnswer.item_id) == bindparam("item_id"),
        col(GoldAnswer.annotation_type) == bindparam("annotation_type"),
    )
)
"""The item's gold answer and the annotator's open calibration attempt, in one read: a gold
submission must send no more statements than a production one (a production item's first
label reads nothing back), or its cost would tell which items are gold."""

_INSERT_RESULT = insert(GoldResult).returning(col(GoldResult.id))
"""Built once, executed with the row's values (building it per call costs as much as the
production path's whole update)."""


def record_answer(
    session: Session, plugins: Plugins, item: Item, annotation: Annotation
) -> GoldResult | None:
    """Score ``annotation`` (just submitted on gold ``item``) against its gold answer; None
    when the item has no gold answer for that type. Scored by the type's ``agreement`` (equality
    for a type that has none of its own).

    A calibration answer counts towards the annotator's attempt; any other is followed by a
    check of their rolling accuracy (which may suspend them), after the commit: that check
    reads their recent answers, and done in the request it would make a gold submission
    slower than any other, which tells the annotator which items are gold. What is left here
    (read the answer, record the result) is about what settling a production item costs."""
    found = session.exec(
        _ANSWER_AND_ATTEMPT,
        params={
            "item_id": item.id,
            "annotation_type": annotation.annotation_type,
            "annotator_id": annotation.annotator_id,
        },
    ).first()
    if found is None:
        return None
    answer, attempt = found
    kind = plugins.annotation_type(annotation.annotation_type)
    assert kind.agreement is not None  # completed at registration
    project = get_project(session, item.project_id)  # loaded by the submission: no query
    settings = settings_of(project)
    agreement = float(kind.agreement(kind.decode(annotation.payload), kind.decode(answer.payload)))
    assert item.id is not None
    result = GoldResult(
        project_id=item.project_id,
        item_id=item.id,
        annotator_id=annotation.annotator_id,
        annotation_id=annotation.id,
        agreement=agreement,
        correct=agreement >= settings.gold.correct_at,
        created_at=utcnow(),  # passed: pydantic inspects a default factory on every object
    )
    if attempt is not None and item.id in attempt.item_ids:  # calibration.serves, read above
        session.add(result)
        session.flush()
        calibration.record(session, result)
        return result
    # One plain INSERT, as settling a production item makes one plain UPDATE (a unit-of-work
    # flush costs more, and would tell).
    values = result.model_dump(exclude={"id"})
    result.id = session.connection().execute(_INSERT_RESULT, values).scalar_one()
    annotator_id, project_id = annotation.annotator_id, item.project_id
    followups.defer(session, lambda later: _check_standing_of(later, project_id, annotator_id))
    return result


def _check_standing_of(session: Session, project_id: int, annotator_id: int) -> None:
    check_standing(session, get_project(session, project_id), annotator_id)


# --- rolling accuracy ----------------------------------------------------------------------


@dataclass(frozen=True)
class GoldAccuracy:
    """An annotator's rolling gold accuracy in a project."""

    annotator_id: int
    count: int
    """Gold answers in the window (at most ``window``)."""
    correct: int
    window: int
    min_count: int
    threshold: float
    rate: float | None
    """``correct / count``; None below ``min_count`` answers (not enough data)."""
    interval: tuple[float, float] | None
    """95% Wilson interval of the rate; None below ``min_count``."""
    since: Any = None
    """When the oldest answer in the window was given (the start of the window)."""

    @property
    def enough(self) -> bool:
        return self.rate is not None

    @property
    def below_threshold(self) -> bool:
        return self.rate is not None and self.rate < self.threshold

    @property
    def message(self) -> str:
        if self.rate is None:
            return (
                f"not enough data: {self.count} gold answer{'s' if self.count != 1 else ''} "
                f"(need at least {self.min_count})"
            )
        assert self.interval is not None
        low, high = self.interval
        return (
            f"{self.rate:.0%} of the last {self.count} gold answers correct "
            f"(95% Wilson interval {low:.0%}-{high:.0%})"
        )

    def evidence(self) -> dict[str, Any]:
        return {
            "accuracy": self.rate,
            "correct": self.correct,
            "count": self.count,
            "window": self.window,
            "min_count": self.min_count,
            "threshold": self.threshold,
            "wilson_interval": list(self.interval) if self.interval else None,
        }


def accuracy(session: Session, project: Project, annotator_id: int) -> GoldAccuracy:
    """The annotator's last ``gold.window`` answers outside calibration (since their latest
    suspension was lifted, if any)."""
    assert project.id is not None
    settings = settings_of(project).gold
    query = select(GoldResult).where(
        col(GoldResult.project_id) == project.id,
        col(GoldResult.annotator_id) == annotator_id,
        col(GoldResult.calibration_attempt_id).is_(None),
    )
    lifted = standing.last_lifted(session, project.id, annotator_id)
    if lifted is not None:
        query = query.where(col(GoldResult.created_at) > lifted)
    recent = list(session.exec(query.order_by(col(GoldResult.id).desc()).limit(settings.window)))
    correct = sum(1 for r in recent if r.correct)
    rate: float | None = None
    interval: tuple[float, float] | None = None
    if len(recent) >= settings.min_count:
        try:
            interval = wilson_interval(correct, len(recent))
        except NotEnoughData:  # pragma: no cover - min_count >= 1 rules out n == 0
            interval = None
        rate = correct / len(recent)
    return GoldAccuracy(
        annotator_id=annotator_id,
        count=len(recent),
        correct=correct,
        window=settings.window,
        min_count=settings.min_count,
        threshold=settings.threshold,
        rate=rate,
        interval=interval,
        since=recent[-1].created_at if recent else None,
    )


def accuracies(session: Session, project_id: int) -> list[tuple[User, GoldAccuracy]]:
    """Rolling accuracy of everyone who answered a gold item in the project (outside
    calibration), by username."""
    project = get_project(session, project_id)
    ids = session.exec(
        select(GoldResult.annotator_id)
        .where(
            col(GoldResult.project_id) == project_id,
            col(GoldResult.calibration_attempt_id).is_(None),
        )
        .distinct()
    ).all()
    users = session.exec(select(User).where(col(User.id).in_(ids))).all()
    return [
        (u, accuracy(session, project, u.id))  # type: ignore[arg-type]
        for u in sorted(users, key=lambda u: u.username)
    ]


def check_standing(session: Session, project: Project, annotator_id: int) -> GoldAccuracy:
    """Suspend the annotator when, with enough data, their accuracy is below the threshold."""
    assert project.id is not None
    found = accuracy(session, project, annotator_id)
    if not found.below_threshold or standing.is_suspended(session, project.id, annotator_id):
        return found
    assert found.rate is not None and found.interval is not None
    reason = (
        f"Rolling gold accuracy {found.rate:.0%} ({found.correct} of the last {found.count} "
        f"gold answers correct, 95% Wilson interval {found.interval[0]:.0%}-"
        f"{found.interval[1]:.0%}) is below the project's threshold of {found.threshold:.0%}."
    )
    standing.suspend(
        session,
        project.id,
        annotator_id,
        reason=reason,
        evidence=found.evidence(),
        since=found.since,
    )
    return found


# --- marking gold --------------------------------------------------------------------------


def _item_in(session: Session, project_id: int, item_id: int) -> Item:
    get_project(session, project_id)
    item = session.get(Item, item_id)
    if item is None or item.project_id != project_id:
        raise NotFound("item", item_id)
    return item


def _decode(
    session: Session,
    plugins: Plugins,
    project: Project,
    item: Item,
    annotation_type: str,
    payload: Any,
) -> Any:
    """The expected answer as its type's payload, checked as a submission on ``item`` is."""
    kind = payloads.enabled_type(plugins, project, annotation_type)
    assert project.id is not None
    schema = labels.current_schema(session, project.id)
    context = payloads.validation_context(item.meta, project, schema)
    return payloads.decode_payload(kind, payload, context)


def mark_gold(
    session: Session,
    plugins: Plugins,
    project_id: int,
    item_id: int,
    *,
    annotation_type: str,
    payload: Any,
    explanation: str = "",
    actor_id: int,
    source: str = "manual",
    adjudication_id: int | None = None,
) -> GoldAnswer:
    """Make the item gold with its expected answer for ``annotation_type`` (replacing an
    earlier answer of that type). The payload is validated as a submission would be."""
    limits.check(explanation, "$.explanation", limits.TEXT_MAX)
    item = _item_in(session, project_id, item_id)
    project = get_project(session, project_id)
    decoded = _decode(session, plugins, project, item, annotation_type, payload)
    answer = session.get(GoldAnswer, (item_id, annotation_type))
    if answer is None:
        answer = GoldAnswer(
            item_id=item_id,
            annotation_type=annotation_type,
            project_id=project_id,
            payload={},
            created_by=actor_id,
        )
    answer.payload = msgspec.to_builtins(decoded)
    answer.explanation = explanation.strip()
    answer.source = source
    answer.adjudication_id = adjudication_id
    answer.created_by = actor_id
    session.add(answer)
    was_gold = item.is_gold
    item.is_gold = True
    session.add(item)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        project_id=project_id,
        entity="item",
        entity_id=item_id,
        action="gold.mark" if not was_gold else "gold.answer",
        data={
            "annotation_type": annotation_type,
            "payload": answer.payload,
            "source": source,
            "adjudication_id": adjudication_id,
        },
    )
    return answer


def unmark(session: Session, project_id: int, item_id: int, *, actor_id: int) -> Item:
    """The item is no longer gold (its answers go; results already scored stay as history)."""
    item = _item_in(session, project_id, item_id)
    if not item.is_gold:
        raise Conflict(f"Item {item_id} is not gold.")
    for answer in session.exec(select(GoldAnswer).where(col(GoldAnswer.item_id) == item_id)):
        session.delete(answer)
    item.is_gold = False
    session.add(item)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        project_id=project_id,
        entity="item",
        entity_id=item_id,
        action="gold.unmark",
    )
    return item


def promote(
    session: Session,
    plugins: Plugins,
    project_id: int,
    item_id: int,
    *,
    actor_id: int,
    explanation: str = "",
) -> GoldAnswer:
    """Make an adjudicated item gold: the adjudicated annotation's payload is the answer."""
    _item_in(session, project_id, item_id)
    adjudicated = [a for a in current_annotations(session, item_id) if a.adjudication_id]
    if not adjudicated:
        raise Conflict(
            f"Item {item_id} has no adjudicated annotation to promote; mark it gold with its "
            "expected answer instead."
        )
    chosen = adjudicated[-1]
    return mark_gold(
        session,
        plugins,
        project_id,
        item_id,
        annotation_type=chosen.annotation_type,
        payload=chosen.payload,
        explanation=explanation,
        actor_id=actor_id,
        source="adjudication",
        adjudication_id=chosen.adjudication_id,
    )


@dataclass(frozen=True)
class GoldItem:
    item: Item
    answers: list[GoldAnswer]
    answered: int
    """How many answers (outside calibration and in it) it has had."""
    correct: int


def list_gold(session: Session, project_id: int) -> list[GoldItem]:
    """The project's gold items in id order, with their answers and how they were answered."""
    get_project(session, project_id)
    found = session.exec(
        select(Item)
        .where(col(Item.project_id) == project_id, col(Item.is_gold).is_(True))
        .order_by(col(Item.id))
    ).all()
    ids = [i.id for i in found]
    by_item: dict[int, list[GoldAnswer]] = {}
    for answer in session.exec(select(GoldAnswer).where(col(GoldAnswer.item_id).in_(ids))):
        by_item.setdefault(answer.item_id, []).append(answer)
    tallies = {
        item_id: (int(n), int(c or 0))
        for item_id, n, c in session.exec(
            select(
                GoldResult.item_id,
                func.count(),
                func.sum(case((col(GoldResult.correct).is_(True), 1), else_=0)),
            )
            .where(col(GoldResult.item_id).in_(ids))
            .group_by(col(GoldResult.item_id))
        )
    }
    return [
        GoldItem(
            item=i,
            answers=by_item.get(i.id or 0, []),
            answered=tallies.get(i.id or 0, (0, 0))[0],
            correct=tallies.get(i.id or 0, (0, 0))[1],
        )
        for i in found
    ]
