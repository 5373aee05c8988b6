"""The default quality rules: the export gate's four checks, registered as a default plugin.

Each judges the items of a dataset version (or, on the Quality Hub, the whole project) and
reports its value, its threshold and the counts behind it. With nothing to judge (no gold
items, no reviewed item) a rule says "not enough data" with the count and does not hold the
version: a number computed from nothing would be misleading, and a project without gold
items has nothing the rule could check.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from .. import counts
from ..contributions import QualityRule, RuleResult
from ..hookspecs import hookimpl
from ..item_state import ItemState
from ..models import Annotation, AnnotationSource, GoldResult, Item
from .signals import SIGNAL_RULES, reopen_rates

__all__ = ["DEFAULT_RULES", "register_quality_rules"]

CHUNK = 10_000
"""Item ids per IN (…) list: SQLite takes at most 32,766 bound parameters."""


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _annotators(session: Session, project_id: int, item_ids: Sequence[int] | None) -> set[int]:
    """Whose work is judged: the annotators of the items (everyone's, for the whole project)."""
    query = select(Annotation.annotator_id).where(
        col(Annotation.project_id) == project_id,
        col(Annotation.source).in_((AnnotationSource.human, AnnotationSource.suggestion)),
    )
    if item_ids is None:
        return set(session.exec(query.distinct()))
    found: set[int] = set()
    for chunk in _chunks(item_ids):
        found.update(session.exec(query.where(col(Annotation.item_id).in_(chunk)).distinct()))
    return found


def _not_enough(threshold: float, what: str, count: int, **evidence: int) -> RuleResult:
    return RuleResult(
        passed=True,
        value=None,
        threshold=threshold,
        evidence={what.replace(" ", "_"): count, **evidence},
        message=f"not enough data: {count} {what}; the rule does not apply yet",
    )


def _gold_results(context: Any) -> list[GoldResult]:
    """Production answers on gold items by the annotators whose work is judged."""
    session: Session = context.session
    annotators = _annotators(session, context.project.id, context.item_ids)
    if not annotators:
        return []
    return list(
        session.exec(
            select(GoldResult).where(
                col(GoldResult.project_id) == context.project.id,
                col(GoldResult.annotator_id).in_(annotators),
                col(GoldResult.calibration_attempt_id).is_(None),
            )
        )
    )


def gold_agreement(context: Any, threshold: float) -> RuleResult:
    """Median, over gold items, of the annotators' mean agreement with the gold answer."""
    per_item: dict[int, list[float]] = {}
    for result in _gold_results(context):
        per_item.setdefault(result.item_id, []).append(result.agreement)
    if not per_item:
        return _not_enough(threshold, "gold items answered", 0)
    means = [sum(v) / len(v) for v in per_item.values()]
    value = statistics.median(means)
    answers = sum(len(v) for v in per_item.values())
    return RuleResult(
        passed=value >= threshold,
        value=value,
        threshold=threshold,
        evidence={"gold_items_answered": len(per_item), "answers": answers},
        message=f"median agreement {value:.2f} over {len(per_item)} gold items ({answers} answers)",
    )


def reopen_rate(context: Any, threshold: float) -> RuleResult:
    """1 − first-pass acceptance over the judged items (computed by the quality signals).
    Every reviewed item counts: the gate judges these items, it does not estimate a rate."""
    rate = reopen_rates(context.session, context.project.id, context.item_ids, minimum=1).project
    if rate.value is None:
        return _not_enough(threshold, "reviewed items", rate.reviewed)
    reopened = rate.reviewed - rate.accepted
    return RuleResult(
        passed=rate.value <= threshold,
        value=rate.value,
        threshold=threshold,
        evidence={"reviewed_items": rate.reviewed, "not_approved_first": reopened},
        message=f"{reopened} of {rate.reviewed} reviewed items were not approved on first review",
    )


def gold_coverage(context: Any, threshold: float) -> RuleResult:
    """The share of the project's gold items answered by the annotators whose work is judged."""
    session: Session = context.session
    gold = session.exec(
        select(func.count())
        .select_from(Item)
        .where(col(Item.project_id) == context.project.id, col(Item.is_gold).is_(True))
    ).one()
    if not gold:
        return _not_enough(threshold, "gold items", 0)
    answered = len({r.item_id for r in _gold_results(context)})
    value = answered / gold
    return RuleResult(
        passed=value >= threshold,
        value=value,
        threshold=threshold,
        evidence={"gold_items": int(gold), "answered": answered},
        message=f"{answered} of {gold} gold items answered by the annotators of this work",
    )


def adjudication_backlog(context: Any, threshold: float) -> RuleResult:
    """Items of the project still waiting for an adjudicator."""
    project_id = context.project.id
    waiting = counts.status_counts(context.session, [project_id])[project_id][
        ItemState.adjudication
    ]
    return RuleResult(
        passed=waiting <= threshold,
        value=float(waiting),
        threshold=threshold,
        evidence={"open": int(waiting)},
        message=f"{waiting} items waiting for adjudication",
    )


DEFAULT_RULES = (
    QualityRule(
        name="gold_agreement",
        title="Agreement on the gold set (median)",
        evaluate=gold_agreement,
        default_threshold=0.80,
    ),
    QualityRule(
        name="reopen_rate",
        title="Reopen rate (1 − first-pass acceptance)",
        evaluate=reopen_rate,
        default_threshold=0.02,
        direction="at_most",
    ),
    QualityRule(
        name="gold_coverage",
        title="Gold items answered",
        evaluate=gold_coverage,
        default_threshold=0.95,
    ),
    QualityRule(
        name="adjudication_backlog",
        title="Adjudication backlog",
        evaluate=adjudication_backlog,
        default_threshold=0,
        direction="at_most",
        maximum=None,
    ),
)


@hookimpl(trylast=True)
def register_quality_rules(register: Callable[[QualityRule], None]) -> None:
    """The gate's four rules, and the signals' rules the Quality Hub shows (not gating)."""
    for rule in (*DEFAULT_RULES, *SIGNAL_RULES):
        register(rule)
