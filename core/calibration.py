"""Calibration: a set of gold items a new annotator answers before any production item.

When a project requires it, an annotator's queue serves only the items of their open attempt
(``calibration.items`` gold items drawn at random, fresh ones first), one after the other.
Once every item is answered the attempt is scored: ``pass_mark`` or better passes and
production items follow; a failed attempt starts another (a different draw where the project
has enough gold) until ``attempts`` are used up, after which the annotator gets nothing until
a manager grants another attempt. Calibration answers never count towards rolling gold
accuracy. The annotator sees each finished attempt with every item's expected answer and its
explanation: that is what calibration is for.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from . import audit
from .errors import Conflict, NotFound
from .models import Annotation, CalibrationAttempt, GoldAnswer, GoldResult, Item, Project
from .models.types import utcnow
from .project_settings import settings_of
from .projects import get_project

__all__ = [
    "AttemptReport",
    "CalibrationStatus",
    "ItemReport",
    "Step",
    "grant_attempt",
    "next_step",
    "open_items",
    "production_refusal",
    "record",
    "serves",
    "status",
]

_random = secrets.SystemRandom()


@dataclass(frozen=True)
class Step:
    """What an annotator's queue may give them now."""

    production: bool
    """Production items (calibration passed, or not required)."""
    item: Item | None = None
    """The next calibration item to answer, while an attempt is open."""
    message: str = ""
    """Why there are no production items, said to the annotator."""


def _attempts(session: Session, project_id: int, annotator_id: int) -> list[CalibrationAttempt]:
    return list(
        session.exec(
            select(CalibrationAttempt)
            .where(
                col(CalibrationAttempt.project_id) == project_id,
                col(CalibrationAttempt.annotator_id) == annotator_id,
            )
            .order_by(col(CalibrationAttempt.attempt))
        )
    )


def _open(attempts: list[CalibrationAttempt]) -> CalibrationAttempt | None:
    return next((a for a in attempts if a.passed is None), None)


def _answered(session: Session, attempt: CalibrationAttempt) -> dict[int, GoldResult]:
    """The latest result of each item answered in ``attempt``."""
    found: dict[int, GoldResult] = {}
    for result in session.exec(
        select(GoldResult)
        .where(col(GoldResult.calibration_attempt_id) == attempt.id)
        .order_by(col(GoldResult.id))
    ):
        found[result.item_id] = result
    return found


def _gold_ids(session: Session, project_id: int) -> list[int]:
    """Gold items that have an expected answer (only those can be scored)."""
    found = session.exec(
        select(col(Item.id))
        .where(
            col(Item.project_id) == project_id,
            col(Item.is_gold).is_(True),
            col(Item.id).in_(select(GoldAnswer.item_id)),
        )
        .distinct()
    )
    return [i for i in found if i is not None]


def _draw(session: Session, project: Project, annotator_id: int, size: int) -> list[int]:
    """``size`` gold items in random order: those the annotator never answered first, then (if
    the project has too few) ones they did."""
    assert project.id is not None
    gold = _gold_ids(session, project.id)
    seen = set(
        session.exec(
            select(GoldResult.item_id).where(
                col(GoldResult.project_id) == project.id,
                col(GoldResult.annotator_id) == annotator_id,
            )
        )
    )
    fresh = [i for i in gold if i not in seen]
    again = [i for i in gold if i in seen]
    chosen = _random.sample(fresh, min(size, len(fresh)))
    chosen += _random.sample(again, min(size - len(chosen), len(again)))
    _random.shuffle(chosen)
    return chosen


def _start(
    session: Session,
    project: Project,
    annotator_id: int,
    number: int,
    *,
    actor_id: int | None = None,
) -> CalibrationAttempt | None:
    assert project.id is not None
    size = settings_of(project).calibration.items
    item_ids = _draw(session, project, annotator_id, size)
    if not item_ids:
        return None
    attempt = CalibrationAttempt(
        project_id=project.id, annotator_id=annotator_id, attempt=number, item_ids=item_ids
    )
    session.add(attempt)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id if actor_id is not None else annotator_id,
        project_id=project.id,
        entity="calibration_attempt",
        entity_id=attempt.id,
        action="start" if actor_id is None else "grant",
        data={"annotator_id": annotator_id, "attempt": number, "items": len(item_ids)},
    )
    return attempt


def next_step(session: Session, project: Project, annotator_id: int) -> Step:
    """Production items, the next calibration item (starting an attempt if one is due), or
    nothing with the reason."""
    settings = settings_of(project).calibration
    if not settings.required:
        return Step(production=True)
    assert project.id is not None
    attempts = _attempts(session, project.id, annotator_id)
    if any(a.passed for a in attempts):
        return Step(production=True)
    attempt = _open(attempts)
    if attempt is None:
        if len(attempts) >= settings.attempts:
            best = max(a.correct / max(1, len(a.item_ids)) for a in attempts)
            return Step(
                production=False,
                message=(
                    f"You have used all {len(attempts)} calibration attempts without reaching "
                    f"the pass mark of {settings.pass_mark:.0%} (your best: {best:.0%}), so "
                    "this project has no items for you. A manager can grant you another "
                    "attempt."
                ),
            )
        attempt = _start(session, project, annotator_id, len(attempts) + 1)
        if attempt is None:
            return Step(
                production=False,
                message=(
                    "This project asks new annotators to pass a calibration set first, and "
                    "it has no calibration items yet. Ask a manager to add some."
                ),
            )
    answered = _answered(session, attempt)
    for item_id in attempt.item_ids:
        if item_id not in answered:
            item = session.get(Item, item_id)
            if item is not None and item.is_gold:
                return Step(production=False, item=item)
    # Every item still gold is answered (an item unmarked meanwhile cannot be): score it.
    _finish(session, project, attempt, answered)
    return next_step(session, project, annotator_id)


def production_refusal(session: Session, project: Project, annotator_id: int) -> str | None:
    """Why the annotator may not take production items yet (calibration is required and they
    have not passed it), or None when they may. Reads only: nothing is started here."""
    if not settings_of(project).calibration.required:
        return None
    assert project.id is not None
    if any(a.passed for a in _attempts(session, project.id, annotator_id)):
        return None
    return (
        "This project asks new annotators to pass a calibration set before other items; "
        "take your next item from the queue."
    )


def open_items(session: Session, project_id: int, annotator_id: int) -> set[int]:
    """The items of the annotator's open calibration attempt (none once it is scored)."""
    attempt = session.exec(
        select(CalibrationAttempt).where(
            col(CalibrationAttempt.project_id) == project_id,
            col(CalibrationAttempt.annotator_id) == annotator_id,
            col(CalibrationAttempt.passed).is_(None),
        )
    ).first()
    return set(attempt.item_ids) if attempt is not None else set()


def serves(session: Session, item: Item, annotator_id: int) -> bool:
    """Whether ``item`` is in the annotator's open calibration attempt."""
    if not item.is_gold:  # attempts are made of gold items only: nothing to read
        return False
    attempt = session.exec(
        select(CalibrationAttempt).where(
            col(CalibrationAttempt.project_id) == item.project_id,
            col(CalibrationAttempt.annotator_id) == annotator_id,
            col(CalibrationAttempt.passed).is_(None),
        )
    ).first()
    return attempt is not None and item.id in attempt.item_ids


def record(session: Session, result: GoldResult) -> CalibrationAttempt | None:
    """Count ``result`` towards the annotator's open attempt if its item is in it (it then
    does not count towards rolling accuracy); score the attempt once every item is answered."""
    attempt = session.exec(
        select(CalibrationAttempt).where(
            col(CalibrationAttempt.project_id) == result.project_id,
            col(CalibrationAttempt.annotator_id) == result.annotator_id,
            col(CalibrationAttempt.passed).is_(None),
        )
    ).first()
    if attempt is None or result.item_id not in attempt.item_ids:
        return None
    result.calibration_attempt_id = attempt.id
    session.add(result)
    session.flush()
    answered = _answered(session, attempt)
    attempt.answered = len(answered)
    attempt.correct = sum(1 for r in answered.values() if r.correct)
    session.add(attempt)
    if all(i in answered for i in attempt.item_ids):
        _finish(session, get_project(session, result.project_id), attempt, answered)
    return attempt


def _finish(
    session: Session,
    project: Project,
    attempt: CalibrationAttempt,
    answered: dict[int, GoldResult],
) -> None:
    settings = settings_of(project).calibration
    attempt.answered = len(answered)
    attempt.correct = sum(1 for r in answered.values() if r.correct)
    score = attempt.correct / max(1, len(attempt.item_ids))
    attempt.passed = score >= settings.pass_mark
    attempt.finished_at = utcnow()
    session.add(attempt)
    session.flush()
    audit.record(
        session,
        actor_id=attempt.annotator_id,
        project_id=attempt.project_id,
        entity="calibration_attempt",
        entity_id=attempt.id,
        action="passed" if attempt.passed else "failed",
        data={
            "annotator_id": attempt.annotator_id,
            "attempt": attempt.attempt,
            "correct": attempt.correct,
            "items": len(attempt.item_ids),
            "score": score,
            "pass_mark": settings.pass_mark,
        },
    )


def grant_attempt(
    session: Session, project_id: int, annotator_id: int, *, actor_id: int
) -> CalibrationAttempt:
    """A manager gives an annotator who used up their attempts one more (started at once)."""
    project = get_project(session, project_id)
    attempts = _attempts(session, project_id, annotator_id)
    if not attempts:
        raise NotFound("calibration attempt of annotator", annotator_id)
    if any(a.passed for a in attempts):
        raise Conflict("This annotator has passed calibration already.")
    if _open(attempts) is not None:
        raise Conflict("This annotator has an attempt open already.")
    attempt = _start(session, project, annotator_id, len(attempts) + 1, actor_id=actor_id)
    if attempt is None:
        raise Conflict("The project has no calibration items to draw an attempt from.")
    return attempt


@dataclass(frozen=True)
class ItemReport:
    item: Item
    expected: dict[str, Any]
    """Expected payload per annotation type."""
    explanation: str
    answer: dict[str, Any] | None
    """The annotator's payload (their scored annotation), None if unanswered."""
    annotation_type: str | None
    correct: bool
    agreement: float | None


@dataclass(frozen=True)
class AttemptReport:
    attempt: CalibrationAttempt
    items: list[ItemReport] = field(default_factory=list)
    """Filled for finished attempts only: answers are shown once an attempt is over."""

    @property
    def score(self) -> float:
        return self.attempt.correct / max(1, len(self.attempt.item_ids))


@dataclass(frozen=True)
class CalibrationStatus:
    required: bool
    passed: bool
    attempts_allowed: int
    pass_mark: float
    items_per_attempt: int
    attempts: list[AttemptReport]
    step: Step

    @property
    def open_attempt(self) -> CalibrationAttempt | None:
        return _open([a.attempt for a in self.attempts])


def status(session: Session, project_id: int, annotator_id: int) -> CalibrationStatus:
    """The annotator's calibration: each attempt (finished ones with every item's expected
    answer, explanation and their own answer) and what their queue gives them now."""
    project = get_project(session, project_id)
    settings = settings_of(project).calibration
    step = next_step(session, project, annotator_id)
    reports = []
    for attempt in _attempts(session, project_id, annotator_id):
        if attempt.passed is None:
            reports.append(AttemptReport(attempt))
            continue
        answered = _answered(session, attempt)
        answers = {
            a.item_id: a
            for a in session.exec(
                select(GoldAnswer).where(col(GoldAnswer.item_id).in_(attempt.item_ids))
            )
        }
        reports.append(
            AttemptReport(
                attempt, [_item_report(session, i, answered, answers) for i in attempt.item_ids]
            )
        )
    return CalibrationStatus(
        required=settings.required,
        passed=any(r.attempt.passed for r in reports),
        attempts_allowed=settings.attempts,
        pass_mark=settings.pass_mark,
        items_per_attempt=settings.items,
        attempts=reports,
        step=step,
    )


def _item_report(
    session: Session,
    item_id: int,
    answered: dict[int, GoldResult],
    answers: dict[int, GoldAnswer],
) -> ItemReport:
    item = session.get(Item, item_id)
    assert item is not None
    expected = {
        a.annotation_type: a.payload
        for a in session.exec(select(GoldAnswer).where(col(GoldAnswer.item_id) == item_id))
    }
    gold = answers.get(item_id)
    result = answered.get(item_id)
    annotation = session.get(Annotation, result.annotation_id) if result else None
    return ItemReport(
        item=item,
        expected=expected,
        explanation=gold.explanation if gold else "",
        answer=annotation.payload if annotation else None,
        annotation_type=annotation.annotation_type if annotation else None,
        correct=bool(result and result.correct),
        agreement=result.agreement if result else None,
    )
