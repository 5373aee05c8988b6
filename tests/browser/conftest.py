"""Browser fixtures: a real uvicorn server per test (on that test's fresh database), one
Debian Chromium per xdist worker driven by Playwright, and a page per test that records
JavaScript errors, broken assets and what the Content-Security-Policy blocked, with
screenshots saved under test-artifacts/.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
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


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """``create_app(runtime)`` served by uvicorn on a free port in a background thread.

    The socket is bound here (port 0) and handed to uvicorn, so parallel workers never race
    for a port. Returns the base URL once /healthz answers.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        if not thread.is_alive():
            raise RuntimeError("uvicorn exited before it answered /healthz")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not answer /healthz on {base_url} within 15 s")
        time.sleep(0.02)  # polling a socket, not waiting on the page
    yield base_url
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    assert not thread.is_alive(), "uvicorn did not stop"


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
