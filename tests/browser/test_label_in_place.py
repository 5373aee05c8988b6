"""The labeling page opens the next items in place: one document for the whole session, its
URL kept in step (pushState), so back, forward and reload land on the item shown, and every
label lands on the item it was given on."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from scholia.core.labels import live_categories
from scholia.core.models import User
from scholia.core.revisions import current_annotations
from scholia.core.runtime import Runtime

from .conftest import sign_in
from .labeling import labeling_project

pytestmark = pytest.mark.browser


def _item_id(url: str) -> int:
    found = re.search(r"/label/(\d+)(\?|$)", url)
    assert found, url
    return int(found.group(1))


def _shows(page: Page, item_id: int) -> None:
    """The page is at ``item_id``'s URL, shows that item, and its editor is ready."""
    expect(page).to_have_url(re.compile(rf"/label/{item_id}$"))
    page.wait_for_function(
        "id => JSON.parse(document.getElementById('label-state').textContent).item.id === id",
        arg=item_id,
    )
    expect(page.locator("[data-editor-root=classification][data-editor-mounted]")).to_be_attached()
    state = page.evaluate("() => JSON.parse(document.getElementById('label-state').textContent)")
    expect(page.locator(".label-toolbar .breadcrumbs")).to_contain_text(state["item"]["name"])
    expect(page.locator(".queue-list li.current a")).to_have_attribute(
        "data-queue-item", str(item_id)
    )


def _pressed(page: Page) -> Locator:
    """The categories the classification editor shows as chosen."""
    return page.locator("[data-editor-root=classification] button[aria-pressed=true]")


def test_labels_move_on_in_place_and_the_history_follows(
    page: Page, runtime: Runtime, make_user: Callable[..., User]
) -> None:
    manager = make_user("manager")
    annotator = make_user("annotator", username="in-place")
    project_id = labeling_project(runtime, manager, count=6, members=(annotator,))
    sign_in(page, "in-place")
    page.goto(f"/projects/{project_id}/label")
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    page.evaluate("() => { window.sameDocument = true; }")

    # Three labels, each moving on: the same document all along, the URL following.
    visited = [_item_id(page.url)]
    for key in ("1", "2", "3"):
        page.keyboard.press(key)
        expect(page).not_to_have_url(re.compile(rf"/label/{visited[-1]}$"))
        visited.append(_item_id(page.url))
        _shows(page, visited[-1])
        assert page.evaluate("() => window.sameDocument") is True
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    assert len(set(visited)) == 4

    # Back shows the item before, with the label given there; forward again; in place.
    page.go_back()
    _shows(page, visited[2])
    expect(_pressed(page)).to_have_text([re.compile("bird")])
    page.go_back()
    _shows(page, visited[1])
    expect(_pressed(page)).to_have_text([re.compile("dog")])
    page.go_forward()
    _shows(page, visited[2])
    assert page.evaluate("() => window.sameDocument") is True

    # A reload lands on the item shown (a new document, rendered by the server).
    page.reload()
    _shows(page, visited[2])
    assert page.evaluate("() => window.sameDocument") is None
    expect(_pressed(page)).to_have_text([re.compile("bird")])

    # The queue panel is drawn from the server's answer: three done, counted.
    expect(page.locator("[data-count=queue-done]")).to_have_text("3")

    # Each label is stored once, on the item it was given on.
    with runtime.session() as session:
        names = {c.id: c.name for c in live_categories(session, project_id)}
        given = []
        for item_id in visited[:3]:
            (annotation,) = current_annotations(session, item_id)
            given.append([names[i] for i in annotation.payload["category_ids"]])
    assert given == [["cat"], ["dog"], ["bird"]]


def test_the_queue_panel_opens_items_in_place(
    page: Page, runtime: Runtime, make_user: Callable[..., User]
) -> None:
    manager = make_user("manager")
    annotator = make_user("annotator", username="panel")
    project_id = labeling_project(runtime, manager, count=4, members=(annotator,))
    sign_in(page, "panel")
    page.goto(f"/projects/{project_id}/label")
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    first = _item_id(page.url)
    expect(page.locator("[data-queue-item]")).to_have_count(3)  # the item and two held ahead
    page.evaluate("() => { window.sameDocument = true; }")
    other = next(
        int(i)
        for i in page.locator("[data-queue-item]").evaluate_all(
            "links => links.map(link => link.dataset.queueItem)"
        )
        if int(i) != first
    )
    page.locator(f"[data-queue-item='{other}']").click()
    _shows(page, other)
    assert page.evaluate("() => window.sameDocument") is True
    # Nothing labeled on the way: no annotation anywhere.
    with runtime.session() as session:
        assert all(not current_annotations(session, i) for i in (first, other))
