"""Action segments: validation with paths, temporal IoU agreement, frames from milliseconds,
and the JSON and CSV exports, all against hand-computed values."""

from __future__ import annotations

import csv
import io
import json

import msgspec
import pytest

from scholia.core.contributions import AnnotationType, ValidationContext
from scholia.core.errors import InvalidInput
from scholia_video import segments as segments_module
from scholia_video.segments import (
    MATCH_IOU,
    Segment,
    Segments,
    agreement,
    categories,
    frame_span,
    frames_of,
    snap,
    temporal_iou,
    validate,
)
from scholia_video.segments_export import (
    VideoSegments,
    segments_csv,
    segments_json,
    video_segments,
)

CATEGORIES = {1: "walk", 2: "run"}


def seg(start: float, end: float, category_id: int = 1, track: int = 0) -> Segment:
    return Segment(track=track, category_id=category_id, start_ms=start, end_ms=end)


def timeline(*items: Segment) -> Segments:
    return Segments(segments=list(items))


def context(**meta: float) -> ValidationContext:
    return ValidationContext(item_meta=meta, categories=CATEGORIES, deleted_categories={3: "sit"})


# --- validation ----------------------------------------------------------------------------


def test_a_good_timeline_validates() -> None:
    good = timeline(
        seg(0, 1000),
        seg(1000, 2000, category_id=2),  # touches the one before: the end is exclusive
        seg(500, 3000, track=1),  # overlaps the others, on another row
        seg(2500, 3000),  # ends exactly at the end of the video
    )
    validate(good, context(duration_ms=3000.0, fps=25.0))
    validate(timeline(), context(duration_ms=3000.0))
    # Without a known duration there is no end to check against.
    validate(timeline(seg(0, 10_000_000)), context())


def test_a_segment_snapped_to_the_last_frame_fits_a_duration_rounded_to_three_decimals() -> None:
    # 30 frames at 29.97 fps last 1001.001001… ms; the probe stores 1001.001.
    _, end = snap(1001.0, 29.97)
    assert end == pytest.approx(1001.001001, abs=1e-6)
    validate(timeline(seg(0, end)), context(duration_ms=1001.001, fps=29.97))


@pytest.mark.parametrize(
    ("label", "meta", "path", "words"),
    [
        (timeline(seg(1000, 1000)), {}, "$.segments[0].end_ms", "must end after it starts"),
        (
            timeline(seg(0, 500), seg(2000, 1500)),
            {},
            "$.segments[1].end_ms",
            "starts at 2000 ms and ends at 1500 ms",
        ),
        (
            timeline(seg(0, 500), seg(2000, 3000.5)),
            {"duration_ms": 3000.0},
            "$.segments[1].end_ms",
            "ends at 3000.5 ms, after the end of the video (3000 ms)",
        ),
        (
            timeline(seg(0, 500, category_id=9)),
            {},
            "$.segments[0].category_id",
            "no category 9 in this project (categories: 1 'walk', 2 'run')",
        ),
        (
            timeline(seg(0, 500), seg(600, 700, category_id=3)),
            {},
            "$.segments[1].category_id",
            "category 3 ('sit') was deleted",
        ),
        (
            timeline(seg(0, float("inf"))),
            {},
            "$.segments[0].end_ms",
            "non-negative number of milliseconds, not inf",
        ),
    ],
)
def test_bad_segments_are_refused_with_the_path_of_the_bad_field(
    label: Segments, meta: dict[str, float], path: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate(label, context(**meta))
    assert raised.value.path == path
    assert words in raised.value.reason


def test_overlapping_segments_on_one_track_are_refused_naming_both() -> None:
    overlapping = timeline(
        seg(0, 1000, track=1),
        seg(2000, 3000),
        seg(500, 1500, track=1, category_id=2),  # overlaps $.segments[0] on track 1
    )
    with pytest.raises(InvalidInput) as raised:
        validate(overlapping, context(duration_ms=5000.0))
    assert raised.value.path == "$.segments[2].start_ms"
    assert raised.value.reason == (
        "$.segments[2] (500–1500 ms) overlaps $.segments[0] (0–1000 ms) on track 1; segments on "
        "one track must not overlap: shorten one or move it to another track"
    )
    # The one that starts first is named as the one overlapped, whatever the order drawn.
    with pytest.raises(InvalidInput, match=r"\$\.segments\[0\] \(500–1500 ms\) overlaps "):
        validate(timeline(seg(500, 1500), seg(0, 1000)), context())


def test_decoding_refuses_negative_rows_and_starts_and_unknown_fields_with_their_path() -> None:
    raw = {"segments": [{"track": -1, "category_id": 1, "start_ms": 0, "end_ms": 10}]}
    with pytest.raises(msgspec.ValidationError, match=r"\$\.segments\[0\]\.track"):
        msgspec.convert(raw, Segments)
    raw = {"segments": [{"track": 0, "category_id": 1, "start_ms": -5, "end_ms": 10}]}
    with pytest.raises(msgspec.ValidationError, match=r"\$\.segments\[0\]\.start_ms"):
        msgspec.convert(raw, Segments)
    raw = {"segments": [{"track": 0, "category_id": 1, "start_ms": 0, "end_ms": 10, "frame": 1}]}
    with pytest.raises(msgspec.ValidationError, match="unknown field `frame`"):
        msgspec.convert(raw, Segments)


# --- agreement -----------------------------------------------------------------------------


def test_identical_timelines_agree_fully_and_empty_ones_too() -> None:
    drawn = timeline(seg(0, 1000), seg(1000, 2500, category_id=2), seg(300, 900, track=1))
    assert agreement(drawn, drawn) == 1.0
    assert agreement(timeline(), timeline()) == 1.0
    assert agreement(drawn, timeline()) == 0.0


def test_temporal_iou_of_half_overlapping_segments_is_a_third() -> None:
    # [0, 2000) and [1000, 3000): intersection 1000 ms, union 3000 ms.
    assert temporal_iou(seg(0, 2000), seg(1000, 3000)) == pytest.approx(1 / 3)
    assert temporal_iou(seg(0, 1000), seg(1000, 2000)) == 0.0  # touching shares nothing


def test_segments_below_the_match_threshold_do_not_match() -> None:
    assert MATCH_IOU == 0.5
    assert agreement(timeline(seg(0, 2000)), timeline(seg(1000, 3000))) == 0.0
    # [0, 3000) and [1000, 3000): intersection 2000, union 3000, IoU 2/3 >= 0.5.
    assert agreement(timeline(seg(0, 3000)), timeline(seg(1000, 3000))) == pytest.approx(2 / 3)
    # Exactly at the threshold it matches: [0, 2000) and [0, 1000).
    assert agreement(timeline(seg(0, 2000)), timeline(seg(0, 1000))) == 0.5


def test_different_categories_do_not_agree_whatever_the_overlap() -> None:
    assert agreement(timeline(seg(0, 1000)), timeline(seg(0, 1000, category_id=2))) == 0.0


def test_a_missed_segment_counts_zero_and_rows_do_not_matter() -> None:
    a = timeline(seg(0, 1000), seg(2000, 3000, category_id=2))
    b = timeline(seg(2000, 3000, category_id=2, track=4))  # same action, other row
    assert agreement(a, b) == 0.5  # (0 + 1) / 2
    assert agreement(b, a) == 0.5


def test_matching_is_greedy_by_highest_iou_each_segment_once() -> None:
    # a0 [0, 1000) overlaps b0 [0, 1000) fully and b1 [0, 800) by 0.8; a1 [0, 900) overlaps
    # b0 by 0.9 and b1 by 800/900. Greedy: a0-b0 (1.0), then a1-b1 (8/9).
    a = timeline(seg(0, 1000), seg(0, 900, track=1))
    b = timeline(seg(0, 1000), seg(0, 800, track=1))
    assert agreement(a, b) == pytest.approx((1.0 + 8 / 9) / 2)


def test_categories_lists_each_used_category_once() -> None:
    assert categories(timeline(seg(0, 1, 2), seg(2, 3, 1), seg(4, 5, 2))) == [1, 2]
    assert categories(timeline()) == []


# --- frames --------------------------------------------------------------------------------


def test_snapping_at_25_fps_goes_to_the_nearest_40_ms_boundary() -> None:
    assert snap(0, 25) == (0, 0.0)
    assert snap(1019, 25) == (25, 1000.0)  # 25.475 frames
    assert snap(1021, 25) == (26, 1040.0)  # 25.525 frames
    assert snap(1020, 25) == (26, 1040.0)  # halfway goes to the later boundary
    assert snap(1060, 25) == (27, 1080.0)  # 26.5 too (not to the even one)


def test_snapping_at_29_97_fps_gives_the_exact_boundary() -> None:
    frame, ms = snap(100, 29.97)  # 2.997 frames
    assert frame == 3
    assert ms == pytest.approx(100.1001001, abs=1e-7)  # 3000 / 29.97
    assert snap(33.4, 29.97)[0] == 1  # 1.000998 frames: 33.3667 ms is frame 1's start


def test_frames_at_25_fps_are_inclusive_at_both_ends() -> None:
    assert frames_of(seg(1000, 2000), 25) == (25, 49)  # 40 ms frames: 25 .. 49 is 1000 ms
    assert frames_of(seg(1010, 1990), 25) == (25, 49)  # every frame it overlaps
    assert frames_of(seg(1000, 1040), 25) == (25, 25)  # exactly one frame
    assert frames_of(seg(1000, 1041), 25) == (25, 26)  # a millisecond into frame 26
    assert frames_of(seg(1005, 1010), 25) == (25, 25)  # shorter than a frame, inside one


def test_frames_at_29_97_fps_from_exact_and_rounded_boundaries() -> None:
    # Frames 3 .. 5 are [3000 / 29.97, 6000 / 29.97) = [100.1001…, 200.2002…) ms.
    assert frames_of(seg(snap(100, 29.97)[1], snap(200, 29.97)[1]), 29.97) == (3, 5)
    # The same boundaries stored with three decimals, either side of the exact ones.
    assert frames_of(seg(100.1, 200.2), 29.97) == (3, 5)
    assert frames_of(seg(100.101, 200.201), 29.97) == (3, 5)
    # A whole millisecond off is a different frame: 99.1 ms is in frame 2 (66.7 .. 100.1).
    assert frames_of(seg(99.1, 201.2), 29.97) == (2, 6)


def test_a_frame_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive number of frames per second, not 0"):
        frame_span(0, 40, 0)
    with pytest.raises(ValueError, match="non-negative number of ms, not -1"):
        snap(-1, 25)


# --- exports -------------------------------------------------------------------------------


def records() -> list[VideoSegments]:
    walk_and_run = timeline(
        seg(2000, 3000, category_id=2, track=1),
        seg(1000, 2000),
        seg(0, 1000),
    )
    return [
        video_segments("street.mp4", walk_and_run, categories=CATEGORIES, fps=25.0),
        video_segments(
            "ntsc.mp4",
            timeline(seg(snap(100, 29.97)[1], snap(200, 29.97)[1], category_id=2)),
            categories=CATEGORIES,
            fps=29.97,
        ),
        video_segments("quiet.mp4", timeline(), categories=CATEGORIES, fps=25.0),
        video_segments("unknown.webm", timeline(seg(0, 500)), categories=CATEGORIES, fps=None),
    ]


def test_the_json_export_lists_each_video_with_ms_and_inclusive_frames() -> None:
    text = segments_json(records())
    assert text.endswith("}\n")
    assert json.loads(text) == {
        "videos": [
            {
                "video": "street.mp4",
                "fps": 25.0,
                "segments": [  # by row, then start
                    {
                        "track": 0,
                        "category": "walk",
                        "start_ms": 0.0,
                        "end_ms": 1000.0,
                        "start_frame": 0,
                        "end_frame": 24,
                    },
                    {
                        "track": 0,
                        "category": "walk",
                        "start_ms": 1000.0,
                        "end_ms": 2000.0,
                        "start_frame": 25,
                        "end_frame": 49,
                    },
                    {
                        "track": 1,
                        "category": "run",
                        "start_ms": 2000.0,
                        "end_ms": 3000.0,
                        "start_frame": 50,
                        "end_frame": 74,
                    },
                ],
            },
            {
                "video": "ntsc.mp4",
                "fps": 29.97,
                "segments": [
                    {
                        "track": 0,
                        "category": "run",
                        "start_ms": 100.1,
                        "end_ms": 200.2,
                        "start_frame": 3,
                        "end_frame": 5,
                    }
                ],
            },
            {"video": "quiet.mp4", "fps": 25.0, "segments": []},
            {
                "video": "unknown.webm",
                "fps": None,
                "segments": [
                    {
                        "track": 0,
                        "category": "walk",
                        "start_ms": 0.0,
                        "end_ms": 500.0,
                        "start_frame": None,
                        "end_frame": None,
                    }
                ],
            },
        ]
    }


def test_the_csv_export_has_a_header_and_one_row_per_segment() -> None:
    text = segments_csv(records())
    assert text == (
        "video,track,category,start_ms,end_ms,start_frame,end_frame\r\n"
        "street.mp4,0,walk,0,1000,0,24\r\n"
        "street.mp4,0,walk,1000,2000,25,49\r\n"
        "street.mp4,1,run,2000,3000,50,74\r\n"
        "ntsc.mp4,0,run,100.1,200.2,3,5\r\n"
        "unknown.webm,0,walk,0,500,,\r\n"
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[3]["start_frame"] == "3"


def test_a_name_with_a_comma_is_quoted_in_the_csv() -> None:
    record = video_segments("a, b.mp4", timeline(seg(0, 40)), categories=CATEGORIES, fps=25.0)
    assert segments_csv([record]).splitlines()[1] == '"a, b.mp4",0,walk,0,40,0,0'


def test_exporting_a_segment_of_a_category_not_exported_is_refused() -> None:
    with pytest.raises(ValueError, match=r"segment 0 of 'x\.mp4' uses category 7"):
        video_segments("x.mp4", timeline(seg(0, 40, category_id=7)), categories=CATEGORIES, fps=25)


# --- the annotation type -------------------------------------------------------------------


def test_the_annotation_type_as_the_plugin_registers_it_is_a_valid_contribution() -> None:
    contribution = AnnotationType(
        name="segments",
        title="Action segments",
        payload=segments_module.Segments,
        validate=segments_module.validate,
        modalities=("video",),
        agreement=segments_module.agreement,
        categories=segments_module.categories,
    )
    contribution.check()
