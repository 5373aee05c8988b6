"""Krippendorff's alpha: the published worked example, NLTK as an oracle, and its invariances."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from nltk.metrics.agreement import AnnotationTask
from nltk.metrics.distance import binary_distance, interval_distance

from scholia.core.quality.agreement import LEVELS, NotEnoughData, krippendorff_alpha

nan = np.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C:
# 4 observers (A-D) × 12 units, values 1-5, missing data.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
)


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_the_worked_example_reproduces_the_published_alphas(level, published):
    assert round(krippendorff_alpha(KRIPPENDORFF_2011, level), 3) == published


def test_units_with_a_single_value_are_not_pairable_and_change_nothing():
    # Unit 12 (one value) is already in the example; a further lone value is dropped too.
    extended = np.hstack([KRIPPENDORFF_2011, [[4.0], [nan], [nan], [nan]]])
    assert krippendorff_alpha(extended) == pytest.approx(krippendorff_alpha(KRIPPENDORFF_2011))


def test_perfect_agreement_is_one_at_every_level():
    data = [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, nan, 4]]
    for level in LEVELS:
        assert krippendorff_alpha(data, level) == pytest.approx(1.0)


def test_no_pairable_unit_is_not_enough_data():
    with pytest.raises(NotEnoughData) as raised:
        krippendorff_alpha([[1, nan], [nan, 2]])
    assert raised.value.count == 0
    assert str(raised.value).startswith("not enough data: 0 units with two or more values")


def test_a_single_pairable_unit_is_not_enough_data():
    # With one unit, observed and expected disagreement coincide: alpha would be 0 whatever.
    with pytest.raises(NotEnoughData, match="not enough data: 1 unit with two or more values"):
        krippendorff_alpha([[1, 3], [2, nan]])


def test_one_value_throughout_is_undefined_not_a_number():
    with pytest.raises(NotEnoughData, match="expected disagreement is 0") as raised:
        krippendorff_alpha([[2, 2, 2], [2, 2, nan]], "interval")
    assert (raised.value.count, raised.value.needed) == (1, 2)


def test_ratio_level_refuses_negative_values():
    with pytest.raises(ValueError, match="ratio level needs values of 0 or more"):
        krippendorff_alpha([[-1, 2], [1, 2]], "ratio")


def test_ratio_level_takes_two_zeros_as_agreement():
    assert krippendorff_alpha([[0, 1, 2], [0, 1, 2]], "ratio") == 1.0


def test_an_unknown_level_is_refused_by_name():
    with pytest.raises(ValueError, match="level must be one of nominal, ordinal, interval, ratio"):
        krippendorff_alpha(KRIPPENDORFF_2011, "circular")  # type: ignore[arg-type]


def test_an_infinite_value_is_refused_with_its_position():
    with pytest.raises(ValueError, match=r"data\[0, 1\] is infinite"):
        krippendorff_alpha([[1, np.inf], [1, 2]])


@st.composite
def reliability_data(draw, values=st.integers(1, 5)):
    observers = draw(st.integers(2, 5))
    units = draw(st.integers(2, 15))
    cells = draw(
        st.lists(
            st.one_of(st.none(), values), min_size=observers * units, max_size=observers * units
        )
    )
    return np.array([nan if c is None else c for c in cells], dtype=float).reshape(observers, units)


def computable(data):
    try:
        krippendorff_alpha(data)
    except NotEnoughData:
        return False
    return True


def nltk_alpha(data, distance):
    triples = [
        (str(o), str(u), float(data[o, u]))
        for o in range(data.shape[0])
        for u in range(data.shape[1])
        if not np.isnan(data[o, u])
    ]
    return AnnotationTask(triples, distance=distance).alpha()


@settings(max_examples=80, deadline=None)
@given(reliability_data())
def test_nominal_alpha_matches_nltk_with_missing_values(data):
    assume(computable(data))
    assert krippendorff_alpha(data, "nominal") == pytest.approx(
        nltk_alpha(data, binary_distance), abs=1e-9
    )


@settings(max_examples=80, deadline=None)
@given(reliability_data())
def test_interval_alpha_matches_nltk_with_missing_values(data):
    assume(computable(data))
    assert krippendorff_alpha(data, "interval") == pytest.approx(
        nltk_alpha(data, interval_distance), abs=1e-9
    )


@settings(max_examples=60, deadline=None)
@given(reliability_data())
def test_each_level_is_invariant_under_the_transformations_its_scale_allows(data):
    assume(computable(data))
    nominal = krippendorff_alpha(data, "nominal")
    relabeled = np.where(np.isnan(data), nan, 7 - data)  # a permutation of 1-5 (as 2-6)
    assert krippendorff_alpha(relabeled, "nominal") == pytest.approx(nominal)
    ordinal = krippendorff_alpha(data, "ordinal")
    assert krippendorff_alpha(data**3 + 10, "ordinal") == pytest.approx(ordinal)
    interval = krippendorff_alpha(data, "interval")
    assert krippendorff_alpha(2.5 * data - 4, "interval") == pytest.approx(interval)
    ratio = krippendorff_alpha(data, "ratio")
    assert krippendorff_alpha(3 * data, "ratio") == pytest.approx(ratio)
