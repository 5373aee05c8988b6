"""Dataset versions in a real browser: create one from the page, watch its row poll until the
build is done, find the download; a held one shows the gate's report instead."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from scholia.core import datasets
from scholia.core.contributions import QualityRule, RuleResult
from scholia.core.models import User
from scholia.core.plugins import Plugins
from tests.conftest import with_rules
from tests.test_api_datasets import APPROVED_ONLY

from .conftest import sign_in

pytestmark = pytest.mark.browser

REVIEWED = threading.Event()
"""Set by the test: until then the test's slow rule keeps the first build in the gate."""


def reviewed_by_hand(context: datasets.GateContext, threshold: float) -> RuleResult:
    """A rule as slow as a person: a long build the page has to wait for."""
    assert REVIEWED.wait(15), "the test never let the build finish"
    return RuleResult(passed=True, value=1, threshold=threshold, message="checked")


SPOT_CHECK = QualityRule(
    name="spot_check", title="Spot check", evaluate=reviewed_by_hand, default_threshold=1
)


@pytest.fixture
def plugins() -> Plugins:
    REVIEWED.clear()
    return with_rules(APPROVED_ONLY, SPOT_CHECK)


def test_create_a_version_watch_it_build_and_see_a_held_one_s_report(
    page: Page,
    labeled: dict[str, Any],
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    make_user("manager", username="mara", project=labeled["project"])
    sign_in(page, "mara")
    page.goto(f"/projects/{labeled['project'].id}")
    page.get_by_role("link", name="Datasets").click()
    expect(page.get_by_role("heading", name="Dataset versions", level=1)).to_be_visible()
    expect(page.get_by_text("No dataset versions yet")).to_be_visible()

    page.get_by_role("button", name="Create version").click()  # approved items only
    first = page.locator("tbody.version[data-version='1']")
    expect(first).to_have_attribute("data-status", "building")
    expect(first.get_by_role("progressbar")).to_contain_text("/ 4 items")
    screenshot("1-building")
    notice = page.locator("main > .flash[role='status']")
    expect(notice).to_have_text("Building version 1; its row shows the progress.")
    REVIEWED.set()
    expect(first).to_have_attribute("data-status", "released")  # the row polled itself
    expect(notice).to_have_text("Version 1 is released.")  # the notice no longer says building
    expect(first.get_by_role("link", name="Download")).to_have_attribute(
        "href", f"/api/v1/datasets/{first.get_attribute('id').split('-')[1]}/download"
    )

    # And the two labeled items no reviewer approved:
    page.get_by_role("checkbox", name=re.compile(r"^labeled\b")).check()
    page.get_by_role("button", name="Create version").click()
    second = page.locator("tbody.version[data-version='2']")
    expect(second).to_have_attribute("data-status", "held")
    expect(second.get_by_role("link", name="Download")).to_have_count(0)
    failing = second.locator("tr.failed[data-rule='approved_share']")
    expect(failing).to_contain_text("Approved items")
    expect(failing).to_contain_text("0.667")
    expect(failing).to_contain_text("at least 1")
    expect(failing).to_contain_text("4 of 6 items approved")
    screenshot("2-held")
    first.locator("details.formats summary").click()
    yolo = first.get_by_role("link", name="YOLO (Ultralytics classification folders)")
    expect(yolo).to_be_visible()
    screenshot("3-formats")
    with page.expect_download() as downloaded:
        yolo.click()
    assert downloaded.value.suggested_filename == "seeded-v1-yolo.zip"
