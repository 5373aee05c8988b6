"""CVAT for video 1.1 XML and MOT ground truth, written from a hand-made track."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import datumaro  # a test-only oracle: Datumaro's own CVAT and MOT importers
import pytest

from scholia_video.cvat_video import cvat_video_xml, write_cvat_video
from scholia_video.mot import mot_labels, mot_lines, write_mot
from scholia_video.tracks import Keyframe, Track, Tracks

CATEGORIES = {2: "person", 1: "car"}

# A car enters at frame 1, moves right 4 px a frame to frame 3 (occluded from there), leaves
# at frame 5 and is back at frame 7 until the end; a person stands still from frame 2 to 3.
CAR = Track(
    track_id=4,
    category_id=1,
    keyframes=[
        Keyframe(frame=1, x=0, y=10, width=20, height=10),
        Keyframe(frame=3, x=8, y=10, width=20, height=10, occluded=True),
        Keyframe(frame=5, x=12, y=10, width=20, height=10, outside=True),
        Keyframe(frame=7, x=30, y=20, width=10.5, height=8),
    ],
)
PERSON = Track(
    track_id=0,
    category_id=2,
    keyframes=[
        Keyframe(frame=2, x=40, y=5, width=6, height=12),
        Keyframe(frame=4, x=40, y=5, width=6, height=12, outside=True),
    ],
)
TRACKS = Tracks(tracks=[CAR, PERSON])


def xml() -> ET.Element:
    document = cvat_video_xml(TRACKS, categories=CATEGORIES, frame_count=9, width=64, height=48)
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(document)


def test_the_xml_has_cvat_for_video_meta() -> None:
    root = xml()
    assert root.tag == "annotations"
    assert root.findtext("version") == "1.1"
    task = root.find("meta/task")
    assert task is not None
    assert task.findtext("size") == "9"
    assert task.findtext("mode") == "interpolation"
    assert (task.findtext("start_frame"), task.findtext("stop_frame")) == ("0", "8")
    assert [label.findtext("name") for label in task.iter("label")] == ["car", "person"]
    assert (task.findtext("original_size/width"), task.findtext("original_size/height")) == (
        "64",
        "48",
    )
    assert [(t.get("id"), t.get("label"), t.get("source")) for t in root.iter("track")] == [
        ("4", "car", "manual"),
        ("0", "person", "manual"),
    ]


def test_every_frame_of_a_track_is_written_with_keyframes_marked() -> None:
    car = xml().find("track[@id='4']")
    assert car is not None
    boxes = [
        tuple(box.get(a) for a in ("frame", "keyframe", "outside", "occluded"))
        + tuple(float(box.get(a, "nan")) for a in ("xtl", "ytl", "xbr", "ybr"))
        for box in car.iter("box")
    ]
    assert boxes == [
        ("1", "1", "0", "0", 0, 10, 20, 20),
        ("2", "0", "0", "0", 4, 10, 24, 20),
        ("3", "1", "0", "1", 8, 10, 28, 20),
        ("4", "0", "0", "1", 10, 10, 30, 20),  # halfway to the outside keyframe, still occluded
        ("5", "1", "1", "0", 12, 10, 32, 20),  # where the car leaves; frame 6 has no box
        ("7", "1", "0", "0", 30, 20, 40.5, 28),
        ("8", "0", "0", "0", 30, 20, 40.5, 28),  # the last box holds to the end of the video
    ]
    assert all(box.get("z_order") == "0" for box in car.iter("box"))
    first = next(car.iter("box"))
    assert list(first.attrib) == [
        "frame",
        "keyframe",
        "outside",
        "occluded",
        "xtl",
        "ytl",
        "xbr",
        "ybr",
        "z_order",
    ]
    person = xml().find("track[@id='0']")
    assert person is not None
    assert [(b.get("frame"), b.get("outside")) for b in person.iter("box")] == [
        ("2", "0"),
        ("3", "0"),
        ("4", "1"),
    ]


def test_the_same_tracks_give_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.xml", tmp_path / "b.xml"
    for path in (first, second):
        write_cvat_video(TRACKS, path, categories=CATEGORIES, frame_count=9, width=64, height=48)
    assert first.read_bytes() == second.read_bytes()


def test_a_track_of_a_category_not_exported_is_refused() -> None:
    with pytest.raises(ValueError, match="track 4 uses category 1, which is not among"):
        cvat_video_xml(TRACKS, categories={2: "person"}, frame_count=9, width=64, height=48)
    with pytest.raises(ValueError, match="at least one frame"):
        cvat_video_xml(TRACKS, categories=CATEGORIES, frame_count=0, width=64, height=48)


def test_mot_lines_are_the_visible_boxes_with_1_based_frames_and_ids() -> None:
    assert mot_lines(TRACKS, categories=CATEGORIES, frame_count=9) == [
        # frame, id, left, top, width, height, conf, class, visibility
        "2,5,0,10,20,10,1,1,1",
        "3,1,40,5,6,12,1,2,1",
        "3,5,4,10,20,10,1,1,1",
        "4,1,40,5,6,12,1,2,1",
        "4,5,8,10,20,10,1,1,0",
        "5,5,10,10,20,10,1,1,0",
        "8,5,30,20,10.5,8,1,1,1",
        "9,5,30,20,10.5,8,1,1,1",
    ]


def test_write_mot_lays_out_one_sequence(tmp_path: Path) -> None:
    write_mot(TRACKS, tmp_path, categories=CATEGORIES, frame_count=9)
    assert (tmp_path / "gt" / "labels.txt").read_text() == "car\nperson\n"
    lines = (tmp_path / "gt" / "gt.txt").read_text().splitlines()
    assert lines == mot_lines(TRACKS, categories=CATEGORIES, frame_count=9)
    assert mot_labels(CATEGORIES) == ["car", "person"]


def test_datumaro_reads_the_cvat_xml_back(tmp_path: Path) -> None:
    write_cvat_video(
        TRACKS,
        tmp_path / "annotations.xml",
        categories=CATEGORIES,
        frame_count=9,
        width=64,
        height=48,
    )
    dataset = datumaro.Dataset.import_from(str(tmp_path), "cvat")
    labels = dataset.categories()[datumaro.AnnotationType.label]
    found = sorted(
        (
            int(item.attributes["frame"]),
            ann.attributes["track_id"],
            labels[ann.label].name,
            ann.attributes["keyframe"],
            ann.attributes["outside"],
            ann.attributes["occluded"],
            (ann.x, ann.y, ann.w, ann.h),
        )
        for item in dataset
        for ann in item.annotations
    )
    assert found == [
        (1, 4, "car", True, False, False, (0, 10, 20, 10)),
        (2, 0, "person", True, False, False, (40, 5, 6, 12)),
        (2, 4, "car", False, False, False, (4, 10, 20, 10)),
        (3, 0, "person", False, False, False, (40, 5, 6, 12)),
        (3, 4, "car", True, False, True, (8, 10, 20, 10)),
        (4, 0, "person", True, True, False, (40, 5, 6, 12)),
        (4, 4, "car", False, False, True, (10, 10, 20, 10)),
        (5, 4, "car", True, True, False, (12, 10, 20, 10)),
        (7, 4, "car", True, False, False, (30, 20, 10.5, 8)),
        (8, 4, "car", False, False, False, (30, 20, 10.5, 8)),
    ]
    assert sorted(item.id for item in dataset)[0] == "frame_000001"


def test_datumaro_reads_the_mot_sequence_back(tmp_path: Path) -> None:
    write_mot(TRACKS, tmp_path, categories=CATEGORIES, frame_count=9)
    dataset = datumaro.Dataset.import_from(str(tmp_path), "mot_seq")
    labels = dataset.categories()[datumaro.AnnotationType.label]
    found = sorted(
        (
            int(item.id),
            ann.attributes["track_id"],
            labels[ann.label].name,
            ann.attributes["occluded"],
        )
        for item in dataset
        for ann in item.annotations
    )
    assert found == [
        (2, 5, "car", False),
        (3, 1, "person", False),
        (3, 5, "car", False),
        (4, 1, "person", False),
        (4, 5, "car", True),
        (5, 5, "car", True),
        (8, 5, "car", False),
        (9, 5, "car", False),
    ]
