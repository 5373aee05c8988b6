"""Acting on the signals' rules: labels from a drifting annotator-week go to an adjudicator,
and the items of an annotator whose reopen rate is above its ceiling go back to review.

Only items still ``labeled`` (nobody has reviewed them yet) are moved, each through the
lifecycle with the finding as the audit reason; the thresholds are the project's for the
``label_drift`` and ``annotator_reopen_rate`` rules. A manager runs it from the Quality Hub
or the API: moving work is a decision, so it is not a side effect of looking at figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from .. import lifecycle
from ..consensus import valid_annotations
from ..item_state import ItemState
from ..models import Item, Project, User
from ..plugins import Plugins
from .signals import (
    DRIFT_THRESHOLD,
    REOPEN_THRESHOLD,
    iso_week,
    label_counts,
    label_drift,
    reopen_rates,
)

__all__ = ["CHUNK", "Escalation", "escalate"]

CHUNK = 500
"""Labeled items read at a time."""


@dataclass
class Escalation:
    """What was moved, and why."""

    to_adjudication: list[int] = field(default_factory=list)
    to_review: list[int] = field(default_factory=list)
    drifting: list[tuple[str, str, float]] = field(default_factory=list)
    """(annotator pseudonym, ISO week, divergence) above the drift threshold."""
    reopening: list[tuple[str, float]] = field(default_factory=list)
    """(annotator pseudonym, reopen rate) above the reopen ceiling."""


def escalate(session: Session, plugins: Plugins, project: Project, *, actor_id: int) -> Escalation:
    """Apply the two signal rules to the project's labeled items (see the module docstring)."""
    assert project.id is not None
    thresholds = project.settings.get("quality_thresholds", {})
    drift_at = float(thresholds.get("label_drift", DRIFT_THRESHOLD))
    reopen_at = float(thresholds.get("annotator_reopen_rate", REOPEN_THRESHOLD))
    drift = {
        (c.annotator_id, c.week): c.divergence
        for c in label_drift(label_counts(session, plugins.annotation_types, project.id))
        if c.divergence is not None and c.divergence > drift_at
    }
    reopen = {
        annotator: rate.value
        for annotator, rate in reopen_rates(session, project.id).annotators.items()
        if rate.value is not None and rate.value > reopen_at
    }
    names = {
        u.id: u.pseudonym
        for u in session.exec(
            select(User).where(col(User.id).in_({a for a, _ in drift} | set(reopen)))
        )
    }
    done = Escalation(
        drifting=[(names.get(a, str(a)), w, v) for (a, w), v in sorted(drift.items())],
        reopening=[(names.get(a, str(a)), v) for a, v in sorted(reopen.items())],
    )
    if not drift and not reopen:
        return done
    after = 0
    while True:
        chunk = list(
            session.exec(
                select(Item.id)
                .where(
                    col(Item.project_id) == project.id,
                    col(Item.status) == ItemState.labeled,
                    col(Item.id) > after,
                )
                .order_by(col(Item.id))
                .limit(CHUNK)
            )
        )
        if not chunk:
            return done
        after = chunk[-1]  # type: ignore[assignment]
        for item_id, found in valid_annotations(session, chunk).items():  # type: ignore[arg-type]
            drifted = [
                (a, drift[(a.annotator_id, iso_week(a.created_at.date()))])
                for a in found
                if (a.annotator_id, iso_week(a.created_at.date())) in drift
            ]
            reopened = [a for a in found if a.annotator_id in reopen]
            if drifted:
                annotation, divergence = drifted[0]
                reason = (
                    f"label drift {divergence:.3f} above {drift_at:g}: "
                    f"{names.get(annotation.annotator_id)} in "
                    f"{iso_week(annotation.created_at.date())}"
                )
                lifecycle.transition(
                    session, item_id, ItemState.adjudication, actor_id=actor_id, reason=reason
                )
                done.to_adjudication.append(item_id)
            elif reopened:
                annotator = reopened[0].annotator_id
                reason = (
                    f"reopen rate {reopen[annotator]:.1%} above {reopen_at:.1%}: "
                    f"{names.get(annotator)}'s items are reviewed"
                )
                lifecycle.transition(
                    session, item_id, ItemState.needs_review, actor_id=actor_id, reason=reason
                )
                done.to_review.append(item_id)
