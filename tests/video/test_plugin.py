"""scholia-video as installed: found through its entry point, a video uploads as an item with
its probed metadata and a thumbnail, an unreadable one is refused with the reason, and tracks
are submitted and validated like any annotation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from scholia.core.plugins import Plugins, load_plugins

from ..conftest import DEFAULT_PLUGINS, EXAMPLE_PLUGINS
from . import clips


@pytest.fixture
def plugins() -> Plugins:
    return load_plugins(default_plugins=DEFAULT_PLUGINS, select={*EXAMPLE_PLUGINS, "scholia-video"})


@pytest.fixture
def video_project(api_for: Callable[..., TestClient[Any]]) -> Iterator[dict[str, Any]]:
    manager = api_for("manager")
    project = manager.post(
        "/api/v1/projects",
        json={
            "name": "Traffic",
            "modality": "video",
            "annotation_types": ["track"],
            "categories": ["car", "bike"],
        },
    ).json()
    listed = manager.get(f"/api/v1/projects/{project['id']}/categories").json()
    yield {
        "manager": manager,
        "id": project["id"],
        "categories": {c["name"]: c["id"] for c in listed},
    }


def test_a_video_uploads_as_an_item_with_its_metadata_and_a_thumbnail(
    video_project: dict[str, Any], tmp_path: Path
) -> None:
    manager = video_project["manager"]
    clip = clips.constant_rate(tmp_path / "street.mp4", seconds=2, rate=25)
    response = manager.post(
        f"/api/v1/projects/{video_project['id']}/items",
        files=[("files", ("street.mp4", clip.read_bytes(), "video/mp4"))],
    )
    assert response.status_code == 201, response.text
    (item,) = response.json()["created"]
    meta = manager.get(f"/api/v1/items/{item['id']}").json()["meta"]
    assert (meta["width"], meta["height"], meta["frame_count"]) == (clips.WIDTH, clips.HEIGHT, 50)
    assert meta["duration_ms"] == pytest.approx(2000, abs=40)
    thumb = manager.get(item["thumbnail_url"]) if "thumbnail_url" in item else None
    if thumb is not None:
        assert thumb.status_code == 200 and thumb.content[:4] == b"RIFF"


def test_an_audio_only_file_is_refused_with_the_reason(
    video_project: dict[str, Any], tmp_path: Path
) -> None:
    sound = clips.audio_only(tmp_path / "sound.mkv")
    response = video_project["manager"].post(
        f"/api/v1/projects/{video_project['id']}/items",
        files=[("files", ("sound.mkv", sound.read_bytes(), "video/x-matroska"))],
    )
    (error,) = response.json()["errors"]
    assert error["file"] == "sound.mkv"
    assert error["message"] == (
        "'sound.mkv' cannot be read: the file has no video stream, only audio; there are no "
        "frames to extract."
    )


def test_tracks_are_submitted_and_validated_against_the_video(
    video_project: dict[str, Any], api_for: Callable[..., TestClient[Any]], tmp_path: Path
) -> None:
    manager, car = video_project["manager"], video_project["categories"]["car"]
    clip = clips.constant_rate(tmp_path / "street.mp4", seconds=1, rate=25)
    (item,) = manager.post(
        f"/api/v1/projects/{video_project['id']}/items",
        files=[("files", ("street.mp4", clip.read_bytes(), "video/mp4"))],
    ).json()["created"]
    annotator = api_for("annotator", project=video_project["id"])
    track = {
        "track_id": 0,
        "category_id": car,
        "keyframes": [
            {"frame": 0, "x": 1, "y": 1, "width": 10, "height": 8},
            {"frame": 20, "x": 30, "y": 20, "width": 10, "height": 8},
        ],
    }
    saved = annotator.post(
        f"/api/v1/items/{item['id']}/annotations",
        json={"annotation_type": "track", "payload": {"tracks": [track]}},
    )
    assert saved.status_code == 201, saved.text
    beyond = {**track, "keyframes": [{"frame": 90, "x": 1, "y": 1, "width": 10, "height": 8}]}
    refused = annotator.post(
        f"/api/v1/items/{item['id']}/annotations",
        json={"annotation_type": "track", "payload": {"tracks": [beyond]}},
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["path"] == "$.payload.tracks[0].keyframes[0].frame"


@pytest.mark.parametrize(("second_start_ms", "expected"), [(120, "labeled"), (600, "adjudication")])
def test_the_quality_core_compares_two_timelines_by_temporal_iou(
    api_for: Callable[..., TestClient[Any]],
    tmp_path: Path,
    second_start_ms: int,
    expected: str,
) -> None:
    """Overlap 2 on segments: close timelines (IoU 0.8) pass, far ones (no match) go to
    adjudication, with the agreement the plugin declared."""
    manager = api_for("manager")
    project = manager.post(
        "/api/v1/projects",
        json={
            "name": "Actions",
            "modality": "video",
            "annotation_types": ["segments"],
            "categories": ["walk"],
            "settings": {"overlap": 2},
        },
    ).json()
    walk = manager.get(f"/api/v1/projects/{project['id']}/categories").json()[0]["id"]
    clip = clips.constant_rate(tmp_path / "walk.mp4", seconds=1, rate=25)
    (item,) = manager.post(
        f"/api/v1/projects/{project['id']}/items",
        files=[("files", ("walk.mp4", clip.read_bytes(), "video/mp4"))],
    ).json()["created"]
    for start in (80, second_start_ms):
        saved = api_for("annotator", project=project["id"]).post(
            f"/api/v1/items/{item['id']}/annotations",
            json={
                "annotation_type": "segments",
                "payload": {
                    "segments": [
                        {"track": 0, "category_id": walk, "start_ms": start, "end_ms": start + 400}
                    ]
                },
            },
        )
        assert saved.status_code == 201, saved.text
    assert manager.get(f"/api/v1/items/{item['id']}").json()["status"] == expected
