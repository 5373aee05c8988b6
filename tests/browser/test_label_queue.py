"""The labeling page's queue filter: switching it, and moving through the filtered queue with
the arrow keys."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from scholia.core import queue
from scholia.core.models import Item, User
from scholia.core.runtime import Runtime

from .conftest import sign_in
from .labeling import labeling_project

pytestmark = pytest.mark.browser


def _item_id(url: str) -> int:
    found = re.search(r"/label/(\d+)(\?|$)", url)
    assert found, url
    return int(found.group(1))


def _arrive(page: Page, item_id: int, query: str = "") -> None:
    page.wait_for_url(re.compile(rf"/label/{item_id}{re.escape(query)}$"))
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")


def test_filter_the_queue_and_walk_it_with_the_arrow_keys(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    manager = make_user("manager")
    noor = make_user("annotator", username="noor")
    project_id = labeling_project(
        runtime, manager, count=5, name="Queue", categories=("cat", "dog"), members=(noor,)
    )
    # Noor holds all five (the page itself holds only the item shown and the next two).
    with runtime.session() as session:
        for item in session.exec(select(Item).where(col(Item.project_id) == project_id)):
            queue.ensure_slot(session, item, noor.id)  # type: ignore[arg-type]
    sign_in(page, "noor")
    page.goto(f"/projects/{project_id}/label")
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    ids = [
        int(i)
        for i in page.locator("[data-queue-item]").evaluate_all(
            "links => links.map(link => link.dataset.queueItem)"
        )
    ]
    assert len(ids) == 5 and _item_id(page.url) == ids[0]
    # Label the first two (single-label: each key moves on), then skip the third.
    page.keyboard.press("1")
    _arrive(page, ids[1])
    page.keyboard.press("2")
    _arrive(page, ids[2])
    page.keyboard.press("s")
    _arrive(page, ids[3])
    filters = page.locator("[data-queue-filter]")
    expect(filters).to_have_text(["All 5", "To do 2", "Done 2", "Skipped 1"])

    # Done: the list holds the two labeled items; the current one (to do) is not among them.
    page.locator("[data-queue-filter=done]").click()
    _arrive(page, ids[3], "?queue=done")
    expect(page.locator("[data-queue-filter=done]")).to_have_class(re.compile(r"\bactive\b"))
    expect(page.locator("[data-queue-item]")).to_have_count(2)
    screenshot("1-done")
    page.keyboard.press("ArrowLeft")
    _arrive(page, ids[1], "?queue=done")
    page.keyboard.press("ArrowLeft")
    _arrive(page, ids[0], "?queue=done")
    page.keyboard.press("ArrowLeft")  # the first of the filter: nowhere further back
    page.keyboard.press("ArrowRight")
    _arrive(page, ids[1], "?queue=done")
    page.keyboard.press("ArrowRight")  # the last of "done": the page says so and stays
    expect(page.locator("[data-save-state]")).to_have_text(
        "This is the last item in the queue shown"
    )
    assert _item_id(page.url) == ids[1]

    # To do: from a done item, → goes to the next item still to label, and on past the end
    # the queue claims more (here, none is left: the empty-queue page).
    page.locator("[data-queue-filter=todo]").click()
    _arrive(page, ids[1], "?queue=todo")
    expect(page.locator("[data-queue-item]")).to_have_count(2)
    page.keyboard.press("ArrowRight")
    _arrive(page, ids[3], "?queue=todo")
    expect(page.locator("li.current [data-queue-item]")).to_have_attribute(
        "href", f"/projects/{project_id}/label/{ids[3]}?queue=todo"
    )
    page.keyboard.press("ArrowRight")
    _arrive(page, ids[4], "?queue=todo")
    page.keyboard.press("ArrowLeft")
    _arrive(page, ids[3], "?queue=todo")

    # Skipped: the one skipped item; with nothing skipped the panel would say so.
    page.locator("[data-queue-filter=skipped]").click()
    _arrive(page, ids[3], "?queue=skipped")
    expect(page.locator("[data-queue-item]")).to_have_count(1)
    page.keyboard.press("ArrowLeft")
    _arrive(page, ids[2], "?queue=skipped")
    expect(page.locator("[data-queue-empty]")).to_have_count(0)
    screenshot("2-skipped")
