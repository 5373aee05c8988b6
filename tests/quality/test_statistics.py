"""Wilson interval, robust z-score, Jensen–Shannon divergence, test of homogeneity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency
from statsmodels.stats.proportion import proportion_confint

from scholia.core.quality.agreement import NotEnoughData
from scholia.core.quality.statistics import (
    homogeneity_test,
    js_divergence,
    robust_z,
    wilson_interval,
)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_matches_statsmodels(case):
    successes, n = case
    low, high = wilson_interval(successes, n)
    expected = proportion_confint(successes, n, alpha=0.05, method="wilson")
    assert (low, high) == pytest.approx(expected, abs=1e-4)  # z 1.96 against 1.95996


def test_wilson_interval_at_0_of_n_is_not_zero_width():
    low, high = wilson_interval(0, 12)
    assert low == 0.0
    assert high > 0.2


def test_wilson_interval_over_no_trials_is_not_enough_data():
    with pytest.raises(NotEnoughData, match="not enough data: 0 trials"):
        wilson_interval(0, 0)


def test_wilson_interval_refuses_more_successes_than_trials():
    with pytest.raises(ValueError, match="successes=5, n=4"):
        wilson_interval(5, 4)


def test_robust_z_is_scaled_by_the_median_absolute_deviation():
    z = robust_z([1, 2, 3, 4, 100])
    assert z.tolist() == pytest.approx([-1.349, -0.6745, 0, 0.6745, 0.6745 * 97])


def test_robust_z_is_not_fooled_by_the_outlier_it_should_flag():
    times = [30, 32, 29, 31, 30, 33, 28, 600]
    z = robust_z(times)
    assert abs(z[-1]) > 3.5
    assert (abs(z[:-1]) < 3.5).all()


def test_robust_z_with_mad_zero_falls_back_to_the_mean_absolute_deviation():
    z = robust_z([10, 10, 10, 10, 20])  # median 10, MAD 0, mean absolute deviation 2
    assert z.tolist() == pytest.approx([0, 0, 0, 0, 0.7979 * 10 / 2])
    assert np.isfinite(z).all()


def test_robust_z_of_identical_values_is_zero():
    assert robust_z([5, 5, 5]).tolist() == [0, 0, 0]


def test_robust_z_needs_values_and_refuses_nan():
    with pytest.raises(NotEnoughData, match="0 values"):
        robust_z([])
    with pytest.raises(ValueError, match=r"values\[1\] is nan"):
        robust_z([1, np.nan])


distributions = st.integers(1, 8).flatmap(
    lambda k: st.tuples(
        st.lists(st.integers(0, 50), min_size=k, max_size=k).filter(any),
        st.lists(st.integers(0, 50), min_size=k, max_size=k).filter(any),
    )
)


@settings(max_examples=100, deadline=None)
@given(distributions)
def test_js_divergence_is_scipys_jensen_shannon_distance_squared(pair):
    p, q = pair
    assert js_divergence(p, q) == pytest.approx(jensenshannon(p, q, base=2) ** 2, abs=1e-9)


def test_js_divergence_bounds():
    assert js_divergence([1, 2, 3], [2, 4, 6]) == pytest.approx(0)
    assert js_divergence([1, 0], [0, 1]) == pytest.approx(1)


def test_smoothing_softens_a_category_missing_by_chance():
    raw = js_divergence([5, 0, 5], [4, 1, 5])
    assert js_divergence([5, 0, 5], [4, 1, 5], smoothing=0.5) < raw


def test_js_divergence_refuses_empty_or_mismatched_distributions():
    with pytest.raises(NotEnoughData, match="counts in q"):
        js_divergence([1, 2], [0, 0])
    with pytest.raises(ValueError, match="got 2 and 3"):
        js_divergence([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="p must hold counts"):
        js_divergence([-1, 2], [1, 2])


def test_homogeneity_test_is_named_and_matches_scipy():
    result = homogeneity_test([30, 10, 5, 0], [20, 20, 5, 0])
    statistic, p_value, dof, _ = chi2_contingency([[30, 10, 5], [20, 20, 5]], correction=False)
    assert result.name == "chi-square test of homogeneity"
    assert (result.statistic, result.p_value, result.dof) == pytest.approx(
        (statistic, p_value, dof)
    )


def test_identical_distributions_are_not_significantly_different():
    assert homogeneity_test([40, 30, 30], [40, 30, 30]).p_value == pytest.approx(1.0)


def test_homogeneity_needs_two_categories_and_ratings_on_both_sides():
    with pytest.raises(NotEnoughData, match="1 category used"):
        homogeneity_test([5, 0], [7, 0])
    with pytest.raises(NotEnoughData, match="ratings in counts_b"):
        homogeneity_test([5, 1], [0, 0])
