"""From several annotators' labels to one label per item: majority vote and Dawid–Skene.

The tie policy is explicit and the same everywhere: a tie gives no label (``label`` None,
``tie`` True) and the item goes to adjudication; no aggregator here ever picks one of the
tied labels by order, chance or id. Dawid–Skene (1979) is the second aggregator: it learns a
confusion matrix per annotator by EM, so a careful annotator outvotes two careless ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]

from .agreement.data import (
    FloatArray,
    NotEnoughData,
    as_reliability_data,
    label_codes,
)

__all__ = ["DawidSkene", "MajorityVotes", "Vote", "dawid_skene", "majority_vote", "majority_votes"]


@dataclass(frozen=True, slots=True)
class Vote:
    """One item's vote: the winning label, or None with ``tie`` True when the top is shared."""

    label: Hashable | None
    tie: bool
    counts: dict[Hashable, int] = field(default_factory=dict)
    """Votes per label, most voted first (ties in the order the labels first appeared)."""


def majority_vote(labels: Iterable[Hashable]) -> Vote:
    """The label most annotators gave; a tie for first place is no label and ``tie`` True.

    No votes at all is no label and no tie (``counts`` empty): there is nothing to adjudicate
    between, and the caller decides whether the item needs more annotations.
    """
    counts = Counter(labels)
    if not counts:
        return Vote(None, False, {})
    ranked = counts.most_common()
    top = ranked[0][1]
    tie = len(ranked) > 1 and ranked[1][1] == top
    return Vote(None if tie else ranked[0][0], tie, dict(ranked))


@dataclass(frozen=True, slots=True)
class MajorityVotes:
    """Majority vote of every unit of an observers × units matrix, in column order."""

    labels: FloatArray
    """The winning value per unit; nan where the vote ties or the unit has no rating."""
    tie: npt.NDArray[np.bool_]
    votes: npt.NDArray[np.int64]
    """How many ratings the winner (or each tied label) got; 0 for an unrated unit."""


def majority_votes(data: npt.ArrayLike) -> MajorityVotes:
    """``majority_vote`` for all units at once (observers × units, nan = missing), vectorised."""
    matrix = as_reliability_data(data)
    units = matrix.shape[1]
    observed = ~np.isnan(matrix)
    unit_index = np.nonzero(observed)[1]
    values, codes = np.unique(matrix[observed], return_inverse=True)
    labels = np.full(units, np.nan)
    top = np.zeros(units, dtype=np.int64)
    if not len(values):
        return MajorityVotes(labels, np.zeros(units, dtype=bool), top)
    # One entry per (unit, value) given, sorted by unit: how many ratings gave it.
    pairs, given = np.unique(unit_index * len(values) + codes, return_counts=True)
    pair_unit = pairs // len(values)
    np.maximum.at(top, pair_unit, given)
    at_top = given == top[pair_unit]
    tie = np.bincount(pair_unit[at_top], minlength=units) > 1
    winners = at_top & ~tie[pair_unit]
    labels[pair_unit[winners]] = values[pairs[winners] % len(values)]
    return MajorityVotes(labels, tie, top)


@dataclass(frozen=True)
class DawidSkene:
    """Dawid–Skene's estimate: a posterior over labels per unit and a confusion per annotator.

    ``posterior`` rows follow ``units``, columns follow ``label_set``; ``labels`` and
    ``posteriors`` are the same as dicts keyed by unit (built on first use).
    """

    units: list[Any]
    label_set: list[Any]
    posterior: FloatArray
    confusion: dict[Any, FloatArray]
    """annotator → K × K matrix, row = true label, column = label given, rows sum to 1."""
    priors: dict[Any, float]
    """label → estimated share of units that truly have it."""
    iterations: int
    converged: bool

    @cached_property
    def labels(self) -> dict[Any, Any]:
        """unit → most probable label; None where two labels are equally probable (a tie)."""
        best = np.argmax(self.posterior, axis=1)
        ordered = np.sort(self.posterior, axis=1)
        tied = (
            np.isclose(ordered[:, -1], ordered[:, -2], rtol=0, atol=1e-12)
            if self.posterior.shape[1] > 1
            else np.zeros(len(best), dtype=bool)
        )
        return {
            unit: None if tie else self.label_set[index]
            for unit, index, tie in zip(self.units, best.tolist(), tied.tolist(), strict=True)
        }

    @cached_property
    def posteriors(self) -> dict[Any, dict[Any, float]]:
        """unit → {label: probability}."""
        return {
            unit: dict(zip(self.label_set, row, strict=True))
            for unit, row in zip(self.units, self.posterior.tolist(), strict=True)
        }


def dawid_skene(
    triples: Iterable[tuple[Any, Any, Any]],
    *,
    labels: Sequence[Any],
    max_iter: int = 100,
    tol: float = 1e-6,
    smoothing: float = 0.01,
) -> DawidSkene:
    """Dawid & Skene's EM estimate of each unit's true label from (unit, annotator, label).

    Starts from the majority-vote posteriors (each unit's label shares, ties split evenly),
    then alternates: confusion matrices and priors from the posteriors (M), posteriors from
    them (E), until no posterior moves by more than ``tol`` or ``max_iter`` rounds. Every
    confusion count and prior gets ``smoothing`` pseudo-counts (a Dirichlet prior), so a label
    an annotator never gave has a small probability, not 0: no log of 0, no division by 0.
    Deterministic: no random start; units and annotators are processed in sorted order.
    """
    if max_iter < 1:
        raise ValueError(f"max_iter must be at least 1; got {max_iter}")
    if not tol > 0:
        raise ValueError(f"tol must be positive; got {tol}")
    if not smoothing > 0:
        raise ValueError(
            f"smoothing must be positive (it keeps every probability above 0); got {smoothing}"
        )
    try:
        columns = list(zip(*triples, strict=True))
    except ValueError:
        raise ValueError("each annotation must be a (unit, annotator, label) triple") from None
    if not columns:
        raise NotEnoughData(0, 1, "annotations")
    if len(columns) != 3:
        raise ValueError("each annotation must be a (unit, annotator, label) triple")
    unit_ids, unit_index = np.unique(np.asarray(columns[0]), return_inverse=True)
    annotator_ids, annotator_index = np.unique(np.asarray(columns[1]), return_inverse=True)
    label_array = np.asarray(labels).reshape(-1)
    codes = label_codes(np.asarray(columns[2]), label_array, "labels of the annotations")
    k = len(label_array)
    units, annotators = len(unit_ids), len(annotator_ids)

    # A unit's posterior depends only on its pattern, the (annotator, label) pairs it got, so
    # EM runs once per distinct pattern, weighted by how many units share it: the same
    # estimate, at a fraction of the work when many items were labeled alike.
    pattern_of, pattern_unit, weight = _patterns(unit_index, annotator_index, codes, units, k)
    patterns = len(weight)
    rows = np.flatnonzero(np.isin(unit_index, pattern_unit))
    pattern_index = pattern_of[unit_index[rows]]
    # given[(annotator, label given), pattern] = how often that annotator gave it that label
    given = sparse.csr_matrix(
        (np.ones(len(rows)), (annotator_index[rows] * k + codes[rows], pattern_index)),
        shape=(annotators * k, patterns),
    )
    given_t = given.T.tocsr()
    votes = np.asarray(
        sparse.csr_matrix(
            (np.ones(len(rows)), (pattern_index, codes[rows])), shape=(patterns, k)
        ).toarray()
    )
    top = votes.max(axis=1, keepdims=True)
    posterior = (votes == top).astype(np.float64)
    posterior /= posterior.sum(axis=1, keepdims=True)
    weights = weight[:, None]

    converged = False
    iterations = 0
    confusion = np.empty((annotators, k, k))
    priors = np.empty(k)
    for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        # M: counts[(a, given), true] = Σ over a's annotations of the posterior of the unit.
        weighted = posterior * weights
        counts = np.asarray(given @ weighted).reshape(annotators, k, k).transpose(0, 2, 1)
        counts = counts + smoothing
        confusion = counts / counts.sum(axis=2, keepdims=True)
        priors = (weighted.sum(axis=0) + smoothing) / (units + k * smoothing)
        # E: log p(true = j | unit) ∝ log prior_j + Σ over its annotations log θ_a[j, given].
        log_theta = np.log(confusion).transpose(0, 2, 1).reshape(annotators * k, k)
        log_post = np.log(priors)[None, :] + np.asarray(given_t @ log_theta)
        log_post -= log_post.max(axis=1, keepdims=True)
        updated = np.exp(log_post)
        updated /= updated.sum(axis=1, keepdims=True)
        change = float(np.abs(updated - posterior).max())
        posterior = updated
        if change < tol:
            converged = True
            break

    label_list = label_array.tolist()
    return DawidSkene(
        units=unit_ids.tolist(),
        label_set=label_list,
        posterior=posterior[pattern_of],
        confusion={a: confusion[i] for i, a in enumerate(annotator_ids.tolist())},
        priors=dict(zip(label_list, priors.tolist(), strict=True)),
        iterations=iterations,
        converged=converged,
    )


def _patterns(
    unit_index: npt.NDArray[np.intp],
    annotator_index: npt.NDArray[np.intp],
    codes: npt.NDArray[np.intp],
    units: int,
    k: int,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], FloatArray]:
    """Each unit's pattern number, one representative unit per pattern, units per pattern.

    When every annotator labeled a unit at most once, a pattern is the tuple of the labels the
    annotators gave (or none), found exactly with one ``np.unique``. Otherwise (an annotator
    labeled some unit twice) every unit is its own pattern.
    """
    annotators = int(annotator_index.max()) + 1
    cell = annotator_index.astype(np.int64) * units + unit_index
    ordered = np.sort(cell)
    if (ordered[1:] == ordered[:-1]).any():
        every = np.arange(units)
        return every, every, np.ones(units)
    table = np.zeros((units, annotators), dtype=np.int64)
    table[unit_index, annotator_index] = codes + 1  # 0: that annotator did not label it
    if annotators * np.log2(k + 1) < 62:
        keys: npt.NDArray[Any] = table @ (np.int64(k + 1) ** np.arange(annotators, dtype=np.int64))
        _, first, pattern_of, counts = np.unique(
            keys, return_index=True, return_inverse=True, return_counts=True
        )
    else:
        _, first, pattern_of, counts = np.unique(
            table, axis=0, return_index=True, return_inverse=True, return_counts=True
        )
    return (
        np.asarray(pattern_of, dtype=np.intp).reshape(-1),
        np.asarray(first, dtype=np.intp),
        counts.astype(np.float64),
    )
