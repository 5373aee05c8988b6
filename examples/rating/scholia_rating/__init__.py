"""scholia-rating: rate an item from 1 to 5, with a comment.

A complete Scholia plugin, short enough to read in one sitting and meant to be copied:

* ``pyproject.toml`` declares the entry point ``[project.entry-points.scholia]``;
* this module implements one hook, ``register_annotation_types``;
* ``templates/rating/editor.html`` is the editor's markup and ``static/rating.js`` its ES
  module; Scholia finds both folders by convention and serves ``static/`` under
  ``/static/plugins/scholia-rating/``.
"""

from __future__ import annotations

from statistics import median_low
from typing import Annotated

import msgspec

from scholia.core.contributions import AnnotationType, Editor, ValidationContext
from scholia.core.hookspecs import hookimpl

MAX_COMMENT = 2000


class Rating(msgspec.Struct, forbid_unknown_fields=True):
    """The payload: msgspec checks the shape and range, with the path of a bad field."""

    value: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=MAX_COMMENT)] = ""


def validate(rating: Rating, context: ValidationContext) -> None:
    """What the shape alone cannot say: a one-star rating must explain itself."""
    if rating.value == 1 and not rating.comment.strip():
        raise ValueError("A rating of 1 needs a comment saying what is wrong")


def agreement(a: Rating, b: Rating) -> float:
    """1 when two ratings match, falling linearly to 0 at the far ends of the scale."""
    return 1 - abs(a.value - b.value) / 4


def aggregate(ratings: list[Rating]) -> Rating | None:
    """The median rating (the lower one of an even count), without comments."""
    return Rating(value=median_low(r.value for r in ratings)) if ratings else None


@hookimpl
def register_annotation_types(register):  # type: ignore[no-untyped-def]
    register(
        AnnotationType(
            name="rating",
            title="Rating (1–5)",
            payload=Rating,
            validate=validate,
            agreement=agreement,
            aggregate=aggregate,
            editor=Editor(
                template="rating/editor.html",
                module="rating.js",
                hotkeys={
                    "1 … 5": "Rate",
                    "C": "Write a comment",
                    "Enter": "Save the rating",
                },
            ),
        )
    )
