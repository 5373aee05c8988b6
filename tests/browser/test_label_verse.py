"""Labeling an item that is no file at all: the test-only verse plugin's editor, in Chromium,
shows the verse from the item's inline part and saves a phrase the page sends like any label."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from scholia.core import labels, parts, projects
from scholia.core.models import User
from scholia.core.plugins import Plugins
from scholia.core.revisions import current_annotations
from scholia.core.runtime import Runtime
from tests.conftest import add_member, verse_plugins

from .conftest import sign_in

pytestmark = pytest.mark.browser

VERSE = "Sing, O goddess, the anger of Achilles son of Peleus"


@pytest.fixture
def plugins() -> Plugins:
    return verse_plugins()


def test_a_phrase_of_a_verse_is_labeled_in_the_page(
    page: Page, runtime: Runtime, make_user: Callable[..., User]
) -> None:
    manager, annotator = make_user("manager"), make_user("annotator", username="homer")
    assert manager.id is not None
    with runtime.session() as session:
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=manager.id,
            name="Epics",
            modality="verse",
            annotation_types=["phrase"],
            categories=["person", "place"],
            guidelines="Mark who is named.",
        )
        item = parts.ingest_parts(
            session,
            runtime.store,
            runtime.plugins,
            project,
            parts.NewItem(inline={"text": {"text": VERSE}}, name="iliad-1"),
            actor_id=manager.id,
        ).item
    add_member(runtime, project, annotator)
    sign_in(page, "homer")
    page.goto(f"/projects/{project.id}/label/{item.id}")
    card = page.locator('[data-editor-root="phrase"]')
    expect(card.locator("[data-verse-text]")).to_have_text(VERSE)
    card.locator("input[name=start]").fill("30")
    card.locator("input[name=end]").fill("38")
    card.locator("select[name=category_id]").select_option(label="person")
    card.get_by_role("button", name="Save phrase").click()
    saved = None
    for _ in range(100):  # the page's outbox sends it in the background
        with runtime.session() as session:
            found = current_annotations(session, item.id)  # type: ignore[arg-type]
        if found:
            (saved,) = found
            break
        page.wait_for_timeout(100)
    assert saved is not None, "the phrase never reached the server"
    with runtime.session() as session:
        person = labels.live_categories(session, project.id)[0]  # type: ignore[arg-type]
    assert (saved.annotation_type, person.name) == ("phrase", "person")
    assert saved.payload == {"start": 30, "end": 38, "category_id": person.id}
    assert VERSE[30:38] == "Achilles"
