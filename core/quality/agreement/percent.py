"""Percent agreement: the share of pairs of ratings of a unit that are the same value.

Not chance-corrected (two annotators picking at random among two labels agree half the time),
but it is what people mean by "they agreed on 90% of items", and the per-annotator breakdown
reads naturally in it: how often does this annotator agree with each of the others?
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]

from .data import FloatArray, NotEnoughData, as_reliability_data, value_counts

__all__ = [
    "AnnotatorAgreement",
    "PairwiseAgreement",
    "annotator_agreement",
    "pairwise_agreement",
    "percent_agreement",
    "rating_agreement",
]


def percent_agreement(data: npt.ArrayLike) -> float:
    """Mean over pairable units of the share of agreeing pairs among the unit's ratings.

    ``data`` is observers × units (nan = missing). A unit rated by m observers has
    m(m − 1)/2 pairs; units with fewer than two ratings have none and are left out. With every
    observer rating every unit this is Fleiss' P̄; with two observers, the share of units they
    gave the same value. No pairable unit raises NotEnoughData.
    """
    matrix = as_reliability_data(data)
    _values, counts = value_counts(matrix)
    m = np.asarray(counts.sum(axis=1)).reshape(-1)
    pairable = m >= 2
    if not pairable.any():
        raise NotEnoughData(0, 1, "units with two or more ratings")
    same = np.asarray(counts.multiply(counts).sum(axis=1)).reshape(-1) - m
    return float(np.mean(same[pairable] / (m[pairable] * (m[pairable] - 1))))


@dataclass(frozen=True, slots=True)
class PairwiseAgreement:
    """Observers × observers: how many units each pair both rated, and on how many they agreed."""

    shared: FloatArray
    agreed: FloatArray

    @property
    def agreement(self) -> FloatArray:
        """agreed / shared, nan where a pair shares no unit (and on the diagonal)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            result = self.agreed / self.shared
        result[self.shared == 0] = np.nan
        np.fill_diagonal(result, np.nan)
        return result


def pairwise_agreement(data: npt.ArrayLike) -> PairwiseAgreement:
    """For every pair of observers, the units both rated and those they gave the same value.

    Computed as two sparse products (who rated what, who gave which value to what), so the
    cost grows with the ratings, not with observers² × units.
    """
    matrix = as_reliability_data(data)
    rows, columns = np.nonzero(~np.isnan(matrix))
    _, codes = np.unique(matrix[rows, columns], return_inverse=True)
    return rating_agreement(columns, rows, codes.reshape(-1), matrix.shape[0])


def rating_agreement(
    unit: npt.ArrayLike, observer: npt.ArrayLike, value: npt.ArrayLike, observers: int
) -> PairwiseAgreement:
    """``pairwise_agreement`` from rating columns (unit, observer and value code of each
    rating, one rating per observer and unit) rather than a matrix: a project's ratings as
    read, without an observers × units array."""
    units = np.asarray(unit, dtype=np.int64).reshape(-1)
    rows = np.asarray(observer, dtype=np.int64).reshape(-1)
    codes = np.asarray(value, dtype=np.int64).reshape(-1)
    ones = np.ones(len(rows))
    if not len(rows):
        return PairwiseAgreement(np.zeros((observers, observers)), np.zeros((observers, observers)))
    rated = sparse.csr_matrix((ones, (rows, units)), shape=(observers, int(units.max()) + 1))
    _, given = np.unique(units * (int(codes.max()) + 1) + codes, return_inverse=True)
    gave = sparse.csr_matrix(
        (ones, (rows, given.reshape(-1))), shape=(observers, int(given.max()) + 1)
    )
    shared = np.asarray((rated @ rated.T).toarray(), dtype=np.float64)
    agreed = np.asarray((gave @ gave.T).toarray(), dtype=np.float64)
    np.fill_diagonal(shared, 0)
    np.fill_diagonal(agreed, 0)
    return PairwiseAgreement(shared, agreed)


@dataclass(frozen=True, slots=True)
class AnnotatorAgreement:
    """Per observer (in row order): mean pairwise agreement with the others, and its basis."""

    agreement: FloatArray
    """Mean over the other observers sharing a unit with this one of their percent agreement;
    nan for an observer who shares no unit with anyone (there is nothing to say)."""
    partners: npt.NDArray[np.int64]
    """How many other observers that mean is over."""
    shared_units: npt.NDArray[np.int64]
    """How many (unit, other observer) pairs it rests on: compare with a minimum before acting."""


def annotator_agreement(data: npt.ArrayLike) -> AnnotatorAgreement:
    """Each observer's mean pairwise agreement with every other observer they share units with.

    The mean is over partners, not over units, so a partner who shared 10,000 units does not
    drown out one who shared 50. Observers × units data, nan = missing.
    """
    pairs = pairwise_agreement(data)
    with_partner = pairs.shared > 0
    partners = with_partner.sum(axis=1)
    rates = np.where(with_partner, pairs.agreement, 0.0)
    rates = np.nan_to_num(rates)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = rates.sum(axis=1) / partners
    mean[partners == 0] = np.nan
    return AnnotatorAgreement(
        mean, partners.astype(np.int64), pairs.shared.sum(axis=1).astype(np.int64)
    )
