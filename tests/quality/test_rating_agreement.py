"""Who agrees with whom, from rating columns: counting equal values (the fast path the Quality
Hub takes when every type agrees by equality) gives what pairing every two ratings and asking
the types' distance gives."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scholia.core.quality.agreement import (
    MatrixDistance,
    distance_agreement,
    pairwise_agreement,
    rating_agreement,
)
from scholia.core.quality.agreement import distance as distance_module
from scholia.core.quality.typed_distance import TypedDistance

from ..graded_plugin import with_graded_types


def _random_ratings(
    seed: int, types: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, list[tuple[str, str]]]:
    """One rating or none per observer and unit; each unit is one type (as an item and
    annotation type is), its values drawn from a few payloads of that type. ``flag`` and a
    type whose plugin is not loaded agree by equality."""
    rng = np.random.default_rng(seed)
    observers, units = int(rng.integers(2, 7)), int(rng.integers(1, 80))
    payloads = {
        "gone": [json.dumps({"category_ids": [k]}) for k in range(4)],  # plugin not loaded
        "flag": [json.dumps({"value": w}) for w in ("yes", "no", "maybe")],
    }
    values = [(t, p) for t in types for p in payloads[t]]
    of_type = {t: [k for k, (name, _) in enumerate(values) if name == t] for t in types}
    unit_type = rng.choice(types, size=units)
    observer, unit = np.nonzero(rng.random((observers, units)) < rng.uniform(0.3, 1.0))
    value = np.array([rng.choice(of_type[unit_type[u]]) for u in unit], dtype=np.int64)
    return unit, observer, value, observers, values


@pytest.mark.parametrize("block", [1, 7, 8192])
@pytest.mark.parametrize("seed", range(30))
def test_counting_equal_values_is_pairing_ratings_under_equality(
    seed: int, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distance_module, "PAIR_BLOCK", block)  # units paired at a time
    unit, observer, value, observers, values = _random_ratings(seed, ("gone", "flag"))
    plugins = with_graded_types()
    typed = TypedDistance(values, plugins.annotation_type)
    assert not any(typed.graded)
    nominal = MatrixDistance(1.0 - np.eye(len(values)))
    fast = rating_agreement(unit, observer, value, observers)
    for distance in (typed, nominal):
        general = distance_agreement(unit, observer, value, observers, distance)
        np.testing.assert_array_equal(fast.shared, general.shared)
        np.testing.assert_array_equal(fast.agreed, general.agreed)


@pytest.mark.parametrize("seed", range(10))
def test_the_columns_give_what_the_matrix_gives(seed: int) -> None:
    unit, observer, value, observers, _ = _random_ratings(seed, ("flag",))
    matrix = np.full((observers, int(unit.max()) + 1 if len(unit) else 0), np.nan)
    matrix[observer, unit] = value
    from_matrix = pairwise_agreement(matrix)
    from_columns = rating_agreement(unit, observer, value, observers)
    np.testing.assert_array_equal(from_matrix.shared, from_columns.shared)
    np.testing.assert_array_equal(from_matrix.agreed, from_columns.agreed)


def test_a_graded_type_needs_the_pairs() -> None:
    # Spans 0–10 and 1–11 overlap by 9/11: counted by equality they would not agree at all.
    unit = np.array([0, 0])
    observer = np.array([0, 1])
    value = np.array([0, 1])
    values = [("span", json.dumps({"start": 0, "end": 10})), ("span", '{"start": 1, "end": 11}')]
    typed = TypedDistance(values, with_graded_types().annotation_type)
    graded = distance_agreement(unit, observer, value, 2, typed)
    assert graded.agreed[0, 1] == pytest.approx(9 / 11)
    assert rating_agreement(unit, observer, value, 2).agreed[0, 1] == 0
