"""Exact counters: items per lifecycle state, per status group, per category; the review
issues panel.

Every figure is a ``COUNT`` straight from the tables (``item`` and ``item_category``) in the
caller's transaction, never a cache, so it matches the database at the moment it is read.
``item_category`` is rewritten with every annotation submission (see
``scholia.core.annotations``), so per-category counts need no scan of annotation payloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from .item_state import ItemState
from .models import Category, Item, ItemCategory

__all__ = [
    "GROUPS",
    "CategoryCount",
    "Issues",
    "ProjectCounts",
    "category_counts",
    "group_counts",
    "issues",
    "project_counts",
    "status_counts",
]

S = ItemState
GROUPS: dict[str, tuple[ItemState, ...]] = {
    "all": tuple(ItemState),
    "unlabeled": (S.unlabeled, S.in_progress),
    "in_review": (S.labeled, S.skipped, S.needs_review, S.adjudication),
    "done": (S.approved, S.rejected),
}
"""The grid's filter tabs: each lifecycle state belongs to exactly one of the last three."""

GROUP_TITLES = {"all": "All", "unlabeled": "Unlabeled", "in_review": "In review", "done": "Done"}


@dataclass(frozen=True)
class CategoryCount:
    id: int
    name: str
    color: str
    count: int
    """Items whose current annotations use this category."""


@dataclass
class ProjectCounts:
    statuses: dict[str, int]
    """Items per lifecycle state, every state present (0 where none)."""
    groups: dict[str, int]
    categories: list[CategoryCount] = field(default_factory=list)
    """Live categories in display order, with 0 for unused ones."""

    @property
    def total(self) -> int:
        return self.groups["all"]


def status_counts(session: Session, project_ids: list[int]) -> dict[int, dict[str, int]]:
    """Items per state for each project (every state present, zero where none): one query."""
    counts = {pid: dict.fromkeys((s.value for s in ItemState), 0) for pid in project_ids}
    if not project_ids:
        return counts
    rows = session.exec(
        select(Item.project_id, Item.status, func.count())
        .where(col(Item.project_id).in_(project_ids))
        .group_by(col(Item.project_id), col(Item.status))
    ).all()
    for project_id, status, count in rows:
        counts[project_id][status] = count
    return counts


def group_counts(statuses: dict[str, int]) -> dict[str, int]:
    """The tab counts, summed from exact per-state counts."""
    return {
        name: sum(statuses.get(s.value, 0) for s in members) for name, members in GROUPS.items()
    }


def category_counts(session: Session, project_id: int) -> list[CategoryCount]:
    """Items per live category (display order), including categories no item uses yet."""
    used = dict(
        session.exec(  # type: ignore[arg-type]
            select(ItemCategory.category_id, func.count())
            .where(col(ItemCategory.project_id) == project_id)
            .group_by(col(ItemCategory.category_id))
        ).all()
    )
    live = session.exec(
        select(Category)
        .where(col(Category.project_id) == project_id, col(Category.deleted_at).is_(None))
        .order_by(col(Category.display_order), col(Category.id))
    )
    return [CategoryCount(c.id, c.name, c.color, used.get(c.id, 0)) for c in live]


def project_counts(session: Session, project_id: int) -> ProjectCounts:
    statuses = status_counts(session, [project_id])[project_id]
    return ProjectCounts(
        statuses=statuses,
        groups=group_counts(statuses),
        categories=category_counts(session, project_id),
    )


@dataclass
class Issues:
    missing_labels: int
    """Items in state ``labeled`` whose current annotations use no category (including those
    with no current annotation at all, e.g. every annotation withdrawn)."""
    missing_label_ids: list[int]
    """The first of them by id (at most ``limit``), to link to."""
    skipped: int
    skipped_ids: list[int]

    @property
    def total(self) -> int:
        return self.missing_labels + self.skipped


def issues(session: Session, project_id: int, *, limit: int = 20) -> Issues:
    """What a reviewer should look at: labeled items without labels, and skipped items."""
    no_category = ~select(ItemCategory.item_id).where(col(ItemCategory.item_id) == Item.id).exists()
    missing = (
        col(Item.project_id) == project_id,
        col(Item.status) == ItemState.labeled.value,
        no_category,
    )
    skipped = (col(Item.project_id) == project_id, col(Item.status) == ItemState.skipped.value)
    return Issues(
        missing_labels=session.exec(select(func.count()).select_from(Item).where(*missing)).one(),
        missing_label_ids=list(
            session.exec(select(Item.id).where(*missing).order_by(col(Item.id)).limit(limit))  # type: ignore[arg-type]
        ),
        skipped=session.exec(select(func.count()).select_from(Item).where(*skipped)).one(),
        skipped_ids=list(
            session.exec(select(Item.id).where(*skipped).order_by(col(Item.id)).limit(limit))  # type: ignore[arg-type]
        ),
    )
