"""Sameness: what the core uses when an annotation type does not say how to compare or combine.

Every "same label?" and every "one label from many" goes through the annotation type's
``agreement`` and ``aggregate``. A type that leaves them out gets these defaults when it is
registered (``completed``), so no caller ever branches on a missing measure:

* agreement: equality of the payloads as plain data (1.0 or 0.0);
* aggregate, for a type compared by equality: the payload most annotators gave, None when
  the first place is shared (a tie: labels are votes); for a type with its own agreement: the
  most central payload (the medoid: highest summed agreement to the others, the earliest on a
  tie), None for no payload at all.

An annotation whose type's plugin is not loaded is compared by ``fallback_type``: its payload
is kept as plain data, compared by equality and combined by majority.

Pure: imports only the contribution types and msgspec.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from .contributions import AnnotationType, ValidationContext

__all__ = [
    "DEFAULT_AGREEMENT",
    "completed",
    "describe",
    "equality",
    "fallback_type",
    "majority",
    "medoid",
    "plain_key",
    "same_as",
]

DEFAULT_AGREEMENT = "equality"
"""How the Plugins page names the default agreement."""


def plain_key(payload: Any) -> bytes:
    """The payload as canonical JSON (sorted keys): equal plain data gives equal bytes. Used to
    count votes and to avoid comparing the same payload twice, never to judge two labels."""
    return msgspec.json.encode(msgspec.to_builtins(payload), order="sorted")


def equality(left: Any, right: Any) -> float:
    """1.0 when the two payloads are equal as plain data, else 0.0."""
    return 1.0 if msgspec.to_builtins(left) == msgspec.to_builtins(right) else 0.0


def majority(payloads: Sequence[Any]) -> Any:
    """The payload most labels gave (equal as plain data); None when the first place is
    shared, or with no payload (a tie goes to an adjudicator, never to an arbitrary label)."""
    counts: dict[bytes, int] = {}
    first: dict[bytes, Any] = {}
    for payload in payloads:
        key = plain_key(payload)
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, payload)
    if not counts:
        return None
    ranked = sorted(counts.values(), reverse=True)
    if len(ranked) > 1 and ranked[0] == ranked[1]:
        return None
    return first[max(counts, key=lambda key: counts[key])]


def medoid(agreement: Callable[[Any, Any], float]) -> Callable[[Sequence[Any]], Any]:
    """An aggregate for a type with its own agreement: the payload whose summed agreement to
    the others is highest (the earliest of those on a tie); None with no payload."""

    def aggregate(payloads: Sequence[Any]) -> Any:
        if not payloads:
            return None
        totals = [
            sum(float(agreement(p, q)) for j, q in enumerate(payloads) if j != i)
            for i, p in enumerate(payloads)
        ]
        return payloads[totals.index(max(totals))]

    return aggregate


def completed(kind: AnnotationType) -> AnnotationType:
    """``kind`` with the defaults filled where it left ``agreement`` or ``aggregate`` out, and
    ``defaulted`` naming them. A type compared by equality is a vote type."""
    changes: dict[str, Any] = {}
    if kind.agreement is None:
        changes.update(agreement=equality, votes=True)
    if kind.aggregate is None:
        changes["aggregate"] = majority if kind.agreement is None else medoid(kind.agreement)
    if not changes:
        return kind
    named = tuple(a for a in ("agreement", "aggregate") if a in changes)
    return dataclasses.replace(kind, **changes, defaulted=named)


def describe(kind: AnnotationType) -> dict[str, str]:
    """How the type compares and combines labels, as the Plugins page and ``scholia plugins``
    say it: ``{"agreement": "equality (default)", "aggregate": "its own"}``."""
    said = {"agreement": "its own", "aggregate": "its own"}
    if "agreement" in kind.defaulted:
        said["agreement"] = f"{DEFAULT_AGREEMENT} (default)"
    if "aggregate" in kind.defaulted:
        chosen = "majority" if "agreement" in kind.defaulted else "medoid by its agreement"
        said["aggregate"] = f"{chosen} (default)"
    return said


def same_as(kind: AnnotationType, left: Any, right: Any) -> bool:
    """Whether the type counts two decoded payloads as the same label (full agreement)."""
    assert kind.agreement is not None  # completed at registration
    return float(kind.agreement(left, right)) >= 1.0


class _Unknown(msgspec.Struct):
    """Stands for the payload shape of a type whose plugin is not loaded."""


def _refuse(payload: Any, context: ValidationContext) -> None:
    raise ValueError("this annotation type's plugin is not loaded: no new labels of it")


@dataclasses.dataclass(frozen=True)
class _FallbackType(AnnotationType):
    """An annotation type whose plugin is not loaded: payloads stay plain data."""

    def decode(self, raw: Any) -> Any:
        return raw


def fallback_type(name: str) -> AnnotationType:
    """What compares annotations of ``name`` when no loaded plugin registers it (labels made
    before the plugin was removed): plain data, equality, majority."""
    return _FallbackType(
        name=name,
        title=f"{name} (plugin not loaded)",
        payload=_Unknown,
        validate=_refuse,
        agreement=equality,
        aggregate=majority,
        defaulted=("agreement", "aggregate"),
        votes=True,
    )
