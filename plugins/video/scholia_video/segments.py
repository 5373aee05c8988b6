"""Action timelines on a video: labeled segments of time on several rows (tracks).

A segment is ``[start_ms, end_ms)`` on the video's clock, in milliseconds from the first
frame's timestamp (the clock of the item's ``duration_ms``): the start is inside it, the end is
not, so a segment ending at 2000 ms and one starting at 2000 ms touch without overlapping. The
payload stays in milliseconds, the item's own units, because a variable-frame-rate video has no
single frame duration; frames are derived for exports with :func:`frames_of`.

Frames from milliseconds: frame ``f`` is shown from ``1000 * f / fps`` to ``1000 * (f + 1) /
fps`` ms (``fps`` the video's nominal rate). A segment covers every frame it overlaps, and the
frame span is inclusive at both ends: ``start_frame = floor(start_ms * fps / 1000)``,
``end_frame = ceil(end_ms * fps / 1000) - 1``. A segment snapped to frame boundaries with
:func:`snap`, ``[1000 * a / fps, 1000 * b / fps)``, covers frames ``a .. b - 1``. Times within
:data:`TOLERANCE_MS` of a frame boundary count as on it, since milliseconds stored with three
decimals (as the probe writes ``duration_ms``) miss the exact boundary of, say, 29.97 fps. For
a variable-frame-rate video these frames are the nominal ones, an approximation.

Rows are layout: several actions at once go on different rows, and on one row segments must
not overlap. Agreement ignores the rows (two annotators may stack the same actions differently).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec

from scholia.core.contributions import ValidationContext
from scholia.core.errors import InvalidInput

__all__ = [
    "MATCH_IOU",
    "TOLERANCE_MS",
    "Segment",
    "Segments",
    "agreement",
    "categories",
    "frame_span",
    "frames_of",
    "snap",
    "temporal_iou",
    "validate",
]

TOLERANCE_MS = 0.001
"""A microsecond: times this close count as equal (frame boundaries, the video's end, touching
segments). Far below any frame's duration, above the rounding of three stored decimals."""

MATCH_IOU = 0.5
"""Two annotators' segments of a category match when their temporal IoU is at least this (the
usual threshold of temporal action localization, e.g. ActivityNet's lowest)."""


class Segment(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One action on one row of the timeline, ``[start_ms, end_ms)``."""

    track: Annotated[int, msgspec.Meta(ge=0)]
    """The row it is drawn on, 0 the top one."""
    category_id: int
    start_ms: Annotated[float, msgspec.Meta(ge=0)]
    end_ms: float
    """Exclusive: the first moment after the action."""


class Segments(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The ``segments`` annotation type's payload: the action timeline of one video."""

    segments: list[Segment]


def _check_fps(fps: float) -> None:
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"a frame rate must be a positive number of frames per second, not {fps}")


def snap(ms: float, fps: float) -> tuple[int, float]:
    """The frame boundary nearest ``ms`` at ``fps``: the frame that starts there, and its time
    in milliseconds (``1000 * frame / fps``, not rounded). Halfway between two boundaries goes
    to the later one. What the editor snaps to."""
    _check_fps(fps)
    if not (math.isfinite(ms) and ms >= 0):
        raise ValueError(f"a time on the video must be a non-negative number of ms, not {ms}")
    frame = math.floor(ms * fps / 1000 + 0.5)
    return frame, 1000 * frame / fps


def frame_span(start_ms: float, end_ms: float, fps: float) -> tuple[int, int]:
    """The first and last frame (inclusive) that ``[start_ms, end_ms)`` overlaps at ``fps``.

    A segment shorter than a frame, inside one, gives that frame (start and end equal)."""
    _check_fps(fps)
    start = math.floor((start_ms + TOLERANCE_MS) * fps / 1000)
    end = math.ceil((end_ms - TOLERANCE_MS) * fps / 1000) - 1
    return start, max(start, end)


def frames_of(segment: Segment, fps: float) -> tuple[int, int]:
    """The segment's first and last frame (inclusive), see :func:`frame_span`."""
    return frame_span(segment.start_ms, segment.end_ms, fps)


def _describe(index: int, segment: Segment) -> str:
    return f"$.segments[{index}] ({segment.start_ms:g}–{segment.end_ms:g} ms)"


def validate(label: Segments, context: ValidationContext) -> None:
    """Categories are live categories of the project; each segment starts before it ends and
    lies inside the video (when the item's metadata gives ``duration_ms``); segments on one row
    do not overlap (touching is fine: the end is exclusive)."""
    duration = _duration_ms(context.item_meta)
    for s, segment in enumerate(label.segments):
        where = f"$.segments[{s}]"
        context.check_category(segment.category_id, f"{where}.category_id")
        for field in ("start_ms", "end_ms"):
            value = getattr(segment, field)
            if not math.isfinite(value) or value < 0:
                raise InvalidInput(
                    f"{field} must be a non-negative number of milliseconds, not {value}",
                    f"{where}.{field}",
                )
        if segment.end_ms <= segment.start_ms:
            raise InvalidInput(
                f"a segment must end after it starts: it starts at {segment.start_ms:g} ms and "
                f"ends at {segment.end_ms:g} ms",
                f"{where}.end_ms",
            )
        if duration is not None and segment.end_ms > duration + TOLERANCE_MS:
            raise InvalidInput(
                f"the segment ends at {segment.end_ms:g} ms, after the end of the video "
                f"({duration:g} ms)",
                f"{where}.end_ms",
            )
    rows: dict[int, list[int]] = {}
    for s, segment in enumerate(label.segments):
        rows.setdefault(segment.track, []).append(s)
    for track, indices in sorted(rows.items()):
        ordered = sorted(indices, key=lambda i: (label.segments[i].start_ms, i))
        for before, after in itertools.pairwise(ordered):
            first, second = label.segments[before], label.segments[after]
            if second.start_ms < first.end_ms - TOLERANCE_MS:
                raise InvalidInput(
                    f"{_describe(after, second)} overlaps {_describe(before, first)} on track "
                    f"{track}; segments on one track must not overlap: shorten one or move it "
                    "to another track",
                    f"$.segments[{after}].start_ms",
                )


def _duration_ms(meta: Mapping[str, Any]) -> float | None:
    value = meta.get("duration_ms")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None


def temporal_iou(a: Segment, b: Segment) -> float:
    """Intersection over union of two segments' time spans."""
    intersection = max(0.0, min(a.end_ms, b.end_ms) - max(a.start_ms, b.start_ms))
    union = (a.end_ms - a.start_ms) + (b.end_ms - b.start_ms) - intersection
    return intersection / union if union > 0 else 0.0


def agreement(a: Segments, b: Segments) -> float:
    """How far two annotators' timelines of one video agree, in [0, 1].

    Segments are matched within a category, whatever their rows, greedily by highest
    :func:`temporal_iou` first, each segment at most once, and only when the IoU is at least
    :data:`MATCH_IOU` (a segment that barely overlaps another is a different action, not a
    sloppy copy). The score is the sum of the matched IoUs over the number of segments in the
    larger payload, so a segment the other annotator missed, or placed too far off, counts 0.
    Two empty timelines agree (1).
    """
    if not a.segments and not b.segments:
        return 1.0
    pairs = sorted(
        (
            (temporal_iou(left, right), i, j)
            for i, left in enumerate(a.segments)
            for j, right in enumerate(b.segments)
            if left.category_id == right.category_id
        ),
        key=lambda pair: (-pair[0], pair[1], pair[2]),
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    total = 0.0
    for iou, i, j in pairs:
        if iou >= MATCH_IOU and i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            total += iou
    return total / max(len(a.segments), len(b.segments))


def categories(label: Segments) -> list[int]:
    """The categories the payload's segments use, each once."""
    return sorted({segment.category_id for segment in label.segments})
