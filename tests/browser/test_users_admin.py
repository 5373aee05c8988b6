"""The Users page in a real browser: an admin creates an account by keyboard, hands over the
generated password, resets it (the person's session ends) and deactivates the account."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from scholia.core.models import User

from .conftest import sign_in

pytestmark = pytest.mark.browser


def sign_in_as(page: Page, username: str, password: str) -> None:
    """Sign in as someone whose display name is not their username."""
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/projects$"))


def shown_password(page: Page) -> str:
    code = page.locator("code[data-new-password]")
    expect(code).to_have_count(1)
    return code.inner_text().strip()


def test_an_admin_creates_a_user_and_resets_their_password_by_keyboard(
    page: Page,
    browser: Browser,
    live_server: str,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    admin = make_user("admin")
    sign_in(page, admin.username)
    page.get_by_role("link", name="Users").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/users$"))
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    screenshot("1-users")

    new_user = page.locator(".users-new")
    new_user.get_by_label("Username").focus()
    page.keyboard.type("ines")
    page.keyboard.press("Tab")
    page.keyboard.type("Inès Quintero")
    page.keyboard.press("Tab")  # the first role: annotator
    page.keyboard.press("Space")
    new_user.get_by_label("Password").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-created]")).to_contain_text("Created ines (annotator)")
    first = shown_password(page)
    row = page.locator('tr[data-user="ines"]')
    expect(row).to_contain_text("Inès Quintero")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("not known")
    screenshot("2-created")

    person = browser.new_context(base_url=live_server)
    theirs = person.new_page()
    sign_in_as(theirs, "ines", first)
    expect(theirs.locator(".usermenu")).to_contain_text("Inès Quintero")

    row.get_by_text("Reset password").focus()
    page.keyboard.press("Enter")
    row.get_by_label("New password for ines").focus()
    screenshot("3-reset-open")
    page.keyboard.press("Enter")
    expect(page.locator("[data-password-set]")).to_contain_text(
        "New password for ines set; 1 browser session signed out."
    )
    second = shown_password(page)
    assert second != first
    screenshot("4-reset")

    theirs.goto("/projects")
    expect(theirs).to_have_url(re.compile(r"/sign-in\?"))
    sign_in_as(theirs, "ines", second)

    page.goto("/admin/users")
    expect(page.locator("code[data-new-password]")).to_have_count(0)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator('tr[data-user="ines"]').get_by_role("button", name="Deactivate").click()
    expect(page.locator(".flash.success")).to_contain_text("ines is deactivated")
    expect(page.locator('tr[data-user="ines"]')).to_contain_text("inactive")
    screenshot("5-deactivated")
    theirs.goto("/projects")
    expect(theirs).to_have_url(re.compile(r"/sign-in\?"))
    person.close()


def test_the_users_page_at_phone_width(
    page: Page, make_user: Callable[..., User], screenshot: Callable[[str], Path]
) -> None:
    admin = make_user("admin")
    make_user("annotator", username="a-rather-long-username@example.org")
    sign_in(page, admin.username)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/admin/users")
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    screenshot("phone")
    # The table scrolls sideways inside its card (the phone rule lets a wide table scroll in
    # itself); the page below the top bar stays within the screen.
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    table = page.locator(".users-table table")
    assert table.evaluate("table => table.scrollWidth > table.clientWidth")
    assert table.evaluate("table => getComputedStyle(table).overflowX") == "auto"
    card = page.locator(".users-table")
    assert card.evaluate("card => card.scrollWidth <= card.clientWidth")
