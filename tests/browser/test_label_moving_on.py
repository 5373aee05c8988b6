"""Where the labeling page goes after a label: on only once every annotation type of the item
has one, and then to the next item still to do (never back to one already done)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from scholia.core import queue
from scholia.core.models import Item, User
from scholia.core.revisions import current_annotations
from scholia.core.runtime import Runtime

from .conftest import sign_in
from .labeling import labeling_project

pytestmark = pytest.mark.browser


def _item_id(url: str) -> int:
    found = re.search(r"/label/(\d+)(\?|$)", url)
    assert found, url
    return int(found.group(1))


def _arrive(page: Page, item_id: int) -> None:
    page.wait_for_url(re.compile(rf"/label/{item_id}$"))
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")


def test_with_classification_and_rating_the_page_waits_for_both(
    page: Page, runtime: Runtime, make_user: Callable[..., User]
) -> None:
    manager = make_user("manager")
    annotator = make_user("annotator", username="bo")
    project_id = labeling_project(
        runtime,
        manager,
        count=3,
        name="Two types",
        annotation_types=("classification", "rating"),
        members=(annotator,),
    )
    sign_in(page, "bo")
    page.goto(f"/projects/{project_id}/label")
    for name in ("classification", "rating"):
        expect(page.locator(f"[data-editor-root={name}][data-editor-mounted]")).to_be_attached()
    first = _item_id(page.url)
    rating = page.locator("[data-editor-root=rating]")

    # The digit labels the classification; the rating is still to give, so the page stays and
    # hands the keyboard to the rating.
    page.keyboard.press("2")
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    expect(rating).to_have_class(re.compile(r"\beditor-active\b"))
    assert _item_id(page.url) == first
    page.keyboard.press("4")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/label/" in url and _item_id(url) != first)
    # The next item shows at once; the outbox stores the rating meanwhile.
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    with runtime.session() as session:
        mine = {
            a.annotation_type: a.payload
            for a in current_annotations(session, first)
            if a.annotator_id == annotator.id
        }
    assert mine == {"classification": {"category_ids": [2]}, "rating": {"value": 4, "comment": ""}}


def test_after_correcting_an_earlier_label_the_page_goes_to_the_next_item_to_do(
    page: Page, runtime: Runtime, make_user: Callable[..., User]
) -> None:
    manager = make_user("manager")
    cy = make_user("annotator", username="cy")
    # Cy holds all three before the page opens, so the page starts on the first by id and the
    # queue panel's order is the whole queue, whatever the annotator's shuffle.
    project_id = labeling_project(runtime, manager, count=3, name="Onwards", members=(cy,))
    with runtime.session() as session:
        for item in session.exec(
            select(Item).where(col(Item.project_id) == project_id).order_by(col(Item.id))
        ):
            queue.ensure_slot(session, item, cy.id)  # type: ignore[arg-type]
    sign_in(page, "cy")
    page.goto(f"/projects/{project_id}/label")
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    ids = [
        int(i)
        for i in page.locator("[data-queue-item]").evaluate_all(
            "links => links.map(link => link.dataset.queueItem)"
        )
    ]
    assert len(ids) == 3 and _item_id(page.url) == ids[0]
    page.keyboard.press("1")
    _arrive(page, ids[1])
    page.keyboard.press("1")
    _arrive(page, ids[2])
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    # Back to the first (done) and correct it: the page moves on to the third, the next item
    # still to do, not to the second, which is done.
    page.keyboard.press("ArrowLeft")
    _arrive(page, ids[1])
    page.keyboard.press("ArrowLeft")
    _arrive(page, ids[0])
    page.keyboard.press("2")
    _arrive(page, ids[2])
