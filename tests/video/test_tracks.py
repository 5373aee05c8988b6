"""Tracks: CVAT's keyframe interpolation, validation with paths, per-frame IoU agreement."""

from __future__ import annotations

import msgspec
import pytest

from scholia.core.contributions import ValidationContext
from scholia.core.errors import InvalidInput
from scholia_video.tracks import (
    Keyframe,
    Shape,
    Track,
    Tracks,
    agreement,
    categories,
    interpolate,
    shape_at,
    track_iou,
    validate,
)

CATEGORIES = {1: "car", 2: "person"}


def key(frame: int, x: float, y: float, w: float, h: float, **flags: bool) -> Keyframe:
    return Keyframe(frame=frame, x=x, y=y, width=w, height=h, **flags)


def track(*keyframes: Keyframe, track_id: int = 0, category_id: int = 1) -> Track:
    return Track(track_id=track_id, category_id=category_id, keyframes=list(keyframes))


def context(**meta: int) -> ValidationContext:
    return ValidationContext(item_meta=meta, categories=CATEGORIES, deleted_categories={3: "bus"})


# --- interpolation -------------------------------------------------------------------------


def test_frames_between_two_keyframes_are_linearly_interpolated() -> None:
    moving = track(key(0, 10, 20, 30, 40), key(10, 20, 40, 50, 40))
    assert shape_at(moving, 5) == Shape(5, 15.0, 30.0, 40.0, 40.0, False, False, False)
    # 3/10 of the way: x 10 + 10*0.3, y 20 + 20*0.3, width 30 + 20*0.3
    three = shape_at(moving, 3)
    assert three is not None
    assert (three.x, three.y, three.width, three.height) == pytest.approx((13, 26, 36, 40))
    assert shape_at(moving, 0) == Shape(0, 10, 20, 30, 40, False, False, True)
    assert shape_at(moving, 10) == Shape(10, 20, 40, 50, 40, False, False, True)


def test_interpolate_lists_every_frame_of_the_track_with_keyframes_marked() -> None:
    moving = track(key(2, 0, 0, 10, 10), key(6, 8, 4, 10, 10))
    shapes = interpolate(moving, 8)
    assert [s.frame for s in shapes] == [2, 3, 4, 5, 6, 7]
    assert [s.keyframe for s in shapes] == [True, False, False, False, True, False]
    assert [(s.x, s.y) for s in shapes] == [(0, 0), (2, 1), (4, 2), (6, 3), (8, 4), (8, 4)]


def test_nothing_is_interpolated_out_of_an_outside_keyframe() -> None:
    # CVAT's own test case: keyframes 0, 2 (outside) and 4, frames 0..6.
    gone = track(key(0, 0, 0, 10, 10), key(2, 4, 0, 10, 10, outside=True), key(4, 20, 0, 10, 10))
    shapes = interpolate(gone, 7)
    assert [(s.frame, s.keyframe, s.outside) for s in shapes] == [
        (0, True, False),
        (1, False, False),
        (2, True, True),
        (4, True, False),
        (5, False, False),
        (6, False, False),
    ]
    assert shape_at(gone, 3) is None
    # Into the outside keyframe the box moves towards where the object left (x 0 -> 4).
    assert shapes[1].x == 2


def test_an_outside_gap_of_several_frames_stays_empty_until_the_next_visible_keyframe() -> None:
    gone = track(key(0, 0, 0, 10, 10, outside=True), key(10, 50, 50, 10, 10))
    assert [shape_at(gone, f) for f in range(1, 10)] == [None] * 9
    assert shape_at(gone, 10) == Shape(10, 50, 50, 10, 10, False, False, True)


def test_occluded_carries_from_the_keyframe_before_to_the_interpolated_frames() -> None:
    hidden = track(key(0, 0, 0, 10, 10, occluded=True), key(4, 4, 0, 10, 10), key(8, 8, 0, 10, 10))
    flags = [(s.frame, s.occluded) for s in interpolate(hidden, 9)]
    assert flags == [(f, f < 4) for f in range(9)]
    # and the other way round: occluded from keyframe 4 on, including after the last keyframe
    later = track(key(0, 0, 0, 10, 10), key(4, 4, 0, 10, 10, occluded=True))
    assert [s.occluded for s in interpolate(later, 7)] == [False] * 4 + [True] * 3


def test_after_the_last_visible_keyframe_the_box_stays_until_the_end_of_the_video() -> None:
    ends = track(key(0, 0, 0, 10, 10), key(4, 8, 8, 10, 10))
    shapes = interpolate(ends, 10)
    assert [s.frame for s in shapes] == list(range(10))
    assert shapes[9] == Shape(9, 8, 8, 10, 10, False, False, False)


def test_a_track_ending_on_an_outside_keyframe_ends_there() -> None:
    ends = track(key(0, 0, 0, 10, 10), key(4, 8, 8, 10, 10, outside=True))
    shapes = interpolate(ends, 10)
    assert [s.frame for s in shapes] == [0, 1, 2, 3, 4]
    assert shapes[-1].outside and shapes[-1].keyframe
    assert shape_at(ends, 5) is None


def test_a_single_keyframe_holds_from_its_frame_to_the_end() -> None:
    still = track(key(3, 1, 2, 3, 4))
    assert shape_at(still, 2) is None
    shapes = interpolate(still, 6)
    assert [(s.frame, s.keyframe) for s in shapes] == [(3, True), (4, False), (5, False)]
    assert all((s.x, s.y, s.width, s.height) == (1, 2, 3, 4) for s in shapes)


def test_interpolate_stops_at_the_end_of_the_video_even_between_keyframes() -> None:
    long = track(key(0, 0, 0, 10, 10), key(10, 10, 0, 10, 10))
    shapes = interpolate(long, 4)
    assert [(s.frame, s.x) for s in shapes] == [(0, 0), (1, 1), (2, 2), (3, 3)]


# --- validation ----------------------------------------------------------------------------


def test_a_good_payload_validates() -> None:
    payload = Tracks(
        tracks=[
            track(key(0, 0, 0, 10, 10), key(9, 54, 38, 10, 10, outside=True)),
            track(key(1, 5, 5, 5, 5, occluded=True), track_id=1, category_id=2),
        ]
    )
    validate(payload, context(frame_count=10, width=64, height=48))
    validate(Tracks(tracks=[]), context())


@pytest.mark.parametrize(
    ("payload", "meta", "path", "words"),
    [
        (
            Tracks([track(key(0, 0, 0, 1, 1), category_id=7)]),
            {},
            "$.tracks[0].category_id",
            "no category 7",
        ),
        (
            Tracks(
                [track(key(0, 0, 0, 1, 1)), track(key(0, 0, 0, 1, 1), track_id=1, category_id=3)]
            ),
            {},
            "$.tracks[1].category_id",
            "was deleted",
        ),
        (
            Tracks([track(key(0, 0, 0, 1, 1)), track(key(0, 0, 0, 1, 1))]),
            {},
            "$.tracks[1].track_id",
            "already used by $.tracks[0]",
        ),
        (Tracks([track()]), {}, "$.tracks[0].keyframes", "at least one keyframe"),
        (
            Tracks([track(key(5, 0, 0, 1, 1), key(5, 0, 0, 1, 1))]),
            {},
            "$.tracks[0].keyframes[1].frame",
            "strictly increasing",
        ),
        (
            Tracks([track(key(5, 0, 0, 1, 1), key(2, 0, 0, 1, 1))]),
            {},
            "$.tracks[0].keyframes[1].frame",
            "frame 2 comes after frame 5",
        ),
        (
            Tracks([track(key(0, 0, 0, 1, 1), key(10, 0, 0, 1, 1))]),
            {"frame_count": 10},
            "$.tracks[0].keyframes[1].frame",
            "past the end of the video (10 frames, the last is 9)",
        ),
        (
            Tracks([track(key(0, 60, 0, 10, 10))]),
            {"width": 64, "height": 48},
            "$.tracks[0].keyframes[0].x",
            "x 60 to 70",
        ),
        (
            Tracks([track(key(0, 0, 40, 10, 10))]),
            {"width": 64, "height": 48},
            "$.tracks[0].keyframes[0].y",
            "y 40 to 50",
        ),
        (
            Tracks([track(key(0, 0, -1, 10, 10))]),
            {},
            "$.tracks[0].keyframes[0].y",
            "outside the frame",
        ),
    ],
)
def test_bad_payloads_are_refused_with_the_path_of_the_bad_field(
    payload: Tracks, meta: dict[str, int], path: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate(payload, context(**meta))
    assert raised.value.path == path
    assert words in raised.value.reason


def test_decoding_refuses_negative_frames_and_empty_boxes_with_their_path() -> None:
    raw = {"tracks": [{"track_id": 0, "category_id": 1, "keyframes": [{"frame": -1}]}]}
    raw["tracks"][0]["keyframes"][0].update(x=0, y=0, width=1, height=1)
    with pytest.raises(msgspec.ValidationError, match=r"\$\.tracks\[0\]\.keyframes\[0\]\.frame"):
        msgspec.convert(raw, Tracks)
    raw["tracks"][0]["keyframes"][0].update(frame=0, width=0)
    with pytest.raises(msgspec.ValidationError, match=r"keyframes\[0\]\.width"):
        msgspec.convert(raw, Tracks)
    raw["tracks"][0]["keyframes"][0].update(width=1, visible=True)
    with pytest.raises(msgspec.ValidationError, match="unknown field `visible`"):
        msgspec.convert(raw, Tracks)


# --- agreement -----------------------------------------------------------------------------


def test_identical_tracks_agree_fully() -> None:
    payload = Tracks(
        [
            track(key(0, 0, 0, 10, 10), key(4, 8, 0, 10, 10, outside=True), key(8, 0, 0, 5, 5)),
            track(key(2, 20, 20, 10, 10, occluded=True), track_id=1, category_id=2),
        ]
    )
    assert agreement(payload, payload) == 1.0


def test_shifted_boxes_agree_by_their_iou() -> None:
    # 10x10 boxes shifted by 5 pixels: intersection 5*10 = 50, union 150, IoU 1/3 on each frame.
    a = Tracks([track(key(0, 0, 0, 10, 10), key(4, 8, 0, 10, 10))])
    b = Tracks([track(key(0, 5, 0, 10, 10), key(4, 13, 0, 10, 10))])
    assert agreement(a, b) == pytest.approx(1 / 3)


def test_frames_where_only_one_track_is_visible_count_zero() -> None:
    # a is visible on frames 0..4; b only from frame 2 on, with the same boxes: 3/5 of the frames.
    a = Tracks([track(key(0, 0, 0, 10, 10), key(4, 0, 0, 10, 10))])
    b = Tracks([track(key(2, 0, 0, 10, 10), key(4, 0, 0, 10, 10))])
    assert track_iou(a.tracks[0], b.tracks[0], 4) == pytest.approx(3 / 5)
    assert agreement(a, b) == pytest.approx(3 / 5)


def test_disjoint_boxes_or_other_categories_do_not_agree() -> None:
    a = Tracks([track(key(0, 0, 0, 10, 10))])
    assert agreement(a, Tracks([track(key(0, 30, 30, 10, 10))])) == 0.0
    assert agreement(a, Tracks([track(key(0, 0, 0, 10, 10), category_id=2)])) == 0.0
    assert agreement(a, Tracks([])) == 0.0
    assert agreement(Tracks([]), Tracks([])) == 1.0


def test_tracks_are_paired_whatever_their_ids_and_order_and_a_missed_track_counts_zero() -> None:
    car = track(key(0, 0, 0, 10, 10), track_id=0)
    person = track(key(0, 30, 30, 10, 10), track_id=1, category_id=2)
    a = Tracks([car, person])
    b = Tracks([Track(7, 2, person.keyframes), Track(9, 1, car.keyframes)])
    assert agreement(a, b) == 1.0
    assert agreement(a, Tracks([car])) == 0.5


def test_categories_lists_each_used_category_once() -> None:
    payload = Tracks(
        [track(key(0, 0, 0, 1, 1), track_id=i, category_id=c) for i, c in [(0, 2), (1, 1), (2, 2)]]
    )
    assert categories(payload) == [1, 2]
