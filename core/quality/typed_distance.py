"""How far apart two labels are, by their annotation type: δ = 1 − agreement.

The Quality Hub's agreement is Krippendorff's alpha over this distance
(``agreement.distance_alpha``), so two boxes 1 px apart nearly agree where a nominal
comparison of their payloads would call them different. Values of two types never meet within
a unit (a unit is an item and one type); across units they are fully apart (δ = 1).

Cost: a type compared by equality (the core's default) needs no call at all; a type with its own
agreement is asked once per pair of distinct payloads that meet within a unit, and for the
expected disagreement once per pair of its distinct payloads when it has at most
``EXACT_VALUES`` of them, else over ``SAMPLE_PAIRS`` pairs of ratings drawn at random (a fixed
seed, so the figure is reproducible): an estimate of the same mean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from ..comparison import equality
from ..contributions import AnnotationType
from .agreement.data import FloatArray

__all__ = ["EXACT_VALUES", "SAMPLE_PAIRS", "TypedDistance"]

IntArray = npt.NDArray[np.int64]

EXACT_VALUES = 400
"""Distinct payloads of one graded type up to which the expected disagreement is exact."""
SAMPLE_PAIRS = 20_000
"""Pairs of ratings the expected disagreement of a type with more payloads is estimated from."""


class TypedDistance:
    """δ between value codes, each code standing for (annotation type, payload JSON)."""

    def __init__(
        self, values: Sequence[tuple[str, str]], kind_of: Callable[[str], AnnotationType]
    ) -> None:
        names = sorted({name for name, _ in values})
        self.kinds = [kind_of(name) for name in names]
        index = {name: k for k, name in enumerate(names)}
        self.type_of = np.array([index[name] for name, _ in values], dtype=np.int64)
        self.texts = [text for _, text in values]
        self.graded = [kind.agreement is not equality for kind in self.kinds]
        self.members = [np.flatnonzero(self.type_of == t) for t in range(len(names))]
        self.local = np.zeros(len(values), dtype=np.int64)
        for codes in self.members:
            self.local[codes] = np.arange(len(codes))
        self._decoded: dict[int, Any] = {}
        self._cache: dict[tuple[int, int], float] = {}
        self._matrices: dict[int, FloatArray] = {}

    def _payload(self, code: int) -> Any:
        if code not in self._decoded:
            kind = self.kinds[int(self.type_of[code])]
            self._decoded[code] = kind.decode(msgspec.json.decode(self.texts[code]))
        return self._decoded[code]

    def _graded(self, left: int, right: int) -> float:
        key = (left, right) if left <= right else (right, left)
        if key not in self._cache:
            kind = self.kinds[int(self.type_of[left])]
            assert kind.agreement is not None  # completed at registration
            score = float(kind.agreement(self._payload(key[0]), self._payload(key[1])))
            self._cache[key] = 1.0 - score
        return self._cache[key]

    def _matrix(self, t: int) -> FloatArray | None:
        """Every δ between the payloads of graded type ``t`` when it has few enough of them
        (agreement is symmetric: each pair is asked once)."""
        codes = self.members[t]
        if len(codes) > EXACT_VALUES:
            return None
        if t not in self._matrices:
            matrix = np.zeros((len(codes), len(codes)))
            for i, left in enumerate(codes):
                for j in range(i, len(codes)):
                    matrix[i, j] = matrix[j, i] = self._graded(int(left), int(codes[j]))
            self._matrices[t] = matrix
        return self._matrices[t]

    def between(self, left: IntArray, right: IntArray) -> FloatArray:
        out = np.ones(len(left), dtype=np.float64)
        same_type = self.type_of[left] == self.type_of[right]
        for t, graded in enumerate(self.graded):
            chosen = same_type & (self.type_of[left] == t)
            if not chosen.any():
                continue
            if not graded:
                out[chosen] = (left[chosen] != right[chosen]).astype(np.float64)
                continue
            matrix = self._matrix(t)
            if matrix is not None:
                out[chosen] = matrix[self.local[left[chosen]], self.local[right[chosen]]]
                continue
            width = len(self.texts)
            pairs, inverse = np.unique(left[chosen] * width + right[chosen], return_inverse=True)
            found = np.array([self._graded(int(k) // width, int(k) % width) for k in pairs])
            out[chosen] = found[inverse.reshape(-1)]
        return out

    def expected(self, codes: IntArray, counts: FloatArray) -> float:
        n = float(counts.sum())
        types = self.type_of[codes]
        total = 0.0
        for t, graded in enumerate(self.graded):
            mine = types == t
            if not mine.any():
                continue
            own, weight = codes[mine], counts[mine]
            n_t = float(weight.sum())
            total += n_t * (n - n_t)  # against every other type's values: δ = 1
            if not graded:
                total += n_t * n_t - float(weight @ weight)
            elif (matrix := self._matrix(t)) is not None:
                sub = matrix[np.ix_(self.local[own], self.local[own])]
                total += float(weight @ sub @ weight - weight @ np.diag(sub))
            else:
                total += self._sampled(own, weight)
        return total

    def _sampled(self, codes: IntArray, counts: FloatArray) -> float:
        """Σ over ordered pairs of two different ratings of δ, from a random sample of them."""
        ratings = np.repeat(codes, counts.astype(np.int64))
        n = len(ratings)
        rng = np.random.default_rng(0)
        first = rng.integers(0, n, SAMPLE_PAIRS)
        second = (first + rng.integers(1, n, SAMPLE_PAIRS)) % n  # never the same rating
        mean = float(self.between(ratings[first], ratings[second]).mean())
        return mean * n * (n - 1)
