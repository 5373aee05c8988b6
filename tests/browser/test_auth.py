"""Signing in and out in a real browser, against a real server and database."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import func, select

from scholia.core.models import User
from scholia.core.models.identity import WebSession
from scholia.core.runtime import Runtime
from tests.conftest import PASSWORD

from .conftest import sign_in

pytestmark = pytest.mark.browser

SIGN_IN_FOR_PROJECTS = re.compile(r"/sign-in\?next=(/|%2F)projects&reason=required$")


def web_sessions(runtime: Runtime) -> int:
    with runtime.session() as session:
        return int(session.exec(select(func.count()).select_from(WebSession)).one())


def test_sign_in_rejects_a_wrong_password_then_lands_on_the_empty_projects_page(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    make_user("manager", username="mara")

    page.goto("/projects")
    expect(page).to_have_url(SIGN_IN_FOR_PROJECTS)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator(".flash.info")).to_have_text("Please sign in to continue.")
    screenshot("1-sign-in")

    page.get_by_label("Username").fill("mara")
    page.get_by_label("Password").fill("not the password")
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/sign-in")
    ) as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 401
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    screenshot("2-wrong-password")
    # Nothing else changed: still on the form, username kept, password cleared, still bound
    # for /projects, no session cookie and no session in the database.
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_label("Username")).to_have_value("mara")
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.locator("input[name=next]")).to_have_value("/projects")
    expect(page.locator(".usermenu")).to_have_count(0)
    assert "scholia_session" not in {c["name"] for c in page.context.cookies()}
    assert web_sessions(runtime) == 0

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/projects$"))
    expect(page.locator(".usermenu")).to_contain_text("mara")
    empty = page.locator(".card.empty")
    expect(empty.get_by_role("heading")).to_have_text("No projects yet")
    create = empty.get_by_role("link", name="Create your first project")
    expect(create).to_be_visible()
    expect(create).to_have_attribute("href", "/projects/new")
    assert web_sessions(runtime) == 1
    screenshot("3-projects-empty")


def test_sign_out_ends_the_session(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    make_user("annotator", username="otto")
    sign_in(page, "otto")
    # An annotator sees the empty state without the manager's create button.
    expect(page.get_by_role("heading", name="No projects yet")).to_be_visible()
    expect(page.get_by_role("link", name="Create your first project")).to_have_count(0)
    old_cookie = next(c for c in page.context.cookies() if c["name"] == "scholia_session")
    assert web_sessions(runtime) == 1

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    expect(page.locator(".usermenu")).to_have_count(0)
    screenshot("1-signed-out")
    assert "scholia_session" not in {c["name"] for c in page.context.cookies()}
    assert web_sessions(runtime) == 0

    page.goto("/projects")
    expect(page).to_have_url(SIGN_IN_FOR_PROJECTS)
    # The server forgot the session: replaying the old cookie does not sign anyone in.
    page.context.add_cookies(
        [
            {
                "name": "scholia_session",
                "value": old_cookie["value"],
                "domain": old_cookie["domain"],
                "path": old_cookie["path"],
            }
        ]
    )
    page.goto("/projects")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=(/|%2F)projects&reason="))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot("2-projects-after-sign-out")
