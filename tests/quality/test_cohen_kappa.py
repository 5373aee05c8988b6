"""Cohen's kappa: a published example, scikit-learn and NLTK as oracles, the explicit label set."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.metrics.agreement import AnnotationTask
from sklearn.metrics import cohen_kappa_score

from scholia.core.quality.agreement import NotEnoughData, cohen_kappa, pairwise_cohen_kappa

nan = np.nan


def test_the_textbook_example_gives_0_4():
    # 50 proposals read by A and B: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no (po 0.7, pe 0.5).
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b, labels=["yes", "no"]) == pytest.approx(0.4)


def test_the_order_of_the_labels_defines_the_weights():
    a = [1, 2, 3, 1, 3]
    b = [1, 3, 3, 2, 1]
    assert cohen_kappa(a, b, labels=[1, 2, 3], weights="linear") != pytest.approx(
        cohen_kappa(a, b, labels=[3, 1, 2], weights="linear")
    )
    assert cohen_kappa(a, b, labels=[1, 2, 3]) == pytest.approx(cohen_kappa(a, b, labels=[3, 1, 2]))


def test_a_label_outside_the_set_is_refused_by_name():
    with pytest.raises(
        ValueError, match=r"b\[2\] is 'cat', which is not in labels \['dog', 'bird'\]"
    ):
        cohen_kappa(["dog", "dog", "bird"], ["dog", "bird", "cat"], labels=["dog", "bird"])


def test_a_label_of_another_type_is_refused_by_name():
    with pytest.raises(ValueError, match=r"a\[0\] is 1"):
        cohen_kappa([1, 2], ["x", "y"], labels=["x", "y"])


def test_a_label_listed_twice_is_refused():
    with pytest.raises(ValueError, match="labels lists 1 more than once"):
        cohen_kappa([1, 2], [1, 2], labels=[1, 2, 1])


def test_unequal_lengths_are_refused():
    with pytest.raises(ValueError, match="got 2 and 3 labels"):
        cohen_kappa([1, 2], [1, 2, 1], labels=[1, 2])


def test_no_items_is_not_enough_data():
    with pytest.raises(NotEnoughData, match="not enough data: 0 items rated by both annotators"):
        cohen_kappa([], [], labels=[1, 2])


def test_one_label_throughout_is_undefined_not_a_number():
    with pytest.raises(NotEnoughData, match="chance agreement is 1") as raised:
        cohen_kappa([2, 2, 2], [2, 2, 2], labels=[1, 2, 3], weights="quadratic")
    assert raised.value.count == 1


def test_an_unknown_weighting_is_refused():
    with pytest.raises(ValueError, match="weights must be None, 'linear' or 'quadratic'"):
        cohen_kappa([1, 2], [2, 1], labels=[1, 2], weights="cubic")  # type: ignore[arg-type]


pairs = st.integers(2, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 4), min_size=n, max_size=n),
        st.lists(st.integers(0, 4), min_size=n, max_size=n),
        st.permutations([0, 1, 2, 3, 4, 5]),
    )
)


@settings(max_examples=150, deadline=None)
@given(pairs, st.sampled_from([None, "linear", "quadratic"]))
def test_kappa_matches_scikit_learn_for_every_weighting_and_label_order(pair, weights):
    a, b, labels = pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns where kappa is undefined (nan)
        expected = cohen_kappa_score(a, b, labels=labels, weights=weights)
    if np.isnan(expected):
        with pytest.raises(NotEnoughData):
            cohen_kappa(a, b, labels=labels, weights=weights)
    else:
        assert cohen_kappa(a, b, labels=labels, weights=weights) == pytest.approx(
            expected, abs=1e-9
        )


@settings(max_examples=60, deadline=None)
@given(pairs)
def test_unweighted_kappa_matches_nltk(pair):
    a, b, labels = pair
    task = AnnotationTask(
        [("A", i, x) for i, x in enumerate(a)] + [("B", i, x) for i, x in enumerate(b)]
    )
    try:
        ours = cohen_kappa(a, b, labels=labels)
    except NotEnoughData:
        return
    assert ours == pytest.approx(task.kappa_pairwise("A", "B"), abs=1e-9)


def test_pairwise_kappas_use_the_units_each_pair_shares():
    data = np.array(
        [
            [1, 2, 3, 1, 2, nan],
            [1, 2, 3, 2, nan, 3],
            [nan, 1, 3, 1, 2, 3],
        ]
    )
    matrix = pairwise_cohen_kappa(data, labels=[1, 2, 3], weights="linear")
    assert np.isnan(np.diag(matrix)).all()
    assert (
        matrix[0, 1]
        == matrix[1, 0]
        == pytest.approx(
            cohen_kappa([1, 2, 3, 1], [1, 2, 3, 2], labels=[1, 2, 3], weights="linear")
        )
    )
    assert matrix[1, 2] == pytest.approx(
        cohen_kappa([2, 3, 2, 3], [1, 3, 1, 3], labels=[1, 2, 3], weights="linear")
    )


def test_a_pair_sharing_too_few_units_is_nan_in_the_pairwise_matrix():
    data = np.array([[1, 2, nan], [nan, 2, 1], [1, 2, 1]])
    matrix = pairwise_cohen_kappa(data, labels=[1, 2])
    assert np.isnan(matrix[0, 1])
    assert matrix[0, 2] == pytest.approx(1.0)
