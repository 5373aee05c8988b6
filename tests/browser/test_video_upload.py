"""In the browser: a manager uploads an MP4 to an image project with "4 frames per video", the
Frame extraction panel shows the job until it is done, and the frames are items in the grid;
a truncated video fails there with the reason and a Retry button."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from scholia.core import projects
from scholia.core.models import Item, User
from scholia.core.plugins import Plugins, load_plugins
from scholia.core.runtime import Runtime

from ..conftest import DEFAULT_PLUGINS, EXAMPLE_PLUGINS, add_member
from ..video import clips
from .conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def plugins() -> Plugins:
    return load_plugins(default_plugins=DEFAULT_PLUGINS, select={*EXAMPLE_PLUGINS, "scholia-video"})


def image_project(runtime: Runtime, manager: User) -> int:
    assert manager.id is not None
    with runtime.session() as session:
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=manager.id,
            name=f"Frames {uuid.uuid4().hex[:4]}",
            modality="image",
            annotation_types=("classification",),
            categories=("empty", "busy"),
        )
        assert project.id is not None
        return project.id


def test_an_uploaded_video_is_split_into_frames_with_progress(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    tmp_path: Path,
    screenshot: Callable[[str], Any],
) -> None:
    manager = make_user("manager", username="maria")
    project_id = image_project(runtime, manager)
    clip = clips.constant_rate(tmp_path / "street.mp4", seconds=1, rate=25)
    sign_in(page, "maria")
    page.goto(f"/projects/{project_id}")
    expect(page.locator(".dropzone-text")).to_contain_text("Drop images or videos here")
    page.get_by_label("Video frames").select_option("count")
    expect(page.get_by_label("Frames per second")).to_be_hidden()
    page.get_by_label("Frames per video").fill("4")
    page.locator("input[type=file]").set_input_files(str(clip))
    page.get_by_role("button", name=re.compile("Upload")).click()
    panel = page.locator("#expansions")
    # Once the job is done the page reloads by itself, and the grid shows the frames.
    expect(page.locator("[data-item-id]")).to_have_count(4, timeout=20_000)
    expect(panel.locator("[data-expansion]")).to_have_attribute("data-status", "done")
    expect(panel).to_contain_text("street.mp4")
    expect(panel).to_contain_text("4 / 4 frames")
    expect(panel).to_contain_text("4 evenly spaced")
    screenshot("extracted")
    with runtime.session() as session:
        found = session.exec(select(Item).where(col(Item.project_id) == project_id)).all()
    assert sorted(i.provenance["frame_index"] for i in found) == [0, 7, 13, 19]


def test_a_truncated_video_fails_with_the_reason_and_can_be_retried(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    tmp_path: Path,
    screenshot: Callable[[str], Any],
) -> None:
    maria = make_user("manager", username="maria")
    project_id = image_project(runtime, make_user("manager"))
    add_member(runtime, project_id, maria)
    whole = clips.variable_rate(tmp_path / "whole.mkv", frames=40)
    cut = clips.truncated(whole, tmp_path / "cut.mkv", keep=0.6)
    sign_in(page, "maria")
    page.goto(f"/projects/{project_id}")
    page.get_by_label("Video frames").select_option("all")
    page.locator("input[type=file]").set_input_files(str(cut))
    page.get_by_role("button", name=re.compile("Upload")).click()
    row = page.locator("#expansions [data-expansion]")
    expect(row).to_have_attribute("data-status", "failed", timeout=20_000)
    expect(row.locator("[data-expansion-error]")).to_contain_text("truncated")
    screenshot("failed")
    row.get_by_role("button", name="Retry").click()
    expect(page.locator(".flash")).to_contain_text("Retrying cut.mkv")
    expect(page.locator("#expansions [data-expansion]")).to_have_attribute(
        "data-status", "failed", timeout=20_000
    )
