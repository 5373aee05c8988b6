"""A video uploaded to an image project becomes its frames: a background job with progress,
frame items with their provenance (timestamps from PyAV's own pts), labeled like images and
exported with it; the same video again makes nothing twice; a bad video is refused by name and
a truncated one fails part-way, keeping its frames, and can be retried."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest
from litestar.testing import TestClient

from scholia.core import exports
from scholia.core.plugins import Plugins, load_plugins
from scholia.core.runtime import Runtime

from ..conftest import DEFAULT_PLUGINS, EXAMPLE_PLUGINS, export, folder_of, labels_of
from . import clips


@pytest.fixture
def plugins() -> Plugins:
    return load_plugins(default_plugins=DEFAULT_PLUGINS, select={*EXAMPLE_PLUGINS, "scholia-video"})


@pytest.fixture
def frames_project(api_for: Callable[..., TestClient[Any]]) -> dict[str, Any]:
    manager = api_for("manager")
    project = manager.post(
        "/api/v1/projects",
        json={
            "name": "Street frames",
            "modality": "image",
            "annotation_types": ["classification"],
            "categories": ["empty", "busy"],
        },
    ).json()
    return {"manager": manager, **project}


def upload(
    client: TestClient[Any], project_id: int, files: dict[str, Path], **options: Any
) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/projects/{project_id}/items",
        files=[("files", (name, path.read_bytes(), "video/mp4")) for name, path in files.items()],
        data={f"options.{key}": str(value) for key, value in options.items()},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def finished(client: TestClient[Any], url: str, timeout_s: float = 60) -> dict[str, Any]:
    """The expansion at ``url`` once it stopped running (polled as the page polls it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        body: dict[str, Any] = client.get(url).json()
        if body["status"] != "running" or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def frame_items(client: TestClient[Any], project_id: int) -> list[dict[str, Any]]:
    page = client.get(f"/api/v1/projects/{project_id}/items", params={"limit": 500}).json()
    return list(page["items"])


def pts_ms(path: Path) -> list[float]:
    """Every frame's presentation time in ms, as PyAV decodes them (the oracle)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        base = stream.time_base or Fraction(1, 1000)
        times = [float(f.pts * base * 1000) for f in container.decode(stream)]
    start = times[0] if times else 0.0
    return sorted(t - start for t in times)


def test_an_mp4_becomes_its_frames_with_their_indices_and_timestamps(
    frames_project: dict[str, Any], tmp_path: Path
) -> None:
    manager, project_id = frames_project["manager"], frames_project["id"]
    clip = clips.constant_rate(tmp_path / "street.mp4", seconds=1, rate=25)
    body = upload(manager, project_id, {"street.mp4": clip}, mode="all")
    assert body["created"] == [] and body["errors"] == []
    (started,) = body["expansions"]
    assert started["name"] == "street.mp4" and started["meta"]["frame_count"] == 25
    done = finished(manager, started["url"])
    assert done["status"] == "done", done
    assert (done["total"], done["processed"], done["created"]) == (25, 25, 25)
    found = frame_items(manager, project_id)
    assert len(found) == 25
    expected = pts_ms(clip)
    for item in found:
        origin = item["provenance"]
        index = origin["frame_index"]
        assert item["name"] == f"street-f{index:06d}.jpg"
        assert item["media_type"] == "image/jpeg"
        assert (item["meta"]["width"], item["meta"]["height"]) == (clips.WIDTH, clips.HEIGHT)
        assert origin["timestamp_ms"] == pytest.approx(expected[index], abs=0.01)
        assert origin["video_id"] == started["sha256"]
        assert origin["video"]["fps"] == pytest.approx(25)
        assert origin["video"]["codec"] == "h264"
        assert origin["container"] == {
            "sha256": started["sha256"],
            "name": "street.mp4",
            "modality": "video",
        }
    assert sorted(i["provenance"]["frame_index"] for i in found) == list(range(25))


def test_a_variable_rate_video_sampled_by_fps_keeps_the_real_timestamps(
    frames_project: dict[str, Any], tmp_path: Path
) -> None:
    manager, project_id = frames_project["manager"], frames_project["id"]
    clip = clips.variable_rate(tmp_path / "uneven.mkv", frames=40)
    response = manager.post(
        f"/api/v1/projects/{project_id}/items",
        files=[("files", ("uneven.mkv", clip.read_bytes(), "video/x-matroska"))],
        data={"options.mode": "fps", "options.fps": "10"},
    )
    (started,) = response.json()["expansions"]
    done = finished(manager, started["url"])
    assert done["status"] == "done", done
    times = pts_ms(clip)
    found = sorted(frame_items(manager, project_id), key=lambda i: i["provenance"]["frame_index"])
    assert len(found) == done["created"] > 5
    taken = [i["provenance"]["timestamp_ms"] for i in found]
    # One frame per 100 ms instant: the first frame at or after each instant, by its real pts.
    expected, instant = [], 0.0
    for t in times:
        if t >= instant:
            expected.append(t)
            while instant <= t:
                instant += 100.0
    assert taken == pytest.approx(expected, abs=0.01)
    assert [times.index(t) for t in expected] == [i["provenance"]["frame_index"] for i in found]


def test_frames_are_labeled_like_images_and_exported_with_their_provenance(
    frames_project: dict[str, Any],
    api_for: Callable[..., TestClient[Any]],
    runtime: Runtime,
    tmp_path: Path,
) -> None:
    manager, project_id = frames_project["manager"], frames_project["id"]
    clip = clips.constant_rate(tmp_path / "street.mp4", seconds=1, rate=25)
    (started,) = upload(manager, project_id, {"street.mp4": clip}, mode="count", count=3)[
        "expansions"
    ]
    assert finished(manager, started["url"])["created"] == 3
    categories = manager.get(f"/api/v1/projects/{project_id}/categories").json()
    annotator = api_for("annotator", project=project_id)
    for item in frame_items(manager, project_id):
        saved = annotator.post(
            f"/api/v1/items/{item['id']}/annotations",
            json={
                "annotation_type": "classification",
                "payload": {"category_ids": [categories[0]["id"]]},
            },
        )
        assert saved.status_code == 201, saved.text
    reviewed = api_for("reviewer", project=project_id).post(
        f"/api/v1/projects/{project_id}/reviews",
        json={
            "item_ids": [i["id"] for i in frame_items(manager, project_id)],
            "decision": "approved",
        },
    )
    assert len(reviewed.json()["decided"]) == 3, reviewed.text
    version = export(runtime, project_id)
    folder = folder_of(runtime, version)
    lines = labels_of(runtime, version)
    # Three instants over 1 s (0, 333.3, 666.7 ms): the first frames at or after them, 40 ms apart.
    assert sorted(line["item_provenance"]["frame_index"] for line in lines) == [0, 9, 17]
    assert all(line["item_provenance"]["video_id"] == started["sha256"] for line in lines)
    assert all(line["item_meta"]["width"] == clips.WIDTH for line in lines)
    out = exports.write(runtime, version.id, "coco", tmp_path / "coco")  # type: ignore[arg-type]
    coco = json.loads((out / "annotations.json").read_text())
    assert sorted(i["frame_index"] for i in coco["images"]) == [0, 9, 17]
    assert all(i["file_name"].endswith(".jpg") for i in coco["images"])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["content"]["containers"] == [
        {"sha256": started["sha256"], "name": "street.mp4", "modality": "video", "items": 3}
    ]


def test_the_same_video_again_makes_nothing_twice(
    frames_project: dict[str, Any], tmp_path: Path
) -> None:
    manager, project_id = frames_project["manager"], frames_project["id"]
    clip = clips.constant_rate(tmp_path / "street.mp4", seconds=1, rate=25)
    (first,) = upload(manager, project_id, {"street.mp4": clip}, mode="all")["expansions"]
    finished(manager, first["url"])
    (again,) = upload(manager, project_id, {"copy.mp4": clip}, mode="all")["expansions"]
    assert again["id"] == first["id"] and again["status"] == "done"
    (fewer,) = upload(manager, project_id, {"street.mp4": clip}, mode="count", count=5)[
        "expansions"
    ]
    assert fewer["id"] != first["id"]
    done = finished(manager, fewer["url"])
    assert (done["status"], done["created"], done["existing"]) == ("done", 0, 5)
    assert len(frame_items(manager, project_id)) == 25


def test_bad_videos_are_refused_by_name_and_the_rest_go_in(
    frames_project: dict[str, Any], tmp_path: Path
) -> None:
    manager, project_id = frames_project["manager"], frames_project["id"]
    files = {
        "good.mp4": clips.constant_rate(tmp_path / "good.mp4", seconds=0.4, rate=25),
        "sound.mkv": clips.audio_only(tmp_path / "sound.mkv"),
        "garbage.mp4": clips.garbage(tmp_path / "garbage.mp4"),
        "nothing.mp4": clips.zero_length(tmp_path / "nothing.mp4"),
        "odd.mkv": clips.unknown_codec(tmp_path / "odd.mkv"),
        "empty.mp4": clips.empty(tmp_path / "empty.mp4"),
    }
    body = upload(manager, project_id, files, mode="all")
    refused = {e["file"]: e["message"] for e in body["errors"]}
    assert sorted(refused) == sorted(set(files) - {"good.mp4"})
    assert refused["sound.mkv"].startswith("'sound.mkv' cannot be read: the file has no video")
    assert refused["empty.mp4"] == "'empty.mp4' is empty (0 bytes)"
    for name, message in refused.items():
        assert message.startswith(f"{name!r}"), message
    (good,) = body["expansions"]
    assert finished(manager, good["url"])["created"] == 10


def test_bad_options_are_refused_with_the_field(
    frames_project: dict[str, Any], tmp_path: Path
) -> None:
    manager, project_id = frames_project["manager"], frames_project["id"]
    clip = clips.constant_rate(tmp_path / "street.mp4", seconds=0.4, rate=25)
    body = upload(manager, project_id, {"street.mp4": clip}, mode="fps", fps="-2")
    (error,) = body["errors"]
    assert error["file"] == "street.mp4" and "Expected `float` > 0.0" in error["message"]
    body = upload(manager, project_id, {"street.mp4": clip}, mode="sometimes")
    assert "Invalid enum value 'sometimes'" in body["errors"][0]["message"]
    assert body["expansions"] == [] and frame_items(manager, project_id) == []


def test_a_truncated_video_keeps_its_frames_and_can_be_retried(
    frames_project: dict[str, Any], tmp_path: Path
) -> None:
    manager, project_id = frames_project["manager"], frames_project["id"]
    whole = clips.variable_rate(tmp_path / "whole.mkv", frames=40)
    cut = clips.truncated(whole, tmp_path / "cut.mkv", keep=0.6)
    response = manager.post(
        f"/api/v1/projects/{project_id}/items",
        files=[("files", ("cut.mkv", cut.read_bytes(), "video/x-matroska"))],
        data={"options.mode": "all"},
    )
    (started,) = response.json()["expansions"]
    failed = finished(manager, started["url"])
    assert failed["status"] == "failed", failed
    assert "truncated" in failed["error"], failed["error"]
    kept = frame_items(manager, project_id)
    assert 0 < len(kept) == failed["created"] < 40
    assert failed["can_retry"]
    retried = manager.post(f"/api/v1/expansions/{started['id']}/retry")
    assert retried.status_code == 202, retried.text
    again = finished(manager, started["url"])
    assert again["status"] == "failed" and again["created"] == failed["created"]
    assert again["existing"] == failed["created"]
    assert len(frame_items(manager, project_id)) == len(kept)
    refused = manager.post(f"/api/v1/expansions/{started['id']}/cancel")
    assert refused.status_code == 409


def test_a_truncated_mp4_whose_index_is_lost_is_refused_at_upload(
    frames_project: dict[str, Any], tmp_path: Path
) -> None:
    manager, project_id = frames_project["manager"], frames_project["id"]
    whole = clips.constant_rate(tmp_path / "whole.mp4", seconds=1, rate=25)
    cut = clips.truncated(whole, tmp_path / "cut.mp4", keep=0.6)
    body = upload(manager, project_id, {"cut.mp4": cut}, mode="all")
    (error,) = body["errors"]
    assert error["message"].startswith("'cut.mp4' cannot be read:")
    assert "damaged or truncated" in error["message"]


def test_a_frame_item_page_says_which_video_and_frame_it_is(
    frames_project: dict[str, Any], client_for: Callable[..., TestClient[Any]], tmp_path: Path
) -> None:
    manager, project_id = frames_project["manager"], frames_project["id"]
    clip = clips.constant_rate(tmp_path / "street.mp4", seconds=1, rate=25)
    (started,) = upload(manager, project_id, {"street.mp4": clip}, mode="count", count=2)[
        "expansions"
    ]
    finished(manager, started["url"])
    second = max(frame_items(manager, project_id), key=lambda i: i["provenance"]["frame_index"])
    page = client_for("reviewer", project=project_id).get(
        f"/projects/{project_id}/items/{second['id']}"
    )
    assert page.status_code == 200
    text = " ".join(page.text.split())
    assert "<dt>from</dt><dd>street.mp4" in text
    assert (
        "<dt>frame_index</dt><dd>13</dd>" in text and "<dt>timestamp_ms</dt><dd>520.0</dd>" in text
    )
