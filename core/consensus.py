"""Overlap and consensus: when an item with several annotators is labeled, and what then.

With overlap N an item stays ``in_progress`` until N annotators' work is in (their slots not
voided). Then it is ``labeled``, and with two or more annotators their labels are compared
with the annotation type's ``agreement`` (the plugin's, or equality where it has none): an item
whose mean pairwise agreement is below the project's ``adjudication.below``, or whose labels
the type's ``aggregate`` cannot combine into one (a tied vote), goes to ``adjudication`` with
the reason; one all annotators agree on fully is approved at once if the project says so.
Gold items never pass through here (their state is QA's business).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from sqlalchemy import Row, bindparam, func, or_
from sqlmodel import Session, col, select

from . import lifecycle
from .driver_values import raw
from .item_state import ItemState
from .models import Annotation, AnnotationSource, Assignment, Item
from .plugins import Plugins
from .project_settings import ProjectSettings
from .slots import add_slot

__all__ = [
    "Verdict",
    "apply_overlap",
    "judge",
    "settle",
    "valid_annotation_rows",
    "valid_annotations",
]


def _valid_statement() -> Any:
    item_ids: Any = bindparam("item_ids", expanding=True)
    superseded = select(Annotation.supersedes_id).where(
        col(Annotation.item_id).in_(item_ids), col(Annotation.supersedes_id).is_not(None)
    )
    voided = select(Assignment.id).where(
        col(Assignment.item_id).in_(item_ids), col(Assignment.voided_at).is_not(None)
    )
    return (
        select(Annotation)
        .where(
            col(Annotation.item_id).in_(item_ids),
            col(Annotation.id).not_in(superseded),
            col(Annotation.source) != AnnotationSource.withdrawal,
            or_(
                col(Annotation.assignment_id).is_(None),
                col(Annotation.assignment_id).not_in(voided),
            ),
        )
        .order_by(col(Annotation.created_at), col(Annotation.id))
    )


_VALID = _valid_statement()
"""Built once: every submission that completes an item reads it."""


def valid_annotations(session: Session, item_ids: Sequence[int]) -> dict[int, list[Annotation]]:
    """The current annotations of each item that still count: not superseded, not withdrawn,
    not from a voided slot (their annotator's work was queued for re-annotation)."""
    if not item_ids:
        return {}
    found: dict[int, list[Annotation]] = {}
    for annotation in session.exec(_VALID, params={"item_ids": list(item_ids)}):
        found.setdefault(annotation.item_id, []).append(annotation)
    return found


_VALID_ROWS = _VALID.with_only_columns(
    *(
        raw(column) if column.name in ("id", "suggestion_id", "created_at") else column
        for column in Annotation.__table__.c  # type: ignore[attr-defined]
        if column.name not in ("reasoning", "client_op_id", "quality_flags")
    )
)
"""The columns a version writes of a label (not the free-text reasoning, the client's replay
key or the flags, which it leaves out); its ids and time as the driver gives them
(``driver_values``: a build writes them as text, and the typed values cost more than the
row)."""


def valid_annotation_rows(session: Session, item_ids: Sequence[int]) -> dict[int, list[Row[Any]]]:
    """``valid_annotations`` as read-only rows (the same attributes, but for ``reasoning``,
    ``client_op_id`` and ``quality_flags``; ``id``, ``suggestion_id`` and ``created_at`` as the
    driver gives them, see ``driver_values``): what a dataset build reads for every item, at
    about half the cost of building ORM objects it never changes."""
    if not item_ids:
        return {}
    found: dict[int, list[Row[Any]]] = {}
    # Through the connection: rows of columns need none of the ORM's result handling.
    for row in session.connection().execute(_VALID_ROWS, {"item_ids": list(item_ids)}):
        found.setdefault(row.item_id, []).append(row)
    return found


@dataclass(frozen=True)
class Verdict:
    """How several annotators' labels on one item compare."""

    annotators: int
    agreement: float | None
    """Mean pairwise agreement over every annotation type; None with fewer than two labels."""
    unanimous: bool
    tie: bool
    reason: str | None
    """Why the item needs an adjudicator, or None when it does not."""


def judge(plugins: Plugins, annotations: Sequence[Annotation], below: float) -> Verdict:
    """Compare the labels of one item (see the module docstring): every pair of labels of one
    type by the type's ``agreement``; the item ties when the type's ``aggregate`` finds no
    single label (a vote split evenly; a type with its own agreement has a most central label
    and never ties: agreement alone judges it)."""
    people = len({a.annotator_id for a in annotations})
    scores: list[float] = []
    tie = False
    unanimous = True
    for annotation_type in sorted({a.annotation_type for a in annotations}):
        of_type = [a for a in annotations if a.annotation_type == annotation_type]
        if len(of_type) < 2:
            continue
        kind = plugins.annotation_type(annotation_type)
        assert kind.agreement is not None and kind.aggregate is not None  # completed
        decoded = [kind.decode(a.payload) for a in of_type]
        pairs = [float(kind.agreement(left, right)) for left, right in combinations(decoded, 2)]
        scores.extend(pairs)
        tie = tie or kind.aggregate(decoded) is None
        unanimous = unanimous and all(score >= 1.0 for score in pairs)
    agreement = sum(scores) / len(scores) if scores else None
    reason = None
    if agreement is not None and agreement < below:
        reason = f"agreement {agreement:.2f} below {below:.2f} ({people} annotators)"
    elif tie:
        reason = f"the vote is tied ({people} annotators)"
    return Verdict(people, agreement, unanimous and agreement is not None, tie, reason)


def settle(
    session: Session,
    plugins: Plugins,
    item: Item,
    settings: ProjectSettings,
    actor_id: int | None,
    valid: list[Annotation] | None = None,
) -> Verdict | None:
    """After a submission on ``item``: move it as far as its annotators' work allows.

    The caller holds the item's lock (``lifecycle.lock``), so the labels counted here are all
    those committed on it: of two submissions completing an item, the second settles it.
    Items past labeling (a correction on a reviewed item, say) keep their state. A caller that
    already knows the item's valid annotations (the first label on an item) passes them as
    ``valid``, which saves reading them again on the hot path."""
    assert item.id is not None
    steps: list[lifecycle.Step] = []  # taken together at the end: one write for all of them
    state = item.status
    if state in (ItemState.unlabeled, ItemState.skipped):
        steps.append(lifecycle.Step(ItemState.in_progress, actor_id, "submitted"))
        state = ItemState.in_progress
    verdict = None
    if state == ItemState.in_progress:
        current = (
            valid if valid is not None else valid_annotations(session, [item.id]).get(item.id, [])
        )
        done = len({a.annotator_id for a in current})
        if done >= settings.overlap:
            reason = (
                "submitted" if settings.overlap == 1 else f"{done} of {settings.overlap} annotators"
            )
            steps.append(lifecycle.Step(ItemState.labeled, actor_id, reason))
            if done >= 2:
                verdict = judge(plugins, current, settings.adjudication.below)
                if verdict.reason is not None:
                    steps.append(lifecycle.Step(ItemState.adjudication, None, verdict.reason))
                elif verdict.unanimous and settings.adjudication.auto_accept_unanimous:
                    steps.append(
                        lifecycle.Step(
                            ItemState.approved,
                            None,
                            f"unanimous ({done} annotators), accepted without review",
                        )
                    )
    lifecycle.advance(session, item.id, steps)
    return verdict


def apply_overlap(
    session: Session, plugins: Plugins, project_id: int, settings: ProjectSettings, actor_id: int
) -> int:
    """After a project's overlap changed: each item still being labeled gets the open slots
    the new overlap needs (slots whose work was voided do not count), and one that already
    has enough annotators' work is settled. Returns how many slots were added."""
    counted = (
        select(Assignment.item_id, func.count())
        .join(Item, col(Item.id) == col(Assignment.item_id))
        .where(
            col(Item.project_id) == project_id,
            col(Item.is_gold).is_(False),
            col(Item.status).in_((ItemState.unlabeled, ItemState.in_progress)),
            col(Assignment.voided_at).is_(None),
        )
        .group_by(col(Assignment.item_id))
    )
    added = 0
    for item_id, slots in list(session.exec(counted)):
        for _ in range(settings.overlap - slots):
            add_slot(session, item_id)
            added += 1
        item = lifecycle.lock(session, item_id)  # settled under the lock, as submissions are
        if item.status == ItemState.in_progress:
            settle(session, plugins, item, settings, actor_id)
    return added
