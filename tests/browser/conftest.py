"""Browser fixtures: the live server of tests/conftest.py, one
Debian Chromium per xdist worker driven by Playwright, and a page per test that records
JavaScript errors, broken assets and what the Content-Security-Policy blocked, with
screenshots saved under test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Response,
    expect,
    sync_playwright,
)

from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One Chromium per worker process; each test gets its own context (cookies, storage)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageProblems:
    """What went wrong in the page that a test would not otherwise see."""

    def __init__(self) -> None:
        self.js_errors: list[str] = []
        self.broken_assets: list[str] = []
        self.csp_violations: list[str] = []

    def on_console(self, message: ConsoleMessage) -> None:
        # Chromium reports what the Content-Security-Policy blocked on the console.
        if "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def on_response(self, response: Response) -> None:
        path = response.url.split("?", 1)[0]
        if response.status >= 400 and re.search(r"/(static|media)/", path):
            self.broken_assets.append(f"{response.status} {path}")


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Browser, live_server: str, page_problems: PageProblems) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("pageerror", lambda error: page_problems.js_errors.append(str(error)))
    page.on("response", page_problems.on_response)
    page.on("console", page_problems.on_console)
    yield page
    context.close()
    assert not page_problems.js_errors, f"JavaScript errors: {page_problems.js_errors}"
    assert not page_problems.csp_violations, f"Blocked by the CSP: {page_problems.csp_violations}"
    assert not page_problems.broken_assets, f"Broken assets: {page_problems.broken_assets}"


@pytest.fixture
def screenshot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """``screenshot("step")`` saves test-artifacts/screenshots/<test-name>-<step>.png."""
    name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")

    def take(step: str) -> Path:
        path = SCREENSHOTS / f"{name}-{step}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person would, and wait for the projects page."""
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/projects$"))
    expect(page.locator(".usermenu")).to_contain_text(username)
