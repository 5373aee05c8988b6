"""A project's quality settings (overlap, gold, calibration, adjudication, suggestions,
claims): their Struct, stored as JSON on the project, and ``settings_of`` to read them.

Kept apart from ``projects`` (which creates and changes projects) so the many modules that
only read a setting need nothing else of it.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from .models import Project

__all__ = [
    "AdjudicationSettings",
    "CalibrationSettings",
    "ClaimSettings",
    "GoldSettings",
    "ProjectSettings",
    "SuggestionSettings",
    "settings_of",
]


class CalibrationSettings(msgspec.Struct, forbid_unknown_fields=True):
    """A calibration set new annotators must pass before they get production items."""

    required: bool = False
    items: int = 30
    """Gold items per attempt."""
    pass_mark: float = 0.85
    """Share of them an annotator must answer correctly."""
    attempts: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.items <= 500:
            raise ValueError("calibration items must be between 1 and 500")
        if not 0 < self.pass_mark <= 1:
            raise ValueError("calibration pass_mark must be in (0, 1]")
        if not 1 <= self.attempts <= 20:
            raise ValueError("calibration attempts must be between 1 and 20")


class GoldSettings(msgspec.Struct, forbid_unknown_fields=True):
    """How gold answers are scored and when an annotator is suspended for missing them."""

    correct_at: float = 1.0
    """An answer is correct when its agreement with the gold answer reaches this."""
    window: int = 50
    """Rolling gold accuracy looks at the annotator's last ``window`` gold answers…"""
    min_count: int = 10
    """…and says "not enough data" below this many (no one is suspended on three answers)."""
    threshold: float = 0.8
    """Rolling accuracy below this suspends the annotator and re-queues their recent work."""

    def __post_init__(self) -> None:
        if not 0 < self.correct_at <= 1:
            raise ValueError("gold correct_at must be in (0, 1]")
        if not 1 <= self.min_count <= self.window <= 10_000:
            raise ValueError("gold needs 1 <= min_count <= window <= 10000")
        if not 0 <= self.threshold <= 1:
            raise ValueError("gold threshold must be in [0, 1]")


class AdjudicationSettings(msgspec.Struct, forbid_unknown_fields=True):
    """When an item with several labels goes to an adjudicator instead of review."""

    below: float = 0.5
    """Items whose mean pairwise agreement is below this go to adjudication."""
    auto_accept_unanimous: bool = False
    """Approve items all annotators agree on without review."""
    aggregator: Literal["majority", "dawid_skene"] = "majority"
    """How several labels become one where no adjudicator decided: majority vote (a tie goes
    to adjudication) or Dawid–Skene (weights each annotator by their confusion matrix)."""

    def __post_init__(self) -> None:
        if not 0 <= self.below <= 1:
            raise ValueError("adjudication below must be in [0, 1]")


class SuggestionSettings(msgspec.Struct, forbid_unknown_fields=True):
    """How the active model's suggestions reach annotators."""

    reveal: Literal["at_once", "after_first_label"] = "at_once"
    """``after_first_label`` (anti-anchoring): an annotator sees the suggestion only once they
    have submitted their own first label on the item; the two labels' agreement is recorded."""
    order: Literal["default", "least_confidence", "margin", "entropy"] = "default"
    """Active learning: hand out the items the model is least sure of first, by this measure
    (``default`` keeps item order)."""
    top_k: int = 3
    """How many candidates an annotator can see (the top one, and more on demand)."""

    def __post_init__(self) -> None:
        if not 1 <= self.top_k <= 20:
            raise ValueError("suggestions top_k must be between 1 and 20")


class ClaimSettings(msgspec.Struct, forbid_unknown_fields=True):
    """How long an annotator holds the items they claimed."""

    lease_minutes: int = 30
    """A claim not submitted within this many minutes of being taken (or of the item last
    being opened) returns to the pool, and another annotator may take it."""

    def __post_init__(self) -> None:
        if not 1 <= self.lease_minutes <= 10_080:
            raise ValueError("claims lease_minutes must be between 1 and 10080 (a week)")


class ProjectSettings(msgspec.Struct, forbid_unknown_fields=True):
    """Quality settings of a project (stored as JSON on the project)."""

    overlap: int = 1
    """How many annotators label each item; an item is labeled once that many have."""
    gold_rate: float = 0.05
    """Share of an annotator's queue drawn from gold items."""
    annotation_options: dict[str, dict[str, Any]] = {}
    """Options per annotation type, read by its plugin, e.g. ``{"classification":
    {"mode": "multi"}}``."""
    calibration: CalibrationSettings = msgspec.field(default_factory=CalibrationSettings)
    gold: GoldSettings = msgspec.field(default_factory=GoldSettings)
    adjudication: AdjudicationSettings = msgspec.field(default_factory=AdjudicationSettings)
    quality_thresholds: dict[str, float] = {}
    """Per quality rule (by name), the threshold that replaces the rule's default."""
    suggestions: SuggestionSettings = msgspec.field(default_factory=SuggestionSettings)
    claims: ClaimSettings = msgspec.field(default_factory=ClaimSettings)

    def __post_init__(self) -> None:
        if not 1 <= self.overlap <= 20:
            raise ValueError("overlap must be between 1 and 20")
        if not 0 <= self.gold_rate <= 0.5:
            raise ValueError("gold_rate must be between 0 and 0.5")


def settings_of(project: Project) -> ProjectSettings:
    """The project's settings as their Struct, defaults filled in (older projects stored
    fewer keys)."""
    return msgspec.convert(project.settings, ProjectSettings)
