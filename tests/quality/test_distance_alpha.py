"""Krippendorff's alpha over any distance: it is the coefficient the levels compute."""

from __future__ import annotations

import numpy as np
import pytest

from scholia.core.quality.agreement import (
    MatrixDistance,
    NotEnoughData,
    distance_alpha,
    krippendorff_alpha,
)

from .test_krippendorff_alpha import KRIPPENDORFF_2011


def _ratings(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observers × units (nan = missing) as unit and value-code arrays, and the values."""
    observer, unit = np.nonzero(~np.isnan(matrix))
    values, codes = np.unique(matrix[observer, unit], return_inverse=True)
    return unit, codes, values


def test_with_equality_as_the_distance_it_is_the_nominal_alpha() -> None:
    unit, codes, values = _ratings(KRIPPENDORFF_2011)
    nominal = MatrixDistance((values[:, None] != values[None, :]).astype(float))
    assert distance_alpha(unit, codes, nominal) == pytest.approx(
        krippendorff_alpha(KRIPPENDORFF_2011, "nominal"), rel=1e-12, abs=1e-12
    )
    assert round(distance_alpha(unit, codes, nominal), 3) == 0.743  # the published value


def test_with_squared_differences_it_is_the_interval_alpha() -> None:
    unit, codes, values = _ratings(KRIPPENDORFF_2011)
    interval = MatrixDistance((values[:, None] - values[None, :]) ** 2)
    assert round(distance_alpha(unit, codes, interval), 3) == 0.849
    assert distance_alpha(unit, codes, interval) == pytest.approx(
        krippendorff_alpha(KRIPPENDORFF_2011, "interval"), rel=1e-12
    )


def test_a_graded_distance_counts_near_misses_as_near() -> None:
    # Values 0, 1 and 10 on a line; δ = |c − k| / 10. Units disagree only by 0 vs 1.
    unit = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    codes = np.array([0, 1, 0, 1, 2, 2, 2, 2])
    points = np.array([0.0, 1.0, 10.0])
    graded = MatrixDistance(np.abs(points[:, None] - points[None, :]) / 10)
    nominal = MatrixDistance((points[:, None] != points[None, :]).astype(float))
    assert distance_alpha(unit, codes, graded) > 0.8
    assert distance_alpha(unit, codes, nominal) < distance_alpha(unit, codes, graded)


def test_too_little_data_says_so() -> None:
    same = MatrixDistance(np.zeros((1, 1)))
    with pytest.raises(NotEnoughData, match="1 unit with two or more values"):
        distance_alpha([0, 0, 1], [0, 0, 0], same)
    with pytest.raises(NotEnoughData, match="expected disagreement is 0"):
        distance_alpha([0, 0, 1, 1], [0, 0, 0, 0], same)
