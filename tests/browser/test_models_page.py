"""The models page in a real browser: a manager uploads a locally trained ONNX model through
the form, activates it, clicks "Suggest for unlabeled" and watches the job's row poll itself to
done; a corrupt upload comes back on the form with the reason next to the model field."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from playwright.sync_api import Page, expect

from scholia.core.models import User
from scholia_image.colour_model import train_colour_classifier
from tests.modelling import NAMES, colour_project

from .conftest import sign_in

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")


def test_register_a_model_activate_it_and_suggest_for_unlabeled(
    page: Page,
    api_for: Callable[..., TestClient[Any]],
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    def shot(step: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot(step), SHOTS / f"models-{step}.png")

    model_file = tmp_path / "colours.onnx"
    config = train_colour_classifier(model_file, NAMES)["config"]
    corrupt = tmp_path / "broken.onnx"
    corrupt.write_bytes(b"this is not an ONNX graph")
    project = colour_project(api_for, count=9)
    make_user("manager", username="mara", project=project)
    sign_in(page, "mara")
    page.goto(f"/projects/{project['id']}")
    page.get_by_role("link", name="Models").click()
    expect(page.get_by_role("heading", name="Models", level=1)).to_be_visible()
    expect(page.get_by_text("No models yet")).to_be_visible()
    suggest = page.get_by_role("button", name="Suggest for unlabeled")
    expect(suggest).to_be_disabled()
    shot("1-empty")

    form = page.locator("form#register")
    expect(form.get_by_label("Categories, in the model’s output order")).to_have_value(
        "red\ngreen\nblue"
    )
    # Choosing the URL backend swaps the file field for a URL and its default config.
    form.locator("select[name=backend]").select_option(label="Label Studio ML backend")
    expect(form.get_by_label("Service URL")).to_be_visible()
    expect(form.get_by_label("Model file")).to_be_hidden()
    expect(form.get_by_label("Config (JSON)")).to_have_value(re.compile('"timeout_s"'))
    form.locator("select[name=backend]").select_option("onnx-classifier")
    expect(form.get_by_label("Config (JSON)")).to_have_value(re.compile('"batch_size": 32'))

    form.get_by_label("Name", exact=True).fill("colours")
    form.get_by_role("textbox", name=re.compile("^Version")).fill("1.0")
    form.get_by_label("Config (JSON)").fill(json.dumps(config, indent=2))
    form.get_by_label("Model file").set_input_files(str(corrupt))
    form.get_by_role("button", name="Register model").click()
    source = page.locator("form#register fieldset.source")
    expect(source).to_have_class(re.compile(r"\binvalid\b"))
    expect(source.locator(".field-error")).to_be_visible()
    expect(form.get_by_label("Name", exact=True)).to_have_value("colours")  # kept
    shot("2-refused")

    form.get_by_label("Model file").set_input_files(str(model_file))
    form.get_by_role("button", name="Register model").click()
    expect(page.locator(".flash.success")).to_contain_text("Registered colours 1.0")
    row = page.locator("tbody.model[data-model='colours 1.0']")
    expect(row).to_have_attribute("data-status", "registered")
    row.get_by_role("button", name="Activate").click()
    expect(row).to_have_attribute("data-status", "active")
    expect(suggest).to_be_enabled()
    shot("3-active")

    suggest.click()
    job = page.locator("tbody.job").first
    expect(job).to_have_attribute("data-status", "done", timeout=30_000)  # the row polled
    expect(job.get_by_role("progressbar")).to_contain_text("9 / 9 items")
    expect(job.locator("[data-suggested]")).to_have_text("9")
    expect(job.locator("[data-failed]")).to_have_text("0")
    page.mouse.move(0, 0)
    shot("4-done")

    # Annotators decide on three suggestions: the outcome log fills in.
    annotator = api_for("annotator", project=project)
    for n, item in enumerate(project["items"][:3]):
        (shown,) = annotator.get(f"/api/v1/items/{item['id']}/suggestions").json()
        action = "dismiss" if n == 2 else "accept"
        annotator.post(f"/api/v1/suggestions/{shown['id']}/{action}", json={}).raise_for_status()
    page.reload()
    outcome = page.locator("tbody.outcome[data-model='colours 1.0']")
    expect(outcome.locator("[data-outcome=accepted]")).to_have_text("2")
    expect(outcome.locator("[data-outcome=acceptance]")).to_have_text("67%")
    page.locator("#outcomes-title").scroll_into_view_if_needed()
    shot("5-outcomes")

    # Renaming a category the model was trained on blocks it, and the page says why.
    renamed = project["manager"].patch(
        f"/api/v1/projects/{project['id']}/categories/{project['categories']['green']}",
        json={"name": "lime"},
    )
    assert renamed.status_code == 200, renamed.text
    page.reload()
    expect(row.locator(".model-warning")).to_contain_text("Suggestions are blocked.")
    expect(row.locator(".model-warning")).to_contain_text("'green'")
    expect(suggest).to_be_disabled()
    shot("6-mismatch")

    # Retire asks first; dismissing the question keeps the model.
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Retire").click()
    expect(row).to_have_attribute("data-status", "active")


def test_the_whole_way_in_the_browser_register_suggest_accept_with_a_and_read_provenance(
    page: Page,
    api_for: Callable[..., TestClient[Any]],
    make_user: Callable[..., User],
    tmp_path: Path,
) -> None:
    """The issue's acceptance flow, each step through the pages: a manager uploads a locally
    built ONNX model and suggests for the unlabeled items, an annotator accepts one with A,
    and a reviewer reads the model version in the item's provenance."""
    model_file = tmp_path / "colours.onnx"
    config = train_colour_classifier(model_file, NAMES)["config"]
    project = colour_project(api_for, count=3)
    make_user("manager", username="mona", project=project)
    sign_in(page, "mona")
    page.goto(f"/projects/{project['id']}/models")
    form = page.locator("form#register")
    form.get_by_label("Name", exact=True).fill("colours")
    form.get_by_role("textbox", name=re.compile("^Version")).fill("2.1")
    form.get_by_label("Config (JSON)").fill(json.dumps(config, indent=2))
    form.get_by_label("Model file").set_input_files(str(model_file))
    form.get_by_role("button", name="Register model").click()
    page.locator("tbody.model[data-model='colours 2.1']").get_by_role(
        "button", name="Activate"
    ).click()
    page.get_by_role("button", name="Suggest for unlabeled").click()
    expect(page.locator("tbody.job").first).to_have_attribute("data-status", "done")

    page.context.clear_cookies()
    make_user("annotator", username="anton", project=project)
    sign_in(page, "anton")
    red = project["items"][0]
    page.goto(f"/projects/{project['id']}/label/{red['id']}")
    card = page.locator('[data-suggestion="classification"]')
    expect(card.locator(".suggestion-model")).to_have_text("colours 2.1")
    page.keyboard.press("a")
    page.wait_for_url(lambda url: not url.endswith(f"/label/{red['id']}"))
    expect(page.locator("[data-save-state]")).to_have_text("All changes saved")

    page.context.clear_cookies()
    make_user("reviewer", username="renate", project=project)
    sign_in(page, "renate")
    page.goto(f"/projects/{project['id']}/items/{red['id']}")
    expect(page.locator("#annotations [data-provenance]")).to_have_text(
        "from suggestion · colours 2.1"
    )
