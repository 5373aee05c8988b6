"""Exact counters: items per lifecycle state, per status group, per category; the review
issues panel.

The state and category counts are sums of ``item_count`` rows, which database triggers write
(+1/-1) in the same transaction as every change to ``item`` and ``item_category`` (migration
0016): exact in the caller's transaction, like a ``COUNT``, but costing the number of changes
since the last ``fold`` instead of the number of items. ``fold`` replaces a project's rows by
one per key; callers fold when ``ProjectCounts.changes`` passes ``FOLD_AT``.
``item_category`` is rewritten with every annotation submission (see
``scholia.core.annotations``), so per-category counts need no scan of annotation payloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert
from sqlmodel import Session, col, select

from .item_state import ItemState
from .models import Category, Item, ItemCategory, ItemCount

__all__ = [
    "FOLD_AT",
    "GROUPS",
    "CategoryCount",
    "Issues",
    "ProjectCounts",
    "category_counts",
    "exact_counts",
    "fold",
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

FOLD_AT = 2000
"""Counter rows of one project past which a reader should ``fold`` them."""

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
    changes: int = 0
    """The ``item_count`` rows summed to get these figures: past ``FOLD_AT``, fold them."""

    @property
    def total(self) -> int:
        return self.groups["all"]


def _sums(session: Session, project_ids: list[int], facet: str) -> list[tuple[int, str, int, int]]:
    """(project, key, sum, rows summed) of the counter rows of ``facet``: one index range."""
    return list(
        session.exec(  # type: ignore[call-overload]
            select(ItemCount.project_id, ItemCount.key, func.sum(ItemCount.n), func.count())
            .where(col(ItemCount.project_id).in_(project_ids), col(ItemCount.facet) == facet)
            .group_by(col(ItemCount.project_id), col(ItemCount.key))
        ).all()
    )


def status_counts(session: Session, project_ids: list[int]) -> dict[int, dict[str, int]]:
    """Items per state for each project (every state present, zero where none): one query."""
    counts = {pid: dict.fromkeys((s.value for s in ItemState), 0) for pid in project_ids}
    if not project_ids:
        return counts
    for project_id, status, total, _ in _sums(session, project_ids, "status"):
        counts[project_id][status] = int(total)
    return counts


def _status_rows(session: Session, project_id: int) -> tuple[dict[str, int], int]:
    counts = dict.fromkeys((s.value for s in ItemState), 0)
    rows = 0
    for _, status, total, summed in _sums(session, [project_id], "status"):
        counts[status] = int(total)
        rows += summed
    return counts, rows


def group_counts(statuses: dict[str, int]) -> dict[str, int]:
    """The tab counts, summed from exact per-state counts."""
    return {
        name: sum(statuses.get(s.value, 0) for s in members) for name, members in GROUPS.items()
    }


def category_counts(session: Session, project_id: int) -> list[CategoryCount]:
    """Items per live category (display order), including categories no item uses yet."""
    return _category_rows(session, project_id)[0]


def _category_rows(session: Session, project_id: int) -> tuple[list[CategoryCount], int]:
    found = _sums(session, [project_id], "category")
    used = {int(key): int(total) for _, key, total, _ in found}
    live = session.exec(
        select(Category)
        .where(col(Category.project_id) == project_id, col(Category.deleted_at).is_(None))
        .order_by(col(Category.display_order), col(Category.id))
    )
    counted = [CategoryCount(c.id, c.name, c.color, used.get(c.id, 0)) for c in live]  # type: ignore[arg-type]
    return counted, sum(rows for *_, rows in found)


def project_counts(session: Session, project_id: int) -> ProjectCounts:
    statuses, status_rows = _status_rows(session, project_id)
    categories, category_rows = _category_rows(session, project_id)
    return ProjectCounts(
        statuses=statuses,
        groups=group_counts(statuses),
        categories=categories,
        changes=status_rows + category_rows,
    )


def exact_counts(session: Session, project_id: int) -> ProjectCounts:
    """The same figures by ``COUNT`` over ``item`` and ``item_category``: what the counter
    rows must always equal (the tests hold them to it; slow on a large project)."""
    statuses = dict.fromkeys((s.value for s in ItemState), 0)
    for status, n in session.exec(  # type: ignore[call-overload]
        select(Item.status, func.count())
        .where(col(Item.project_id) == project_id)
        .group_by(col(Item.status))
    ):
        statuses[status] = n
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
    return ProjectCounts(
        statuses=statuses,
        groups=group_counts(statuses),
        categories=[CategoryCount(c.id, c.name, c.color, used.get(c.id, 0)) for c in live],  # type: ignore[arg-type]
    )


def fold(session: Session, project_id: int) -> int:
    """Replace the project's counter rows by one row per key (zero sums dropped); returns
    the rows removed. The rows folded are exactly those the ``DELETE`` removed (``RETURNING``),
    so rows that concurrent writers insert meanwhile are neither lost nor counted twice."""
    gone = session.exec(  # type: ignore[call-overload]
        delete(ItemCount)
        .where(col(ItemCount.project_id) == project_id)
        .returning(col(ItemCount.facet), col(ItemCount.key), col(ItemCount.n))
    ).all()
    sums: dict[tuple[str, str], int] = {}
    for facet, key, n in gone:
        sums[facet, key] = sums.get((facet, key), 0) + n
    rows = [
        {"project_id": project_id, "facet": facet, "key": key, "n": n}
        for (facet, key), n in sorted(sums.items())
        if n
    ]
    if rows:
        session.exec(insert(ItemCount), params=rows)  # type: ignore[call-overload]
    return len(gone)


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
