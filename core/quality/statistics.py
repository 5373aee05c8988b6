"""Small statistics the quality signals rest on: each one function, each named as in the field.

Gold accuracy is shown with its Wilson score interval (a rate over 12 gold items is not a rate
over 1,200); time-per-item outliers use the robust (median/MAD) z-score so a few outliers do
not hide themselves by inflating the spread; label drift is the Jensen–Shannon divergence of
two label distributions; annotator bias is a chi-square test of homogeneity whose name travels
with the result, so a page can say which test was used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import chi2_contingency  # type: ignore[import-untyped]

from .agreement.data import NotEnoughData

__all__ = [
    "MAD_SCALE",
    "MEAN_AD_SCALE",
    "TestResult",
    "homogeneity_test",
    "js_divergence",
    "robust_z",
    "wilson_interval",
]

MAD_SCALE = 0.6745
"""Φ⁻¹(0.75): makes MAD estimate σ for normal data (Iglewicz & Hoaglin's modified z-score)."""
MEAN_AD_SCALE = 0.7979
"""√(2/π): the same for the mean absolute deviation, used when MAD is 0."""


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval for a proportion ``successes / n`` (default 95%).

    Unlike the normal approximation it stays inside [0, 1] and is not zero-width at 0/n or n/n,
    which matters for the small counts a gold window holds. ``n == 0`` raises NotEnoughData.
    """
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n; got successes={successes}, n={n}")
    if not z > 0:
        raise ValueError(f"z must be positive; got {z}")
    if n == 0:
        raise NotEnoughData(0, 1, "trials")
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def robust_z(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``0.6745 (x − median) / MAD`` for each value (|z| > 3.5 is Iglewicz & Hoaglin's outlier).

    MAD is 0 when more than half the values are equal (e.g. many items timed at the same
    second); then the mean absolute deviation stands in: ``0.7979 (x − median) / meanAD``.
    If that is 0 too, every value equals the median and every z is 0. No value is ever inf.
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if x.size == 0:
        raise NotEnoughData(0, 1, "values")
    if not np.isfinite(x).all():
        bad = int(np.flatnonzero(~np.isfinite(x))[0])
        raise ValueError(f"values[{bad}] is {x[bad]}: every value must be a finite number")
    deviation = x - np.median(x)
    mad = float(np.median(np.abs(deviation)))
    if mad > 0:
        return MAD_SCALE * deviation / mad
    mean_ad = float(np.mean(np.abs(deviation)))
    if mean_ad > 0:
        return MEAN_AD_SCALE * deviation / mean_ad
    return np.zeros_like(x)


def js_divergence(p: npt.ArrayLike, q: npt.ArrayLike, *, smoothing: float = 0.0) -> float:
    """Jensen–Shannon divergence of two distributions over the same categories, base 2: in [0, 1].

    ``p`` and ``q`` are counts or proportions, each normalised to sum to 1. Zeros need no
    smoothing (0 · log 0 is taken as 0 and the mixture is positive wherever either is), so by
    default none is applied. ``smoothing`` adds that many pseudo-counts to every category of
    both before normalising (0.5 is Jeffreys'); use it with counts from small samples, such as
    one annotator's week, where a category missing by chance would otherwise read as drift.
    """
    a = np.asarray(p, dtype=np.float64).reshape(-1)
    b = np.asarray(q, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"p and q must have one entry per category; got {a.size} and {b.size}")
    if smoothing < 0:
        raise ValueError(f"smoothing must be 0 or more; got {smoothing}")
    for name, dist in (("p", a), ("q", b)):
        if not np.isfinite(dist).all() or (dist < 0).any():
            raise ValueError(f"{name} must hold counts or proportions (finite, not negative)")
    a = a + smoothing
    b = b + smoothing
    for name, dist in (("p", a), ("q", b)):
        if dist.sum() <= 0:
            raise NotEnoughData(0, 1, f"counts in {name}")
    a = a / a.sum()
    b = b / b.sum()
    m = (a + b) / 2

    def kl_to_m(dist: npt.NDArray[np.float64]) -> float:
        used = dist > 0
        return float(np.sum(dist[used] * np.log2(dist[used] / m[used])))

    return min(1.0, max(0.0, (kl_to_m(a) + kl_to_m(b)) / 2))


@dataclass(frozen=True, slots=True)
class TestResult:
    """A hypothesis test's outcome, with the test's name so whoever shows it can say which."""

    __test__ = False  # not a pytest test class

    name: str
    statistic: float
    p_value: float
    dof: int


HOMOGENEITY = "chi-square test of homogeneity"


def homogeneity_test(counts_a: npt.ArrayLike, counts_b: npt.ArrayLike) -> TestResult:
    """Do two label distributions (counts per category) come from the same one?

    Pearson's chi-square on the 2 × k table, without Yates' correction (so the statistic is the
    same formula at every k). Categories neither side used are left out: they carry no evidence
    and would make an expected count 0. Fewer than two categories left is NotEnoughData. With
    small counts (an expected cell under 5) the p-value is approximate; callers set minimum
    counts before acting on it.
    """
    a = np.asarray(counts_a, dtype=np.float64).reshape(-1)
    b = np.asarray(counts_b, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(
            f"counts_a and counts_b must have one count per category; got {a.size} and {b.size}"
        )
    for name, counts in (("counts_a", a), ("counts_b", b)):
        if not np.isfinite(counts).all() or (counts < 0).any():
            raise ValueError(f"{name} must hold counts (finite, not negative)")
        if counts.sum() == 0:
            raise NotEnoughData(0, 1, f"ratings in {name}")
    used = (a + b) > 0
    if used.sum() < 2:
        raise NotEnoughData(int(used.sum()), 2, "categories used")
    table = np.vstack([a[used], b[used]])
    statistic, p_value, dof, _expected = chi2_contingency(table, correction=False)
    return TestResult(HOMOGENEITY, float(statistic), float(p_value), int(dof))
