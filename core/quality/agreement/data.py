"""Reliability data: the observers × units matrix every agreement measure reads.

Krippendorff's term: one row per observer (annotator), one column per unit (item), a cell holds
the value (a label coded as a number) or nan where that observer did not rate that unit.
``reliability_data`` builds it from the columns a database query returns, without a Python
loop per annotation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]

__all__ = [
    "NotEnoughData",
    "ReliabilityData",
    "as_reliability_data",
    "category_counts",
    "label_codes",
    "reliability_data",
    "value_counts",
]

FloatArray = npt.NDArray[np.float64]


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds, so messages read ``'cat'``, not
    ``np.str_('cat')``."""
    return value.item() if isinstance(value, np.generic) else value


_SINGULAR = re.compile(
    r"(^|\s)(units|items|subjects|ratings|categories|values|labels|trials|annotations|counts)\b"
)
"""The plural nouns ``what`` is written with; for a count of 1 the first one is made singular
("1 unit with two or more values")."""


class NotEnoughData(ValueError):
    """A measure asked of too little data: ``count`` of ``what`` where ``needed`` are required.

    ``what`` is plural ("units with two or more values"); the message reads in the singular
    when ``count`` is 1.

    Raised instead of returning a number that would mislead (an alpha over no pairable values,
    a kappa over no items, an interval over no trials). ``reason`` adds why, when it is not
    plain from the count (e.g. chance agreement is 1, so kappa is 0/0).
    """

    def __init__(self, count: int, needed: int, what: str, reason: str | None = None) -> None:
        said = (
            _SINGULAR.sub(
                lambda m: m[1] + m[2][:-3] + "y" if m[2].endswith("ies") else m[1] + m[2][:-1],
                what,
                count=1,
            )
            if count == 1
            else what
        )
        message = f"not enough data: {count} {said} (need at least {needed})"
        if reason:
            message += f"; {reason}"
        super().__init__(message)
        self.count = count
        self.needed = needed
        self.what = what
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ReliabilityData:
    """The matrix with the ids its rows and columns stand for (both sorted ascending)."""

    matrix: FloatArray
    """observers × units, nan where an observer did not rate a unit."""
    observers: npt.NDArray[Any]
    units: npt.NDArray[Any]


def reliability_data(
    units: npt.ArrayLike, observers: npt.ArrayLike, values: npt.ArrayLike
) -> ReliabilityData:
    """The observers × units matrix from three equal-length columns (one row per rating).

    ``units`` and ``observers`` are ids of any sortable kind; ``values`` are numbers (category
    ids, ratings). An observer rating the same unit twice is a ValueError naming the pair:
    agreement counts one value per observer per unit, and which one to keep is the caller's
    decision (e.g. the current annotation).
    """
    unit_column = np.asarray(units)
    observer_column = np.asarray(observers)
    value_column = np.asarray(values, dtype=np.float64)
    lengths = {len(unit_column), len(observer_column), len(value_column)}
    if len(lengths) != 1 or unit_column.ndim != 1 or observer_column.ndim != 1:
        raise ValueError(
            "units, observers and values must be one-dimensional and of equal length; got "
            f"{len(unit_column)}, {len(observer_column)} and {len(value_column)}"
        )
    if not np.isfinite(value_column).all():
        bad = int(np.flatnonzero(~np.isfinite(value_column))[0])
        value = plain(value_column[bad])
        raise ValueError(f"values[{bad}] is {value}: every value must be a number")
    unit_ids, unit_index = np.unique(unit_column, return_inverse=True)
    observer_ids, observer_index = np.unique(observer_column, return_inverse=True)
    cell = observer_index.astype(np.int64) * len(unit_ids) + unit_index
    cells, repeats = np.unique(cell, return_counts=True)
    if (repeats > 1).any():
        twice = int(cells[repeats > 1][0])
        raise ValueError(
            f"observer {plain(observer_ids[twice // len(unit_ids)])!r} rated unit "
            f"{plain(unit_ids[twice % len(unit_ids)])!r} more than once: keep one value per pair"
        )
    matrix = np.full((len(observer_ids), len(unit_ids)), np.nan)
    matrix.reshape(-1)[cell] = value_column
    return ReliabilityData(matrix, observer_ids, unit_ids)


def as_reliability_data(data: npt.ArrayLike | Sequence[Sequence[float]]) -> FloatArray:
    """``data`` as a float observers × units matrix; inf or a wrong shape is a ValueError."""
    matrix = np.asarray(data, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(
            f"data must be an observers × units matrix (2 dimensions), got {matrix.ndim}"
        )
    if np.isinf(matrix).any():
        row, column = np.argwhere(np.isinf(matrix))[0]
        raise ValueError(f"data[{row}, {column}] is infinite: use nan for a missing value")
    return matrix


def value_counts(matrix: FloatArray) -> tuple[FloatArray, Any]:
    """The distinct values (ascending) and a sparse units × values matrix of how often each
    unit received each value: the table every coefficient here is computed from."""
    observed = ~np.isnan(matrix)
    unit_index = np.nonzero(observed)[1]
    values, value_index = np.unique(matrix[observed], return_inverse=True)
    counts = sparse.csr_matrix(
        (np.ones(len(unit_index)), (unit_index, value_index)),
        shape=(matrix.shape[1], len(values)),
    )
    return values, counts


def category_counts(data: npt.ArrayLike, labels: Sequence[float] | npt.ArrayLike) -> FloatArray:
    """Units × categories counts (the table Fleiss' kappa reads) from observers × units data.

    Column j counts the ratings equal to ``labels[j]``; a value not in ``labels`` is a
    ValueError naming it, so a category cannot silently drop out of the table.
    """
    matrix = as_reliability_data(data)
    categories = np.asarray(labels, dtype=np.float64).reshape(-1)
    _check_labels(categories)
    observed = ~np.isnan(matrix)
    values = matrix[observed]
    codes = label_codes(values, categories, "data")
    unit_index = np.nonzero(observed)[1]
    table = np.bincount(
        unit_index * len(categories) + codes, minlength=matrix.shape[1] * len(categories)
    )
    return table.reshape(matrix.shape[1], len(categories)).astype(np.float64)


def _check_labels(labels: npt.NDArray[Any]) -> None:
    if labels.size == 0:
        raise ValueError("labels is empty: give the label set, in order")
    unique, counts = np.unique(labels, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"labels lists {plain(unique[counts > 1][0])!r} more than once")


def label_codes(values: npt.ArrayLike, labels: npt.ArrayLike, name: str) -> npt.NDArray[np.intp]:
    """Each value's position in ``labels``; a value not in the label set is a ValueError
    naming it and where it is (``name[i]``)."""
    wanted = np.asarray(values).reshape(-1)
    label_array = np.asarray(labels).reshape(-1)
    _check_labels(label_array)
    sorter = np.argsort(label_array, kind="stable")
    ordered = label_array[sorter]
    try:
        position = np.searchsorted(ordered, wanted)
        clipped = np.minimum(position, len(ordered) - 1)
        found = np.asarray(ordered[clipped] == wanted, dtype=bool)
    except (TypeError, np.exceptions.DTypePromotionError):
        found = np.zeros(len(wanted), dtype=bool)
        clipped = np.zeros(len(wanted), dtype=np.intp)
    if not found.all():
        bad = int(np.flatnonzero(~found)[0])
        raise ValueError(
            f"{name}[{bad}] is {plain(wanted[bad])!r}, "
            f"which is not in labels {label_array.tolist()!r}"
        )
    return np.asarray(sorter[clipped], dtype=np.intp)
