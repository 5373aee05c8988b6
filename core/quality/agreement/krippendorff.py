"""Krippendorff's alpha: reliability of any number of observers, missing values allowed.

α = 1 − Dₒ / Dₑ from the coincidence matrix (Krippendorff 2011, "Computing Krippendorff's
Alpha-Reliability"): every pair of values within a unit is a coincidence weighted 1/(mᵤ − 1),
so units with fewer than two values are not pairable and drop out. The level of measurement
chooses the difference function δ²: nominal (same or not), ordinal (ranks of the pooled
values), interval ((c − k)²) or ratio (((c − k)/(c + k))²).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]

from .data import FloatArray, NotEnoughData, as_reliability_data, value_counts

__all__ = ["LEVELS", "Level", "coincidences", "krippendorff_alpha", "presence_alphas"]

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")


def coincidences(data: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """The distinct values and the values × values coincidence matrix of pairable units.

    oₖₖ' = Σᵤ (nᵤₖ nᵤₖ' − [k = k'] nᵤₖ) / (mᵤ − 1), computed as one sparse product; its size is
    the number of distinct values squared, which is small for labels (each a category id).
    """
    matrix = as_reliability_data(data)
    values, counts = value_counts(matrix)
    m = np.asarray(counts.sum(axis=1)).reshape(-1)
    pairable = m >= 2
    counts = counts[pairable]
    weighted = sparse.diags(1.0 / (m[pairable] - 1)) @ counts
    product = np.asarray((counts.T @ weighted).toarray(), dtype=np.float64)
    product -= np.diag(np.asarray(weighted.sum(axis=0)).reshape(-1))
    return np.asarray(values, dtype=np.float64), product


def _differences(level: Level, values: FloatArray, marginals: FloatArray) -> FloatArray:
    if level == "nominal":
        return np.asarray(values[:, None] != values[None, :], dtype=np.float64)
    if level == "ordinal":
        # Σ_{g=c..k} n_g − (n_c + n_k)/2 equals the gap between midranks r = cumsum(n) − n/2.
        midrank = np.cumsum(marginals) - marginals / 2
        return (midrank[:, None] - midrank[None, :]) ** 2
    if level == "interval":
        return (values[:, None] - values[None, :]) ** 2
    if level == "ratio":
        total = values[:, None] + values[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = ((values[:, None] - values[None, :]) / total) ** 2
        return np.where(total == 0, 0.0, ratio)
    raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")


def krippendorff_alpha(data: npt.ArrayLike, level: Level = "nominal") -> float:
    """Krippendorff's alpha of observers × units data (nan = missing) at ``level``.

    Raises NotEnoughData when fewer than two units are pairable (with one, Dₒ = Dₑ by
    construction and alpha would be 0 whatever the data) and when the pairable values are
    all the same (expected disagreement 0: alpha is 0/0, undefined, even though the observers
    agree, since there was no variation to agree about). Ratio level needs values ≥ 0.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    matrix = as_reliability_data(data)
    units = int(np.count_nonzero((~np.isnan(matrix)).sum(axis=0) >= 2))
    if units < 2:
        raise NotEnoughData(units, 2, "units with two or more values")
    values, o = coincidences(matrix)
    marginals = o.sum(axis=1)
    used = marginals > 0
    values, o, marginals = values[used], o[np.ix_(used, used)], marginals[used]
    if level == "ratio" and (values < 0).any():
        raise ValueError(f"ratio level needs values of 0 or more; got {values[values < 0][0]:g}")
    delta = _differences(level, values, marginals)
    n = float(marginals.sum())
    observed = float((o * delta).sum())
    expected = float((np.outer(marginals, marginals) * delta).sum()) / (n - 1)
    if expected == 0:
        raise NotEnoughData(
            int(used.sum()),
            2,
            "distinct values in pairable units",
            "expected disagreement is 0, so alpha is undefined",
        )
    return 1.0 - observed / expected


def presence_alphas(
    unit: npt.ArrayLike, rating: npt.ArrayLike, label: npt.ArrayLike, labels: int
) -> FloatArray:
    """For each label 0 … ``labels`` − 1, nominal alpha on "this rating holds the label or not".

    Ratings are given by their unit code (``unit[r]``, one rating per observer and unit); a
    rating may hold several labels, given as pairs ``(rating[i], label[i])``, each pair once.
    The same figure as
    ``krippendorff_alpha`` on each label's 0/1 matrix, from counts instead of a matrix per
    label: with mᵤ ratings of unit u, kᵤ of them holding the label, o₀₁ = o₁₀ = Σᵤ kᵤ(mᵤ − kᵤ)
    / (mᵤ − 1), and with n₁ = Σᵤ kᵤ of the n pairable ratings, Dₑ ∝ 2 n₀ n₁ / (n − 1).

    Raises NotEnoughData as ``krippendorff_alpha`` does for fewer than two pairable units; a
    label held by every pairable rating or by none (expected disagreement 0) is nan.
    """
    units = np.asarray(unit, dtype=np.int64).reshape(-1)
    holder = np.asarray(rating, dtype=np.int64).reshape(-1)
    held = np.asarray(label, dtype=np.int64).reshape(-1)
    m = np.bincount(units) if len(units) else np.zeros(0, dtype=np.int64)
    pairable_units = int(np.count_nonzero(m >= 2))
    if pairable_units < 2:
        raise NotEnoughData(pairable_units, 2, "units with two or more values")
    n = float(np.count_nonzero(m[units] >= 2))
    counted = m[units[holder]] >= 2
    key, k = np.unique(units[holder[counted]] * labels + held[counted], return_counts=True)
    mu = m[key // labels].astype(np.float64)
    kf = k.astype(np.float64)
    which = key % labels
    o_apart = np.bincount(which, weights=kf * (mu - kf) / (mu - 1), minlength=labels)
    n_held = np.bincount(which, weights=kf, minlength=labels)
    observed = 2.0 * o_apart
    expected = 2.0 * (n - n_held) * n_held / (n - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, 1.0 - observed / expected, np.nan)
