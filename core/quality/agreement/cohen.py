"""Cohen's kappa: chance-corrected agreement of two annotators, unweighted or weighted.

κ = 1 − Σ w·O / Σ w·E over the labels × labels table of observed (O) and chance-expected (E)
counts, E from each annotator's own label frequencies. The label set is explicit because its
order defines the weights (linear |i − j|, quadratic (i − j)²): with labels inferred from the
data, a label nobody used would silently shift every distance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .data import FloatArray, NotEnoughData, as_reliability_data, label_codes

__all__ = ["Weights", "cohen_kappa", "pairwise_cohen_kappa"]

Weights = Literal["linear", "quadratic"] | None


def _weight_matrix(k: int, weights: Weights) -> FloatArray:
    position = np.arange(k, dtype=np.float64)
    distance = np.abs(position[:, None] - position[None, :])
    if weights is None:
        return (distance > 0).astype(np.float64)
    if weights == "linear":
        return distance
    if weights == "quadratic":
        return distance**2
    raise ValueError(f"weights must be None, 'linear' or 'quadratic'; got {weights!r}")


def _kappa_from_codes(
    codes_a: npt.NDArray[np.intp], codes_b: npt.NDArray[np.intp], k: int, weights: Weights
) -> float:
    n = len(codes_a)
    if n < 2:
        raise NotEnoughData(n, 2, "items rated by both annotators")
    observed = np.bincount(codes_a * k + codes_b, minlength=k * k).reshape(k, k)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / n
    w = _weight_matrix(k, weights)
    expected_disagreement = float((w * expected).sum())
    if expected_disagreement == 0:
        used = int(np.count_nonzero(observed.sum(axis=0) + observed.sum(axis=1)))
        raise NotEnoughData(
            used,
            2,
            "distinct labels used",
            "both annotators gave every item the same label, so chance agreement is 1 and "
            "kappa is 0/0",
        )
    return 1.0 - float((w * observed).sum()) / expected_disagreement


def cohen_kappa(
    a: Sequence[Any] | npt.ArrayLike,
    b: Sequence[Any] | npt.ArrayLike,
    *,
    labels: Sequence[Any] | npt.ArrayLike,
    weights: Weights = None,
) -> float:
    """Cohen's kappa of two annotators' labels for the same items (``a[i]``, ``b[i]``: item i).

    ``labels`` is the label set in order; a label outside it is a ValueError naming it.
    Fewer than two items, or both annotators using one same label throughout (kappa 0/0),
    raise NotEnoughData.
    """
    left = np.asarray(a).reshape(-1)
    right = np.asarray(b).reshape(-1)
    if len(left) != len(right):
        raise ValueError(
            f"a and b must label the same items; got {len(left)} and {len(right)} labels"
        )
    label_array = np.asarray(labels).reshape(-1)
    codes_a = label_codes(left, label_array, "a")
    codes_b = label_codes(right, label_array, "b")
    return _kappa_from_codes(codes_a, codes_b, len(label_array), weights)


def pairwise_cohen_kappa(
    data: npt.ArrayLike, *, labels: Sequence[float] | npt.ArrayLike, weights: Weights = None
) -> FloatArray:
    """Observers × observers Cohen's kappa, each pair over the units both rated.

    nan on the diagonal and wherever a pair's kappa is undefined (fewer than two shared
    units, or a single label between them); read it as "not enough data", not as a value.
    """
    matrix = as_reliability_data(data)
    label_array = np.asarray(labels, dtype=np.float64).reshape(-1)
    observed = ~np.isnan(matrix)
    codes = np.zeros(matrix.shape, dtype=np.intp)
    codes[observed] = label_codes(matrix[observed], label_array, "data")
    observers = matrix.shape[0]
    result = np.full((observers, observers), np.nan)
    for i in range(observers):
        for j in range(i + 1, observers):
            both = observed[i] & observed[j]
            try:
                value = _kappa_from_codes(codes[i, both], codes[j, both], len(label_array), weights)
            except NotEnoughData:
                continue
            result[i, j] = result[j, i] = value
    return result
