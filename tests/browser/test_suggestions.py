"""Model suggestions on the labeling page, in a real browser. The issue's acceptance test: a
locally built ONNX model is registered, suggests for the items, the annotator accepts one with
A and the item's provenance names the model version. And anti-anchoring: the suggestion stays
hidden until the annotator's own first label, which then does not advance, so the revealed
suggestion can be compared with it and taken with A."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from playwright.sync_api import Page, expect

from scholia.core.models import User
from tests.modelling import NAMES, registered, run_job, train

from .conftest import sign_in

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")


@pytest.fixture
def shot(screenshot: Callable[[str], Path]) -> Callable[[str], None]:
    def take(step: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot(step), SHOTS / f"label-suggestion-{step}.png")

    return take


def with_model(
    api_for: Callable[..., TestClient[Any]], tmp_path: Path, **settings: Any
) -> dict[str, Any]:
    """A colour project with a locally trained ONNX classifier registered and active."""
    return registered(api_for, train(tmp_path), **settings)


def test_accept_a_suggestion_with_a_and_see_provenance_name_the_model_version(
    page: Page,
    api_for: Callable[..., TestClient[Any]],
    make_user: Callable[..., User],
    shot: Callable[[str], None],
    tmp_path: Path,
) -> None:
    project = with_model(api_for, tmp_path)
    manager, items = project["manager"], project["items"]
    for item in items[:5]:  # the last one gets no suggestion
        manager.post(f"/api/v1/items/{item['id']}/suggest").raise_for_status()
    red, bare = items[0], items[5]
    make_user("annotator", username="ana", project=project)
    sign_in(page, "ana")

    page.goto(f"/projects/{project['id']}/label/{bare['id']}")
    expect(page.locator("[data-editor-mounted]")).to_have_count(1)
    expect(page.locator("[data-suggestion]")).to_have_count(0)
    page.keyboard.press("a")
    expect(page.locator("[data-save-state]")).to_have_text("No suggestion for this item")
    expect(page).to_have_url(re.compile(rf"/label/{bare['id']}$"))
    # The queue panel holds the annotator's own shuffle of the items: every one but the bare
    # item has a suggestion and says so.
    listed = page.locator("[data-queue-item]")
    expect(listed).not_to_have_count(0)
    for queued in listed.all():
        badge = queued.locator("[data-queue-suggested]")
        if queued.get_attribute("data-queue-item") == str(bare["id"]):
            expect(badge).to_have_count(0)
        else:
            expect(badge).to_have_text("suggested")

    page.goto(f"/projects/{project['id']}/label/{red['id']}")
    card = page.locator('[data-suggestion="classification"]')
    expect(card).to_be_visible()
    expect(card.locator(".suggestion-top .suggestion-label")).to_have_text("red")
    expect(card.locator(".suggestion-model")).to_have_text("colours 1.0")
    meter = card.locator(".suggestion-top + [role=meter]")
    confidence = int(meter.get_attribute("aria-valuenow") or "0")
    assert 50 < confidence <= 100
    expect(card.locator(".suggestion-top .suggestion-score")).to_have_text(f"{confidence}%")
    expect(card.get_by_role("button", name=re.compile("^Accept"))).to_be_visible()
    expect(card.get_by_role("button", name="Dismiss")).to_be_visible()
    shot("1-card")
    card.get_by_role("button", name="Show top 3").click()
    rows = card.locator("[data-suggestion-alternatives] li")
    expect(rows).to_have_count(3)
    expect(rows.first.locator(".suggestion-label")).to_have_text("red")
    assert sorted(rows.locator(".suggestion-label").all_inner_texts()) == sorted(NAMES)
    shot("2-top-k")
    page.get_by_role("button", name="?").click()
    expect(page.locator("[data-help]")).to_contain_text("Accept the model's suggestion")
    page.keyboard.press("Escape")

    page.keyboard.press("a")
    page.wait_for_url(lambda url: not url.endswith(f"/label/{red['id']}"))
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    (annotation,) = manager.get(f"/api/v1/items/{red['id']}/annotations").json()
    assert annotation["source"] == "suggestion"
    assert annotation["model_version"] == "1.0"
    assert annotation["payload"] == {"category_ids": [project["categories"]["red"]]}
    annotator = api_for("annotator", project=project)
    (suggestion,) = annotator.get(f"/api/v1/items/{red['id']}/suggestions").json()
    assert annotation["suggestion_id"] == suggestion["id"]

    # The reviewer sees where the label came from on the item's page.
    page.context.clear_cookies()
    make_user("reviewer", username="rita", project=project)
    sign_in(page, "rita")
    page.goto(f"/projects/{project['id']}/items/{red['id']}")
    provenance = page.locator("#annotations [data-provenance]")
    expect(provenance).to_have_text("from suggestion · colours 1.0")
    shot("3-provenance")


def test_anti_anchoring_reveals_the_suggestion_after_the_first_label_without_advancing(
    page: Page,
    api_for: Callable[..., TestClient[Any]],
    make_user: Callable[..., User],
    shot: Callable[[str], None],
    tmp_path: Path,
) -> None:
    project = with_model(api_for, tmp_path)
    manager, ids = project["manager"], project["categories"]
    manager.patch(
        f"/api/v1/projects/{project['id']}/settings",
        json={"suggestions": {"reveal": "after_first_label"}},
    ).raise_for_status()
    run_job(manager, project["id"])
    green = project["items"][1]
    make_user("annotator", username="ana", project=project)
    sign_in(page, "ana")
    page.goto(f"/projects/{project['id']}/label/{green['id']}")
    card = page.locator('[data-suggestion="classification"]')
    expect(card).to_have_attribute("data-suggestion-state", "hidden")
    waiting = "A model suggestion is waiting — it shows after your own first label"
    expect(card).to_contain_text(waiting)
    expect(card.locator(".suggestion-label")).to_have_count(0)
    page.keyboard.press("a")
    expect(page.locator("[data-save-state]")).to_contain_text("after your own first label")
    shot("4-waiting")

    page.keyboard.press("1")  # red, where the model says green
    expect(card).to_have_attribute("data-suggestion-state", "corrected")
    expect(card.locator(".suggestion-top .suggestion-label")).to_have_text("green")
    verdict = card.locator("[data-suggestion-verdict]")
    expect(verdict).to_contain_text("Your label differs from the model's.")
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    expect(page).to_have_url(re.compile(rf"/label/{green['id']}$"))  # no auto-advance
    shot("5-revealed")

    page.keyboard.press("a")  # take the model's label after all
    page.wait_for_url(lambda url: not url.endswith(f"/label/{green['id']}"))
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    (annotation,) = manager.get(f"/api/v1/items/{green['id']}/annotations").json()
    assert annotation["source"] == "suggestion"
    assert annotation["payload"] == {"category_ids": [ids["green"]]}
    assert annotation["supersedes_id"] is not None  # it corrected the annotator's own label


def test_dismiss_a_suggestion_and_undo_an_accepted_one(
    page: Page,
    api_for: Callable[..., TestClient[Any]],
    make_user: Callable[..., User],
    tmp_path: Path,
) -> None:
    project = with_model(api_for, tmp_path)
    manager, blue, red = project["manager"], project["items"][2], project["items"][3]
    for item in (blue, red):
        manager.post(f"/api/v1/items/{item['id']}/suggest").raise_for_status()
    make_user("annotator", username="ana", project=project)
    sign_in(page, "ana")
    page.goto(f"/projects/{project['id']}/label/{red['id']}")
    card = page.locator('[data-suggestion="classification"]')
    card.get_by_role("button", name="Dismiss").click()
    expect(card).to_have_attribute("data-suggestion-state", "rejected")
    expect(card).to_contain_text("You dismissed this suggestion.")
    expect(card.get_by_role("button", name="Dismiss")).to_have_count(0)
    (log,) = manager.get(f"/api/v1/projects/{project['id']}/suggestion-outcomes").json()
    assert (log["rejected"], log["accepted"]) == (1, 0)
    assert manager.get(f"/api/v1/items/{red['id']}/annotations").json() == []

    page.goto(f"/projects/{project['id']}/label/{blue['id']}")
    expect(page.locator('[data-suggestion="classification"]')).to_be_visible()
    page.keyboard.press("a")
    page.wait_for_url(lambda url: not url.endswith(f"/label/{blue['id']}"))
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    assert manager.get(f"/api/v1/items/{blue['id']}/annotations").json()[0]["source"] == (
        "suggestion"
    )
    page.keyboard.press("z")  # back to the item, and the accepted label is withdrawn
    page.wait_for_url(re.compile(rf"/label/{blue['id']}$"))
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")
    expect(page.locator(".category-button[aria-pressed=true]")).to_have_count(0)
    left = manager.get(f"/api/v1/items/{blue['id']}/annotations").json()
    assert [a["source"] for a in left] in ([], ["withdrawal"]), left
