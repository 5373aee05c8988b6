"""Classification: one category per image (single-label) or several (multi-label).

The mode is a project option: ``settings["annotation_options"]["classification"]["mode"]``,
``"single"`` (the default) or ``"multi"``. Category ids are the project's stable ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Literal

import msgspec

from scholia.core.contributions import ValidationContext
from scholia.core.errors import InvalidInput

__all__ = [
    "MODES",
    "Classification",
    "ClassificationOptions",
    "aggregate",
    "agreement",
    "categories",
    "validate",
]

MODES = ("single", "multi")


class ClassificationOptions(msgspec.Struct, forbid_unknown_fields=True):
    """Per-project options, checked by the core when a project is created; the title and the
    choices' labels make the new-project form."""

    mode: Annotated[
        Literal["single", "multi"],
        msgspec.Meta(
            title="Classification mode",
            extra={
                "choices": {
                    "single": "Single-label: exactly one label per item",
                    "multi": "Multi-label: one or more labels per item",
                }
            },
        ),
    ] = "single"


class Classification(msgspec.Struct, forbid_unknown_fields=True):
    category_ids: list[int]


def validate(label: Classification, context: ValidationContext) -> None:
    """Every id must be a live category of the project, and single-label means exactly one."""
    mode = context.options("classification").get("mode", "single")
    if mode not in MODES:
        raise InvalidInput(f"the project's classification mode {mode!r} is not one of {MODES}")
    ids = label.category_ids
    for index, category_id in enumerate(ids):
        where = f"$.category_ids[{index}]"
        context.check_category(category_id, where)
        if category_id in ids[:index]:
            raise InvalidInput(f"category {category_id} is listed twice", where)
    if mode == "single" and len(ids) != 1:
        raise InvalidInput(
            f"this project is single-label: choose exactly one category (got {len(ids)})",
            "$.category_ids",
        )
    if mode == "multi" and not ids:
        raise InvalidInput("choose at least one category", "$.category_ids")


def agreement(a: Classification, b: Classification) -> float:
    """Jaccard overlap of the two sets of categories (equality in single-label mode)."""
    left, right = set(a.category_ids), set(b.category_ids)
    union = left | right
    return 1.0 if not union else len(left & right) / len(union)


def aggregate(labels: Sequence[Classification]) -> Classification | None:
    """Each category kept by a strict majority of the labels; None when nothing has one (a
    tie goes to adjudication, never to an arbitrary label)."""
    votes = Counter(c for label in labels for c in set(label.category_ids))
    kept = sorted(c for c, n in votes.items() if n * 2 > len(labels))
    return Classification(category_ids=kept) if kept else None


def categories(label: Classification) -> list[int]:
    return label.category_ids
