"""The categories editor and the classification mode on the new-project form, in a browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from scholia.core import projects
from scholia.core.models import User
from scholia.core.runtime import Runtime

from .conftest import sign_in

pytestmark = pytest.mark.browser


def api(page: Page, path: str) -> Any:
    response = page.request.get(path)
    assert response.ok, response.text()
    return response.json()


def test_edit_categories_keeps_ids_and_records_each_version(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    mara = make_user("manager", username="mara")
    with runtime.session() as session:
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=mara.id,  # type: ignore[arg-type]
            name="Pets",
            modality="image",
            annotation_types=["classification"],
            categories=["cat"],
        )
    base = f"/projects/{project.id}/categories"
    sign_in(page, "mara")
    page.goto(base)
    expect(page.get_by_role("heading", name="Categories", level=1)).to_be_visible()
    expect(page.locator("#schema-version")).to_have_text("v1.0.0")
    expect(page.get_by_text("Deleting a category bumps the major version")).to_be_visible()
    rows = page.locator("ol.cat-list > li")
    version = page.locator("#schema-version")

    # Add two categories (the second with Enter, from the keyboard).
    page.get_by_label("New category").fill("dog")
    page.get_by_role("button", name="Add category").click()
    expect(version).to_have_text("v1.1.0")
    expect(page.get_by_role("status")).to_contain_text("Added category 2 “dog”.")
    page.get_by_label("New category").fill("bird")
    page.get_by_label("New category").press("Enter")
    expect(version).to_have_text("v1.2.0")
    expect(rows).to_have_count(3)

    # A duplicate is refused inline; what was typed stays.
    page.get_by_label("New category").fill("Cat")
    page.get_by_role("button", name="Add category").click()
    expect(page.get_by_role("alert")).to_have_text("Category 1 is already called 'cat'.")
    expect(page.get_by_label("New category")).to_have_value("Cat")
    expect(version).to_have_text("v1.2.0")
    screenshot("1-duplicate-refused")

    # Rename bird (id 3) to parrot.
    page.get_by_label("Name of category 3").fill("parrot")
    page.get_by_label("Name of category 3").press("Enter")
    expect(version).to_have_text("v1.3.0")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_label("Name of category 3")).to_have_value("parrot")

    # Move parrot up with the keyboard: focus stays on its button, so Enter again moves on.
    page.get_by_role("button", name="Move parrot up").focus()
    page.keyboard.press("Enter")
    expect(version).to_have_text("v1.3.1")
    expect(rows.nth(1)).to_have_attribute("data-category-id", "3")
    expect(page.locator("#cat-3-up")).to_be_focused()
    expect(page.get_by_role("button", name="Move cat up")).to_be_disabled()
    screenshot("2-after-move")

    # Delete dog (id 2), then restore it.
    page.get_by_role("button", name="Delete dog").click()
    expect(version).to_have_text("v2.0.0")
    deleted = page.locator("ul.cat-deleted > li")
    expect(deleted).to_have_count(1)
    expect(deleted.first).to_have_attribute("data-category-id", "2")
    expect(rows).to_have_count(2)
    screenshot("3-deleted")
    page.get_by_role("button", name="Restore dog").click()
    expect(version).to_have_text("v2.1.0")
    expect(deleted).to_have_count(0)
    expect(rows).to_have_count(3)

    history = page.locator(".cat-history tbody tr")
    expected = ["2.1.0", "2.0.0", "1.3.1", "1.3.0", "1.2.0", "1.1.0", "1.0.0"]
    expect(history).to_have_count(len(expected))
    expect(history.first).to_contain_text("category 2: restored")
    expect(history.first).to_contain_text(mara.display_name)
    screenshot("4-history")

    # Through the API: ids never changed, order is as shown, the versions as expected.
    found = api(page, f"/api/v1/projects/{project.id}/categories?include_deleted=true")
    assert [(c["id"], c["name"], c["deleted"]) for c in found] == [
        (1, "cat", False),
        (3, "parrot", False),
        (2, "dog", False),
    ]
    versions = api(page, f"/api/v1/projects/{project.id}/schema-versions")
    assert [v["schema_version"] for v in versions] == expected
    assert api(page, f"/api/v1/projects/{project.id}")["schema_version"] == "2.1.0"

    # Reloading shows the same state (nothing lived only in the page).
    page.reload()
    expect(version).to_have_text("v2.1.0")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_have_attribute("data-category-id", "3")


def test_an_annotator_sees_categories_read_only(
    page: Page, runtime: Runtime, make_user: Callable[..., User]
) -> None:
    mara = make_user("manager", username="mara")
    with runtime.session() as session:
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=mara.id,  # type: ignore[arg-type]
            name="Pets",
            modality="image",
            annotation_types=["classification"],
            categories=["cat", "dog"],
        )
    make_user("annotator", username="otto", project=project)
    sign_in(page, "otto")
    page.goto(f"/projects/{project.id}/categories")
    expect(page.locator("ol.cat-list > li")).to_have_count(2)
    expect(page.get_by_role("button")).to_have_count(1)  # only "Sign out"
    expect(page.get_by_role("textbox")).to_have_count(0)


def test_create_a_multi_label_classification_project_through_the_form(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    make_user("manager", username="mara")
    sign_in(page, "mara")
    page.goto("/projects/new")
    classification = page.get_by_role("checkbox", name=re.compile(r"^Classification"))
    # The type's options, drawn from its options Struct, show only while it is ticked.
    options = page.locator("#options-classification")
    expect(options).to_be_hidden()
    classification.check()
    expect(options).to_be_visible()
    mode = page.get_by_label("Classification mode")
    expect(mode).to_have_value("single")
    page.get_by_label("Name").fill("Scenes")
    mode.select_option("multi")
    page.get_by_label("Categories").fill("indoor\noutdoor\npeople")
    screenshot("1-new-form-multi-label")
    page.get_by_role("button", name="Create project").click()
    expect(page).to_have_url(re.compile(r"/projects/\d+$"))
    project_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_role("status")).to_have_text("Project “Scenes” created.")

    with runtime.session() as session:
        project = projects.get_project(session, project_id)
        assert project.annotation_types == ["classification"]
        assert project.settings["annotation_options"] == {"classification": {"mode": "multi"}}
    assert api(page, f"/api/v1/projects/{project_id}")["schema_version"] == "1.0.0"

    page.goto(f"/projects/{project_id}/categories")
    expect(page.locator("ol.cat-list > li")).to_have_count(3)
    screenshot("2-categories-page")
