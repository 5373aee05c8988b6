"""Uploading on the project page: 120 images by multi-select and by drag-and-drop, in batches
with a progress bar each, a summary naming the refused files, no duplicates on a second upload,
and the plain form still working without JavaScript."""

from __future__ import annotations

import base64
import io
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func
from sqlmodel import col, select

from scholia.core import projects
from scholia.core.models import Item, Project, User
from scholia.core.runtime import Runtime

from .conftest import sign_in

pytestmark = pytest.mark.browser

COUNT = 120


def make_project(runtime: Runtime, manager: User) -> Project:
    assert manager.id is not None
    with runtime.session() as session:
        return projects.create_project(
            session,
            runtime.plugins,
            actor_id=manager.id,
            name=f"Upload {uuid.uuid4().hex[:4]}",
            modality="image",
            annotation_types=("classification",),
            categories=("cat", "dog"),
        )


def item_count(runtime: Runtime, project_id: int) -> int:
    with runtime.session() as session:
        return session.exec(
            select(func.count()).select_from(Item).where(col(Item.project_id) == project_id)
        ).one()


def write_images(folder: Path, count: int) -> list[Path]:
    """``count`` distinct 64x48 PNGs, a truncated PNG and a text file."""
    folder.mkdir()
    paths = []
    for index in range(count):
        path = folder / f"img{index:03d}.png"
        colour = (index * 2 % 256, (index * 37) % 256, 255 - index % 256)
        Image.new("RGB", (64, 48), colour).save(path, format="PNG")
        paths.append(path)
    whole = io.BytesIO()
    Image.new("RGB", (64, 48), (1, 2, 3)).save(whole, format="PNG")
    broken = folder / "broken.png"
    broken.write_bytes(whole.getvalue()[:60])
    notes = folder / "notes.txt"
    notes.write_text("not an image")
    return [*paths, broken, notes]


def drop_files(page: Page, files: list[Path]) -> None:
    """Drop ``files`` on the drop zone: a DataTransfer holding real File objects, as a drag
    from the desktop delivers them."""
    payload = [{"name": p.name, "data": base64.b64encode(p.read_bytes()).decode()} for p in files]
    page.locator(".dropzone").evaluate(
        """(zone, files) => {
            const transfer = new DataTransfer();
            for (const { name, data } of files) {
                const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
                const type = name.endsWith(".png") ? "image/png" : "text/plain";
                transfer.items.add(new File([bytes], name, { type }));
            }
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true,
                                                         dataTransfer: transfer }));
            }
        }""",
        payload,
    )


def test_upload_120_images_in_batches_then_again_by_drop_without_duplicates(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    mara = make_user("manager", username="mara")
    project = make_project(runtime, mara)
    assert project.id is not None
    files = write_images(tmp_path / "images", COUNT)

    sign_in(page, "mara")
    page.goto(f"/projects/{project.id}")
    zone = page.locator(".dropzone")
    expect(zone).to_contain_text("Drop images here or choose files")
    screenshot("1-empty")

    page.locator(".uploader input[type=file]").set_input_files(files)
    expect(zone).to_contain_text("122 files selected")
    page.get_by_role("button", name="Upload").click()
    batches = page.locator(".upload-batch")
    expect(batches).to_have_count(7)  # 20 files per request
    expect(batches.first.locator("progress")).to_be_visible()
    expect(page.locator(".upload-batch.done").nth(1)).to_be_attached()
    screenshot("2-uploading")

    summary = page.locator(".upload-summary")
    expect(summary).to_be_visible(timeout=60_000)
    expect(page.locator(".uploader")).to_have_attribute("data-upload-state", "done")
    expect(summary.locator(".upload-counts")).to_have_text(f"{COUNT} added.")
    refused = summary.locator(".upload-errors li")
    expect(refused).to_have_count(2)
    expect(refused.filter(has_text="broken.png")).to_contain_text(
        re.compile(r"'broken\.png' cannot be read: damaged or truncated PNG")
    )
    expect(refused.filter(has_text="notes.txt")).to_contain_text("is not image media")
    expect(page.locator(".upload-batch.done")).to_have_count(6)
    expect(page.locator(".upload-batch.failed")).to_have_count(1)  # both bad files, in the last
    # The page reloaded: the grid shows the new thumbnails, and their images load.
    thumbs = page.locator(".thumbs img")
    expect(thumbs.first).to_be_visible()
    expect(thumbs.first).to_have_js_property("complete", True)
    assert thumbs.first.evaluate("image => image.naturalWidth") > 0
    screenshot("3-uploaded")
    assert item_count(runtime, project.id) == COUNT

    # The same files again, dropped this time: all already there, none duplicated.
    drop_files(page, files)
    expect(page.locator(".uploader")).to_have_attribute("data-upload-state", "done")
    expect(summary.locator(".upload-counts")).to_have_text(
        f"0 added, {COUNT} already in the project (not duplicated)."
    )
    expect(refused).to_have_count(2)
    screenshot("4-dropped-again")
    assert item_count(runtime, project.id) == COUNT


def test_plain_form_works_without_javascript(
    browser: Browser,
    live_server: str,
    runtime: Runtime,
    make_user: Callable[..., User],
    tmp_path: Path,
) -> None:
    mara = make_user("manager", username="mara")
    project = make_project(runtime, mara)
    assert project.id is not None
    files = write_images(tmp_path / "images", 3)
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, "mara")
        page.goto(f"/projects/{project.id}")
        page.locator(".uploader input[type=file]").set_input_files(files)
        page.get_by_role("button", name="Upload").click()
        page.wait_for_url(re.compile(rf"/projects/{project.id}$"))
        expect(page.locator(".flash")).to_contain_text("3 added. Not added: 'broken.png'")
    finally:
        context.close()
    assert item_count(runtime, project.id) == 3
