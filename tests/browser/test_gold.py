"""In the browser: a reviewer marks an item gold from its page and finds it on the gold page;
an annotator failing gold answers is suspended and their labeling page says why."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from scholia.core import annotations
from scholia.core.models import User
from scholia.core.runtime import Runtime
from tests.test_standing import WRONG, gold_project

from .conftest import sign_in


def test_mark_gold_from_the_item_page_then_suspend_and_lift(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    _, project, production, golden = gold_project(
        runtime, production=3, gold_items=3, gold={"window": 3, "min_count": 3}
    )
    make_user("manager", username="mara", project=project)
    ann = make_user("annotator", username="otto", project=project)
    sign_in(page, "mara")
    page.goto(f"/projects/{project.id}/items/{production[0]}")
    form = page.locator("[data-gold-form=classification]")
    # Opening the form mounts the type's own editor: the expected answer is made as a label is.
    page.locator("[data-gold-mark=classification] > summary").click()
    form.locator("[data-gold-editor][data-editor-mounted] .category-button", has_text="dog").click()
    expect(form.locator("[data-gold-payload]")).to_have_value(re.compile(r'"category_ids":\[\d+\]'))
    form.locator("textarea[name=explanation]").fill("Floppy ears.")
    form.get_by_role("button", name="Mark as gold").click()
    expect(page.get_by_text("Marked as gold with its expected answer.")).to_be_visible()
    screenshot("1-marked")

    for item_id in golden:  # otto misses three gold answers: suspended
        with runtime.session() as session:
            annotations.submit(
                session,
                runtime.plugins,
                item_id=item_id,
                annotator_id=ann.id,  # type: ignore[arg-type]
                annotation_type="classification",
                payload={"category_ids": [WRONG]},
            )
    page.get_by_role("link", name=project.name).first.click()
    page.locator("[data-gold-link]").click()
    expect(page).to_have_url(re.compile(rf"/projects/{project.id}/gold$"))
    expect(page.locator(f'[data-gold-item="{production[0]}"]')).to_contain_text("dog")
    # Each expected answer is drawn by its editor's view (the classification's chips).
    expect(
        page.locator(f'[data-gold-item="{production[0]}"] [data-annotation-view] .category-chip')
    ).to_have_text("dog")
    expect(page.locator('[data-annotator="otto"] [data-rate]')).to_contain_text("0%")
    expect(page.locator("#suspensions")).to_contain_text("below the project's threshold of 80%")
    screenshot("2-gold-page")

    otto = page.context.browser.new_page(base_url=page.url.split("/projects")[0])  # type: ignore[union-attr]
    sign_in(otto, "otto")
    otto.goto(f"/projects/{project.id}/label")
    expect(otto.locator("[data-reason]")).to_contain_text("You are suspended from this project")
    assert "gold" not in otto.content().lower()
    otto.close()

    page.locator("[data-lift]").click()
    expect(page.get_by_text("Suspension lifted: the annotator gets items again.")).to_be_visible()
    screenshot("3-lifted")
