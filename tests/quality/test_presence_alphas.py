"""Alpha on "holds this label or not", every label at once: the matrix alpha, from counts."""

from __future__ import annotations

import numpy as np
import pytest

from scholia.core.quality.agreement import NotEnoughData, krippendorff_alpha, presence_alphas


def _random_ratings(
    seed: int, labels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Observers × units with one rating per cell or none; each rating holds 0 to 3 labels."""
    rng = np.random.default_rng(seed)
    observers, units = rng.integers(2, 7), rng.integers(2, 60)
    rated = rng.random((observers, units)) < rng.uniform(0.3, 0.9)
    observer, unit = np.nonzero(rated)
    pairs = [
        (r, int(c))
        for r in range(len(unit))
        for c in rng.choice(labels, size=rng.integers(0, 4), replace=False)
    ]
    rating = np.array([r for r, _ in pairs], dtype=np.int64)
    label = np.array([c for _, c in pairs], dtype=np.int64)
    return observer, unit, rating, label, rated


@pytest.mark.parametrize("seed", range(40))
def test_each_label_gets_the_nominal_alpha_of_its_0_1_matrix(seed: int) -> None:
    labels = 5
    observer, unit, rating, label, rated = _random_ratings(seed, labels)
    try:
        found = presence_alphas(unit, rating, label, labels)
    except NotEnoughData as error:
        with pytest.raises(NotEnoughData, match=str(error).split(" (")[0]):
            krippendorff_alpha(np.where(rated, 0.0, np.nan))
        return
    for c in range(labels):
        matrix = np.full(rated.shape, np.nan)
        holds = np.zeros(len(unit))
        holds[rating[label == c]] = 1.0
        matrix[observer, unit] = holds
        try:
            expected = krippendorff_alpha(matrix, "nominal")
        except NotEnoughData:
            assert np.isnan(found[c])
            continue
        assert found[c] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_the_worked_binary_case() -> None:
    # Three items, two annotators: (cat, cat), (cat, dog), (dog, dog): "cat or not" has
    # o11 = o00 = 2, o10 = o01 = 1 over 6 values, so alpha = 1 − (2/6) / (2·3·3 / 30) = 4/9.
    unit = np.array([0, 0, 1, 1, 2, 2])
    found = presence_alphas(unit, np.arange(6), np.array([0, 0, 0, 1, 1, 1]), 2)
    assert found == pytest.approx([4 / 9, 4 / 9])


def test_a_label_everyone_or_no_one_holds_has_no_alpha() -> None:
    unit = np.array([0, 0, 1, 1])
    found = presence_alphas(unit, np.arange(4), np.zeros(4, dtype=np.int64), 2)
    assert np.isnan(found).all()
    with pytest.raises(NotEnoughData, match="1 unit with two or more values"):
        presence_alphas(np.array([0, 0, 1]), np.arange(3), np.zeros(3, dtype=np.int64), 1)
