"""Majority vote (ties go to adjudication, never to a label) and Dawid–Skene."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scholia.core.quality.aggregation import dawid_skene, majority_vote, majority_votes
from scholia.core.quality.agreement import NotEnoughData

nan = np.nan


def test_the_most_given_label_wins():
    vote = majority_vote(["cat", "dog", "cat"])
    assert (vote.label, vote.tie) == ("cat", False)
    assert vote.counts == {"cat": 2, "dog": 1}


def test_a_tie_gives_no_label_and_goes_to_adjudication():
    for labels in (["cat", "dog"], ["dog", "cat"], ["a", "b", "b", "a", "c"]):
        vote = majority_vote(labels)
        assert vote.label is None
        assert vote.tie is True


def test_a_tie_below_the_top_does_not_matter():
    vote = majority_vote(["a", "a", "a", "b", "c"])
    assert (vote.label, vote.tie) == ("a", False)


def test_no_votes_is_no_label_and_no_tie():
    vote = majority_vote([])
    assert (vote.label, vote.tie, vote.counts) == (None, False, {})


def test_unanimity_is_a_single_count():
    assert majority_vote(["x", "x", "x"]).counts == {"x": 3}


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda observers: st.lists(
            st.lists(
                st.one_of(st.none(), st.integers(0, 3)), min_size=observers, max_size=observers
            ),
            min_size=1,
            max_size=20,
        )
    )
)
def test_votes_over_a_matrix_agree_with_one_vote_per_unit(columns):
    data = np.array([[nan if v is None else v for v in c] for c in columns], dtype=float).T
    votes = majority_votes(data)
    for unit, column in enumerate(columns):
        vote = majority_vote(v for v in column if v is not None)
        assert votes.tie[unit] == vote.tie
        if vote.label is None:
            assert np.isnan(votes.labels[unit])
        else:
            assert votes.labels[unit] == vote.label
        assert votes.votes[unit] == max(vote.counts.values(), default=0)


def noisy_annotations(seed, accuracies, units=1500, k=4):
    """Each annotator gives the true label with their accuracy, else a uniformly random one."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, units)
    triples = []
    for annotator, accuracy in enumerate(accuracies):
        right = rng.random(units) < accuracy
        given_labels = np.where(right, truth, rng.integers(0, k, units))
        triples += [(u, f"a{annotator}", int(x)) for u, x in enumerate(given_labels)]
    return truth, triples


def test_dawid_skene_recovers_the_truth_where_majority_vote_fails():
    # Two careful annotators and three who mostly guess: the guessers outvote the careful.
    truth, triples = noisy_annotations(7, [0.9, 0.85, 0.3, 0.3, 0.3])
    result = dawid_skene(triples, labels=[0, 1, 2, 3], max_iter=500)
    assert result.converged
    estimated = np.array([result.labels[u] for u in range(len(truth))], dtype=float)
    data = np.full((5, len(truth)), nan)
    for u, a, x in triples:
        data[int(a[1:]), u] = x
    voted = majority_votes(data).labels
    assert np.mean(estimated == truth) > 0.92
    assert np.mean(estimated == truth) > np.mean(voted == truth) + 0.08
    # It learned who is careful: the careful annotators' confusions are near-diagonal.
    assert np.diag(result.confusion["a0"]).min() > 0.85
    assert np.diag(result.confusion["a3"]).max() < 0.6


def test_an_annotator_who_swaps_two_labels_is_read_through():
    # a and b agree on every unit; c always says "no" for "yes" and "yes" for "no".
    triples = []
    truth = ["yes", "no", "yes", "yes", "no", "no", "yes", "no"]
    for unit, label in enumerate(truth):
        swapped = "no" if label == "yes" else "yes"
        triples += [(unit, "a", label), (unit, "b", label), (unit, "c", swapped)]
    # Unit 8 is seen by c alone: reading c's confusion, "no" from c means "yes".
    triples.append((8, "c", "no"))
    result = dawid_skene(triples, labels=["yes", "no"])
    assert [result.labels[u] for u in range(8)] == truth
    assert result.labels[8] == "yes"
    assert result.confusion["c"][0, 1] > 0.9  # true "yes" given as "no"
    assert result.posteriors[8]["yes"] > 0.9


def test_a_perfectly_even_disagreement_is_a_tie_not_a_label():
    result = dawid_skene([(1, "a", "x"), (1, "b", "y")], labels=["x", "y"])
    assert result.labels == {1: None}
    assert result.posteriors[1]["x"] == pytest.approx(0.5)


def test_probabilities_are_proper_and_never_zero():
    _, triples = noisy_annotations(3, [0.8, 0.7, 0.6], units=200)
    result = dawid_skene(triples, labels=[0, 1, 2, 3, 4])  # label 4 is never given
    assert np.allclose(result.posterior.sum(axis=1), 1)
    assert sum(result.priors.values()) == pytest.approx(1)
    for confusion in result.confusion.values():
        assert np.allclose(confusion.sum(axis=1), 1)
        assert (confusion > 0).all()
    assert result.priors[4] < 0.01


def test_the_estimate_is_deterministic():
    _, triples = noisy_annotations(5, [0.8, 0.6, 0.5], units=300)
    first = dawid_skene(triples, labels=[0, 1, 2, 3])
    second = dawid_skene(list(reversed(triples)), labels=[0, 1, 2, 3])
    assert np.array_equal(first.posterior, second.posterior)


def test_it_stops_at_max_iter_and_says_so():
    _, triples = noisy_annotations(5, [0.8, 0.6, 0.5], units=300)
    result = dawid_skene(triples, labels=[0, 1, 2, 3], max_iter=1, tol=1e-12)
    assert (result.iterations, result.converged) == (1, False)


def test_no_annotations_is_not_enough_data():
    with pytest.raises(NotEnoughData, match="not enough data: 0 annotations"):
        dawid_skene([], labels=[0, 1])


def test_a_label_outside_the_set_is_refused_by_name():
    with pytest.raises(ValueError, match=r"is 'bird', which is not in labels \['cat', 'dog'\]"):
        dawid_skene([(1, "a", "cat"), (1, "b", "bird")], labels=["cat", "dog"])


def test_a_malformed_annotation_is_refused():
    with pytest.raises(ValueError, match=r"\(unit, annotator, label\) triple"):
        dawid_skene([(1, "a", "cat"), (1, "b")], labels=["cat"])


def test_smoothing_must_be_positive():
    with pytest.raises(ValueError, match="smoothing must be positive"):
        dawid_skene([(1, "a", "cat")], labels=["cat"], smoothing=0)


def reference_dawid_skene(triples, labels, max_iter=100, tol=1e-6, smoothing=0.01):
    """Dawid–Skene written out unit by unit, as in the 1979 paper, to check the vectorised one."""
    units = sorted({u for u, _, _ in triples})
    annotators = sorted({a for _, a, _ in triples})
    k = len(labels)
    of_unit = {u: [(a, labels.index(x)) for uu, a, x in triples if uu == u] for u in units}
    posterior = {}
    for u in units:
        votes = np.bincount([x for _, x in of_unit[u]], minlength=k)
        posterior[u] = (votes == votes.max()) / (votes == votes.max()).sum()
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        confusion = {a: np.full((k, k), smoothing) for a in annotators}
        for u in units:
            for a, x in of_unit[u]:
                confusion[a][:, x] += posterior[u]
        for a in annotators:
            confusion[a] /= confusion[a].sum(axis=1, keepdims=True)
        priors = (sum(posterior.values()) + smoothing) / (len(units) + k * smoothing)
        change = 0.0
        for u in units:
            log_p = np.log(priors) + sum(np.log(confusion[a][:, x]) for a, x in of_unit[u])
            p = np.exp(log_p - log_p.max())
            p /= p.sum()
            change = max(change, np.abs(p - posterior[u]).max())
            posterior[u] = p
        if change < tol:
            break
    return np.array([posterior[u] for u in units]), iterations


@pytest.mark.parametrize("repeat", [False, True])
def test_the_vectorised_estimate_is_the_unit_by_unit_one(repeat):
    _, triples = noisy_annotations(11, [0.8, 0.6, 0.5, 0.4], units=120, k=3)
    triples = [t for i, t in enumerate(triples) if i % 7]  # some units miss some annotators
    if repeat:  # an annotator labeling a unit twice: no pattern sharing, same estimate
        triples.append((0, "a1", 2))
    expected, iterations = reference_dawid_skene(triples, [0, 1, 2])
    result = dawid_skene(triples, labels=[0, 1, 2])
    assert result.iterations == iterations
    assert np.allclose(result.posterior, expected, atol=1e-9)
