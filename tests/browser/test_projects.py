"""Creating a project through the form, and the Plugins page."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from scholia.core import labels, projects
from scholia.core.models import Project, User
from scholia.core.runtime import Runtime

from .conftest import sign_in

pytestmark = pytest.mark.browser


def test_create_a_project_through_the_form(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    make_user("manager", username="mara")
    sign_in(page, "mara")
    page.get_by_role("link", name="Create your first project").click()
    expect(page).to_have_url(re.compile(r"/projects/new$"))
    expect(page.get_by_role("heading", name="New project")).to_be_visible()
    screenshot("1-new-form")

    # First without an annotation type: the form comes back with the error, input kept.
    page.get_by_label("Name").fill("Pets")
    page.get_by_role("radio", name=re.compile(r"^Image")).check()
    page.get_by_label("Categories").fill("cat\ndog")
    page.get_by_label("Guidelines").fill("Rate how sharp the animal is.")
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/projects")
    ) as answer:
        page.get_by_role("button", name="Create project").click()
    assert answer.value.status == 422
    expect(page.get_by_role("alert")).to_have_text("Choose at least one annotation type")
    rating = page.get_by_role("checkbox", name=re.compile(r"^Rating"))
    expect(rating.locator("xpath=ancestor::fieldset").locator(".field-error")).to_have_text(
        "Choose at least one annotation type"
    )
    expect(page.get_by_label("Name")).to_have_value("Pets")
    expect(page.get_by_role("radio", name=re.compile(r"^Image"))).to_be_checked()
    expect(page.get_by_label("Categories")).to_have_value("cat\ndog")
    expect(page.get_by_label("Guidelines")).to_have_value("Rate how sharp the animal is.")
    expect(rating).not_to_be_checked()
    screenshot("2-missing-annotation-type")
    with runtime.session() as session:
        assert session.exec(select(Project)).all() == []

    rating.check()
    page.get_by_role("button", name="Create project").click()
    expect(page).to_have_url(re.compile(r"/projects/\d+$"))
    project_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_role("status")).to_have_text("Project “Pets” created.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pets")
    expect(page.locator(".category-chip")).to_have_count(2)
    expect(page.locator(".category-chip").nth(0)).to_contain_text("cat")
    expect(page.locator(".category-chip").nth(1)).to_contain_text("dog")
    expect(page.get_by_text("Rate how sharp the animal is.")).to_be_visible()
    expect(page.get_by_role("heading", name="No items yet")).to_be_visible()
    screenshot("3-project-created")

    with runtime.session() as session:
        project = projects.get_project(session, project_id)
        assert (project.name, project.modality, project.annotation_types) == (
            "Pets",
            "image",
            ["rating"],
        )
        assert [c.name for c in labels.live_categories(session, project_id)] == ["cat", "dog"]
        assert projects.current_guideline(session, project_id).body == (
            "Rate how sharp the animal is."
        )

    page.get_by_role("link", name="Projects").first.click()
    expect(page).to_have_url(re.compile(r"/projects$"))
    card = page.locator(f".project-card[data-project-id='{project_id}']")
    expect(card.get_by_role("heading")).to_have_text("Pets")
    expect(card.locator(".meta .badge")).to_have_text(["image", "rating"])
    items = card.locator(".stat").filter(has=page.locator("span", has_text=re.compile("^items$")))
    expect(items.locator("strong")).to_have_text("0")
    expect(card).to_contain_text("No items yet")
    expect(page.get_by_role("link", name="+ New project")).to_be_visible()
    screenshot("4-projects-list")


def test_plugins_page_lists_the_loaded_example_plugins(
    page: Page, make_user: Callable[..., User], screenshot: Callable[[str], Path]
) -> None:
    make_user("annotator", username="otto")
    sign_in(page, "otto")
    page.goto("/plugins")
    expect(page.get_by_role("heading", name="Plugins", level=1)).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)  # no plugin failed to load

    image = page.locator("tr[data-plugin='scholia-image']")
    expect(image.locator("td").nth(0)).to_contain_text("scholia-image")
    expect(image.locator(".badge")).to_have_text("loaded")
    expect(image.locator(".contrib code")).to_have_text(
        [
            "modality: image",
            "viewer: image",
            "annotation type: classification",
            "prelabel backend: onnx-classifier",
            "prelabel backend: label-studio-ml",
        ]
    )

    rating = page.locator("tr[data-plugin='scholia-rating']")
    expect(rating.locator("td").nth(0)).to_contain_text("scholia-rating")
    expect(rating.locator(".badge")).to_have_text("loaded")
    expect(rating.locator(".contrib code")).to_have_text(["annotation type: rating"])
    screenshot("1-plugins")
