"""Fleiss' kappa: Fleiss (1971) reproduced, per-category kappas, statsmodels as an oracle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from scholia.core.quality.agreement import (
    NotEnoughData,
    category_counts,
    fleiss_category_kappas,
    fleiss_kappa,
)

# Fleiss (1971), table 1: 30 patients, 6 psychiatrists each, 5 diagnoses (1 depression,
# 2 personality disorder, 3 schizophrenia, 4 neurosis, 5 other); one row per patient.
FLEISS_1971 = np.array(
    [
        [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
        [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
        [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
        [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
        [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
        [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
        [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
        [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
    ],
    dtype=float,
)  # fmt: skip
DIAGNOSES = [1, 2, 3, 4, 5]


def table_1971():
    # category_counts reads observers × units: the patients' rows are the columns.
    return category_counts(FLEISS_1971.T, DIAGNOSES)


def test_fleiss_1971_gives_0_430():
    assert round(fleiss_kappa(table_1971()), 3) == 0.430


def test_fleiss_1971_per_category_kappas():
    # Fleiss (1971), table 2: κⱼ for the five diagnoses.
    kappas = fleiss_category_kappas(table_1971())
    assert np.round(kappas, 3).tolist() == [0.245, 0.245, 0.520, 0.471, 0.566]


def test_the_wikipedia_example_gives_0_210():
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    assert round(fleiss_kappa(table), 3) == 0.210


def test_category_counts_match_statsmodels_aggregate_raters():
    table, categories = aggregate_raters(FLEISS_1971)
    assert categories.tolist() == DIAGNOSES
    assert np.array_equal(table_1971(), table)


def test_category_counts_keep_a_category_nobody_used_and_refuse_an_unknown_one():
    assert category_counts([[1, 1], [1, np.nan]], [1, 2]).tolist() == [[2, 0], [1, 0]]
    with pytest.raises(ValueError, match=r"data\[1\] is 3.0, which is not in labels"):
        category_counts([[1, 3]], [1, 2])


def test_a_category_nobody_used_has_an_undefined_kappa():
    table = np.hstack([table_1971(), np.zeros((30, 1))])
    kappas = fleiss_category_kappas(table)
    assert np.isnan(kappas[-1])
    assert fleiss_kappa(table) == pytest.approx(fleiss_kappa(table_1971()))


def test_subjects_with_different_numbers_of_ratings_are_refused():
    with pytest.raises(ValueError, match="subject 0 has 3, subject 1 has 2"):
        fleiss_kappa([[1, 2], [1, 1]])


def test_one_subject_is_not_enough_data():
    with pytest.raises(NotEnoughData, match="not enough data: 1 subject "):
        fleiss_kappa([[3, 3]])


def test_one_rating_per_subject_is_not_enough_data():
    with pytest.raises(NotEnoughData, match="not enough data: 1 rating per subject"):
        fleiss_kappa([[1, 0], [0, 1]])


def test_every_rating_in_one_category_is_undefined_not_a_number():
    with pytest.raises(NotEnoughData, match="chance agreement is 1"):
        fleiss_kappa([[0, 4], [0, 4], [0, 4]])


def test_counts_must_be_whole_and_non_negative():
    with pytest.raises(ValueError, match="whole, non-negative"):
        fleiss_kappa([[1.5, 0.5], [1, 1]])


@settings(max_examples=100, deadline=None)
@given(
    st.integers(2, 6).flatmap(
        lambda raters: st.lists(
            st.lists(st.integers(0, 3), min_size=raters, max_size=raters), min_size=2, max_size=25
        )
    )
)
def test_kappa_matches_statsmodels_on_random_ratings(rows):
    ratings = np.array(rows)
    table, _ = aggregate_raters(ratings, n_cat=4)
    if np.count_nonzero(table.sum(axis=0)) < 2:
        with pytest.raises(NotEnoughData):
            fleiss_kappa(table)
        return
    assert fleiss_kappa(table) == pytest.approx(statsmodels_fleiss_kappa(table), abs=1e-9)
    assert np.array_equal(category_counts(ratings.T.astype(float), [0, 1, 2, 3]), table)
