"""The labeling page's image viewer: Fit fills the stage with the image, small images too
(scaled up), and 1:1 shows it at its own size."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from scholia.core.models import Annotation, User
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


POINT = """([x, y]) => {
  const image = document.querySelector('[data-image]').getBoundingClientRect();
  return [(x - image.left) / image.width, (y - image.top) / image.height];
}"""


def test_the_wheel_zooms_about_the_cursor_and_adjust_changes_only_the_look(
    page: Page, runtime: Runtime, make_user: Callable[..., User]
) -> None:
    manager = make_user("manager")
    dee = make_user("annotator", username="dee")
    project_id = labeling_project(runtime, manager, count=1, name="Zoom", members=(dee,))
    sign_in(page, "dee")
    page.goto(f"/projects/{project_id}/label")
    page.wait_for_selector("[data-editor-root=classification][data-editor-mounted]")
    page.wait_for_function(f"() => ({MEASURE})().iw > 100")  # fitted
    labeling = page.url
    image = page.locator("[data-image]").bounding_box()
    assert image is not None
    # A point in the image's upper left quarter, away from the centre.
    x, y = image["x"] + image["width"] * 0.2, image["y"] + image["height"] * 0.3
    before = page.evaluate(POINT, [x, y])
    width = image["width"]
    page.mouse.move(x, y)
    for _ in range(3):
        page.mouse.wheel(0, -100)
    page.wait_for_function(f"() => ({MEASURE})().iw > {width} * 1.9")
    after = page.evaluate(POINT, [x, y])
    # The same image point is under the cursor, to a pixel of the zoomed image.
    zoomed = page.evaluate(MEASURE)
    assert abs(after[0] - before[0]) * zoomed["iw"] < 1.5, (before, after)
    assert abs(after[1] - before[1]) * zoomed["ih"] < 1.5, (before, after)

    # Brightness and contrast change how the image is shown, by keyboard too.
    page.locator(".image-adjust > summary").click()
    brightness = page.locator("[data-adjust=brightness]")
    brightness.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(page.locator("[data-image]")).to_have_css("filter", "brightness(1.2) contrast(1)")
    page.locator("[data-adjust-reset]").click()
    expect(page.locator("[data-image]")).to_have_css("filter", "none")
    expect(brightness).to_have_value("100")
    # The slider's keys moved the slider only: nothing was labelled, the page stayed.
    with runtime.session() as session:
        assert session.exec(select(Annotation)).all() == []
    assert page.url == labeling


@pytest.mark.parametrize("width", [1024, 1920])
def test_the_page_fits_the_screen_width_without_sideways_scrolling(
    page: Page, runtime: Runtime, make_user: Callable[..., User], width: int
) -> None:
    manager = make_user("manager")
    annotator = make_user("annotator", username=f"wide-{width}")
    project_id = labeling_project(runtime, manager, count=2, name="Widths", members=(annotator,))
    page.set_viewport_size({"width": width, "height": 768})
    sign_in(page, f"wide-{width}")
    page.goto(f"/projects/{project_id}/label")
    page.wait_for_selector("[data-editor-mounted]")
    scroll, client = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= client
    # The viewer takes what the queue and the editors leave: most of the screen.
    viewer = page.locator("[data-viewer-root]").bounding_box()
    assert viewer is not None and viewer["width"] > width * (0.45 if width < 1280 else 0.6)
