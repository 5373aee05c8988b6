"""Adjudication in a real browser: two annotators disagree on an item (one labels it on the
labeling page, the other through the API), it appears in the adjudication queue, the
adjudicator is refused without reasoning, then decides with it; the item is approved and the
dataset version's provenance carries the decision."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from scholia.core import annotations, identity
from scholia.core.models import Adjudication, Annotation, Item, User
from scholia.core.runtime import Runtime
from tests.conftest import export, labels_of

from .conftest import sign_in
from .labeling import labeling_project

pytestmark = pytest.mark.browser

CAT, DOG = 1, 2


def test_a_disagreement_is_adjudicated_with_reasoning_and_exported_with_it(
    page: Page,
    live_server: str,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    manager = make_user("manager")
    ana = make_user("annotator", username="ana")
    ben = make_user("annotator", username="ben")
    ada = make_user("adjudicator", username="ada")
    project_id = labeling_project(
        runtime,
        manager,
        count=1,
        name="Pets",
        categories=("cat", "dog"),
        settings={"overlap": 2},
        members=(ana, ben, ada),
    )
    with runtime.session() as session:
        item = session.exec(select(Item).where(col(Item.project_id) == project_id)).one()
        _, token = identity.create_api_token(session, ben, "script")
    assert item.id is not None

    # Ben labels it "dog" through the API, with his evidence.
    answer = httpx.post(
        f"{live_server}/api/v1/items/{item.id}/annotations",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "annotation_type": "classification",
            "payload": {"category_ids": [DOG]},
            "annotator_confidence": "probable",
            "reasoning": "Looks like a puppy to me.",
            "time_spent_ms": 4200,
        },
    )
    assert answer.status_code == 201, answer.text

    # Ana labels it "cat" on the labeling page: the second label makes the disagreement.
    sign_in(page, "ana")
    page.goto(f"/projects/{project_id}/label")
    page.wait_for_selector(".category-button")
    page.keyboard.press(str(CAT))
    expect(page.get_by_text("Your queue is empty")).to_be_visible()
    with runtime.session() as session:
        assert session.get(Item, item.id).status == "adjudication"  # type: ignore[union-attr]
    page.get_by_role("button", name="Sign out").click()

    # Ada finds it in the adjudication queue, from the project page.
    sign_in(page, "ada")
    page.goto(f"/projects/{project_id}")
    page.get_by_role("link", name="Adjudication", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/projects/{project_id}/adjudication$"))
    row = page.locator(f'tr[data-case="{item.id}"]')
    expect(row).to_contain_text("agreement 0.00 below 0.50")
    expect(row.locator("[data-versions]")).to_have_text("2")
    screenshot("1-queue")
    row.get_by_role("link", name="Adjudicate").click()
    expect(page).to_have_url(re.compile(rf"/projects/{project_id}/adjudication/{item.id}$"))

    # The versions side by side, each with its annotator's evidence; a tie: nothing picked.
    versions = page.locator("[data-version]")
    expect(versions).to_have_count(2)
    # (A version's text includes its folded payload, "category_ids…": find it by what it says.)
    dog = page.locator('[data-version][data-summary="dog"]')
    expect(dog).to_contain_text(ben.pseudonym)
    expect(dog).to_contain_text("4.2 s")
    expect(dog).to_contain_text("probable")
    expect(dog).to_contain_text("Looks like a puppy to me.")
    expect(page.locator('[data-version][data-summary="cat"]')).to_contain_text(ana.pseudonym)
    expect(page.locator("[data-tie]")).to_contain_text("It is a tie")
    expect(page.locator("input[name=annotation_id]:checked")).to_have_count(0)
    # Each version is drawn by its editor's view (the classification's chips), its payload
    # folded away; the item shows in the image plugin's viewer.
    expect(dog.locator("[data-annotation-view=classification] .category-chip")).to_have_text("dog")
    expect(dog.locator("[data-view-fallback]")).to_be_hidden()
    expect(dog.locator("details.adj-payload")).not_to_have_attribute("open", "")
    viewer = page.locator("[data-viewer-root=image][data-viewer-mounted] [data-image]")
    expect(viewer).to_be_visible()
    screenshot("2-case")

    # The digit picks the dog's version; deciding without reasoning is refused, on the page.
    number = dog.get_attribute("data-version")
    page.keyboard.press(str(number))
    expect(dog.locator("input[name=annotation_id]")).to_be_checked()
    expect(page.locator("[data-chosen]")).to_contain_text("dog")
    page.get_by_role("button", name=re.compile("^Decide")).click()
    expect(page.locator("[data-decide-error]")).to_contain_text("needs reasoning")
    expect(page.locator('[data-field-error="reasoning"]')).to_be_visible()
    expect(page.locator('[data-version][data-summary="dog"]').locator("input")).to_be_checked()
    screenshot("3-refused")
    with runtime.session() as session:
        assert session.exec(select(Adjudication)).first() is None

    # With reasoning, Ctrl+Enter decides; the backlog is then clear.
    reasoning = "Floppy ears and a snout: a dog. The guidelines say to label the animal shown."
    page.get_by_label(re.compile("^Reasoning")).fill(reasoning)
    page.keyboard.press("Control+Enter")
    expect(page).to_have_url(re.compile(rf"/projects/{project_id}/adjudication$"))
    expect(page.get_by_text("The backlog is clear")).to_be_visible()
    expect(page.locator(".flash")).to_contain_text(f"Item {item.id} approved")
    screenshot("4-clear")

    with runtime.session() as session:
        assert session.get(Item, item.id).status == "approved"  # type: ignore[union-attr]
        record = session.exec(select(Adjudication)).one()
        labels = {
            a.annotator_id: a
            for a in session.exec(select(Annotation).where(col(Annotation.item_id) == item.id))
        }
    assert record.reasoning == reasoning
    assert record.adjudicator_id == ada.id
    assert labels[ada.id].source == "adjudication"  # type: ignore[index]
    assert labels[ada.id].adjudication_id == record.id  # type: ignore[index]
    assert labels[ada.id].payload == {"category_ids": [DOG]}  # type: ignore[index]
    assert str(record.chosen_annotation_id) == str(labels[ben.id].id)  # type: ignore[index]

    # The dataset version's provenance carries the decision for that item.
    version = export(runtime, project_id)
    lines = labels_of(runtime, version)
    exported: list[dict[str, Any]] = [line for line in lines if line["item_id"] == item.id]
    assert len(exported) == 1
    line = exported[0]
    assert line["source"] == "adjudication"
    assert line["payload"] == {"category_ids": [DOG]}
    assert line["annotator"] == ada.pseudonym
    decision = line["adjudication"]
    assert decision["reasoning"] == reasoning
    assert decision["adjudicator"] == ada.pseudonym
    assert decision["chosen_annotation_id"] == str(labels[ben.id].id)  # type: ignore[index]
    assert set(decision["considered"]) == {
        str(labels[ana.id].id),  # type: ignore[index]
        str(labels[ben.id].id),  # type: ignore[index]
    }
    assert decision["routed_because"].startswith("agreement 0.00 below 0.50")


def test_an_adjudicator_gives_a_label_of_their_own_with_the_types_editor(
    page: Page,
    runtime: Runtime,
    make_user: Callable[..., User],
    screenshot: Callable[[str], Path],
) -> None:
    manager = make_user("manager")
    project_id = labeling_project(
        runtime, manager, count=1, name="Birds", settings={"overlap": 2}
    )  # categories cat, dog, bird
    with runtime.session() as session:
        item = session.exec(select(Item).where(col(Item.project_id) == project_id)).one()
    assert item.id is not None
    for category in (CAT, DOG):
        annotator = make_user("annotator", project=project_id)
        with runtime.session() as session:
            annotations.submit(
                session,
                runtime.plugins,
                item_id=item.id,
                annotator_id=annotator.id,  # type: ignore[arg-type]
                annotation_type="classification",
                payload={"category_ids": [category]},
            )
    make_user("adjudicator", username="ivy", project=project_id)
    sign_in(page, "ivy")
    page.goto(f"/projects/{project_id}/adjudication/{item.id}")
    own = page.locator("[data-own-label]")
    own.get_by_role("button", name=re.compile("bird")).click()
    expect(own.locator("[data-own-choice]")).to_be_checked()
    expect(page.locator("[data-chosen]")).to_have_text("Your pick: your own label")
    # Digits typed in the editor's card are the editor's: 2 makes it "dog", still one's own.
    page.keyboard.press("2")
    expect(own.locator("[data-own-choice]")).to_be_checked()
    expect(own.locator(".category-button[aria-pressed=true]")).to_have_text(re.compile("dog"))
    own.get_by_role("button", name=re.compile("bird")).click()
    page.get_by_label(re.compile("^Reasoning")).fill("Neither: the wings say bird.")
    screenshot("1-own-label")
    page.get_by_role("button", name=re.compile("^Decide")).click()
    expect(page.get_by_text("The backlog is clear")).to_be_visible()
    with runtime.session() as session:
        record = session.exec(select(Adjudication)).one()
        decision = session.exec(
            select(Annotation).where(col(Annotation.adjudication_id) == record.id)
        ).one()
        assert session.get(Item, item.id).status == "approved"  # type: ignore[union-attr]
    assert record.chosen_annotation_id is None
    assert decision.payload == {"category_ids": [3]}
