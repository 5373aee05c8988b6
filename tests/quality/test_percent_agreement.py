"""Percent agreement and the per-annotator breakdown, checked against NLTK and by hand."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.metrics.agreement import AnnotationTask

from scholia.core.quality.agreement import (
    NotEnoughData,
    annotator_agreement,
    pairwise_agreement,
    percent_agreement,
    reliability_data,
)

nan = np.nan


def test_each_pairable_unit_counts_its_agreeing_pairs():
    # Unit 1: 3 of 3 pairs agree; unit 2: 1 of 3 ([1, 1, 2]); unit 3: 0 of 1; unit 4: no pair.
    data = [[1, 1, 1, 5], [1, 1, nan, nan], [1, 2, 2, nan]]
    assert percent_agreement(data) == pytest.approx((1 + 1 / 3 + 0) / 3)


def test_no_pairable_unit_is_not_enough_data():
    with pytest.raises(NotEnoughData, match="not enough data: 0 units with two or more ratings"):
        percent_agreement([[1, nan], [nan, 2]])


@st.composite
def complete_data(draw):
    observers = draw(st.integers(2, 5))
    units = draw(st.integers(1, 12))
    cells = draw(
        st.lists(st.integers(0, 3), min_size=observers * units, max_size=observers * units)
    )
    return np.array(cells, dtype=float).reshape(observers, units)


@st.composite
def sparse_data(draw):
    data = draw(complete_data())
    missing = draw(st.lists(st.booleans(), min_size=data.size, max_size=data.size))
    data[np.array(missing).reshape(data.shape)] = nan
    return data


def task(data):
    return AnnotationTask(
        [(o, u, data[o, u]) for o in range(data.shape[0]) for u in range(data.shape[1])]
    )


@settings(max_examples=60, deadline=None)
@given(complete_data())
def test_with_complete_data_it_is_nltks_average_observed_agreement(data):
    assert percent_agreement(data) == pytest.approx(task(data).avg_Ao(), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(complete_data())
def test_pairwise_agreement_is_nltks_observed_agreement_of_each_pair(data):
    agreement = pairwise_agreement(data).agreement
    annotation_task = task(data)
    for a, b in combinations(range(data.shape[0]), 2):
        assert agreement[a, b] == pytest.approx(annotation_task.Ao(a, b), abs=1e-9)


@settings(max_examples=80, deadline=None)
@given(sparse_data())
def test_each_annotator_gets_the_mean_of_their_pairwise_agreements(data):
    result = annotator_agreement(data)
    for a in range(data.shape[0]):
        rates, shared = [], 0
        for b in range(data.shape[0]):
            both = ~np.isnan(data[a]) & ~np.isnan(data[b])
            if b != a and both.any():
                rates.append(np.mean(data[a, both] == data[b, both]))
                shared += both.sum()
        if rates:
            assert result.agreement[a] == pytest.approx(np.mean(rates))
        else:
            assert np.isnan(result.agreement[a])
        assert result.partners[a] == len(rates)
        assert result.shared_units[a] == shared


def test_an_annotator_who_always_disagrees_scores_zero():
    data = [[1, 2, 3, 1], [1, 2, 3, 1], [2, 3, 1, 2]]
    result = annotator_agreement(data)
    assert result.agreement.tolist() == [0.5, 0.5, 0.0]


def test_an_annotator_sharing_no_unit_has_no_breakdown():
    result = annotator_agreement([[1, 2, nan], [1, 2, nan], [nan, nan, 3]])
    assert np.isnan(result.agreement[2])
    assert result.partners[2] == 0


def test_reliability_data_puts_each_rating_in_its_cell():
    built = reliability_data(
        units=[10, 10, 11, 12, 12], observers=["b", "a", "a", "a", "b"], values=[1, 2, 3, 1, 1]
    )
    assert built.observers.tolist() == ["a", "b"]
    assert built.units.tolist() == [10, 11, 12]
    assert np.array_equal(built.matrix, np.array([[2, 3, 1], [1, nan, 1]]), equal_nan=True)


def test_reliability_data_refuses_a_second_rating_of_the_same_unit():
    with pytest.raises(ValueError, match="observer 'a' rated unit 10 more than once"):
        reliability_data(units=[10, 10], observers=["a", "a"], values=[1, 2])


def test_reliability_data_refuses_columns_of_different_lengths():
    with pytest.raises(ValueError, match="got 2, 1 and 2"):
        reliability_data(units=[1, 2], observers=["a"], values=[1, 2])


def test_reliability_data_refuses_a_missing_value():
    with pytest.raises(ValueError, match=r"values\[1\] is nan"):
        reliability_data(units=[1, 2], observers=["a", "a"], values=[1, nan])
