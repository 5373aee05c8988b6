"""Object tracks on a video: boxes on keyframes, linearly interpolated between them.

The semantics are CVAT's (``TrackManager.get_interpolated_shapes`` in CVAT's dataset manager),
so a track drawn here exports to CVAT and back without surprises:

- Only keyframes are stored. A frame between two keyframes gets the linear interpolation of
  their boxes, ``a + (b - a) * (frame - a.frame) / (b.frame - a.frame)``, with the ``outside``
  and ``occluded`` flags of the keyframe *before* it (CVAT copies the left keyframe's shape).
- Nothing is interpolated out of an ``outside`` keyframe: the object is absent from the frame
  after it until the next keyframe that is not outside. The outside keyframe itself is still a
  shape (flagged outside), and its box is where the object left: interpolation *into* it moves
  from the last visible box towards that box, as in CVAT.
- Before the first keyframe the object is absent. After the last keyframe it keeps the last
  box (and its ``occluded``) until the end of the video, unless that keyframe is outside.

A box is ``x, y, width, height`` in pixels of the frame, ``x, y`` its top-left corner (the
image plugin's box and MOT use the same); CVAT's ``xtl, ytl, xbr, ybr`` is ``x, y, x + width,
y + height``. Frames are 0-based indices into the decoded video.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec

from scholia.core.contributions import ValidationContext
from scholia.core.errors import InvalidInput

__all__ = [
    "Keyframe",
    "Shape",
    "Track",
    "Tracks",
    "agreement",
    "box_iou",
    "categories",
    "interpolate",
    "shape_at",
    "track_iou",
    "validate",
]

FrameIndex = Annotated[int, msgspec.Meta(ge=0)]
Length = Annotated[float, msgspec.Meta(gt=0)]


class Keyframe(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A box the annotator placed on one frame."""

    frame: FrameIndex
    x: float
    y: float
    width: Length
    height: Length
    outside: bool = False
    """The object left the frame here; it is absent until the next visible keyframe."""
    occluded: bool = False
    """The object is hidden behind something here (and on the interpolated frames after)."""


class Track(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One object followed through the video."""

    track_id: Annotated[int, msgspec.Meta(ge=0)]
    category_id: int
    keyframes: list[Keyframe]
    """Strictly increasing frames."""


class Tracks(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The ``track`` annotation type's payload: every object tracked on one video."""

    tracks: list[Track]


class Shape(msgspec.Struct, frozen=True):
    """A track's box on one frame, stored (a keyframe) or computed (interpolated)."""

    frame: int
    x: float
    y: float
    width: float
    height: float
    outside: bool
    occluded: bool
    keyframe: bool


def _shape(keyframe: Keyframe) -> Shape:
    return Shape(
        frame=keyframe.frame,
        x=keyframe.x,
        y=keyframe.y,
        width=keyframe.width,
        height=keyframe.height,
        outside=keyframe.outside,
        occluded=keyframe.occluded,
        keyframe=True,
    )


def shape_at(track: Track, frame: int) -> Shape | None:
    """The track's shape on ``frame`` as CVAT computes it, or None where it has none (before
    the first keyframe, and between an outside keyframe and the next one). An outside keyframe
    is a shape with ``outside=True``; after the last visible keyframe the box stays."""
    return _shape_at(track, [k.frame for k in track.keyframes], frame)


def interpolate(track: Track, frame_count: int) -> list[Shape]:
    """Every shape of the track on frames ``0 .. frame_count - 1``, in frame order: what CVAT's
    ``get_interpolated_shapes(track, 0, frame_count)`` gives (keyframes, outside ones included,
    and the interpolated frames; the frames where the object is absent are left out)."""
    frames = [k.frame for k in track.keyframes]
    shapes = (_shape_at(track, frames, frame) for frame in range(frame_count))
    return [shape for shape in shapes if shape is not None]


def _shape_at(track: Track, frames: list[int], frame: int) -> Shape | None:
    index = bisect_right(frames, frame) - 1
    if index < 0:
        return None
    left = track.keyframes[index]
    if left.frame == frame:
        return _shape(left)
    if left.outside:
        return None
    if index + 1 == len(track.keyframes):
        return Shape(frame, left.x, left.y, left.width, left.height, False, left.occluded, False)
    right = track.keyframes[index + 1]
    offset = (frame - left.frame) / (right.frame - left.frame)
    return Shape(
        frame=frame,
        x=left.x + (right.x - left.x) * offset,
        y=left.y + (right.y - left.y) * offset,
        width=left.width + (right.width - left.width) * offset,
        height=left.height + (right.height - left.height) * offset,
        outside=False,
        occluded=left.occluded,
        keyframe=False,
    )


def validate(label: Tracks, context: ValidationContext) -> None:
    """Categories are live categories of the project, track ids are unique, keyframes are in
    strictly increasing frames inside the video and their boxes inside the frame (when the
    item's metadata gives ``frame_count``, ``width`` and ``height``)."""
    meta = context.item_meta
    frame_count = _positive_int(meta, "frame_count")
    width, height = _positive_int(meta, "width"), _positive_int(meta, "height")
    seen: dict[int, int] = {}
    for t, track in enumerate(label.tracks):
        where = f"$.tracks[{t}]"
        if track.track_id in seen:
            raise InvalidInput(
                f"track id {track.track_id} is already used by $.tracks[{seen[track.track_id]}]; "
                "give each track its own id",
                f"{where}.track_id",
            )
        seen[track.track_id] = t
        context.check_category(track.category_id, f"{where}.category_id")
        if not track.keyframes:
            raise InvalidInput("a track needs at least one keyframe", f"{where}.keyframes")
        previous: int | None = None
        for k, keyframe in enumerate(track.keyframes):
            at = f"{where}.keyframes[{k}]"
            if previous is not None and keyframe.frame <= previous:
                raise InvalidInput(
                    f"keyframes must be in strictly increasing frames: frame {keyframe.frame} "
                    f"comes after frame {previous}",
                    f"{at}.frame",
                )
            previous = keyframe.frame
            if frame_count is not None and keyframe.frame >= frame_count:
                raise InvalidInput(
                    f"frame {keyframe.frame} is past the end of the video "
                    f"({frame_count} frames, the last is {frame_count - 1})",
                    f"{at}.frame",
                )
            _check_box(keyframe, width, height, at)


def _positive_int(meta: Mapping[str, Any], key: str) -> int | None:
    value = meta.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _check_box(keyframe: Keyframe, width: int | None, height: int | None, at: str) -> None:
    if keyframe.x < 0 or (width is not None and keyframe.x + keyframe.width > width):
        raise InvalidInput(
            f"the box spans x {keyframe.x:g} to {keyframe.x + keyframe.width:g}, outside the "
            f"frame (0 to {width if width is not None else '…'} pixels)",
            f"{at}.x",
        )
    if keyframe.y < 0 or (height is not None and keyframe.y + keyframe.height > height):
        raise InvalidInput(
            f"the box spans y {keyframe.y:g} to {keyframe.y + keyframe.height:g}, outside the "
            f"frame (0 to {height if height is not None else '…'} pixels)",
            f"{at}.y",
        )


def box_iou(a: Shape, b: Shape) -> float:
    """Intersection over union of two boxes."""
    left, right = max(a.x, b.x), min(a.x + a.width, b.x + b.width)
    top, bottom = max(a.y, b.y), min(a.y + a.height, b.y + b.height)
    intersection = max(0.0, right - left) * max(0.0, bottom - top)
    union = a.width * a.height + b.width * b.height - intersection
    return intersection / union if union > 0 else 0.0


def track_iou(a: Track, b: Track, last_frame: int) -> float:
    """Mean per-frame box IoU over the frames up to ``last_frame`` where either track is
    visible; a frame where only one is visible counts 0. Two tracks never visible agree (1)."""
    frames_a, frames_b = [k.frame for k in a.keyframes], [k.frame for k in b.keyframes]
    total, frames = 0.0, 0
    for frame in range(last_frame + 1):
        left, right = _shape_at(a, frames_a, frame), _shape_at(b, frames_b, frame)
        seen_left = left is not None and not left.outside
        seen_right = right is not None and not right.outside
        if seen_left or seen_right:
            frames += 1
        if seen_left and seen_right and left is not None and right is not None:
            total += box_iou(left, right)
    return total / frames if frames else 1.0


def agreement(a: Tracks, b: Tracks) -> float:
    """How far two annotators' tracks of one video agree, in [0, 1].

    Tracks are paired within a category, greedily by highest :func:`track_iou` first (each
    track at most once); the score is the sum of the paired tracks' IoU over the number of
    tracks in the larger payload, so a track the other annotator missed counts 0. The frames
    compared run to the last keyframe of either payload: after it nothing changes any more,
    and a payload does not know the video's length. Two payloads without tracks agree (1).
    """
    if not a.tracks and not b.tracks:
        return 1.0
    last_frame = max((k.frame for t in (*a.tracks, *b.tracks) for k in t.keyframes), default=0)
    pairs = sorted(
        (
            (track_iou(left, right, last_frame), i, j)
            for i, left in enumerate(a.tracks)
            for j, right in enumerate(b.tracks)
            if left.category_id == right.category_id
        ),
        key=lambda pair: (-pair[0], pair[1], pair[2]),
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    total = 0.0
    for iou, i, j in pairs:
        if iou > 0 and i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            total += iou
    return total / max(len(a.tracks), len(b.tracks))


def categories(label: Tracks) -> list[int]:
    """The categories the payload's tracks use, each once."""
    return sorted({track.category_id for track in label.tracks})
