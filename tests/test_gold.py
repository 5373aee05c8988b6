"""Gold items: marking one with its expected answer (checked like a submission), promoting an
adjudicated label, scoring answers, rolling accuracy, and how gold items reach queues."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlmodel import col, select

from scholia.core import annotations, gold, queue, slots
from scholia.core.errors import InvalidInput, NotFound
from scholia.core.models import Annotation, Assignment, GoldResult, Item, User
from scholia.core.runtime import Runtime

from .test_standing import RIGHT, WRONG, gold_project


def answer(runtime: Runtime, item_id: int, annotator: User, category: int) -> Annotation:
    with runtime.session() as session:
        return annotations.submit(
            session,
            runtime.plugins,
            item_id=item_id,
            annotator_id=annotator.id,  # type: ignore[arg-type]
            annotation_type="classification",
            payload={"category_ids": [category]},
        ).annotation


def test_marking_gold_with_an_unknown_category_names_the_field(runtime: Runtime) -> None:
    owner, project, production, _ = gold_project(runtime, production=2, gold_items=0)
    with pytest.raises(InvalidInput) as refused, runtime.session() as session:
        gold.mark_gold(
            session,
            runtime.plugins,
            project.id,  # type: ignore[arg-type]
            production[0],
            annotation_type="classification",
            payload={"category_ids": [99]},
            actor_id=owner.id,  # type: ignore[arg-type]
        )
    assert refused.value.path is not None and refused.value.path.startswith("$.payload")
    with runtime.session() as session:
        assert session.get(Item, production[0]).is_gold is False  # type: ignore[union-attr]


def test_marking_gold_on_an_item_of_another_project_is_not_found(runtime: Runtime) -> None:
    owner, project, _, _ = gold_project(runtime, production=1, gold_items=0)
    _, _, elsewhere, _ = gold_project(runtime, production=1, gold_items=0)
    with pytest.raises(NotFound), runtime.session() as session:
        gold.mark_gold(
            session,
            runtime.plugins,
            project.id,  # type: ignore[arg-type]
            elsewhere[0],
            annotation_type="classification",
            payload={"category_ids": [1]},
            actor_id=owner.id,  # type: ignore[arg-type]
        )


def test_the_gold_api_marks_lists_and_unmarks_for_qa_roles_only(
    runtime: Runtime, api_for: Callable[..., TestClient[Any]]
) -> None:
    _, project, production, _ = gold_project(runtime, production=2, gold_items=0)
    reviewer, annotator = (
        api_for("reviewer", project=project.id),
        api_for("annotator", project=project.id),
    )
    url = f"/api/v1/projects/{project.id}/items/{production[0]}/gold"
    body = {
        "annotation_type": "classification",
        "payload": {"category_ids": [2]},
        "explanation": "Floppy ears.",
    }
    assert annotator.post(url, json=body).status_code == 403
    marked = reviewer.post(url, json=body)
    assert marked.status_code == 201, marked.text
    assert marked.json()["payload"] == {"category_ids": [2]} and marked.json()["source"] == "manual"
    bad = reviewer.post(url, json={**body, "payload": {"category_ids": [42]}})
    assert bad.status_code == 422 and bad.json()["error"]["path"].startswith("$.payload")
    other = reviewer.post(
        f"/api/v1/projects/{project.id + 1}/items/{production[0]}/gold",  # type: ignore[operator]
        json=body,
    )
    assert other.status_code == 404
    listed = reviewer.get(f"/api/v1/projects/{project.id}/gold").json()
    assert [g["item_id"] for g in listed] == [production[0]]
    assert listed[0]["answers"][0]["explanation"] == "Floppy ears."
    assert annotator.get(f"/api/v1/projects/{project.id}/gold").status_code == 403
    assert reviewer.delete(url).status_code == 204
    assert reviewer.get(f"/api/v1/projects/{project.id}/gold").json() == []


def test_an_answer_on_a_gold_item_is_scored_and_leaves_its_state_alone(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, _, _, golden = gold_project(runtime, production=1, gold_items=2)
    ann = make_user()
    answer(runtime, golden[0], ann, RIGHT)
    answer(runtime, golden[1], ann, WRONG)
    with runtime.session() as session:
        results = session.exec(select(GoldResult).order_by(col(GoldResult.id))).all()
        assert [(r.item_id, r.correct, r.agreement) for r in results] == [
            (golden[0], True, 1.0),
            (golden[1], False, 0.0),
        ]
        assert {session.get(Item, i).status for i in golden} == {"unlabeled"}  # type: ignore[union-attr]


def test_rolling_accuracy_says_not_enough_data_below_the_minimum_count(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, project, _, golden = gold_project(
        runtime, production=1, gold_items=5, gold={"window": 4, "min_count": 3, "threshold": 0.5}
    )
    ann = make_user()
    for item_id in golden[:2]:
        answer(runtime, item_id, ann, RIGHT)
    with runtime.session() as session:
        found = gold.accuracy(session, project, ann.id)  # type: ignore[arg-type]
    assert found.rate is None and found.interval is None and found.count == 2
    assert found.message == "not enough data: 2 gold answers (need at least 3)"
    for item_id, category in zip(golden[2:], (WRONG, RIGHT, RIGHT), strict=True):
        answer(runtime, item_id, ann, category)
    with runtime.session() as session:
        found = gold.accuracy(session, project, ann.id)  # type: ignore[arg-type]
    # The window holds the last 4 of 5: wrong, right, right, and the second right.
    assert found.count == 4 and found.correct == 3 and found.rate == 0.75
    low, high = found.interval  # type: ignore[misc]
    assert 0.30 < low < 0.31 and 0.95 < high < 0.96  # Wilson 95% for 3 of 4


def test_gold_items_come_at_the_gold_rate_at_random_and_each_at_most_once(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, project, production, golden = gold_project(
        runtime, production=60, gold_items=30, gold_rate=0.5
    )
    ann = make_user()
    served: list[int] = []
    for _ in range(200):
        with runtime.session() as session:
            item = queue.claim_next(session, project.id, ann.id)  # type: ignore[arg-type]
        if item is None:
            break
        served.append(item.id)  # type: ignore[arg-type]
        answer(runtime, item.id, ann, RIGHT)  # type: ignore[arg-type]
    gold_served = [i for i in served if i in golden]
    assert sorted(i for i in served if i in production) == production, "all production work"
    assert len(gold_served) == len(set(gold_served)), "no gold item twice"
    assert 10 <= len(gold_served) <= 30  # about one claim in two while gold remains
    assert gold_served != sorted(gold_served) or len(gold_served) < 3, "not in item order"
    with runtime.session() as session:
        for item_id in gold_served:
            slots = session.exec(
                select(Assignment)
                .where(col(Assignment.item_id) == item_id)
                .order_by(col(Assignment.slot))
            ).all()
            assert [s.slot for s in slots] == [0, 1] and slots[1].annotator_id == ann.id
            assert slots[0].annotator_id is None, "a gold item's import slot is never claimed"


def test_skipping_a_gold_item_sets_aside_only_the_annotators_own_slot(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, _, _, golden = gold_project(runtime, production=1, gold_items=1)
    ann, other = make_user(), make_user()
    with runtime.session() as session:
        slots.add_slot(session, golden[0], ann.id)
        slots.add_slot(session, golden[0], other.id)
    with runtime.session() as session:
        item = session.get(Item, golden[0])
        queue.skip(session, item, ann.id)  # type: ignore[arg-type]
        assert item.status == "unlabeled"  # type: ignore[union-attr]
        statuses = {
            who: queue.my_statuses(session, [item], who)[golden[0]]  # type: ignore[list-item]
            for who in (ann.id, other.id)
        }
    assert statuses == {ann.id: "skipped", other.id: "todo"}
    answer(runtime, golden[0], other, RIGHT)


def test_the_gold_page_shows_accuracy_and_suspensions_with_lift_for_managers(
    runtime: Runtime, client_for: Callable[..., TestClient[Any]], make_user: Callable[..., User]
) -> None:
    _, project, _, golden = gold_project(
        runtime, production=1, gold_items=4, gold={"window": 3, "min_count": 3}
    )
    steady, new = make_user(), make_user()
    for item_id in golden[:3]:
        answer(runtime, item_id, steady, WRONG)
    answer(runtime, golden[3], new, RIGHT)
    manager = client_for("manager", project=project.id)
    text = manager.get(f"/projects/{project.id}/gold").text
    assert f'data-annotator="{new.username}"' in text
    assert "not enough data: 1 gold answer (need at least 3)" in text
    assert "0–56%" in text and "suspended" in text and "data-lift" in text
    assert (
        client_for("reviewer", project=project.id).get(f"/projects/{project.id}/gold").status_code
        == 200
    )
    assert (
        client_for("annotator", project=project.id).get(f"/projects/{project.id}/gold").status_code
        == 403
    )
    page = manager.get(f"/projects/{project.id}")
    assert f'href="/projects/{project.id}/gold"' in page.text
    item_page = manager.get(f"/projects/{project.id}/items/{golden[0]}").text
    assert 'data-gold-form="classification"' in item_page and "Unmark gold" in item_page


def test_a_reviewer_marks_an_item_gold_from_its_page_with_a_category_and_explanation(
    runtime: Runtime, client_for: Callable[..., TestClient[Any]]
) -> None:
    _, project, production, _ = gold_project(runtime, production=2, gold_items=0)
    reviewer = client_for("reviewer", project=project.id)
    url = f"/projects/{project.id}/items/{production[0]}/gold"
    # The page mounts the type's editor in the form to make the expected answer; what it
    # makes is posted as the payload (static/item.js), as a hand-written one would be.
    page = reviewer.get(f"/projects/{project.id}/items/{production[0]}").text
    form_html = page[page.index('data-gold-form="classification"') :]
    form_html = form_html[: form_html.index("</form>")]
    assert "data-gold-editor" in form_html and "data-classification-editor" in form_html
    assert 'name="payload"' in form_html and "category_ids" not in form_html
    form = {
        "annotation_type": "classification",
        "payload": '{"category_ids": [3]}',
        "explanation": "Wings.",
    }
    marked = reviewer.post(url, data={**form, "action": "mark"}, follow_redirects=True)
    assert "Marked as gold with its expected answer." in marked.text
    assert "Wings." in marked.text
    listed = reviewer.get(f"/projects/{project.id}/gold").text
    assert f'data-gold-item="{production[0]}"' in listed and "classification: bird" in listed
    unknown = reviewer.post(
        url,
        data={**form, "payload": '{"category_ids": [9]}', "action": "mark"},
        follow_redirects=True,
    )
    assert "no category 9" in unknown.text.lower()
    unmarked = reviewer.post(url, data={"action": "unmark"}, follow_redirects=True)
    assert "The item is no longer gold." in unmarked.text
    # An annotator sees no gold form on the same page.
    annotator_page = client_for("annotator", project=project.id).get(
        f"/projects/{project.id}/items/{production[0]}"
    )
    assert "gold" not in annotator_page.text.lower()
