"""The video plugin's export formats, written from released dataset versions of projects made
through the API: tracks as CVAT for video 1.1 and MOT (read back by Datumaro, a reader that is
not ours), action segments as JSON and CSV (checked against milliseconds and frames worked out
by hand)."""

from __future__ import annotations

import csv
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import datumaro  # a test-only oracle: Datumaro's own CVAT and MOT importers
import pytest
from litestar.testing import TestClient

from scholia.core import datasets, exports
from scholia.core.errors import InvalidInput
from scholia.core.plugins import Plugins, load_plugins
from scholia.core.runtime import Runtime
from scholia_video import exports as video_exports

from ..conftest import DEFAULT_PLUGINS, EXAMPLE_PLUGINS
from . import clips

Client = Callable[..., TestClient[Any]]


@pytest.fixture
def plugins() -> Plugins:
    return load_plugins(default_plugins=DEFAULT_PLUGINS, select={*EXAMPLE_PLUGINS, "scholia-video"})


def released(
    api_for: Client,
    runtime: Runtime,
    annotation_type: str,
    categories: list[str],
    videos: list[tuple[Path, Callable[[dict[str, int]], dict[str, Any]]]],
) -> dict[str, Any]:
    """A video project made through the API: each video uploaded, labeled by one annotator
    (the payload built from the category ids), approved, and a dataset version released."""
    manager = api_for("manager")
    project = manager.post(
        "/api/v1/projects",
        json={
            "name": "Traffic",
            "modality": "video",
            "annotation_types": [annotation_type],
            "categories": categories,
        },
    ).json()
    annotator = api_for("annotator", project=project)
    reviewer = api_for("reviewer", project=project)
    listed = manager.get(f"/api/v1/projects/{project['id']}/categories").json()
    ids = {c["name"]: c["id"] for c in listed}
    items = []
    for clip, payload in videos:
        response = manager.post(
            f"/api/v1/projects/{project['id']}/items",
            files=[("files", (clip.name, clip.read_bytes(), "video/mp4"))],
        )
        assert response.status_code == 201, response.text
        (item,) = response.json()["created"]
        saved = annotator.post(
            f"/api/v1/items/{item['id']}/annotations",
            json={"annotation_type": annotation_type, "payload": payload(ids)},
        )
        assert saved.status_code == 201, saved.text
        items.append(item)
    decided = reviewer.post(
        f"/api/v1/projects/{project['id']}/reviews",
        json={"item_ids": [i["id"] for i in items], "decision": "approved"},
    ).json()
    assert decided["refused"] == [], decided
    started = manager.post(f"/api/v1/projects/{project['id']}/datasets", json={}).json()
    deadline = time.monotonic() + 30
    while (version := manager.get(started["url"]).json())["status"] == "building":
        assert time.monotonic() < deadline, version
        time.sleep(0.05)
    assert version["status"] == "released", version
    folder = datasets.export_folder(runtime, project["id"]) / f"v{version['version']}"
    manifest = json.loads((folder / "manifest.json").read_text())
    return {
        "version": version,
        "view": exports.VersionView(folder, manifest, runtime.plugins),
        "items": items,
        "categories": ids,
        "annotator": annotator.user.pseudonym,  # type: ignore[attr-defined]
    }


def box(frame: int, x: float, y: float, w: float, h: float, **flags: bool) -> dict[str, Any]:
    return {"frame": frame, "x": x, "y": y, "width": w, "height": h, **flags}


def street_tracks(ids: dict[str, int]) -> dict[str, Any]:
    """On 10 frames: a car from frame 1 moving 2 px right and 1 px down a frame, growing 1 px
    wide a frame, occluded from frame 5, leaving at frame 7; a bike from frame 6 to the end."""
    car = [box(1, 2, 4, 10, 6), box(5, 10, 8, 14, 6, occluded=True), box(7, 12, 8, 14, 6)]
    car[2]["outside"] = True
    bike = [box(6, 40, 20, 8, 8)]
    return {
        "tracks": [
            {"track_id": 3, "category_id": ids["car"], "keyframes": car},
            {"track_id": 0, "category_id": ids["bike"], "keyframes": bike},
        ]
    }


def lane_tracks(ids: dict[str, int]) -> dict[str, Any]:
    """On 6 frames: a car from the corner, 10 px a frame diagonally to frame 3, then still."""
    keyframes = [box(0, 0, 0, 4, 4), box(3, 30, 30, 4, 4)]
    return {"tracks": [{"track_id": 0, "category_id": ids["car"], "keyframes": keyframes}]}


@pytest.fixture
def tracked(api_for: Client, runtime: Runtime, tmp_path: Path) -> dict[str, Any]:
    street = clips.constant_rate(tmp_path / "street.mp4", seconds=0.4, rate=25)  # 10 frames
    lane = clips.constant_rate(tmp_path / "lane.mp4", seconds=0.24, rate=25)  # 6 frames
    return released(
        api_for, runtime, "track", ["car", "bike"], [(street, street_tracks), (lane, lane_tracks)]
    )


def walks(ids: dict[str, int]) -> dict[str, Any]:
    walk, run = ids["walk"], ids["run"]
    return {
        "segments": [
            {"track": 1, "category_id": run, "start_ms": 333.3333, "end_ms": 1234.5},
            {"track": 0, "category_id": walk, "start_ms": 600, "end_ms": 1000},
            {"track": 0, "category_id": walk, "start_ms": 120, "end_ms": 520},
        ]
    }


def runs(ids: dict[str, int]) -> dict[str, Any]:
    return {"segments": [{"track": 0, "category_id": ids["run"], "start_ms": 250, "end_ms": 1750}]}


@pytest.fixture
def segmented(api_for: Client, runtime: Runtime, tmp_path: Path) -> dict[str, Any]:
    walking = clips.constant_rate(tmp_path / "walks.mp4", seconds=2, rate=25)
    running = clips.constant_rate(tmp_path / "runs.mp4", seconds=3, rate=10)
    return released(
        api_for, runtime, "segments", ["walk", "run"], [(walking, walks), (running, runs)]
    )


def stem(item: dict[str, Any]) -> str:
    return f"{item['id']}-{Path(item['name']).stem}"


def read_cvat(folder: Path) -> list[tuple[Any, ...]]:
    dataset = datumaro.Dataset.import_from(str(folder), "cvat")
    labels = dataset.categories()[datumaro.AnnotationType.label]
    return sorted(
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


STREET_CVAT = [
    # frame, track, label, keyframe, outside, occluded, (x, y, w, h)
    (1, 3, "car", True, False, False, (2, 4, 10, 6)),
    (2, 3, "car", False, False, False, (4, 5, 11, 6)),
    (3, 3, "car", False, False, False, (6, 6, 12, 6)),
    (4, 3, "car", False, False, False, (8, 7, 13, 6)),
    (5, 3, "car", True, False, True, (10, 8, 14, 6)),
    (6, 0, "bike", True, False, False, (40, 20, 8, 8)),
    (6, 3, "car", False, False, True, (11, 8, 14, 6)),  # halfway to where it leaves, occluded
    (7, 0, "bike", False, False, False, (40, 20, 8, 8)),
    (7, 3, "car", True, True, False, (12, 8, 14, 6)),  # the car leaves: no box after
    (8, 0, "bike", False, False, False, (40, 20, 8, 8)),
    (9, 0, "bike", False, False, False, (40, 20, 8, 8)),  # the last box holds to the end
]
LANE_CVAT = [
    (0, 0, "car", True, False, False, (0, 0, 4, 4)),
    (1, 0, "car", False, False, False, (10, 10, 4, 4)),
    (2, 0, "car", False, False, False, (20, 20, 4, 4)),
    (3, 0, "car", True, False, False, (30, 30, 4, 4)),
    (4, 0, "car", False, False, False, (30, 30, 4, 4)),
    (5, 0, "car", False, False, False, (30, 30, 4, 4)),
]


def test_cvat_video_writes_a_task_folder_per_video_that_datumaro_reads_back(
    tracked: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "cvat"
    out.mkdir()
    video_exports.write_cvat_video(tracked["view"], out)
    street, lane = tracked["items"]
    assert sorted(p.name for p in out.iterdir()) == sorted([stem(street), stem(lane)])
    assert sorted(p.name for p in (out / stem(street)).iterdir()) == [
        f"{stem(street)}.mp4",
        "annotations.xml",
    ]
    assert (out / stem(street) / f"{stem(street)}.mp4").read_bytes() == (
        tracked["view"].folder / "media" / f"{stem(street)}.mp4"
    ).read_bytes()
    assert read_cvat(out / stem(street)) == STREET_CVAT
    assert read_cvat(out / stem(lane)) == LANE_CVAT


def test_the_cvat_xml_names_the_video_its_size_and_who_drew_the_tracks(
    tracked: dict[str, Any], tmp_path: Path
) -> None:
    video_exports.write_cvat_video(tracked["view"], tmp_path)
    root = ET.parse(tmp_path / stem(tracked["items"][0]) / "annotations.xml").getroot()
    task = root.find("meta/task")
    assert task is not None
    assert (task.findtext("name"), task.findtext("size"), task.findtext("stop_frame")) == (
        "street.mp4",
        "10",
        "9",
    )
    assert (task.findtext("original_size/width"), task.findtext("original_size/height")) == (
        str(clips.WIDTH),
        str(clips.HEIGHT),
    )
    assert task.findtext("assignee/username") == tracked["annotator"]
    assert [label.findtext("name") for label in task.iter("label")] == ["car", "bike"]
    assert [(t.get("id"), t.get("label"), t.get("source")) for t in root.iter("track")] == [
        ("3", "car", "manual"),
        ("0", "bike", "manual"),
    ]


def test_mot_writes_a_sequence_per_video_that_datumaro_reads_back(
    tracked: dict[str, Any], tmp_path: Path
) -> None:
    video_exports.write_mot(tracked["view"], tmp_path)
    street, lane = tracked["items"]
    sequence = tmp_path / stem(street)
    assert (sequence / "gt" / "labels.txt").read_text() == "car\nbike\n"
    car, bike = tracked["categories"]["car"], tracked["categories"]["bike"]
    assert (car, bike) == (1, 2)  # so MOT class 1 is car and 2 bike (category id order)
    assert (sequence / "gt" / "gt.txt").read_text().splitlines() == [
        # frame (1-based), id (track id + 1), left, top, width, height, conf, class, visibility
        "2,4,2,4,10,6,1,1,1",
        "3,4,4,5,11,6,1,1,1",
        "4,4,6,6,12,6,1,1,1",
        "5,4,8,7,13,6,1,1,1",
        "6,4,10,8,14,6,1,1,0",
        "7,1,40,20,8,8,1,2,1",
        "7,4,11,8,14,6,1,1,0",
        "8,1,40,20,8,8,1,2,1",
        "9,1,40,20,8,8,1,2,1",
        "10,1,40,20,8,8,1,2,1",
    ]
    assert (sequence / "seqinfo.ini").read_text() == (
        f"[Sequence]\nname={stem(street)}\nimDir=img1\nframeRate=25\nseqLength=10\n"
        f"imWidth={clips.WIDTH}\nimHeight={clips.HEIGHT}\nimExt=.jpg\n"
    )
    assert (sequence / f"{stem(street)}.mp4").is_file()

    dataset = datumaro.Dataset.import_from(str(sequence), "mot_seq")
    labels = dataset.categories()[datumaro.AnnotationType.label]
    assert sorted(int(item.id) for item in dataset) == list(range(1, 11))  # every frame
    found = sorted(
        (
            int(item.id),
            ann.attributes["track_id"],
            labels[ann.label].name,
            ann.attributes["occluded"],
            (ann.x, ann.y, ann.w, ann.h),
        )
        for item in dataset
        for ann in item.annotations
    )
    assert found == [
        (frame + 1, track + 1, label, occluded, xywh)
        for frame, track, label, _, outside, occluded, xywh in STREET_CVAT
        if not outside
    ]
    lane_set = datumaro.Dataset.import_from(str(tmp_path / stem(lane)), "mot_seq")
    assert sorted((int(item.id), (a.x, a.y)) for item in lane_set for a in item.annotations) == [
        (frame + 1, xywh[:2]) for frame, *_, xywh in LANE_CVAT
    ]


def test_segments_json_holds_every_video_with_ms_and_inclusive_frames(
    segmented: dict[str, Any], tmp_path: Path
) -> None:
    video_exports.write_segments_json(segmented["view"], tmp_path)
    walking, running = (f"videos/{stem(item)}.mp4" for item in segmented["items"])
    assert sorted(p.name for p in (tmp_path / "videos").iterdir()) == sorted(
        Path(v).name for v in (walking, running)
    )
    who = segmented["annotator"]
    assert json.loads((tmp_path / "segments.json").read_text()) == {
        "videos": [
            {
                "video": walking,
                "fps": 25.0,
                "annotator": who,
                "segments": [  # by row, then start; frames at 25 fps: floor(start), ceil(end) - 1
                    {
                        "track": 0,
                        "category": "walk",
                        "start_ms": 120.0,
                        "end_ms": 520.0,
                        "start_frame": 3,  # 120 ms × 25 / 1000 = 3
                        "end_frame": 12,  # 520 ms × 25 / 1000 = 13, exclusive
                    },
                    {
                        "track": 0,
                        "category": "walk",
                        "start_ms": 600.0,
                        "end_ms": 1000.0,
                        "start_frame": 15,
                        "end_frame": 24,
                    },
                    {
                        "track": 1,
                        "category": "run",
                        "start_ms": 333.333,  # to the microsecond
                        "end_ms": 1234.5,
                        "start_frame": 8,  # 8.33 → frame 8
                        "end_frame": 30,  # 30.86 → frame 30 is the last it overlaps
                    },
                ],
            },
            {
                "video": running,
                "fps": 10.0,
                "annotator": who,
                "segments": [
                    {
                        "track": 0,
                        "category": "run",
                        "start_ms": 250.0,
                        "end_ms": 1750.0,
                        "start_frame": 2,  # 2.5 at 10 fps
                        "end_frame": 17,  # 17.5 → frame 17
                    }
                ],
            },
        ]
    }


def test_segments_csv_has_one_row_per_segment_of_every_video(
    segmented: dict[str, Any], tmp_path: Path
) -> None:
    video_exports.write_segments_csv(segmented["view"], tmp_path)
    walking, running = (f"videos/{stem(item)}.mp4" for item in segmented["items"])
    with (tmp_path / "segments.csv").open(newline="") as file:
        rows = list(csv.reader(file))
    assert rows == [
        ["video", "track", "category", "start_ms", "end_ms", "start_frame", "end_frame"],
        [walking, "0", "walk", "120", "520", "3", "12"],
        [walking, "0", "walk", "600", "1000", "15", "24"],
        [walking, "1", "run", "333.333", "1234.5", "8", "30"],
        [running, "0", "run", "250", "1750", "2", "17"],
    ]
    assert (tmp_path / running).is_file()


def test_a_writer_given_a_version_without_its_annotation_type_refuses_and_writes_nothing(
    tracked: dict[str, Any], segmented: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for write in (video_exports.write_cvat_video, video_exports.write_mot):
        with pytest.raises(InvalidInput, match="holds no track annotations, so there is nothing"):
            write(segmented["view"], out)
    for write in (video_exports.write_segments_json, video_exports.write_segments_csv):
        with pytest.raises(InvalidInput, match="holds no segments annotations"):
            write(tracked["view"], out)
    assert list(out.iterdir()) == []


def test_the_formats_are_named_for_the_annotation_types_they_write() -> None:
    assert [(f.name, f.annotation_types) for f in video_exports.FORMATS] == [
        ("cvat-video", ("track",)),
        ("mot", ("track",)),
        ("segments-json", ("segments",)),
        ("segments-csv", ("segments",)),
    ]
    for contribution in video_exports.FORMATS:
        contribution.check()


# --- through the core, once the plugin registers FORMATS ----------------------------------------


def test_cvat_video_is_written_through_the_core_export(
    tracked: dict[str, Any], runtime: Runtime, tmp_path: Path
) -> None:
    out = exports.write(runtime, tracked["version"]["id"], "cvat-video", tmp_path / "cvat")
    street, lane = tracked["items"]
    assert read_cvat(out / stem(street)) == STREET_CVAT
    assert read_cvat(out / stem(lane)) == LANE_CVAT


def test_a_track_format_asked_of_a_segments_version_is_refused_by_the_core(
    segmented: dict[str, Any], runtime: Runtime, tmp_path: Path
) -> None:
    with pytest.raises(
        InvalidInput,
        match=r"The CVAT for video 1\.1 \(object tracks\) format writes track; this version "
        r"holds segments",
    ):
        exports.write(runtime, segmented["version"]["id"], "cvat-video", tmp_path / "cvat")
    assert not (tmp_path / "cvat").exists()


def test_coco_of_a_tracks_version_takes_each_video_s_categories_from_the_type(
    tracked: dict[str, Any], runtime: Runtime, tmp_path: Path
) -> None:
    """The COCO format asks the annotation type which categories a payload uses (tracks keep
    theirs in ``tracks[].category_id``, not ``category_ids``): one image per video, with the
    probed size, and one annotation per category its tracks use."""
    from pycocotools.coco import COCO

    out = exports.write(runtime, tracked["version"]["id"], "coco", tmp_path / "coco")
    coco = COCO(str(out / "annotations.json"))
    street, lane = tracked["items"]
    ids = tracked["categories"]
    assert sorted(coco.getImgIds()) == sorted([street["id"], lane["id"]])
    for image in coco.loadImgs(coco.getImgIds()):
        assert (image["width"], image["height"]) == (clips.WIDTH, clips.HEIGHT)
        assert (out / image["file_name"]).is_file()
    used = {
        image_id: sorted(a["category_id"] for a in coco.loadAnns(coco.getAnnIds(imgIds=[image_id])))
        for image_id in coco.getImgIds()
    }
    assert used == {street["id"]: sorted([ids["car"], ids["bike"]]), lane["id"]: [ids["car"]]}
