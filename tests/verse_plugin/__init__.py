"""A test-only plugin with a third modality: ``verse``, items that are inline text records.

It proves the core knows no modality: a verse is no file at all but one inline part (``text``)
of an item, and ``phrase`` marks a stretch of it with a category, agreeing with another
phrase by their overlap and combined by its own rule. Nothing in the core or the server names
either; the plugin is loaded the way a vendor's is (a module with hook implementations and
``templates/`` and ``static/`` folders beside it), and docs/how-to-add-a-modality.md is
written against it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec

from scholia.core.contributions import (
    AnnotationType,
    Editor,
    Modality,
    PartRole,
    ValidationContext,
)
from scholia.core.errors import InvalidInput
from scholia.core.hookspecs import hookimpl

__all__ = ["Phrase", "Verse", "aggregate", "agreement"]


# --- the modality: a verse is one inline record ----------------------------------------------


class Verse(msgspec.Struct, forbid_unknown_fields=True):
    """The ``text`` part of a verse item."""

    text: str
    source: str = ""


def _probe_verse(verse: Verse) -> dict[str, Any]:
    if not verse.text.strip():
        raise ValueError("the verse has no text")
    return {"length": len(verse.text), "lines": verse.text.count("\n") + 1}


def _no_files(path: Path) -> dict[str, Any]:
    raise ValueError("verses are records (send them as JSON), not files")


VERSE = Modality(
    name="verse",
    title="Verse",
    media_types=(),
    extensions=(),
    probe=_no_files,
    parts=(PartRole("text", kind="inline", title="Text", schema=Verse, probe=_probe_verse),),
)


# --- the type: a phrase of the verse, with a category ----------------------------------------


class Phrase(msgspec.Struct, forbid_unknown_fields=True):
    """Characters ``start`` (inclusive) to ``end`` (exclusive) of the verse's text."""

    start: int
    end: int
    category_id: int


def _validate(phrase: Phrase, context: ValidationContext) -> None:
    length = context.item_meta["parts"]["text"]["length"]
    if not 0 <= phrase.start < phrase.end:
        raise InvalidInput("a phrase ends after it starts, from character 0 on", "$.end")
    if phrase.end > length:
        raise InvalidInput(f"the verse has {length} characters", "$.end")
    context.check_category(phrase.category_id, "$.category_id")


def agreement(a: Phrase, b: Phrase) -> float:
    """Two phrases of different categories do not agree; of the same one, by the overlap of
    their characters (intersection over union)."""
    if a.category_id != b.category_id:
        return 0.0
    inter = max(0, min(a.end, b.end) - max(a.start, b.start))
    return inter / (max(a.end, b.end) - min(a.start, b.start))


def aggregate(phrases: Sequence[Phrase]) -> Phrase | None:
    """The category most phrases have (None on a tie: an adjudicator decides), spanning the
    median start to the median end of that category's phrases."""
    counts = Counter(p.category_id for p in phrases).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    category = counts[0][0]
    chosen = [p for p in phrases if p.category_id == category]
    start = int(statistics.median_low([p.start for p in chosen]))
    end = int(statistics.median_high([p.end for p in chosen]))
    return Phrase(start, max(end, start + 1), category)


PHRASE = AnnotationType(
    name="phrase",
    title="Phrase",
    payload=Phrase,
    validate=_validate,
    modalities=("verse",),
    agreement=agreement,
    aggregate=aggregate,
    categories=lambda phrase: [phrase.category_id],
    editor=Editor(
        template="verse/editor.html",
        module="verse.js",
        hotkeys={"Enter": "Save the selected phrase"},
    ),
)


# --- the hooks -------------------------------------------------------------------------------


@hookimpl
def register_modalities(register: Callable[[Modality], None]) -> None:
    register(VERSE)


@hookimpl
def register_annotation_types(register: Callable[[AnnotationType], None]) -> None:
    register(PHRASE)
