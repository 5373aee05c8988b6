"""Review decisions on items, one at a time or in bulk.

A decision moves the item through the lifecycle (``scholia.core.lifecycle.transition``, which
writes the audit event with the reviewer as actor) and stores a ``Review`` row naming the
reviewer, the decision and the comment.

Bulk decisions are **per item**, not all-or-nothing: each item is decided in its own savepoint.
An item whose state does not allow the decision (or that is not in the project) is not
silently skipped: it is listed in ``refused`` with its current state, the states it can move
to, and a message, while the others are decided. A reviewer who selected 48 items and finds
2 were already approved by a colleague keeps the other 46 decisions, and is told about the 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from . import lifecycle, limits
from .errors import IllegalTransition, InvalidInput
from .item_state import ItemState
from .models import Item, Review

__all__ = ["DECISIONS", "MAX_ITEMS", "Decision", "Refusal", "decide", "history"]

DECISIONS = (ItemState.approved, ItemState.needs_review, ItemState.rejected)
MAX_ITEMS = 1000


@dataclass(frozen=True)
class Refusal:
    item_id: int
    current: str | None
    """The item's state, or None when there is no such item in the project."""
    allowed: list[str]
    """The states the item can move to from ``current``."""
    message: str


@dataclass
class Decision:
    decision: str
    decided: list[int] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def decide(
    session: Session,
    *,
    item_ids: Sequence[int],
    decision: str,
    reviewer_id: int,
    comment: str | None = None,
    project_id: int | None = None,
) -> Decision:
    """Decide ``item_ids`` (in the order given, duplicates once); see the module docstring.

    With ``project_id``, items of other projects are refused as not found.
    """
    if decision not in {d.value for d in DECISIONS}:
        raise InvalidInput(
            f"Unknown decision {decision!r}; a review decides one of "
            f"{', '.join(d.value for d in DECISIONS)}",
            "$.decision",
        )
    limits.check(comment, "$.comment", limits.TEXT_MAX)
    unique = list(dict.fromkeys(item_ids))
    if not unique:
        raise InvalidInput("Select at least one item to decide on", "$.item_ids")
    if len(unique) > MAX_ITEMS:
        raise InvalidInput(
            f"At most {MAX_ITEMS} items per decision (got {len(unique)})", "$.item_ids"
        )
    comment = (comment or "").strip() or None
    result = Decision(decision=decision)
    for item_id in unique:
        item = session.get(Item, item_id)
        if item is None or (project_id is not None and item.project_id != project_id):
            where = f" in project {project_id}" if project_id is not None else ""
            result.refused.append(Refusal(item_id, None, [], f"No item {item_id}{where}."))
            continue
        try:
            with session.begin_nested():
                lifecycle.transition(
                    session, item_id, decision, actor_id=reviewer_id, reason=comment or "review"
                )
                session.add(
                    Review(
                        item_id=item_id,
                        reviewer_id=reviewer_id,
                        decision=decision,
                        comment=comment,
                    )
                )
                session.flush()
        except IllegalTransition as error:
            result.refused.append(
                Refusal(item_id, error.current, [str(s) for s in error.allowed], error.message)
            )
            continue
        result.decided.append(item_id)
    return result


def history(session: Session, item_id: int) -> list[Review]:
    """Every review decision on the item with its comment, oldest first: what the item page
    shows reviewers and the dataset's provenance carries."""
    return list(
        session.exec(select(Review).where(col(Review.item_id) == item_id).order_by(col(Review.id)))
    )
