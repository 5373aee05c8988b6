"""Krippendorff's alpha with any distance between values: α = 1 − Dₒ / Dₑ.

The coincidence form of ``krippendorff`` needs a level of measurement over numbers; labels
compared by their annotation type's agreement (two boxes 1 px apart, two timelines a frame off)
need the distance δ = 1 − agreement between two *values*, whatever they are. The same
definition (Krippendorff 2011) over pairs of ratings:

    Dₒ ∝ Σᵤ Σ_{i≠j in u} δ(vᵢ, vⱼ) / (mᵤ − 1)        (within pairable units)
    Dₑ ∝ Σ_{i≠j} δ(vᵢ, vⱼ) / (n − 1)                    (across all n pairable ratings)

Values are integer codes; a ``Distance`` says how far two codes are, and sums the expected
disagreement over value counts (so a caller with many distinct values can do it its own way).
With δ = [c ≠ k] this is the nominal alpha exactly.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from .data import FloatArray, NotEnoughData
from .percent import PairwiseAgreement

__all__ = ["Distance", "MatrixDistance", "distance_agreement", "distance_alpha", "rating_pairs"]

IntArray = npt.NDArray[np.int64]


class Distance(Protocol):
    """How far apart values (integer codes) are, δ ≥ 0, δ(c, c) normally 0."""

    def between(self, left: IntArray, right: IntArray) -> FloatArray:
        """δ of each pair (left[i], right[i])."""
        ...

    def expected(self, codes: IntArray, counts: FloatArray) -> float:
        """Σ_c Σ_k n_c n_k δ(c, k) − Σ_c n_c δ(c, c): the summed distance over every ordered
        pair of two different ratings, the values ``codes`` given ``counts`` times each."""
        ...


@dataclass(frozen=True)
class MatrixDistance:
    """δ read from a values × values matrix (small value sets, tests)."""

    matrix: FloatArray

    def between(self, left: IntArray, right: IntArray) -> FloatArray:
        return np.asarray(self.matrix[left, right], dtype=np.float64)

    def expected(self, codes: IntArray, counts: FloatArray) -> float:
        sub = self.matrix[np.ix_(codes, codes)]
        return float(counts @ sub @ counts - counts @ np.diag(sub))


def rating_pairs(unit: IntArray) -> tuple[IntArray, IntArray]:
    """Every ordered pair (i, j), i ≠ j, of ratings (by position) that share a unit; ``unit``
    holds codes 0 … U − 1. Units of one size are paired at once (overlap gives few sizes)."""
    order = np.argsort(unit, kind="stable")
    size = np.bincount(unit)
    size = size[size > 0]
    start = np.cumsum(size) - size
    lefts: list[IntArray] = [np.zeros(0, dtype=np.int64)]
    rights: list[IntArray] = [np.zeros(0, dtype=np.int64)]
    for m in np.unique(size[size >= 2]):
        block = order[start[size == m][:, None] + np.arange(m)]  # units × their m ratings
        i, j = np.nonzero(~np.eye(int(m), dtype=bool))
        lefts.append(block[:, i].reshape(-1))
        rights.append(block[:, j].reshape(-1))
    return np.concatenate(lefts), np.concatenate(rights)


def distance_alpha(unit: npt.ArrayLike, value: npt.ArrayLike, distance: Distance) -> float:
    """Krippendorff's alpha of ratings given as parallel arrays (``unit`` and ``value`` codes
    per rating, one rating per observer and unit) under ``distance``.

    Raises NotEnoughData as ``krippendorff_alpha`` does: fewer than two pairable units, or an
    expected disagreement of 0 (no variation to agree about).
    """
    units = np.asarray(unit, dtype=np.int64)
    values = np.asarray(value, dtype=np.int64)
    _, unit_code, m = np.unique(units, return_inverse=True, return_counts=True)
    pairable = m[unit_code] >= 2
    if int(np.count_nonzero(m >= 2)) < 2:
        raise NotEnoughData(int(np.count_nonzero(m >= 2)), 2, "units with two or more values")
    units, values, m = unit_code[pairable], values[pairable], m[unit_code[pairable]]
    left, right = rating_pairs(units)
    observed = float((distance.between(values[left], values[right]) / (m[left] - 1)).sum())
    codes, counts = np.unique(values, return_counts=True)
    n = float(len(values))
    expected = distance.expected(codes, counts.astype(np.float64)) / (n - 1)
    if expected <= 0:
        raise NotEnoughData(
            len(codes),
            2,
            "distinct values in pairable units",
            "expected disagreement is 0, so alpha is undefined",
        )
    return 1.0 - observed / expected


PAIR_BLOCK = 8192
"""Units paired at a time by ``distance_agreement``: a million ratings at once would build
arrays of every pair (4 × 10⁶ at overlap 5) whose fresh memory costs more than the work."""


def distance_agreement(
    unit: npt.ArrayLike,
    observer: npt.ArrayLike,
    value: npt.ArrayLike,
    observers: int,
    distance: Distance,
) -> PairwiseAgreement:
    """For every pair of observers, the units both rated and their summed agreement 1 − δ on
    them (``rating_agreement`` counts agreement as equality; this grades it by ``distance``).
    Ratings as columns, one per observer and unit."""
    units = np.asarray(unit, dtype=np.int64).reshape(-1)
    rows = np.asarray(observer, dtype=np.int64).reshape(-1)
    values = np.asarray(value, dtype=np.int64).reshape(-1)
    shared = np.zeros(observers * observers)
    summed = np.zeros(observers * observers)
    order = np.argsort(units, kind="stable")
    ordered = units[order]
    if len(ordered):
        blocks = np.arange(int(ordered[0]), int(ordered[-1]) + 1, PAIR_BLOCK)
        edges = [*np.searchsorted(ordered, blocks).tolist(), len(ordered)]
    else:
        edges = []
    for start, end in itertools.pairwise(edges):
        taken = order[start:end]
        left, right = rating_pairs(units[taken] - int(ordered[start]))
        left, right = taken[left], taken[right]
        pair = rows[left] * observers + rows[right]
        np.add.at(shared, pair, 1.0)
        np.add.at(summed, pair, 1.0 - distance.between(values[left], values[right]))
    return PairwiseAgreement(
        shared.reshape(observers, observers), summed.reshape(observers, observers)
    )
