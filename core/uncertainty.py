"""How unsure a model is of one item, by the three measures active learning orders by.

Each takes the model's candidate scores (any order, renormalised to sum to 1) and gives a
value in [0, 1], higher meaning more uncertain, so every strategy sorts the same way:

* least confidence: ``1 - p1``;
* margin: ``1 - (p1 - p2)``, small when the best two are close;
* entropy: ``-Σ p log p``, divided by ``log K`` so K classes' uniform guess is 1.

A backend that reports only its chosen label (one score) gives margin ``1 - p1`` and entropy
0: with one candidate there is nothing to be torn between.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["MEASURES", "entropy", "least_confidence", "margin"]


def _distribution(scores: Sequence[float]) -> list[float]:
    clipped = [max(0.0, float(s)) for s in scores]
    total = sum(clipped)
    if total <= 0:
        return []
    # Scores summing to less than 1 (top-k of a larger softmax) keep their values: the
    # remainder is mass the model put elsewhere, not ours to spread.
    return sorted((s / total if total > 1 else s for s in clipped), reverse=True)


def least_confidence(scores: Sequence[float]) -> float:
    p = _distribution(scores)
    return 1.0 - p[0] if p else 1.0


def margin(scores: Sequence[float]) -> float:
    p = _distribution(scores)
    if not p:
        return 1.0
    second = p[1] if len(p) > 1 else 0.0
    return 1.0 - (p[0] - second)


def entropy(scores: Sequence[float]) -> float:
    distribution = _distribution(scores)
    if len(distribution) < 2:
        return 0.0 if distribution else 1.0
    spread = -sum(s * math.log(s) for s in distribution if s > 0)
    return min(1.0, spread / math.log(len(distribution)))


MEASURES = {"least_confidence": least_confidence, "margin": margin, "entropy": entropy}
