"""The action timeline in a real browser: an annotator draws a segment with the keyboard alone,
it is stored on frame boundaries, and the reviewer who opens the item from review sees it drawn
on the timeline; bad moves are refused with a message; the media handler answers the byte
ranges a <video> asks for when it seeks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from scholia.core import identity
from scholia.core.models import User
from scholia.core.plugins import Plugins, load_plugins
from scholia.core.runtime import Runtime

from ..conftest import DEFAULT_PLUGINS, EXAMPLE_PLUGINS
from ..video import clips
from .conftest import sign_in

pytestmark = pytest.mark.browser

FPS = 25
FRAMES = 25  # one second: short enough to upload and seek quickly


@pytest.fixture
def plugins() -> Plugins:
    return load_plugins(default_plugins=DEFAULT_PLUGINS, select={*EXAMPLE_PLUGINS, "scholia-video"})


@pytest.fixture
def manager_api(
    live_server: str, runtime: Runtime, make_user: Callable[..., User]
) -> Iterator[httpx.Client]:
    """A script talking to the live server with a manager's API token."""
    manager = make_user("manager")
    with runtime.session() as session:
        _, token = identity.create_api_token(session, manager, "tests")
    with httpx.Client(
        base_url=live_server, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


@pytest.fixture
def video(manager_api: httpx.Client, tmp_path: Path) -> dict[str, Any]:
    """A video project (segments, two categories) holding one PyAV clip, made through the API."""
    project = manager_api.post(
        "/api/v1/projects",
        json={
            "name": "Kitchen",
            "modality": "video",
            "annotation_types": ["segments"],
            "categories": ["pour", "stir"],
        },
    )
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    clip = clips.constant_rate(tmp_path / "kitchen.mp4", seconds=FRAMES / FPS, rate=FPS)
    uploaded = manager_api.post(
        f"/api/v1/projects/{project_id}/items",
        files=[("files", ("kitchen.mp4", clip.read_bytes(), "video/mp4"))],
    )
    assert uploaded.status_code == 201, uploaded.text
    (item,) = uploaded.json()["created"]
    meta = manager_api.get(f"/api/v1/items/{item['id']}").json()["meta"]
    listed = manager_api.get(f"/api/v1/projects/{project_id}/categories").json()
    return {
        "project_id": project_id,
        "item_id": item["id"],
        "meta": meta,
        "clip": clip,
        "categories": {c["name"]: c["id"] for c in listed},
    }


def _open_editor(page: Page, video: dict[str, Any]) -> None:
    page.goto(f"/projects/{video['project_id']}/label")
    page.wait_for_url(re.compile(rf"/label/{video['item_id']}$"))
    page.wait_for_selector("[data-editor-root=segments][data-editor-mounted]")
    # The player has the video's metadata, so seeking it is real from here on.
    page.wait_for_function("() => document.querySelector('[data-segments-video]').readyState >= 1")


def _press(page: Page, key: str, times: int = 1) -> None:
    for _ in range(times):
        page.keyboard.press(key)


def _segments(api: httpx.Client, item_id: int) -> list[dict[str, Any]]:
    (annotation,) = api.get(f"/api/v1/items/{item_id}/annotations").json()
    assert annotation["annotation_type"] == "segments"
    segments: list[dict[str, Any]] = annotation["payload"]["segments"]
    return segments


def test_a_segment_drawn_with_the_keyboard_is_stored_on_frames_and_seen_in_review(
    page: Page,
    video: dict[str, Any],
    manager_api: httpx.Client,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    make_user("annotator", username="noor", project=video["project_id"])
    make_user("reviewer", username="rita", project=video["project_id"])
    fps = video["meta"]["fps"]
    assert fps == FPS
    sign_in(page, "noor")
    _open_editor(page, video)
    # The page shows the video once: in the editor, not in the image viewer as well.
    expect(page.locator("[data-image]")).to_have_count(0)
    expect(page.locator("video")).to_have_count(1)

    _press(page, ".", 3)
    expect(page.locator("[data-segments-frame]")).to_have_text(f"frame 3 / {FRAMES - 1}")
    # The player is really at frame 3 (the middle of it, so it never shows a neighbour).
    player = "document.querySelector('[data-segments-video]')"
    page.wait_for_function(f"() => Math.abs({player}.currentTime - 3.5 / {fps}) < 1e-3")
    _press(page, "[")
    _press(page, ".", 5)
    _press(page, "]")
    # No category yet: the span waits for one, drawn dashed where it will go.
    expect(page.locator("[data-segments-message]")).to_contain_text("pick its category")
    expect(page.locator("[data-pending]")).to_have_count(1)
    _press(page, "2")
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    segment = page.locator("[data-editor-root=segments] [data-segment]")
    expect(segment).to_have_count(1)
    expect(segment).to_have_attribute("data-category", "stir")
    screenshot("1-label")

    # Frames 3 to 8, the frame shown at `]` included: [3, 9) frames on the video's clock.
    assert _segments(manager_api, video["item_id"]) == [
        {
            "track": 0,
            "category_id": video["categories"]["stir"],
            "start_ms": pytest.approx(1000 * 3 / fps),
            "end_ms": pytest.approx(1000 * 9 / fps),
        }
    ]

    page.context.clear_cookies()  # signed out: the reviewer signs in on the same browser
    sign_in(page, "rita")
    page.goto(f"/projects/{video['project_id']}/review")
    page.locator(
        f"a[href='/projects/{video['project_id']}/items/{video['item_id']}']"
    ).first.click()
    page.wait_for_url(re.compile(rf"/items/{video['item_id']}$"))
    drawn = page.locator("[data-annotation-view=segments] [data-segment]")
    expect(drawn).to_have_count(1)
    expect(drawn).to_have_attribute("data-category", "stir")
    expect(drawn).to_have_attribute("data-first-frame", "3")
    expect(drawn).to_have_attribute("data-last-frame", "8")
    expect(drawn).to_contain_text("stir")
    # Where it is drawn: from 3/25 to 9/25 of the timeline's width.
    area = page.locator("[data-annotation-view=segments] [data-timeline-area]").bounding_box()
    box = drawn.bounding_box()
    assert area and box
    duration = video["meta"]["duration_ms"]
    assert box["x"] - area["x"] == pytest.approx(area["width"] * (1000 * 3 / fps) / duration, abs=2)
    assert box["width"] == pytest.approx(area["width"] * (1000 * 6 / fps) / duration, abs=2)
    expect(page.locator("[data-annotation-view=segments] [data-segment-entry]")).to_contain_text(
        "stir, row 1, frames 3–8"
    )
    # The page's own viewer shows nothing of its own for a video: the editor holds the player.
    expect(page.locator(".viewer")).to_have_count(0)
    # A click on the drawn segment moves the page's player to its first frame.
    drawn.click()
    expect(page.locator("[data-segments-frame]")).to_have_text(f"frame 3 / {FRAMES - 1}")
    screenshot("2-review")

    # A reviewer is not an annotator of the project: a segment drawn here is refused by the
    # server, the card says why, and the editor goes back to what is stored (nothing of the
    # reviewer's).
    _press(page, "[")
    _press(page, ".", 2)
    _press(page, "]")
    _press(page, "1")
    status = page.locator("[data-editor-root=segments] [data-editor-status]")
    expect(status).to_contain_text(
        "This needs the annotator role in this project; you are a reviewer here."
    )
    expect(status).to_have_attribute("data-state", "error")
    expect(page.locator("[data-editor-root=segments] [data-segment]")).to_have_count(0)
    expect(drawn).to_have_count(1)


def test_bad_moves_on_the_timeline_are_refused_and_explained(
    page: Page,
    video: dict[str, Any],
    manager_api: httpx.Client,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    make_user("annotator", username="noor", project=video["project_id"])
    sign_in(page, "noor")
    _open_editor(page, video)
    message = page.locator("[data-segments-message]")

    _press(page, "]")
    expect(message).to_have_text(
        "Press [ first to set where the segment starts, then ] on its last frame."
    )
    expect(message).to_have_attribute("data-state", "error")

    # pour on frames 2–6.
    _press(page, "1")
    _press(page, ".", 2)
    _press(page, "[")
    _press(page, ".", 4)
    _press(page, "]")
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")

    # An end before the start.
    _press(page, "[")
    _press(page, ",", 2)
    _press(page, "]")
    expect(message).to_have_text(
        "The end (frame 4) is before the start (frame 6): move the playhead past the start, "
        "or press [ here to start over."
    )

    # Frames 4–9 on row 1 overlap pour: refused, and kept pending until it has a free row.
    _press(page, "[")
    _press(page, ".", 5)
    _press(page, "]")
    expect(message).to_contain_text("Frames 4–9 overlap pour, row 1, frames 2–6")
    expect(page.locator("[data-segment]")).to_have_count(1)
    expect(page.locator("[data-pending]")).to_have_count(1)
    screenshot("1-overlap")
    _press(page, "ArrowDown")
    expect(message).to_have_text("This is the last row: press N to add one.")
    assert len(_segments(manager_api, video["item_id"])) == 1

    _press(page, "n")
    expect(page.locator("[data-segments-timeline] [data-row='1'] [data-segment]")).to_have_count(1)
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    screenshot("2-two-rows")
    pour = video["categories"]["pour"]
    assert _segments(manager_api, video["item_id"]) == [
        {
            "track": 0,
            "category_id": pour,
            "start_ms": pytest.approx(80),
            "end_ms": pytest.approx(280),
        },
        {
            "track": 1,
            "category_id": pour,
            "start_ms": pytest.approx(160),
            "end_ms": pytest.approx(400),
        },
    ]

    # Delete without a selection says what to do; with one, it removes that segment.
    _press(page, "Escape")
    _press(page, "Delete")
    expect(message).to_have_text("Select a segment first (click it), then press Delete.")
    page.locator("[data-row='0'] [data-segment]").click()
    _press(page, "Delete")
    expect(page.locator("[data-segment]")).to_have_count(1)
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    assert [s["track"] for s in _segments(manager_api, video["item_id"])] == [1]


def test_the_media_handler_serves_the_byte_ranges_a_video_seeks_with(
    page: Page, video: dict[str, Any], make_user: Callable[..., User]
) -> None:
    make_user("annotator", username="noor", project=video["project_id"])
    sign_in(page, "noor")
    _open_editor(page, video)
    url = page.locator("[data-segments-video]").get_attribute("src")
    assert url
    data = video["clip"].read_bytes()
    size = len(data)

    whole = page.request.get(url)
    assert whole.status == 200 and whole.headers["accept-ranges"] == "bytes"
    assert whole.body() == data
    part = page.request.get(url, headers={"Range": "bytes=10-19"})
    assert part.status == 206
    assert part.headers["content-range"] == f"bytes 10-19/{size}"
    assert part.body() == data[10:20]
    rest = page.request.get(url, headers={"Range": f"bytes={size - 5}-"})
    assert rest.status == 206 and rest.body() == data[-5:]
    tail = page.request.get(url, headers={"Range": "bytes=-7"})
    assert tail.status == 206 and tail.body() == data[-7:]
    beyond = page.request.get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status == 416
    assert beyond.headers["content-range"] == f"bytes */{size}"
    # The browser can seek the video, which it cannot without ranges.
    assert page.evaluate("document.querySelector('[data-segments-video]').seekable.length") == 1


def test_the_item_page_redraws_the_timeline_after_a_save_from_its_editor(
    page: Page, video: dict[str, Any], manager_api: httpx.Client, make_user: Callable[..., User]
) -> None:
    make_user("annotator", username="noor", project=video["project_id"])
    sign_in(page, "noor")
    _open_editor(page, video)  # claims the item, so noor holds its slot
    page.goto(f"/projects/{video['project_id']}/items/{video['item_id']}")
    page.wait_for_selector("[data-editor-root=segments][data-editor-mounted]")
    expect(page.locator("[data-annotation-view]")).to_have_count(0)  # nothing saved yet
    _press(page, "2")
    _press(page, ".", 10)
    _press(page, "[")
    _press(page, ">")
    _press(page, "]")
    expect(page.locator("[data-editor-root=segments] [data-editor-status]")).to_have_text("Saved.")
    # The list is fetched again after the save and its new row drawn by the view.
    drawn = page.locator("[data-annotation-view=segments] [data-segment]")
    expect(drawn).to_have_count(1)
    expect(drawn).to_have_attribute("data-first-frame", "10")
    expect(drawn).to_have_attribute("data-last-frame", "20")
    expect(page.locator("[data-annotation-json]")).to_be_hidden()  # folded under "Payload"
    assert _segments(manager_api, video["item_id"])[0]["end_ms"] == pytest.approx(1000 * 21 / FPS)


def test_the_playhead_follows_playback_and_the_pointer(
    page: Page, video: dict[str, Any], make_user: Callable[..., User]
) -> None:
    make_user("annotator", username="noor", project=video["project_id"])
    sign_in(page, "noor")
    _open_editor(page, video)
    player = "document.querySelector('[data-segments-video]')"
    frame = page.locator("[data-segments-frame]")

    _press(page, " ")
    page.wait_for_function(f"() => !{player}.paused && {player}.currentTime > 0.2")
    _press(page, " ")
    expect(page.locator("[data-segments-do=play]")).to_have_text("▶")  # paused, and drawn
    shown = int(frame.inner_text().split()[1])
    assert shown > 0
    # Paused, the playhead covers the frame shown: from its start, one frame wide.
    playhead = page.locator("[data-segments-timeline] [data-playhead]")
    expect(playhead).to_have_attribute("style", re.compile(rf"left: {100 * shown / FRAMES:g}%"))

    # A click in the middle of frame 12 on the lane puts the playhead (and the player) there;
    # a drag to the right end takes it to the last frame.
    lane = page.locator("[data-segments-timeline] [data-row='0']").bounding_box()
    assert lane
    x = lane["x"] + lane["width"] * 12.5 / FRAMES
    page.mouse.click(x, lane["y"] + lane["height"] / 2)
    expect(frame).to_have_text(f"frame 12 / {FRAMES - 1}")
    page.wait_for_function(f"() => Math.abs({player}.currentTime - 12.5 / {FPS}) < 1e-3")
    page.mouse.down()
    page.mouse.move(lane["x"] + lane["width"] + 40, lane["y"] + 10, steps=4)
    page.mouse.up()
    expect(frame).to_have_text(f"frame {FRAMES - 1} / {FRAMES - 1}")
