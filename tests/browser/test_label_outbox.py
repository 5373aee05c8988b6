"""The labeling page's outbox never drops an op silently: one the server refuses (here a label
on a category a manager deleted after the page loaded) stays, with the server's reason, through
reloads and across items, until the annotator retries it (after the cause is fixed) or
discards it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Dialog, Page, expect

from scholia.core import labels
from scholia.core.models import User
from scholia.core.revisions import current_annotations
from scholia.core.runtime import Runtime

from .conftest import sign_in
from .labeling import labeling_project

pytestmark = pytest.mark.browser

DELETED = "category 1 ('cat') was deleted; restore it or choose another"


def _item_id(url: str) -> int:
    found = re.search(r"/label/(\d+)(\?|$)", url)
    assert found, url
    return int(found.group(1))


def _set_deleted(runtime: Runtime, project_id: int, manager: User, deleted: bool) -> None:
    """The manager deletes (or restores) category 1, as the categories page would."""
    assert manager.id is not None
    with runtime.session() as session:
        labels.update_category(session, project_id, 1, manager.id, deleted=deleted)


def _mine(runtime: Runtime, item_id: int, annotator: User) -> list[object]:
    with runtime.session() as session:
        return [
            a.payload
            for a in current_annotations(session, item_id)
            if a.annotator_id == annotator.id
        ]


def test_a_refused_label_stays_with_its_reason_until_retried_or_discarded(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    manager = make_user("manager")
    annotator = make_user("annotator", username="ines")
    project_id = labeling_project(runtime, manager, count=4, name="Refused", members=(annotator,))
    sign_in(page, "ines")
    page.goto(f"/projects/{project_id}/label")
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    first = _item_id(page.url)

    # Between the page load and the key, the manager deletes "cat": the submit gets 422.
    _set_deleted(runtime, project_id, manager, True)
    page.keyboard.press("1")
    # The page moves on without waiting for the answer; the refusal shows on the next item.
    page.wait_for_url(lambda url: not url.endswith(f"/label/{first}"))
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    refused = page.locator("[data-refused-op]")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text(DELETED)
    expect(page.locator("[data-save-state]")).to_contain_text("1 not saved")
    screenshot("1-refused")

    # A reload (on whichever item the page is on) shows it still, with its reason.
    page.reload()
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text(DELETED)
    expect(refused.locator("a")).to_have_attribute("href", f"/projects/{project_id}/label/{first}")
    assert _mine(runtime, first, annotator) == []

    # The manager restores "cat"; Retry now stores the label the annotator chose.
    _set_deleted(runtime, project_id, manager, False)
    refused.get_by_role("button", name="Retry").click()
    expect(refused).to_have_count(0)
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    assert _mine(runtime, first, annotator) == [{"category_ids": [1]}]

    # Refused again on another item, then discarded: gone for good, and nothing stored.
    page.goto(f"/projects/{project_id}/label")
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    second = _item_id(page.url)
    assert second != first
    _set_deleted(runtime, project_id, manager, True)
    page.keyboard.press("1")
    page.wait_for_url(lambda url: not url.endswith(f"/label/{second}"))
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text(DELETED)
    page.reload()
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    expect(refused).to_have_count(1)
    refused.get_by_role("button", name="Discard").click()
    expect(refused).to_have_count(0)
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    page.reload()
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    expect(refused).to_have_count(0)
    assert _mine(runtime, second, annotator) == []
    screenshot("2-discarded")


def test_a_new_label_on_the_same_item_resolves_the_refused_one(
    page: Page, runtime: Runtime, make_user: Callable[..., User]
) -> None:
    manager = make_user("manager")
    annotator = make_user("annotator", username="oto")
    project_id = labeling_project(
        runtime,
        manager,
        count=2,
        name="Fixed",
        settings={"annotation_options": {"classification": {"mode": "multi"}}},
        members=(annotator,),
    )
    sign_in(page, "oto")
    page.goto(f"/projects/{project_id}/label")
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    first = _item_id(page.url)
    _set_deleted(runtime, project_id, manager, True)
    page.keyboard.press("1")  # multi-label: stays on the item
    card = page.locator("[data-editor-root=classification] [data-editor-status]")
    expect(card).to_contain_text(DELETED)
    expect(page.locator("[data-refused-op]")).to_have_count(1)
    # The annotator fixes it in the editor: "cat" off, "dog" on. The saved label supersedes
    # the refused one, which the page then lets go of.
    page.keyboard.press("1")
    page.keyboard.press("2")
    expect(page.locator("[data-refused-op]")).to_have_count(0)
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    assert _mine(runtime, first, annotator) == [{"category_ids": [2]}]


def test_with_the_server_out_of_reach_the_outbox_says_what_waits_and_sends_it_later(
    page: Page, runtime: Runtime, make_user: Callable[..., User]
) -> None:
    manager = make_user("manager")
    annotator = make_user("annotator", username="pia")
    project_id = labeling_project(
        runtime,
        manager,
        count=1,
        name="Offline",
        settings={"annotation_options": {"classification": {"mode": "multi"}}},
        members=(annotator,),
    )
    sign_in(page, "pia")
    page.goto(f"/projects/{project_id}/label")
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    first = _item_id(page.url)
    save_state = page.locator("[data-save-state]")
    expect(save_state).to_have_text("All changes saved")
    page.context.set_offline(True)
    page.keyboard.press("2")
    expect(save_state).to_contain_text("the server cannot be reached")
    expect(save_state).to_contain_text("1 waiting")
    assert _mine(runtime, first, annotator) == []
    # Leaving asks first while a label waits; staying keeps the page and its outbox.
    asked: list[str] = []

    def stay(dialog: Dialog) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    page.once("dialog", stay)
    page.evaluate("() => { location.href = '/projects'; }")
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"]
    assert _item_id(page.url) == first
    page.context.set_offline(False)
    expect(save_state).to_have_text("All changes saved", timeout=15_000)
    assert _mine(runtime, first, annotator) == [{"category_ids": [2]}]


def test_the_empty_queue_page_lists_what_was_not_saved(
    page: Page, runtime: Runtime, make_user: Callable[..., User]
) -> None:
    manager = make_user("manager")
    annotator = make_user("annotator", username="ulf")
    project_id = labeling_project(runtime, manager, count=1, name="Last", members=(annotator,))
    sign_in(page, "ulf")
    page.goto(f"/projects/{project_id}/label")
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    only = _item_id(page.url)
    page.keyboard.press("2")
    expect(page.get_by_text("Your queue is empty")).to_be_visible()
    expect(page.locator("[data-refused-note]")).to_be_hidden()
    # A correction of the done item, refused (its category was deleted meanwhile): the page
    # moves on to the empty queue, which says so and links back to the item.
    page.locator("[data-done-link]").click()
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    _set_deleted(runtime, project_id, manager, True)
    page.keyboard.press("1")
    expect(page.get_by_text("Your queue is empty")).to_be_visible()
    note = page.locator("[data-refused-note]")
    expect(note).to_contain_text("1 label was not saved")
    expect(note).to_contain_text(DELETED)
    note.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/label/{only}$"))
    expect(page.locator("[data-refused-op]")).to_contain_text(DELETED)
    assert _mine(runtime, only, annotator) == [{"category_ids": [2]}]
