"""The Members page in a browser: a manager adds a colleague by username, changes their role
and removes them; the annotator they added sees the project and nothing to manage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from scholia.core.models import User
from scholia.core.runtime import Runtime

from .conftest import sign_in
from .labeling import labeling_project

pytestmark = pytest.mark.browser


def test_a_manager_manages_the_projects_members(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    mara = make_user("manager", username="mara")
    make_user("annotator", username="ana")
    project_id = labeling_project(runtime, mara, count=1, name="Birds")
    sign_in(page, "mara")
    page.goto(f"/projects/{project_id}")
    page.get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    page.get_by_label("Username").fill("ana")
    page.locator(".member-form select[name=role]").select_option("reviewer")
    page.get_by_role("button", name="Add").click()
    expect(page.locator(".flash")).to_contain_text("ana added as reviewer.")
    row = page.locator('tr[data-member="ana"]')
    expect(row.get_by_label("Role of ana")).to_have_value("reviewer")
    screenshot("members")
    row.get_by_label("Role of ana").select_option("annotator")
    row.get_by_role("button", name="Change").click()
    expect(page.locator(".flash")).to_contain_text("Role changed to annotator.")
    page.locator('tr[data-member="mara"]').get_by_role("button", name="Remove").click()
    expect(page.locator(".flash")).to_contain_text("last manager")
    screenshot("last-manager")
