"""The labeling page's image viewer: Fit fills the stage with the image, small images too
(scaled up), and 1:1 shows it at its own size."""

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

MEASURE = """() => {
  const viewer = document.querySelector('[data-viewer]').getBoundingClientRect();
  const image = document.querySelector('[data-image]').getBoundingClientRect();
  return { vw: viewer.width, vh: viewer.height, iw: image.width, ih: image.height };
}"""


def _fills(box: dict[str, float]) -> bool:
    """The image touches two opposite edges of the viewer and fits inside it."""
    wide = abs(box["iw"] - box["vw"]) <= 2 and box["ih"] <= box["vh"] + 2
    tall = abs(box["ih"] - box["vh"]) <= 2 and box["iw"] <= box["vw"] + 2
    return wide or tall


def test_fit_enlarges_a_small_image_and_one_to_one_shows_its_own_size(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    manager = make_user("manager")
    dee = make_user("annotator", username="dee")
    project_id = labeling_project(
        runtime, manager, count=1, name="Small", members=(dee,)
    )  # 24 × 16 images
    sign_in(page, "dee")
    page.goto(f"/projects/{project_id}/label")
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    expect(page.locator("[data-image]")).to_have_js_property("complete", True)

    page.locator("[data-zoom=fit]").click()
    page.wait_for_function(f"() => ({MEASURE})().iw > 100")
    box = page.evaluate(MEASURE)
    assert _fills(box), box
    screenshot("fit")
    page.locator("[data-zoom=actual]").click()
    page.wait_for_function(
        "() => Math.abs(document.querySelector('[data-image]').getBoundingClientRect().width"
        " - 24) < 0.5"
    )
    box = page.evaluate(MEASURE)
    assert (round(box["iw"]), round(box["ih"])) == (24, 16), box

    # 0 switches between the two: from 1:1 to Fit, and back.
    page.keyboard.press("0")
    page.wait_for_function(f"() => ({MEASURE})().iw > 100")
    assert _fills(page.evaluate(MEASURE))
    page.keyboard.press("0")
    page.wait_for_function(f"() => Math.round(({MEASURE})().iw) === 24")
