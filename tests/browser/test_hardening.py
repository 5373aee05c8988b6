"""The pages under the Content-Security-Policy in real Chromium: nothing blocked on any main
page, nothing wider than a 390 px phone, and the API docs drawn from this site alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from scholia.core.runtime import Runtime
from tests.conftest import seed

from .conftest import PageProblems, sign_in

pytestmark = pytest.mark.browser


def _main_pages(project_id: int, item_id: int) -> list[str]:
    base = f"/projects/{project_id}"
    return [
        "/projects",
        "/projects/new",
        base,
        f"{base}/categories",
        f"{base}/datasets",
        f"{base}/review",
        f"{base}/items/{item_id}",
        f"{base}/label",
        f"{base}/models",
        f"{base}/quality",
        f"{base}/gold",
        f"{base}/adjudication",
        f"{base}/settings",
        "/account",
        "/plugins",
        "/security",
        "/projects/999999",  # the error page
    ]


def test_no_main_page_breaks_the_content_security_policy(
    page: Page, runtime: Runtime, page_problems: PageProblems
) -> None:
    user, project, item = seed(
        runtime, annotation_types=("classification",), categories=("cat", "dog")
    )
    page.goto("/sign-in")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    sign_in(page, user.username)
    assert project.id is not None and item.id is not None
    visited = []
    for path in _main_pages(project.id, item.id):
        response = page.goto(path)
        assert response is not None
        page.wait_for_load_state("networkidle")
        visited.append(f"{response.status} {path}")
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy, path
    assert not page_problems.csp_violations, (visited, page_problems.csp_violations)
    # The scripts moved out of the templates still run: a type's options follow its box.
    page.goto("/projects/new")
    box = page.locator('input[name="annotation_types"][value="classification"]')
    if box.count():
        box.uncheck()
        expect(page.locator("#options-classification")).to_be_hidden()
        box.check()
        expect(page.locator("#options-classification")).to_be_visible()


WIDEST = """() => [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > 391 && e.children.length === 0)
  .slice(0, 3)
  .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${e.getBoundingClientRect().right}`)
  .join(", ")"""
"""The first few leaf elements that reach past a 390 px screen: what to fix."""


def test_pages_fit_a_390_pixel_phone(
    page: Page, runtime: Runtime, screenshot: Callable[[str], Path]
) -> None:
    user, project, item = seed(
        runtime, annotation_types=("classification",), categories=("cat", "dog")
    )
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, user.username)
    assert project.id is not None and item.id is not None
    too_wide = []
    for path in ["/sign-in", *_main_pages(project.id, item.id)]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.scrollingElement.scrollWidth")
        if width > 390:
            widest = page.evaluate(WIDEST)
            too_wide.append(f"{path}: {width}px ({widest})")
            screenshot(path.strip("/").replace("/", "-") or "root")
    assert too_wide == []


def test_the_api_docs_render_with_no_network_beyond_the_app(
    page: Page, live_server: str, screenshot: Callable[[str], Path]
) -> None:
    elsewhere: list[str] = []

    def only_the_app(route: Route) -> None:
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_app)
    page.goto("/api/v1/schema/swagger")
    expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
    expect(
        page.locator(".opblock-summary-path").filter(has_text="/api/v1/projects").first
    ).to_be_visible()
    assert page.locator(".opblock").count() > 20
    screenshot("swagger")
    assert elsewhere == []
