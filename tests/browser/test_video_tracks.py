"""In the browser: an annotator tracks a car through a video with the mouse and the keyboard.
A box drawn on frame 0, moved on frame 10 and marked outside on frame 20 is stored as those
three keyframes in the video's pixels; frame 5 shows the box interpolated between the first two,
frame 25 none. A box dragged past the frame's edge is clamped to it and resized by a corner,
and a save the server refuses (the category was deleted meanwhile) says why and leaves nothing
drawn. The page's shapeAt() gives tracks.py's shape on every frame."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from playwright.sync_api import Locator, Page, expect

from scholia.core import labels, projects, uploads
from scholia.core.models import User
from scholia.core.plugins import Plugins, load_plugins
from scholia.core.runtime import Runtime
from scholia_video import tracks

from ..conftest import DEFAULT_PLUGINS, EXAMPLE_PLUGINS
from ..video import clips
from .conftest import sign_in

pytestmark = pytest.mark.browser

WIDTH, HEIGHT, FRAMES = 320, 180, 30
"""The clip: wide enough that a box is many screen pixels, long enough for three keyframes."""


@pytest.fixture
def plugins() -> Plugins:
    return load_plugins(default_plugins=DEFAULT_PLUGINS, select={*EXAMPLE_PLUGINS, "scholia-video"})


@pytest.fixture
def video_item(runtime: Runtime, make_user: Callable[..., User], tmp_path: Path) -> dict[str, Any]:
    """A track project (car, bike) holding one 320x180 clip of 30 frames at 25 fps."""
    manager = make_user("manager", username="maria")
    assert manager.id is not None
    with runtime.session() as session:
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=manager.id,
            name=f"Traffic {uuid.uuid4().hex[:4]}",
            modality="video",
            annotation_types=("track",),
            categories=("car", "bike"),
        )
        assert project.id is not None
        project_id = project.id
        car = next(c.id for c in labels.live_categories(session, project_id) if c.name == "car")
    clip = clips.encode(tmp_path / "street.mp4", FRAMES, width=WIDTH, height=HEIGHT)
    with clip.open("rb") as file:
        result = uploads.ingest_files(
            runtime, project_id, [("street.mp4", file)], actor_id=manager.id
        )
    (item,) = result.created
    return {"project_id": project_id, "item_id": item.id, "manager": manager, "car": car}


class Frame:
    """The editor's frame on the page: maps the video's pixels to the screen and back."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.overlay = page.locator("[data-tracks-overlay]")
        box = self.overlay.bounding_box()
        assert box is not None
        self.left, self.top, self.scale = box["x"], box["y"], box["width"] / WIDTH
        distorted = f"the frame is distorted: {box}"
        assert box["height"] / HEIGHT == pytest.approx(self.scale, rel=1e-3), distorted

    def screen(self, x: float, y: float) -> tuple[float, float]:
        return self.left + x * self.scale, self.top + y * self.scale

    def drag(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        """Press at ``start`` and release at ``end``, both in video pixels (may lie outside)."""
        self.page.mouse.move(*self.screen(*start))
        self.page.mouse.down()
        self.page.mouse.move(*self.screen(*end), steps=8)
        self.page.mouse.up()

    def boxes(self) -> Locator:
        return self.overlay.locator("[data-track-id]")

    def shown(self, box: Locator) -> tuple[float, float, float, float]:
        """A drawn box as the annotator sees it, in video pixels (from its place on screen)."""
        # The rectangle's geometry on screen, without its stroke (which bounding_box counts).
        x, y, width, height = box.locator("[data-move]").first.evaluate(
            """rect => {
                const b = rect.getBBox(), m = rect.getScreenCTM();
                return [b.x * m.a + m.e, b.y * m.d + m.f, b.width * m.a, b.height * m.d];
            }"""
        )
        return (
            (x - self.left) / self.scale,
            (y - self.top) / self.scale,
            width / self.scale,
            height / self.scale,
        )


def open_editor(page: Page, video_item: dict[str, Any]) -> Frame:
    page.goto(f"/projects/{video_item['project_id']}/label/{video_item['item_id']}")
    expect(page.locator("[data-editor-root=track][data-editor-mounted]")).to_be_attached()
    expect(page.locator("[data-tracks-frame]")).to_have_text(f"frame 0 / {FRAMES - 1}")
    return Frame(page)


def saving(page: Page) -> Any:
    """Wait for the editor's next save to reach the API."""
    return page.expect_response(
        lambda r: r.url.endswith("/annotations") and r.request.method == "POST"
    )


def stored_tracks(page: Page, item_id: int) -> list[dict[str, Any]] | None:
    response = page.request.get(f"/api/v1/items/{item_id}/annotations")
    assert response.ok, response.text()
    found = [a for a in response.json() if a["annotation_type"] == "track"]
    return found[0]["payload"]["tracks"] if found else None


def step(page: Page, key: str, times: int, frame: int) -> None:
    for _ in range(times):
        page.keyboard.press(key)
    expect(page.locator("[data-tracks-stage]")).to_have_attribute("data-frame", str(frame))


def assert_box(actual: Any, expected: tuple[float, float, float, float]) -> None:
    assert actual == pytest.approx(expected, abs=1), f"{actual} is not {expected} (±1 px)"


def test_a_track_drawn_moved_and_marked_outside_is_stored_and_interpolated(
    page: Page,
    video_item: dict[str, Any],
    make_user: Callable[..., User],
    screenshot: Callable[[str], Any],
) -> None:
    make_user("annotator", username="kai", project=video_item["project_id"])
    sign_in(page, "kai")
    frame = open_editor(page, video_item)

    # Frame 0: a car drawn by dragging from (40, 30) to (120, 90).
    with saving(page) as first:
        frame.drag((40, 30), (120, 90))
    assert first.value.status == 201, first.value.text()
    (box,) = frame.boxes().all()
    assert_box(frame.shown(box), (40, 30, 80, 60))
    rows = page.locator("[data-track-row]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("car")
    expect(rows.first).to_contain_text("1 keyframe")

    # Frame 10: the box (held since frame 0) dragged by its middle 60 px right, 30 down.
    step(page, ".", 10, 10)
    assert_box(frame.shown(frame.boxes().first), (40, 30, 80, 60))
    with saving(page) as second:
        frame.drag((80, 60), (140, 90))
    assert second.value.status == 201, second.value.text()

    # Frame 20: O marks it outside; from there on the car is gone.
    step(page, ".", 10, 20)
    with saving(page) as third:
        page.keyboard.press("o")
    assert third.value.status == 201, third.value.text()
    expect(frame.boxes()).to_have_count(0)
    expect(rows.first).to_contain_text("3 keyframes")
    expect(rows.first.locator("[data-track-state]")).to_have_text("outside")

    (track,) = stored_tracks(page, video_item["item_id"]) or []
    assert track["category_id"] == video_item["car"]
    keyframes = track["keyframes"]
    assert [(k["frame"], k["outside"], k["occluded"]) for k in keyframes] == [
        (0, False, False),
        (10, False, False),
        (20, True, False),
    ]
    places = [(k["x"], k["y"], k["width"], k["height"]) for k in keyframes]
    assert_box(places[0], (40, 30, 80, 60))
    assert_box(places[1], (100, 60, 80, 60))
    assert_box(places[2], (100, 60, 80, 60))  # where it left: the box it had

    # Frame 5, halfway between frames 0 and 10, shows the box halfway between their boxes.
    step(page, ",", 15, 5)
    (box,) = frame.boxes().all()
    expect(box).to_have_attribute("data-keyframe", "false")
    assert_box(frame.shown(box), (70, 45, 80, 60))
    screenshot("interpolated-frame-5")

    # Frame 25, after the outside keyframe: no box.
    step(page, ".", 20, 25)
    expect(frame.boxes()).to_have_count(0)
    screenshot("outside-frame-25")


def test_a_box_past_the_edge_is_clamped_resized_and_a_refused_save_says_why(
    page: Page,
    runtime: Runtime,
    video_item: dict[str, Any],
    make_user: Callable[..., User],
    screenshot: Callable[[str], Any],
) -> None:
    make_user("annotator", username="kai", project=video_item["project_id"])
    sign_in(page, "kai")
    frame = open_editor(page, video_item)
    message = page.locator("[data-tracks-message]")

    # Dragged from (250, 120) to 40 px past the bottom-right corner: the box ends at the edge.
    with saving(page):
        frame.drag((250, 120), (WIDTH + 40, HEIGHT + 40))
    expect(message).to_contain_text("clamped to the frame")
    (track,) = stored_tracks(page, video_item["item_id"]) or []
    (key,) = track["keyframes"]
    assert_box((key["x"], key["y"], key["width"], key["height"]), (250, 120, 70, 60))

    # Its top-left corner dragged 20 px up and left: the bottom-right one stays at the edge.
    with saving(page):
        frame.drag((250, 120), (230, 100))
    (track,) = stored_tracks(page, video_item["item_id"]) or []
    (key,) = track["keyframes"]
    assert_box((key["x"], key["y"], key["width"], key["height"]), (230, 100, 90, 80))

    # The manager deletes "car" while the page is open; a new car track is then refused.
    with runtime.session() as session:
        labels.update_category(
            session,
            video_item["project_id"],
            video_item["car"],
            video_item["manager"].id,
            deleted=True,
        )
    page.keyboard.press("n")
    with saving(page) as refused:
        frame.drag((20, 20), (100, 80))
    assert refused.value.status == 422, refused.value.text()
    status = page.locator("[data-editor-root=track] [data-editor-status]")
    expect(status).to_contain_text("was deleted")
    expect(status).to_have_attribute("data-state", "error")
    expect(message).to_contain_text("as last saved")
    expect(page.locator("[data-track-row]")).to_have_count(1)
    screenshot("refused")
    (track,) = stored_tracks(page, video_item["item_id"]) or []
    assert len(track["keyframes"]) == 1


def test_the_editor_interpolates_every_frame_as_tracks_py_does(
    page: Page, video_item: dict[str, Any], make_user: Callable[..., User]
) -> None:
    """shapeAt() in tracks.js against tracks.shape_at on a track that is occluded, leaves,
    comes back and holds its last box to the end."""
    make_user("annotator", username="kai", project=video_item["project_id"])
    sign_in(page, "kai")
    open_editor(page, video_item)
    # frame, x, y, width, height, outside, occluded
    rows = [
        (2, 10, 20, 30, 40, False, False),
        (6, 50, 10, 50, 20, False, True),
        (9, 80, 40, 20, 20, True, False),
        (13, 5, 5, 10, 10, False, False),
        (20, 200, 100, 60, 30, False, True),
    ]
    names = ("frame", "x", "y", "width", "height", "outside", "occluded")
    keyframes = [dict(zip(names, row, strict=True)) for row in rows]
    track = {"track_id": 1, "category_id": video_item["car"], "keyframes": keyframes}
    in_js = page.evaluate(
        """async ([track, frames]) => {
            const { shapeAt } = await import("/static/plugins/scholia-video/tracks.js");
            return Array.from({ length: frames }, (_, frame) => shapeAt(track, frame));
        }""",
        [track, FRAMES],
    )
    decoded = msgspec.convert(track, tracks.Track)
    in_python = [tracks.shape_at(decoded, frame) for frame in range(FRAMES)]
    assert [s is None for s in in_js] == [s is None for s in in_python]
    for frame, (js, py) in enumerate(zip(in_js, in_python, strict=True)):
        if py is not None:
            assert js == pytest.approx(msgspec.structs.asdict(py)), f"frame {frame}"
