"""Uploading images on the project page and rating them with the keyboard in the editor."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, Route, expect
from sqlmodel import select

from scholia.core import items, projects
from scholia.core.models import Annotation, Item, Project, User
from scholia.core.revisions import current_annotations
from scholia.core.runtime import Runtime
from tests.conftest import add_member

from .conftest import sign_in

pytestmark = pytest.mark.browser


def write_png(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> Path:
    Image.new("RGB", size, colour).save(path, format="PNG")
    return path


def png_bytes(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format="PNG")
    return out.getvalue()


def make_project(runtime: Runtime, manager: User) -> Project:
    """Arrange a rating project on images directly in the database (its form has its own
    test)."""
    assert manager.id is not None
    with runtime.session() as session:
        return projects.create_project(
            session,
            runtime.plugins,
            actor_id=manager.id,
            name="Pets",
            modality="image",
            annotation_types=["rating"],
            categories=["cat", "dog"],
            guidelines="Rate sharpness.",
        )


def all_annotations(runtime: Runtime) -> list[Annotation]:
    with runtime.session() as session:
        return list(session.exec(select(Annotation)))


def item_status(runtime: Runtime, item_id: int) -> str:
    with runtime.session() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return str(item.status)


def wait_for_editors(page: Page, *names: str) -> None:
    """The editor host has mounted each named editor (its module is imported asynchronously)."""
    for name in names or ("rating",):
        expect(page.locator(f"[data-editor-root={name}][data-editor-mounted]")).to_be_attached()


def wait_for_thumbnails(page: Page, count: int) -> None:
    """Every thumbnail <img> has loaded a real image (the /media/…/thumb URL worked)."""
    thumbs = page.locator(".thumbs img")
    expect(thumbs).to_have_count(count)
    for index in range(count):
        expect(thumbs.nth(index)).to_have_js_property("complete", True)
    widths = thumbs.evaluate_all("images => images.map(image => image.naturalWidth)")
    assert all(width > 0 for width in widths), widths


def test_upload_images_then_rate_one_with_the_keyboard(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    mara = make_user("manager", username="mara")
    project = make_project(runtime, mara)
    red = write_png(tmp_path / "red.png", (200, 30, 30))
    blue = write_png(tmp_path / "blue.png", (30, 60, 200))
    broken = tmp_path / "broken.png"
    broken.write_bytes(red.read_bytes()[:40])

    sign_in(page, "mara")
    page.goto(f"/projects/{project.id}")
    expect(page.get_by_role("heading", name="No items yet")).to_be_visible()
    screenshot("1-project-empty")

    page.locator("form.upload input[type=file]").set_input_files([red, blue, broken])
    page.get_by_role("button", name="Upload").click()
    flash = page.get_by_role("status")
    # 2 added; the bad file is named, with the reason the image plugin gave.
    expect(flash).to_have_text(
        re.compile(r"^2 added\. Not added: 'broken\.png' cannot be read: \w.+")
    )
    expect(flash).to_have_class(re.compile(r"\berror\b"))
    expect(page).to_have_url(re.compile(rf"/projects/{project.id}$"))
    wait_for_thumbnails(page, 2)
    expect(page.locator(".thumb span:not(.badge)")).to_have_text(["red.png", "blue.png"])
    expect(page.locator(".thumb .badge")).to_have_text(["unlabeled", "unlabeled"])
    expect(page.locator("nav.filters a").first).to_contain_text("All 2")
    screenshot("2-uploaded")

    page.locator(".thumb", has_text="red.png").click()
    page.wait_for_url(re.compile(rf"/projects/{project.id}/items/\d+$"))
    item_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_role("heading", level=1)).to_have_text("red.png")
    expect(page.locator("[data-status]")).to_have_text("unlabeled")
    expect(page.get_by_text("Nobody has annotated this item yet.")).to_be_visible()
    viewer = page.locator("[data-viewer-root=image] [data-image]")  # the image plugin's viewer
    expect(viewer).to_have_js_property("complete", True)
    assert viewer.evaluate("image => image.naturalWidth") == 64
    screenshot("3-item")

    editor = page.locator("[data-rating-editor]")
    wait_for_editors(page)
    page.keyboard.press("4")
    expect(editor.locator("input[name=value][value='4']")).to_be_checked()
    page.keyboard.press("Enter")
    status = editor.locator(".rating-status")
    expect(status).to_have_text("Saved.")
    expect(status).to_have_attribute("data-state", "saved")
    screenshot("4-saved")

    page.reload()
    wait_for_editors(page)
    rows = page.locator("section.card", has=page.get_by_role("heading", name="Annotations"))
    rows = rows.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.locator("td").nth(0)).to_have_text("rating")
    expect(rows.locator("td").nth(1)).to_contain_text('"value": 4')
    expect(rows.locator("td").nth(2)).to_have_text(mara.display_name)
    expect(page.locator("[data-status]")).to_have_text("labeled")
    # The editor shows the saved revision.
    expect(editor.locator("input[name=value][value='4']")).to_be_checked()
    screenshot("5-reloaded")

    with runtime.session() as session:
        current = current_annotations(session, item_id)
    stored = all_annotations(runtime)
    assert len(stored) == 1
    assert [(a.id, a.annotation_type, a.payload["value"]) for a in current] == [
        (stored[0].id, "rating", 4)
    ]
    assert stored[0].annotator_id == mara.id
    assert stored[0].item_id == item_id
    assert stored[0].supersedes_id is None
    assert item_status(runtime, item_id) == "labeled"

    # Changing the rating (5, Enter) adds a revision that supersedes the first one.
    page.keyboard.press("5")
    page.keyboard.press("Enter")
    expect(status).to_have_text("Saved.")
    page.reload()
    wait_for_editors(page)
    expect(rows).to_have_count(1)
    expect(rows.locator("td").nth(0)).to_have_text("rating (revised)")
    expect(rows.locator("td").nth(1)).to_contain_text('"value": 5')
    screenshot("6-revised")
    with runtime.session() as session:
        current = current_annotations(session, item_id)
    assert [(a.payload["value"], a.supersedes_id) for a in current] == [(5, stored[0].id)]
    assert len(all_annotations(runtime)) == 2


def add_item(runtime: Runtime, project: Project, actor: User, name: str) -> Item:
    assert actor.id is not None
    with runtime.session() as session:
        return items.ingest(
            session,
            runtime.store,
            runtime.plugins,
            project,
            name=name,
            source=io.BytesIO(png_bytes((30, 180, 60))),
            actor_id=actor.id,
        ).item


def test_a_rating_of_one_needs_a_comment(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    otto = make_user("annotator", username="otto")
    mara = make_user("manager", username="mara")
    project = make_project(runtime, mara)
    add_member(runtime, project, otto)
    item = add_item(runtime, project, mara, "green.png")

    sign_in(page, "otto")
    page.goto(f"/projects/{project.id}/items/{item.id}")
    editor = page.locator("[data-rating-editor]")
    expect(editor).to_be_visible()
    wait_for_editors(page)

    page.keyboard.press("1")
    expect(editor.locator("input[name=value][value='1']")).to_be_checked()
    api = f"/api/v1/items/{item.id}/annotations"
    with page.expect_response(lambda r: r.url.endswith(api)) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 422
    status = editor.locator(".rating-status")
    expect(status).to_contain_text("A rating of 1 needs a comment saying what is wrong")
    expect(status).to_have_attribute("data-state", "error")
    screenshot("1-needs-comment")
    assert all_annotations(runtime) == []
    assert item_status(runtime, item.id) == "unlabeled"

    page.reload()
    wait_for_editors(page)
    # An annotator sees their own work and their own status on the item.
    expect(page.get_by_text("You have not annotated this item yet.")).to_be_visible()
    expect(page.locator("[data-status]")).to_have_text("todo")

    # With a comment (C focuses it, Escape leaves it) the same rating is accepted.
    page.keyboard.press("1")
    page.keyboard.press("c")
    comment = editor.locator("textarea[name=comment]")
    expect(comment).to_be_focused()
    expect(comment).to_have_value("")  # the C hotkey is not typed into the comment
    page.keyboard.type("Blurred 3")  # a digit typed in the comment does not change the rating
    page.keyboard.press("Escape")
    expect(comment).not_to_be_focused()
    expect(editor.locator("input[name=value][value='1']")).to_be_checked()
    page.keyboard.press("Enter")
    expect(status).to_have_text("Saved.")
    screenshot("2-saved-with-comment")
    stored = all_annotations(runtime)
    assert [(a.annotator_id, a.payload) for a in stored] == [
        (otto.id, {"value": 1, "comment": "Blurred 3"})
    ]


# Counts the editor's annotation POSTs and their answers, in the page itself (the real fetch
# still does the work), so the test knows when every save the page started has been answered.
COUNT_ANNOTATION_POSTS = """
window.__annotationPosts = [];
const realFetch = window.fetch;
window.fetch = async function (input, init) {
  const url = typeof input === "string" ? input : input.url;
  if (!(init && init.method === "POST" && url.endsWith("/annotations"))) {
    return realFetch.apply(this, arguments);
  }
  const post = { status: null };
  window.__annotationPosts.push(post);
  try {
    const response = await realFetch.apply(this, arguments);
    post.status = response.status;
    return response;
  } catch (error) {
    post.status = 0;
    throw error;
  }
};
"""


def test_pressing_enter_twice_while_saving_saves_once_without_an_error(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    mara = make_user("manager", username="mara")
    project = make_project(runtime, mara)
    item = add_item(runtime, project, mara, "green.png")
    assert item.id is not None
    sign_in(page, "mara")
    page.add_init_script(COUNT_ANNOTATION_POSTS)

    # A slow answer, as on a busy server: requests are held until the test lets them through.
    held: list[Route] = []
    released = False

    def hold(route: Route) -> None:
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route(f"**/api/v1/items/{item.id}/annotations", hold)
    page.goto(f"/projects/{project.id}/items/{item.id}")
    status = page.locator("[data-rating-editor] .rating-status")
    wait_for_editors(page)
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    expect(status).to_have_text("Saving…")
    page.keyboard.press("Enter")  # an impatient second press while the first save is pending
    released = True
    for route in held:
        route.continue_()
    # Settled: every save the page started is answered and the editor no longer says "Saving…".
    page.wait_for_function(
        "() => window.__annotationPosts.length > 0"
        " && window.__annotationPosts.every(post => post.status !== null)"
        " && document.querySelector('.rating-status').dataset.state !== 'pending'"
    )
    statuses = page.evaluate("() => window.__annotationPosts.map(post => post.status)")
    screenshot("1-after-double-enter")
    assert all(200 <= code < 300 for code in statuses), (statuses, status.text_content())
    expect(status).to_have_text("Saved.")
    with runtime.session() as session:
        current = current_annotations(session, item.id)
    assert [a.payload["value"] for a in current] == [3]


def test_two_editors_on_the_item_page_share_the_keyboard_the_active_one_first(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    mara = make_user("manager", username="mara")
    assert mara.id is not None
    with runtime.session() as session:
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=mara.id,
            name="Both",
            modality="image",
            annotation_types=["classification", "rating"],
            categories=["cat", "dog"],
        )
    item = add_item(runtime, project, mara, "green.png")
    assert item.id is not None
    sign_in(page, "mara")
    page.goto(f"/projects/{project.id}/items/{item.id}")
    wait_for_editors(page, "classification", "rating")
    classification = page.locator("[data-editor-root=classification]")
    rating = page.locator("[data-editor-root=rating]")
    expect(classification).to_have_class(re.compile(r"\beditor-active\b"))
    expect(page.locator("[data-editor-tab-hint]")).to_be_visible()

    # The first editor is active: 2 picks "dog" there, and the item page saves it at once.
    page.keyboard.press("2")
    expect(classification.locator("[data-editor-status]")).to_have_text("Saved.")
    expect(classification.locator(".category-button[aria-pressed=true]")).to_have_text(
        re.compile("dog")
    )
    expect(rating.locator("input[name=value]:checked")).to_have_count(0)
    # The annotation list refreshes itself (htmx, on scholia:annotation-saved).
    expect(page.locator("#annotations tbody tr[data-annotation]")).to_have_count(1)
    # It is drawn by the classification's view (its chips), its JSON folded under "Payload".
    drawn = page.locator("#annotations [data-annotation-view=classification] .category-chip")
    expect(drawn).to_have_text("dog")

    # Tab makes the rating active; now 2 is a rating of 2, and classification keeps "dog".
    page.keyboard.press("Tab")
    expect(rating).to_have_class(re.compile(r"\beditor-active\b"))
    expect(classification).not_to_have_class(re.compile(r"\beditor-active\b"))
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    expect(rating.locator(".rating-status")).to_have_text("Saved.")
    expect(rating.locator("input[name=value][value='2']")).to_be_checked()
    expect(page.locator("#annotations tbody tr[data-annotation]")).to_have_count(2)
    screenshot("1-both-saved")

    # A click picks the active editor too.
    classification.get_by_role("heading").click()
    expect(classification).to_have_class(re.compile(r"\beditor-active\b"))
    with runtime.session() as session:
        current = current_annotations(session, item.id)
    assert sorted((a.annotation_type, a.payload) for a in current) == [
        ("classification", {"category_ids": [2]}),
        ("rating", {"value": 2, "comment": ""}),
    ]


def test_an_editor_module_without_mount_says_so_in_its_card(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
) -> None:
    mara = make_user("manager", username="mara")
    project = make_project(runtime, mara)
    item = add_item(runtime, project, mara, "green.png")
    sign_in(page, "mara")
    # An editor written to the old convention: it runs on import and exports nothing.
    page.route(
        "**/static/plugins/scholia-rating/rating.js",
        lambda route: route.fulfill(
            content_type="text/javascript", body="document.body.dataset.oldEditor = 'ran';"
        ),
    )
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"/projects/{project.id}/items/{item.id}")
    note = page.locator("[data-editor-root=rating] [data-editor-problem]")
    expect(note).to_contain_text("does not export mount()")
    assert any("does not export mount()" in text for text in errors), errors
