"""Labeling with the keyboard: hundreds of images in one session, reloads along the way, and
afterwards the database holds exactly the labels typed and the page's counters match it."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from scholia.core.models import Item, ItemCategory, User
from scholia.core.revisions import current_annotations
from scholia.core.runtime import Runtime

from .conftest import sign_in
from .labeling import labeling_project

pytestmark = pytest.mark.browser

# The acceptance figure is 500; LABEL_TEST_IMAGES can shrink it for a quick local run.
IMAGES = int(os.environ.get("LABEL_TEST_IMAGES", "500"))
RELOAD_AT = {IMAGES // 3, 2 * IMAGES // 3}


def _item_id(url: str) -> int:
    found = re.search(r"/label/(\d+)$", url)
    assert found, url
    return int(found.group(1))


@pytest.mark.timeout(900)  # 500 images through a real browser: about 4 minutes on 2 cores
def test_label_hundreds_of_images_with_the_keyboard_through_reloads(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    manager = make_user("manager")
    annotator = make_user("annotator", username="kai")
    project_id = labeling_project(runtime, manager, count=IMAGES, members=(annotator,))
    sign_in(page, "kai")
    page.goto(f"/projects/{project_id}/label")
    typed: dict[int, int] = {}
    empty = page.get_by_text("Your queue is empty")
    step = 0
    while not empty.is_visible():
        page.wait_for_selector(".category-button")
        item_id = _item_id(page.url)
        key = str(step % 3 + 1)  # categories 1, 2, 3 are cat, dog, bird
        before = page.url
        page.keyboard.press(key)
        typed[item_id] = int(key)
        step += 1
        page.wait_for_url(lambda url, before=before: url != before, timeout=15000)
        if step in RELOAD_AT:
            # Reload as soon as the next item shows: the previous item's save may still be in
            # flight, and the outbox must deliver it anyway.
            page.reload()
            screenshot(f"reload-{step}")
    assert len(typed) == IMAGES
    expect(page.get_by_text("Your queue is empty")).to_be_visible(timeout=15000)
    screenshot("queue-empty")

    with runtime.session() as session:
        labels: dict[int, list[int]] = {}
        for item in session.exec(select(Item).where(col(Item.project_id) == project_id)):
            mine = [
                a
                for a in current_annotations(session, item.id)  # type: ignore[arg-type]
                if a.annotator_id == annotator.id
            ]
            assert len(mine) == 1, f"item {item.id} has {len(mine)} current labels"
            labels[item.id] = mine[0].payload["category_ids"]  # type: ignore[index]
            assert item.status == "labeled"
        per_category = Counter(
            row.category_id
            for row in session.exec(
                select(ItemCategory).where(col(ItemCategory.project_id) == project_id)
            )
        )
    assert labels == {item_id: [category] for item_id, category in typed.items()}

    # The project page shows an annotator their own work (the grid's counts are for QA).
    page.goto(f"/projects/{project_id}")
    expect(page.locator("[data-my-count='done'] small")).to_have_text(str(IMAGES))
    for category_id, count in Counter(typed.values()).items():
        assert per_category[category_id] == count
    screenshot("counters")


def test_undo_withdraws_the_last_label_and_skip_marks_the_item_skipped(
    page: Page, runtime: Runtime, make_user: Callable[..., User]
) -> None:
    manager = make_user("manager")
    annotator = make_user("annotator", username="lee")
    project_id = labeling_project(
        runtime,
        manager,
        count=2,
        name="Undo",
        categories=("yes", "no"),
        settings={"annotation_options": {"classification": {"mode": "multi"}}},
        members=(annotator,),
    )
    sign_in(page, "lee")
    page.goto(f"/projects/{project_id}/label")
    page.wait_for_selector(".category-button")
    first = _item_id(page.url)
    page.keyboard.press("1")  # multi-label: toggles, stays on the item
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    page.keyboard.press("z")
    expect(page.locator(".category-button[aria-pressed=true]")).to_have_count(0)
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    with runtime.session() as session:
        assert current_annotations(session, first) == []
        item = session.get(Item, first)
        assert item is not None and item.status == "in_progress"
    page.keyboard.press("s")
    page.wait_for_url(lambda url: _item_id(url) != first if "/label/" in url else True)
    with runtime.session() as session:
        item = session.get(Item, first)
        assert item is not None and item.status == "skipped"
    assert annotator.id is not None


def test_multi_label_clearing_the_last_category_withdraws_the_label(
    page: Page, runtime: Runtime, make_user: Callable[..., User]
) -> None:
    manager = make_user("manager")
    mo = make_user("annotator", username="mo")
    project_id = labeling_project(
        runtime,
        manager,
        count=2,
        name="Clear",
        categories=("yes", "no"),
        settings={"annotation_options": {"classification": {"mode": "multi"}}},
        members=(mo,),
    )
    sign_in(page, "mo")
    page.goto(f"/projects/{project_id}/label")
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    first = _item_id(page.url)
    pressed = page.locator(".category-button[aria-pressed=true]")
    page.keyboard.press("1")
    expect(pressed).to_have_count(1)
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    # Unticking the last category takes the label back (a withdrawal, as undo makes): the
    # item is the annotator's to do again, and a reload shows nothing ticked.
    page.keyboard.press("1")
    expect(pressed).to_have_count(0)
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    page.reload()
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    assert _item_id(page.url) == first
    expect(pressed).to_have_count(0)
    expect(page.locator("[data-item-status]")).to_have_text("todo")
    expect(page.locator("[data-count=queue-done]")).to_have_text("0")
    with runtime.session() as session:
        assert current_annotations(session, first) == []
        item = session.get(Item, first)
        assert item is not None and item.status == "in_progress"
    # And undo brings the label back.
    page.keyboard.press("z")
    expect(pressed).to_have_count(1)
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    page.reload()
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    expect(pressed).to_have_count(1)


def test_with_classification_and_rating_keys_go_to_the_active_editor(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    manager = make_user("manager")
    annotator = make_user("annotator", username="ada")
    project_id = labeling_project(
        runtime,
        manager,
        count=3,
        name="Both",
        annotation_types=("classification", "rating"),
        members=(annotator,),
    )
    sign_in(page, "ada")
    page.goto(f"/projects/{project_id}/label")
    for name in ("classification", "rating"):
        expect(page.locator(f"[data-editor-root={name}][data-editor-mounted]")).to_be_attached()
    first = _item_id(page.url)
    classification = page.locator("[data-editor-root=classification]")
    rating = page.locator("[data-editor-root=rating]")
    expect(classification).to_have_class(re.compile(r"\beditor-active\b"))

    page.keyboard.press("?")
    expect(page.locator("[data-help]")).to_contain_text("Switch to the next editor")
    page.keyboard.press("Escape")
    expect(page.locator("[data-help]")).not_to_be_visible()  # the keyboard is back on the page

    # Tab: the rating takes the digits; a 1 without a comment is refused with the server's
    # message, shown in the rating's card.
    page.keyboard.press("Tab")
    expect(rating).to_have_class(re.compile(r"\beditor-active\b"))
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    status = rating.locator("[data-editor-status]")
    expect(status).to_contain_text("A rating of 1 needs a comment saying what is wrong")
    expect(status).to_have_attribute("data-state", "error")
    expect(classification.locator(".category-button[aria-pressed=true]")).to_have_count(0)
    screenshot("1-rating-refused")
    page.keyboard.press("4")
    page.keyboard.press("Enter")
    expect(status).to_have_text("")
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    assert _item_id(page.url) == first

    # Back to classification (Tab again): 2 labels "dog" and the next item follows.
    page.keyboard.press("Tab")
    expect(classification).to_have_class(re.compile(r"\beditor-active\b"))
    page.keyboard.press("2")
    page.wait_for_url(lambda url: "/label/" in url and _item_id(url) != first)
    second = _item_id(page.url)
    # The choice of editor is kept from item to item.
    expect(page.locator("[data-editor-root=rating][data-editor-mounted]")).to_be_attached()
    page.keyboard.press("Tab")
    expect(page.locator("[data-editor-root=rating].editor-active")).to_be_attached()
    page.keyboard.press("ArrowRight")
    page.wait_for_url(lambda url: "/label/" in url and _item_id(url) != second)
    expect(page.locator("[data-editor-root=rating].editor-active")).to_be_attached()
    with runtime.session() as session:
        mine = {
            a.annotation_type: a.payload
            for a in current_annotations(session, first)
            if a.annotator_id == annotator.id
        }
    assert mine == {"classification": {"category_ids": [2]}, "rating": {"value": 4, "comment": ""}}
