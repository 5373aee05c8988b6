"""An item's lifecycle states and the moves allowed between them (plain data, no database).

    unlabeled → in_progress → labeled | skipped → needs_review → approved | rejected
    approved | rejected → in_progress (reopened) or needs_review
    labeled | needs_review → adjudication → approved | rejected | needs_review

Kept apart from ``lifecycle`` (which applies the moves) so code that only reads or filters
states needs nothing of the database.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["TRANSITIONS", "ItemState", "allowed_transitions"]


class ItemState(StrEnum):
    unlabeled = "unlabeled"
    in_progress = "in_progress"
    labeled = "labeled"
    skipped = "skipped"
    needs_review = "needs_review"
    approved = "approved"
    rejected = "rejected"
    adjudication = "adjudication"


S = ItemState
TRANSITIONS: dict[ItemState, tuple[ItemState, ...]] = {
    S.unlabeled: (S.in_progress,),
    S.in_progress: (S.labeled, S.skipped, S.unlabeled),
    S.labeled: (S.needs_review, S.approved, S.rejected, S.adjudication, S.in_progress),
    S.skipped: (S.needs_review, S.in_progress),
    S.needs_review: (S.approved, S.rejected, S.adjudication, S.in_progress),
    S.approved: (S.in_progress, S.needs_review),
    S.rejected: (S.in_progress, S.needs_review),
    S.adjudication: (S.approved, S.rejected, S.needs_review),
}


def allowed_transitions(state: str) -> tuple[ItemState, ...]:
    return TRANSITIONS.get(ItemState(state), ())
