"""A review in a real browser: filter by category, select, bulk approve, see the counts change."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from scholia.core import counts
from scholia.core.models import Item, Review, User
from scholia.core.runtime import Runtime
from tests.test_counts import classified_project

from .conftest import sign_in

pytestmark = pytest.mark.browser

NAMES = ["cat", "dog", "bird"]


def test_filter_select_and_bulk_approve(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    # 12 labeled items: 4 per category, in turn cat, dog, bird.
    _, project_id, ids, cats = classified_project(
        runtime, 12, lambda i: NAMES[i % 3], categories=tuple(NAMES)
    )
    dogs = [i for n, i in enumerate(ids) if n % 3 == 1]
    reviewer = make_user("reviewer", username="rita", project=project_id)
    sign_in(page, "rita")

    page.goto(f"/projects/{project_id}")
    page.get_by_role("link", name="Review", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/projects/{project_id}/review$"))
    tabs = page.get_by_role("navigation", name="Filter by stage")
    expect(tabs.get_by_role("link", name="In review")).to_contain_text("12")
    expect(tabs.get_by_role("link", name="Done")).to_contain_text("0")
    screenshot("1-review")

    # Each tile shows the label that counts on its item, drawn by the classification's view.
    for n, item_id in enumerate(ids):
        chip = page.locator(f'.thumb[data-item-id="{item_id}"] [data-tile-labels] .category-chip')
        expect(chip).to_have_text(NAMES[n % 3])

    page.get_by_role("navigation", name="Filter by category").get_by_role(
        "link", name=re.compile(r"^dog")
    ).click()
    expect(page).to_have_url(re.compile(rf"category={cats['dog']}"))
    expect(page.locator(".thumb")).to_have_count(4)

    # Select three of the four dogs, then approve them.
    for item_id in dogs[:3]:
        page.locator(f'.thumb[data-item-id="{item_id}"] input[name=item_ids]').check()
    expect(page.locator("[data-selected-count]")).to_have_text("3 selected")
    screenshot("2-selected")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Approve").click()
    assert posted.value.status == 200
    expect(page.locator(".review-outcome")).to_contain_text("Approved: 3 item(s).")
    tabs = page.get_by_role("navigation", name="Filter by stage")
    expect(tabs.get_by_role("link", name="Done")).to_contain_text("3")
    expect(tabs.get_by_role("link", name="In review")).to_contain_text("9")
    expect(page.locator('[data-status-count="approved"]')).to_have_text("3")
    for item_id in dogs[:3]:
        expect(page.locator(f'.thumb[data-item-id="{item_id}"] .badge')).to_have_text(
            re.compile("approved", re.I)
        )
        # The grid htmx swapped in draws its labels too.
        expect(
            page.locator(f'.thumb[data-item-id="{item_id}"] [data-tile-labels] .category-chip')
        ).to_have_text("dog")
    screenshot("3-approved")

    # Select all on the page (the 3 approved dogs and 1 labeled): one decided, three refused.
    page.get_by_label("Select all on this page").check()
    expect(page.locator("[data-selected-count]")).to_have_text("4 selected")
    page.get_by_role("button", name="Approve").click()
    outcome = page.locator(".review-outcome")
    expect(outcome).to_contain_text("Approved: 1 item(s).")
    expect(outcome.locator("[data-refused-item]")).to_have_count(3)
    expect(outcome).to_contain_text("is 'approved' and cannot move to 'approved'")
    screenshot("4-refused")

    # The page's figures are the database's.
    with runtime.session() as session:
        found = counts.project_counts(session, project_id)
        statuses = {i.id: i.status for i in session.exec(select(Item))}
        reviews = list(session.exec(select(Review).order_by(col(Review.id))))
    assert {statuses[i] for i in dogs} == {"approved"}
    assert found.groups == {"all": 12, "unlabeled": 0, "in_review": 8, "done": 4}
    assert [r.item_id for r in reviews] == dogs
    assert {r.reviewer_id for r in reviews} == {reviewer.id}
    for key, n in found.statuses.items():
        expect(page.locator(f'[data-status-count="{key}"]')).to_have_text(str(n))
    for c in found.categories:
        expect(page.locator(f'[data-count="category-{c.id}"]')).to_have_text(str(c.count))

    page.goto(f"/projects/{project_id}")
    screenshot("5-project-grid")
    expect(
        page.get_by_role("navigation", name="Filter by stage").get_by_role("link", name="Done")
    ).to_contain_text("4")


def test_review_a_working_day_with_the_keyboard_only(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    """At 1920x1080: approve, reject with a comment and send back with keys; select all
    matching items across pages and decide them server-side; search with /."""
    # 60 labeled items (more than a page of 48): cat, dog, bird in turn.
    _, project_id, ids, _ = classified_project(
        runtime, 60, lambda i: NAMES[i % 3], categories=tuple(NAMES)
    )
    make_user("reviewer", username="rita", project=project_id)
    page.set_viewport_size({"width": 1920, "height": 1080})
    sign_in(page, "rita")
    page.goto(f"/projects/{project_id}/review")
    expect(page.locator("#review-issues [data-issue=skipped]")).to_have_text("0")  # loaded after
    screenshot("1-review-1920")

    page.keyboard.press("?")
    expect(page.locator("#review-keys")).to_be_visible()
    screenshot("2-keys-help")
    page.keyboard.press("Escape")
    expect(page.locator("#review-keys")).to_be_hidden()

    # The keyboard starts on the first tile; a approves the focused tile when nothing is
    # checked, and the focus stays in place.
    page.locator(f'.thumb[data-item-id="{ids[0]}"]').focus()
    page.keyboard.press("a")
    expect(page.locator(".review-outcome")).to_contain_text("Approved: 1 item(s).")
    expect(page.locator(f'.thumb[data-item-id="{ids[0]}"]')).to_be_focused()
    # j moves on; r asks for the comment first; Enter rejects the focused tile with it.
    page.keyboard.press("j")
    expect(page.locator(f'.thumb[data-item-id="{ids[1]}"]')).to_be_focused()
    page.keyboard.press("r")
    expect(page.locator("[data-review-comment]")).to_be_focused()
    page.keyboard.type("The dog is a cat")
    page.keyboard.press("Enter")
    expect(page.locator(".review-outcome")).to_contain_text("Rejected: 1 item(s).")
    screenshot("3-rejected")
    with runtime.session() as session:
        decided = {r.item_id: (r.decision, r.comment) for r in session.exec(select(Review))}
    assert decided == {ids[0]: ("approved", None), ids[1]: ("rejected", "The dog is a cat")}

    # Shift+A selects the page, Shift+A again all 58 still in review (two pages); n decides.
    page.locator("a[data-group=in_review]").click()
    # The grid is swapped in (its total may read 58 before the swap too): wait for it.
    page.wait_for_load_state("networkidle")
    expect(page.locator("#review-form")).to_have_attribute("data-matching-total", "58")
    page.keyboard.press("Shift+A")
    expect(page.locator("[data-selected-count]")).to_have_text("48 selected")
    page.keyboard.press("Shift+A")
    expect(page.locator("[data-selected-count]")).to_have_text("58 selected")
    expect(page.locator("[data-select-matching-note]")).to_contain_text("All 58 matching")
    screenshot("4-all-matching")
    page.keyboard.press("n")
    expect(page.locator("[data-review-progress]")).to_contain_text(
        "Sent back for review: 58 of 58 matching."
    )
    screenshot("5-matching-done")
    with runtime.session() as session:
        found = counts.project_counts(session, project_id)
    assert found.statuses["needs_review"] == 58 and found.statuses["approved"] == 1

    # / searches by name.
    page.keyboard.press("/")
    page.keyboard.type("item-05")
    page.keyboard.press("Enter")
    expect(page.locator(".thumb")).to_have_count(10)
    screenshot("6-search")
