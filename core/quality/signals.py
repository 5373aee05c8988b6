"""Quality signals: how each annotator's work compares with the project's, week by week.

Generic over annotation types: labels are the category ids an annotation type's plugin reads
from a payload (``AnnotationType.categories``), and two labels agree as much as their type's
``agreement`` says (``typed_distance``). The counted annotations are read once, as the
driver's rows turned into numpy columns (a million ORM objects, or a million result rows, cost
seconds), and the signals count from those columns (first reviews and reopenings come from
queries of their own); every figure says "not enough data" with the count when there is too
little to judge.

The annotations counted are the current ones that still count: not superseded, not
withdrawn, not from a voided slot, made by a person (``human``, or an accepted ``suggestion``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any, TypeVar

import msgspec
import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    Date,
    Integer,
    Text,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from ..contributions import AnnotationType, QualityRule, RuleResult
from ..models import Annotation, AnnotationSource, Assignment, AuditEvent, Item, Review, User
from ..plugins import Plugins
from .agreement import (
    NotEnoughData,
    distance_agreement,
    distance_alpha,
    presence_alphas,
    rating_agreement,
)
from .statistics import homogeneity_test, js_divergence, robust_z, wilson_interval
from .typed_distance import TypedDistance

__all__ = [
    "MIN_BIAS_LABELS",
    "MIN_REVIEWED",
    "MIN_TIMES",
    "MIN_WEEK_LABELS",
    "MIN_WEEK_UNITS",
    "OUTLIER_Z",
    "SIGNAL_RULES",
    "AgreementBreakdown",
    "AgreementWeek",
    "Bias",
    "DriftCell",
    "LabelCounts",
    "ReopenRate",
    "ReopenRates",
    "TimeOutlier",
    "TimeOutliers",
    "agreement_breakdown",
    "agreement_by_week",
    "annotator_bias",
    "iso_week",
    "label_counts",
    "label_drift",
    "not_enough",
    "reopen_rates",
    "time_outliers",
]

MIN_REVIEWED = 10
"""Reviewed items an annotator (or the project) needs before a reopen rate is given."""
MIN_WEEK_LABELS = 200
"""Labels an annotator needs in a week before their drift that week is given. Sampling noise
alone puts the Jensen–Shannon divergence near (k − 1) / (8 n ln 2) bits for n labels over k
categories: 0.11 at n = 30 and k = 20, 0.017 at n = 200, so a smaller week would read as drift
above the 0.05 rule by chance."""
MIN_BIAS_LABELS = 30
"""Labels an annotator, and the rest of the pool, need before a bias test is run."""
MIN_TIMES = 10
"""Timed annotations needed before time outliers are looked for."""
MIN_WEEK_UNITS = 10
"""Items with two or more annotations a week needs before its agreement is given."""
OUTLIER_Z = 3.5
"""|robust z| above which a time is an outlier (Iglewicz and Hoaglin's cut-off)."""
DRIFT_THRESHOLD = 0.05
REOPEN_THRESHOLD = 0.03
CHUNK = 500
"""Item ids per query when a signal is narrowed to some items (a dataset version)."""

T = TypeVar("T")

ANNOTATOR_SOURCES = (AnnotationSource.human.value, AnnotationSource.suggestion.value)

_A = Annotation.__table__  # type: ignore[attr-defined]
_S = Assignment.__table__  # type: ignore[attr-defined]
_R = Review.__table__  # type: ignore[attr-defined]
_I = Item.__table__  # type: ignore[attr-defined]
_E = AuditEvent.__table__  # type: ignore[attr-defined]


def not_enough(count: int, needed: int, what: str, plural: str | None = None) -> str:
    """The message every signal gives instead of a number it cannot stand behind."""
    noun = what if count == 1 else (plural or what + "s")
    return f"not enough data: {count} {noun} (need at least {needed})"


def iso_week(day: date) -> str:
    """``2026-W49``: weeks are ISO 8601 weeks (Monday to Sunday, UTC)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# --- the annotations that count -------------------------------------------------------------


JULIAN_DAY_OF_ORDINAL_0 = 1_721_424
"""The Julian day number of the day before 0001-01-01 (``date.toordinal`` 0)."""


def _day(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp column as ``date.toordinal`` gives it, in the
    database's own SQL: a million integers are cheaper to read back than a million dates."""
    if session.get_bind().dialect.name == "postgresql":
        day = cast(func.timezone("UTC", column), Date)
        return day - cast(literal("0001-01-01"), Date) + 1
    # SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS…'; the date alone is a Julian day's x.5 exactly.
    julian = cast(func.julianday(func.substr(column, 1, 10)), Integer)
    return julian - JULIAN_DAY_OF_ORDINAL_0


def _counted(project_id: int, item_ids: Sequence[int] | None) -> list[ColumnElement[bool]]:
    """Conditions on ``_A`` for the annotations that count."""
    later = aliased(_A)
    # Few slots are ever voided: their ids from the partial index on voided slots (a hashed
    # set) cost less than joining every annotation to its slot.
    voided = select(_S.c.id).where(_S.c.voided_at.is_not(None))
    if item_ids is not None:
        voided = voided.where(_S.c.item_id.in_(item_ids))
    conditions: list[ColumnElement[bool]] = [
        _A.c.project_id == project_id,
        _A.c.source.in_(ANNOTATOR_SOURCES),
        # Few annotations are ever superseded: one pass over the unique index on supersedes_id
        # (a hashed set) is cheaper than a correlated lookup for each row.
        _A.c.id.not_in(select(later.c.supersedes_id).where(later.c.supersedes_id.is_not(None))),
        or_(_A.c.assignment_id.is_(None), _A.c.assignment_id.not_in(voided)),
    ]
    if item_ids is not None:
        conditions.append(_A.c.item_id.in_(item_ids))
    return conditions


def _scopes(item_ids: Sequence[int] | None) -> Iterator[Sequence[int] | None]:
    """The whole project once (None), or the given items a chunk at a time."""
    if item_ids is None:
        yield None
        return
    for start in range(0, len(item_ids), CHUNK):
        yield item_ids[start : start + CHUNK]


WHOLE_PROJECT_FROM = 10 * CHUNK
"""From this many given items on, a figure narrowed to them reads the whole project once and
keeps theirs: a dataset version's gate judges most of a project, and building a query per
``CHUNK`` items cost more than reading the rest (100k items: 200 queries, 2.3 s)."""


def _reading(item_ids: Sequence[int] | None) -> tuple[list[Sequence[int] | None], IntArray | None]:
    """How to read rows for ``item_ids``: the scopes to query, and the sorted ids to keep from
    what they return (None: keep everything)."""
    if item_ids is not None and len(item_ids) >= WHOLE_PROJECT_FROM:
        return [None], np.unique(np.asarray(item_ids, dtype=np.int64))
    return list(_scopes(item_ids)), None


def _int_rows(rows: Sequence[Any], width: int, keep: IntArray | None) -> IntArray:
    """A batch of all-integer rows as an array (8 bytes a value, not a tuple of objects, so
    memory stays flat as the item count grows), narrowed to rows whose first value is kept."""
    block = np.array(rows, dtype=np.int64).reshape(-1, width)
    return block if keep is None else block[np.isin(block[:, 0], keep)]


MEMO = "scholia.quality.memo"
"""Key in ``Session.info`` of a dict where whole-project figures are kept for the session's
life, when the caller put one there (the Quality Hub does while it computes, so its rules
reuse the label counts and reopen rates it has already computed instead of doing them again)."""


def _memo(session: Session, key: tuple[Any, ...], build: Callable[[], T]) -> T:
    memo: dict[tuple[Any, ...], Any] | None = session.info.get(MEMO)
    if memo is None:
        return build()
    if key not in memo:
        memo[key] = build()
    found: T = memo[key]
    return found


# --- the counted annotations as columns ----------------------------------------------------

IntArray = npt.NDArray[np.int64]
READ_BATCH = 50_000
"""Rows taken from the driver at a time while the counted annotations are read."""


@dataclass(frozen=True)
class _Counted:
    """The annotations that count, one entry each in the order the database returned them:
    what label counts, time outliers, reopen rates and agreement all read, so the Quality Hub
    reads the table once."""

    item: IntArray
    annotator: IntArray
    value: IntArray
    """Code of (annotation type, payload JSON) in ``values``."""
    values: list[tuple[str, str]]
    """Value code → (annotation type, payload JSON), in order of first appearance."""
    day: IntArray
    """Proleptic ordinal of the UTC day the annotation was made."""
    time_spent_ms: npt.NDArray[np.float64]
    """nan where no time was recorded."""


def _counted_columns(session: Session, project_id: int, item_ids: Sequence[int] | None) -> _Counted:
    """The whole project's (kept for the session), or the given items'."""
    if item_ids is None:
        return _memo(
            session, ("counted", project_id), lambda: _read_counted(session, project_id, None)
        )
    return _read_counted(session, project_id, item_ids)


def _raw_rows(session: Session, query: Any) -> Iterator[Sequence[Any]]:
    """The query's rows as the driver gives them, a batch at a time: a million annotations
    would otherwise spend a second in building result rows nobody keeps."""
    result = session.connection().execute(query)
    try:
        cursor = result.cursor
        while rows := cursor.fetchmany(READ_BATCH):
            yield rows
    finally:
        result.close()


class _ValueCodes:
    """Codes for (annotation type, payload JSON) in order of first appearance, a type's
    payloads in a dict of their own: most batches hold one type, and their payload strings are
    then looked up directly rather than as a million (type, payload) tuples."""

    def __init__(self) -> None:
        self.values: list[tuple[str, str]] = []
        self._of_type: dict[str, dict[str, int]] = {}

    def _code(self, type_name: str, text: str) -> int:
        known = self._of_type.setdefault(type_name, {})
        code = known.get(text)
        if code is None:
            code = known[text] = len(self.values)
            self.values.append((type_name, text))
        return code

    def of(self, types: list[str], texts: list[str]) -> IntArray:
        kinds = set(types)
        if len(kinds) != 1:
            return np.fromiter(map(self._code, types, texts), dtype=np.int64, count=len(texts))
        (type_name,) = kinds
        known = self._of_type.setdefault(type_name, {})
        for text in dict.fromkeys(texts):
            if text not in known:
                known[text] = len(self.values)
                self.values.append((type_name, text))
        return np.fromiter(map(known.__getitem__, texts), dtype=np.int64, count=len(texts))


def _read_counted(session: Session, project_id: int, item_ids: Sequence[int] | None) -> _Counted:
    day = _day(session, _A.c.created_at)
    codes = _ValueCodes()
    parts: list[tuple[IntArray, IntArray, IntArray, IntArray, npt.NDArray[np.float64]]] = []
    for scope in _scopes(item_ids):
        query = (
            select(
                _A.c.item_id,
                _A.c.annotator_id,
                _A.c.annotation_type,
                cast(_A.c.payload, Text),
                day,
                _A.c.time_spent_ms,
            )
            .select_from(_A)
            .where(*_counted(project_id, scope))
        )
        for rows in _raw_rows(session, query):
            items, annotators, types, texts, days, times = (
                list(map(itemgetter(k), rows)) for k in range(6)
            )
            n = len(rows)
            parts.append(
                (
                    np.fromiter(items, dtype=np.int64, count=n),
                    np.fromiter(annotators, dtype=np.int64, count=n),
                    codes.of(types, texts),
                    np.fromiter(days, dtype=np.int64, count=n),
                    np.array(times, dtype=np.float64),  # None → nan
                )
            )
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return _Counted(empty, empty, empty, [], empty, np.zeros(0))
    item, annotator, value, ordinal = (np.concatenate([p[k] for p in parts]) for k in range(4))
    spent = np.concatenate([p[4] for p in parts])
    return _Counted(item, annotator, value, codes.values, ordinal, spent)


# --- label counts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelCounts:
    """How often each annotator used each category, per ISO week."""

    annotators: tuple[int, ...]
    weeks: tuple[str, ...]
    categories: tuple[int, ...]
    counts: np.ndarray
    """annotators × weeks × categories: uses of a category (a multi-label payload counts
    once for each category it holds)."""
    skipped_types: tuple[str, ...] = ()
    """Annotation types left out: not installed, or their plugin reads no categories."""

    @property
    def total(self) -> int:
        return int(self.counts.sum())


def label_counts(
    session: Session,
    annotation_types: dict[str, AnnotationType],
    project_id: int,
    item_ids: Sequence[int] | None = None,
) -> LabelCounts:
    """Counted per annotator, week and payload; each distinct payload is decoded once."""
    if item_ids is None:
        return _memo(
            session,
            ("label_counts", project_id),
            lambda: _label_counts(_counted_columns(session, project_id, None), annotation_types),
        )
    return _label_counts(_counted_columns(session, project_id, item_ids), annotation_types)


def _spread(sizes: IntArray) -> tuple[IntArray, IntArray]:
    """For entries holding ``sizes[i]`` things each (a payload's categories): each thing's
    entry and its place among the entry's things."""
    entry = np.repeat(np.arange(len(sizes)), sizes)
    place = np.arange(len(entry)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return entry, place


def _weeks_of(ordinals: IntArray) -> tuple[list[str], IntArray]:
    """The ISO weeks (ascending) of days given as ordinals, and each day's week code."""
    days, day_at = np.unique(ordinals, return_inverse=True)
    names = [iso_week(date.fromordinal(int(d))) for d in days]
    weeks = sorted(set(names))
    week_at = {w: k for k, w in enumerate(weeks)}
    of_day = np.array([week_at[w] for w in names], dtype=np.int64)
    return weeks, of_day[day_at.reshape(-1)]


def _label_counts(counted: _Counted, annotation_types: dict[str, AnnotationType]) -> LabelCounts:
    skipped: set[str] = set()
    held: list[tuple[int, ...]] = []
    for type_name, text in counted.values:
        kind = annotation_types.get(type_name)
        if kind is None or kind.categories is None:
            skipped.add(type_name)
            held.append(())
            continue
        decoded = msgspec.json.decode(text.encode(), type=kind.payload)
        held.append(tuple(sorted(set(kind.categories(decoded)))))
    empty = np.zeros((0, 0, 0), dtype=np.int64)
    if not counted.values:
        return LabelCounts((), (), (), empty, ())
    weeks, week = _weeks_of(counted.day)
    annotator_ids, annotator = np.unique(counted.annotator, return_inverse=True)
    annotator = annotator.reshape(-1)
    values = len(counted.values)
    cell, count = np.unique(
        (annotator * len(weeks) + week) * values + counted.value, return_counts=True
    )
    # Each (annotator, week, payload) count goes to every category the payload holds.
    sizes = np.array([len(h) for h in held], dtype=np.int64)
    flat = np.array([c for h in held for c in h], dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    cell_value = cell % values
    spread, place = _spread(sizes[cell_value])
    category_ids = flat[starts[cell_value[spread]] + place]
    cell_annotator = cell[spread] // values // len(weeks)
    cell_week = cell[spread] // values % len(weeks)
    used_annotators, a_at = np.unique(cell_annotator, return_inverse=True)
    used_weeks, w_at = np.unique(cell_week, return_inverse=True)
    categories, c_at = np.unique(category_ids, return_inverse=True)
    counts = np.zeros((len(used_annotators), len(used_weeks), len(categories)), dtype=np.int64)
    np.add.at(counts, (a_at.reshape(-1), w_at.reshape(-1), c_at.reshape(-1)), count[spread])
    return LabelCounts(
        tuple(int(annotator_ids[a]) for a in used_annotators),
        tuple(weeks[w] for w in used_weeks),
        tuple(int(c) for c in categories),
        counts,
        tuple(sorted(skipped)),
    )


# --- label drift ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DriftCell:
    """One annotator's labels in one week against the project baseline."""

    annotator_id: int
    week: str
    labels: int
    divergence: float | None
    """Jensen–Shannon divergence (base 2, in [0, 1]); None with too few labels that week."""
    note: str | None = None


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else counts.astype(float)


def label_drift(counts: LabelCounts, minimum: int = MIN_WEEK_LABELS) -> list[DriftCell]:
    """Each annotator's label distribution per week against the baseline: every annotator's
    labels over all time."""
    baseline = _shares(counts.counts.sum(axis=(0, 1)))
    cells = []
    for i, annotator in enumerate(counts.annotators):
        for j, week in enumerate(counts.weeks):
            row = counts.counts[i, j]
            n = int(row.sum())
            if n == 0:
                continue
            if n < minimum:
                cells.append(DriftCell(annotator, week, n, None, not_enough(n, minimum, "label")))
                continue
            cells.append(
                DriftCell(annotator, week, n, float(js_divergence(_shares(row), baseline)))
            )
    return cells


# --- annotator bias -------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryUse:
    category_id: int
    share: float
    """Of this annotator's labels."""
    rest_share: float
    """Of the rest of the pool's labels."""


@dataclass(frozen=True)
class Bias:
    """An annotator's label distribution against the rest of the pool's."""

    annotator_id: int
    labels: int
    rest_labels: int
    test: str | None
    statistic: float | None
    p_value: float | None
    dof: int | None
    over: tuple[CategoryUse, ...] = ()
    """Categories they use more than the rest, most over-used first."""
    under: tuple[CategoryUse, ...] = ()
    note: str | None = None


def annotator_bias(counts: LabelCounts, minimum: int = MIN_BIAS_LABELS, top: int = 3) -> list[Bias]:
    """Each annotator against everyone else, by the statistics module's homogeneity test."""
    per_annotator = counts.counts.sum(axis=1)
    total = per_annotator.sum(axis=0)
    found = []
    for i, annotator in enumerate(counts.annotators):
        own = per_annotator[i]
        rest = total - own
        n, m = int(own.sum()), int(rest.sum())
        if n < minimum or m < minimum:
            if n < minimum:
                note = not_enough(n, minimum, "label by this annotator", "labels by this annotator")
            else:
                note = not_enough(m, minimum, "label by others", "labels by others")
            found.append(Bias(annotator, n, m, None, None, None, None, note=note))
            continue
        used = (own + rest) > 0
        result = homogeneity_test(own[used], rest[used])
        own_share, rest_share = own / n, rest / m
        difference = own_share - rest_share
        order = np.argsort(difference)
        uses = [
            CategoryUse(counts.categories[k], float(own_share[k]), float(rest_share[k]))
            for k in range(len(counts.categories))
        ]
        over = tuple(uses[k] for k in order[::-1][:top] if difference[k] > 0)
        under = tuple(uses[k] for k in order[:top] if difference[k] < 0)
        found.append(
            Bias(
                annotator,
                n,
                m,
                result.name,
                float(result.statistic),
                float(result.p_value),
                int(result.dof),
                over,
                under,
            )
        )
    return found


# --- reopen rate ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReopenRate:
    """1 − first-pass acceptance: the share of reviewed items whose first review did not
    approve them."""

    reviewed: int
    accepted: int
    """Items whose first review decision was ``approved``."""
    value: float | None
    interval: tuple[float, float] | None = None
    """Wilson 95% interval of ``value``."""
    note: str | None = None


def _rate(reviewed: int, accepted: int, minimum: int) -> ReopenRate:
    if reviewed < minimum:
        return ReopenRate(
            reviewed, accepted, None, note=not_enough(reviewed, minimum, "reviewed item")
        )
    low, high = wilson_interval(reviewed - accepted, reviewed)
    return ReopenRate(reviewed, accepted, 1 - accepted / reviewed, (float(low), float(high)))


@dataclass(frozen=True)
class ReopenRates:
    project: ReopenRate
    annotators: dict[int, ReopenRate]
    weeks: list[tuple[str, ReopenRate]]
    """By the ISO week of each item's first review."""
    reopened: int
    """Items moved back to ``in_progress`` after approval or rejection (the audit log)."""


def reopen_rates(
    session: Session,
    project_id: int,
    item_ids: Sequence[int] | None = None,
    minimum: int = MIN_REVIEWED,
) -> ReopenRates:
    """First review decision per item (the ``review`` table); an item counts for each
    annotator of its current annotations."""
    if item_ids is None:
        found = _memo(
            session,
            ("reopen_counts", project_id),
            lambda: _reopen_counts(session, project_id, None),
        )
    else:
        found = _reopen_counts(session, project_id, item_ids)
    weekly, per_annotator, reopened = found
    reviewed = sum(n for n, _ in weekly.values())
    accepted = sum(yes for _, yes in weekly.values())
    return ReopenRates(
        project=_rate(reviewed, accepted, minimum),
        annotators={a: _rate(n, yes, minimum) for a, (n, yes) in sorted(per_annotator.items())},
        weeks=[(w, _rate(n, yes, minimum)) for w, (n, yes) in sorted(weekly.items())],
        reopened=reopened,
    )


_ReopenCounts = tuple[dict[str, tuple[int, int]], dict[int, tuple[int, int]], int]
"""(week → (reviewed, accepted), annotator → (reviewed, accepted), items reopened)."""


def _annotated_pairs(
    session: Session, project_id: int, item_ids: Sequence[int] | None
) -> tuple[IntArray, IntArray]:
    """Each (item, annotator) with a counted annotation, once: from the whole project's
    columns when they are kept for the session (the Hub reads them anyway), else from a
    narrower query."""
    if item_ids is None and MEMO in session.info:
        counted = _counted_columns(session, project_id, None)
        item, annotator = counted.item, counted.annotator
    else:
        scopes, keep = _reading(item_ids)
        blocks = [np.empty((0, 2), dtype=np.int64)]
        for scope in scopes:
            pairs = (
                select(_A.c.item_id, _A.c.annotator_id)
                .select_from(_A)
                .where(*_counted(project_id, scope))
                .distinct()
            )
            blocks.extend(_int_rows(rows, 2, keep) for rows in _raw_rows(session, pairs))
        found = np.concatenate(blocks)
        item, annotator = found[:, 0], found[:, 1]
    if not len(item):
        return item, annotator
    width = int(annotator.max()) + 1
    pair = np.sort(item * width + annotator)  # np.unique's hash table is slower on 10⁶ keys
    pair = pair[np.concatenate(([True], pair[1:] != pair[:-1]))]
    return pair // width, pair % width


def _reopen_counts(
    session: Session, project_id: int, item_ids: Sequence[int] | None
) -> _ReopenCounts:
    blocks = [np.empty((0, 3), dtype=np.int64)]
    reopened = 0
    scopes, keep = _reading(item_ids)
    for scope in scopes:
        where = [_I.c.project_id == project_id]
        if scope is not None:
            where.append(_R.c.item_id.in_(scope))
        first = (
            select(_R.c.item_id, func.min(_R.c.id).label("first_id"))
            .join(_I, _I.c.id == _R.c.item_id)
            .where(*where)
            .group_by(_R.c.item_id)
            .subquery()
        )
        approved = case((_R.c.decision == "approved", 1), else_=0)
        query = select(first.c.item_id, approved, _day(session, _R.c.created_at)).select_from(
            first.join(_R, _R.c.id == first.c.first_id)
        )
        blocks.extend(_int_rows(rows, 3, keep) for rows in _raw_rows(session, query))
        events = [
            _E.c.project_id == project_id,
            _E.c.entity == "item",
            _E.c.action == "transition",
            _E.c.from_state.in_(("approved", "rejected")),
            _E.c.to_state == "in_progress",
        ]
        if scope is not None:
            events.append(_E.c.entity_id.in_([str(i) for i in scope]))
        if keep is None:
            reopened += session.execute(
                select(func.count(distinct(_E.c.entity_id))).where(and_(*events))
            ).scalar_one()
        else:  # few items are ever reopened: their ids, kept or not
            found_ids = session.execute(select(_E.c.entity_id).where(and_(*events)).distinct())
            wanted = np.array([int(i) for (i,) in found_ids], dtype=np.int64)
            reopened += int(np.isin(wanted, keep).sum())
    firsts = np.concatenate(blocks)
    weekly: dict[str, tuple[int, int]] = {}
    if len(firsts):
        weeks, week = _weeks_of(firsts[:, 2])
        approvals = firsts[:, 1]
        reviewed = np.bincount(week, minlength=len(weeks))
        accepted = np.bincount(week, weights=approvals, minlength=len(weeks))
        weekly = {
            w: (int(n), int(yes)) for w, n, yes in zip(weeks, reviewed, accepted, strict=True)
        }
    per_annotator: dict[int, tuple[int, int]] = {}
    item, annotator = _annotated_pairs(session, project_id, item_ids)
    if len(firsts) and len(item):
        order = np.argsort(firsts[:, 0])
        reviewed_items = firsts[order, 0]
        accepted_first = firsts[order, 1]
        at = np.minimum(np.searchsorted(reviewed_items, item), len(reviewed_items) - 1)
        has = reviewed_items[at] == item
        ids, who = np.unique(annotator[has], return_inverse=True)
        counts = np.bincount(who.reshape(-1), minlength=len(ids))
        approvals = np.bincount(
            who.reshape(-1), weights=accepted_first[at[has]], minlength=len(ids)
        )
        per_annotator = {
            int(a): (int(c), int(y)) for a, c, y in zip(ids, counts, approvals, strict=True)
        }
    return weekly, per_annotator, reopened


# --- time per item --------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeOutlier:
    item_id: int
    annotator_id: int
    time_spent_ms: int
    z: float


@dataclass(frozen=True)
class AnnotatorTime:
    annotator_id: int
    annotations: int
    median_ms: float
    z: float | None
    """Robust z of this annotator's median among all annotators' medians."""
    outliers: int
    """Their annotations whose time is an outlier in the project's distribution."""


@dataclass(frozen=True)
class TimeOutliers:
    timed: int
    median_ms: float | None
    annotators: list[AnnotatorTime] = field(default_factory=list)
    outliers: list[TimeOutlier] = field(default_factory=list)
    """The most extreme outlying annotations (largest |z| first), at most ``top``."""
    flagged: int = 0
    """All annotations with |z| > ``OUTLIER_Z``."""
    note: str | None = None


def time_outliers(
    session: Session,
    project_id: int,
    *,
    minimum: int = MIN_TIMES,
    top: int = 20,
) -> TimeOutliers:
    """Robust z-scores (median and MAD) of ``time_spent_ms``: of each annotation against the
    project's times, and of each annotator's median against the other annotators'."""
    counted = _counted_columns(session, project_id, None)
    timed = ~np.isnan(counted.time_spent_ms)
    n = int(timed.sum())
    if n < minimum:
        return TimeOutliers(n, None, note=not_enough(n, minimum, "timed annotation"))
    annotator = counted.annotator[timed]
    item = counted.item[timed]
    ms = counted.time_spent_ms[timed]
    z = np.asarray(robust_z(ms), dtype=float)
    outlying = np.abs(z) > OUTLIER_Z
    ids = np.unique(annotator)
    medians = np.array([np.median(ms[annotator == a]) for a in ids])
    median_z: np.ndarray | None = (
        np.asarray(robust_z(medians), dtype=float) if len(ids) >= 3 else None
    )
    per = [
        AnnotatorTime(
            int(a),
            int((annotator == a).sum()),
            float(medians[k]),
            None if median_z is None or not np.isfinite(median_z[k]) else float(median_z[k]),
            int(outlying[annotator == a].sum()),
        )
        for k, a in enumerate(ids)
    ]
    order = np.argsort(-np.abs(np.where(outlying, z, 0)))[:top]
    worst = [
        TimeOutlier(int(item[k]), int(annotator[k]), int(ms[k]), float(z[k]))
        for k in order
        if outlying[k]
    ]
    return TimeOutliers(n, float(np.median(ms)), per, worst, int(outlying.sum()))


# --- agreement ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementWeek:
    """Krippendorff's alpha (distance 1 − the type's agreement) over the items whose last
    counted annotation fell in the week and that have two or more."""

    week: str
    items: int
    annotations: int
    alpha: float | None
    note: str | None = None


AGREEMENT_METHOD = (
    "Krippendorff's α with distance 1 − agreement, each label compared with the others by its "
    "annotation type's own agreement measure (equality for a type without one), over items "
    "with two or more current annotations of one type, by the ISO week of the item's last "
    "annotation"
)


@dataclass(frozen=True)
class _Ratings:
    """Every counted annotation on a unit (an item and annotation type) with two or more
    annotators (an annotator's last annotation on it): its unit, observer and value codes,
    and the day it was made."""

    observer_ids: np.ndarray
    unit: np.ndarray
    observer: np.ndarray
    value: np.ndarray
    values: list[tuple[str, str]]
    """Value code → (annotation type, payload JSON)."""
    ordinal: np.ndarray


def _shared_ratings(session: Session, project_id: int) -> _Ratings | None:
    """One pass over the counted annotations; units with fewer than two are dropped (cheaper
    than a GROUP BY … HAVING subquery joined back to the table). Kept for the session."""
    return _memo(
        session, ("shared_ratings", project_id), lambda: _read_ratings(session, project_id)
    )


def _distance(
    session: Session, plugins: Plugins, project_id: int, ratings: _Ratings
) -> TypedDistance:
    """The distance between the ratings' values by their types, kept for the session (its
    cache of agreement calls serves every week and the breakdown)."""
    return _memo(
        session,
        ("typed_distance", project_id),
        lambda: TypedDistance(ratings.values, plugins.annotation_type),
    )


def _read_ratings(session: Session, project_id: int) -> _Ratings | None:
    counted = _counted_columns(session, project_id, None)
    if not len(counted.item):
        return None
    names = sorted({name for name, _ in counted.values})
    type_code = {name: k for k, name in enumerate(names)}
    type_of_value = np.array([type_code[name] for name, _ in counted.values], dtype=np.int64)
    unit_key = counted.item * len(names) + type_of_value[counted.value]
    _, unit = np.unique(unit_key, return_inverse=True)
    unit = unit.reshape(-1)
    everyone = counted.annotator
    # One rating per annotator and unit (the last read): an observer rates a unit once.
    _, last = np.unique((unit * (int(everyone.max()) + 1) + everyone)[::-1], return_index=True)
    kept = np.zeros(len(unit), dtype=bool)
    kept[len(unit) - 1 - last] = True
    shared = kept & (np.bincount(unit, weights=kept)[unit] >= 2)
    if not shared.any():
        return None
    _, unit = np.unique(unit[shared], return_inverse=True)
    observer_ids, observer = np.unique(everyone[shared], return_inverse=True)
    return _Ratings(
        observer_ids,
        unit.reshape(-1),
        observer.reshape(-1),
        counted.value[shared],
        counted.values,
        counted.day[shared],
    )


def agreement_by_week(
    session: Session, plugins: Plugins, project_id: int, minimum: int = MIN_WEEK_UNITS
) -> list[AgreementWeek]:
    """Weekly inter-annotator agreement: alpha with distance 1 − the type's agreement."""
    ratings = _shared_ratings(session, project_id)
    if ratings is None:
        return []
    distance = _distance(session, plugins, project_id, ratings)
    unit = ratings.unit
    units = int(unit.max()) + 1
    last = np.zeros(units, dtype=np.int64)
    np.maximum.at(last, unit, ratings.ordinal)
    weeks, unit_week = _weeks_of(last)
    rating_week = unit_week[unit]
    order = np.argsort(rating_week, kind="stable")  # each week's ratings, in read order
    bounds = np.searchsorted(rating_week[order], np.arange(len(weeks) + 1))
    units_in = np.bincount(unit_week, minlength=len(weeks))
    found_weeks = []
    for k, week in enumerate(weeks):
        taken = order[bounds[k] : bounds[k + 1]]
        n = int(units_in[k])
        if n < minimum:
            found_weeks.append(
                AgreementWeek(week, n, len(taken), None, not_enough(n, minimum, "item"))
            )
            continue
        try:
            alpha: float | None = distance_alpha(unit[taken], ratings.value[taken], distance)
            note = None
        except NotEnoughData as error:
            alpha, note = None, str(error)
        found_weeks.append(AgreementWeek(week, n, len(taken), alpha, note))
    return found_weeks


@dataclass(frozen=True)
class AgreementBreakdown:
    """Agreement over all time, per annotator and per category."""

    annotators: dict[int, tuple[float | None, int]]
    """Annotator → (mean pairwise agreement with the annotators they share items with, how
    many partners); None without a partner."""
    categories: dict[int, tuple[float | None, str | None]]
    """Category → (Krippendorff's α on "uses this category or not", or None with the reason)."""


BREAKDOWN_METHOD = (
    "per annotator: the mean agreement (by the annotation type's measure) of their labels with "
    "a partner's on the items both labeled, averaged over their partners; per category: "
    "Krippendorff's α, nominal, on whether each label uses the category"
)


def agreement_breakdown(session: Session, plugins: Plugins, project_id: int) -> AgreementBreakdown:
    """Who agrees with the others (by the types' agreement), and on which categories
    annotators agree (alpha on each category's use, where the type names categories)."""
    ratings = _shared_ratings(session, project_id)
    if ratings is None:
        return AgreementBreakdown({}, {})
    distance = _distance(session, plugins, project_id, ratings)
    observers = len(ratings.observer_ids)
    if any(distance.graded):
        pairs = distance_agreement(
            ratings.unit, ratings.observer, ratings.value, observers, distance
        )
    else:  # every type agrees by equality: count equal values, no pair of ratings is formed
        pairs = rating_agreement(ratings.unit, ratings.observer, ratings.value, observers)
    shared, summed = pairs.shared, pairs.agreed
    partners = (shared > 0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(shared > 0, summed / shared, 0.0).sum(axis=1) / partners
    annotators = {
        int(a): (None if count == 0 else float(mean), int(count))
        for a, mean, count in zip(ratings.observer_ids, rates, partners, strict=True)
    }
    uses: list[frozenset[int]] = []
    for type_name, text in ratings.values:
        kind = plugins.annotation_type(type_name)
        if kind.categories is None:
            uses.append(frozenset())
            continue
        uses.append(frozenset(kind.categories(kind.decode(msgspec.json.decode(text)))))
    return AgreementBreakdown(annotators, _category_alphas(ratings, uses))


def _category_alphas(
    ratings: _Ratings, uses: list[frozenset[int]]
) -> dict[int, tuple[float | None, str | None]]:
    """Nominal alpha on "uses this category or not" for every category at once."""
    ids = sorted(set().union(*uses))
    if not ids:
        return {}
    at = {c: k for k, c in enumerate(ids)}
    sizes = np.array([len(u) for u in uses], dtype=np.int64)
    held = np.array([at[c] for u in uses for c in sorted(u)], dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    rating, place = _spread(sizes[ratings.value])
    label = held[starts[ratings.value[rating]] + place]
    try:
        alphas = presence_alphas(ratings.unit, rating, label, len(ids))
    except NotEnoughData as error:
        return {c: (None, str(error)) for c in ids}
    single = str(
        NotEnoughData(
            1,
            2,
            "distinct values in pairable units",
            "expected disagreement is 0, so alpha is undefined",
        )
    )
    return {
        c: (None, single) if np.isnan(a) else (float(a), None)
        for c, a in zip(ids, alphas, strict=True)
    }


# --- rules ----------------------------------------------------------------------------------


def _annotation_types(context: Any) -> dict[str, AnnotationType]:
    found: dict[str, AnnotationType] = context.plugins.annotation_types
    return found


def _pseudonym(session: Session, annotator_id: int) -> str:
    """Who, as exports say it: a rule's message travels with the dataset version's gate report."""
    user = session.get(User, annotator_id)
    return f"annotator {annotator_id}" if user is None else user.pseudonym


def _evaluate_drift(context: Any, threshold: float) -> RuleResult:
    counts = label_counts(
        context.session, _annotation_types(context), context.project.id, context.item_ids
    )
    cells = label_drift(counts)
    judged = [c for c in cells if c.divergence is not None]
    evidence = {"annotator_weeks": len(judged), "labels": counts.total}
    if not judged:
        message = not_enough(
            max((c.labels for c in cells), default=0),
            MIN_WEEK_LABELS,
            "label in any week",
            "labels in any week",
        )
        return RuleResult(True, None, threshold, evidence, message)
    worst = max(judged, key=lambda c: c.divergence or 0.0)
    above = sum(1 for c in judged if (c.divergence or 0.0) > threshold)
    evidence["above_threshold"] = above
    return RuleResult(
        passed=above == 0,
        value=worst.divergence,
        threshold=threshold,
        evidence=evidence,
        message=(
            f"highest weekly drift: {_pseudonym(context.session, worst.annotator_id)} in "
            f"{worst.week} "
            f"({worst.labels} labels); {above} annotator-weeks above the threshold"
        ),
    )


def _evaluate_reopen(context: Any, threshold: float) -> RuleResult:
    rates = reopen_rates(context.session, context.project.id, context.item_ids)
    judged = {a: r for a, r in rates.annotators.items() if r.value is not None}
    evidence = {"annotators": len(judged), "reviewed_items": rates.project.reviewed}
    if not judged:
        most = max((r.reviewed for r in rates.annotators.values()), default=0)
        message = not_enough(
            most,
            MIN_REVIEWED,
            "reviewed item for any annotator",
            "reviewed items for any annotator",
        )
        return RuleResult(True, None, threshold, evidence, message)
    annotator, worst = max(judged.items(), key=lambda pair: pair[1].value or 0.0)
    above = sum(1 for r in judged.values() if (r.value or 0.0) > threshold)
    evidence["above_threshold"] = above
    return RuleResult(
        passed=above == 0,
        value=worst.value,
        threshold=threshold,
        evidence=evidence,
        message=(
            f"highest: {_pseudonym(context.session, annotator)}, "
            f"{worst.reviewed - worst.accepted} of "
            f"{worst.reviewed} items not accepted at first review"
        ),
    )


SIGNAL_RULES: tuple[QualityRule, ...] = (
    QualityRule(
        name="label_drift",
        title="Label drift (highest weekly Jensen–Shannon divergence of an annotator)",
        evaluate=_evaluate_drift,
        default_threshold=DRIFT_THRESHOLD,
        direction="at_most",
        gate=False,
    ),
    QualityRule(
        name="annotator_reopen_rate",
        title="Reopen rate of the worst annotator (1 − first-pass acceptance)",
        evaluate=_evaluate_reopen,
        default_threshold=REOPEN_THRESHOLD,
        direction="at_most",
        gate=False,
    ),
)
"""The signals' thresholds as quality rules (Quality Hub only, not the export gate); the
default plugin registers them."""
