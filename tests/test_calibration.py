"""Calibration: a new annotator answers a set of gold items before any production item, sees
their results with the expected answers and explanations, and has a limited number of tries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient
from sqlmodel import col, select

from scholia.core import gold
from scholia.core.models import CalibrationAttempt, GoldResult

from .test_standing import RIGHT, WRONG, gold_project

CALIBRATION = {"required": True, "items": 3, "pass_mark": 0.66, "attempts": 2}


def take(client: TestClient[Any], project_id: int) -> Any:
    return client.post(f"/api/v1/projects/{project_id}/queue/next")


def answer(client: TestClient[Any], item_id: int, category: int) -> None:
    response = client.post(
        f"/api/v1/items/{item_id}/annotations",
        json={"annotation_type": "classification", "payload": {"category_ids": [category]}},
    )
    assert response.status_code == 201, response.text


def run_attempt(client: TestClient[Any], project_id: int, categories: list[int]) -> list[int]:
    served = []
    for category in categories:
        item = take(client, project_id).json()["item"]
        served.append(item["id"])
        answer(client, item["id"], category)
    return served


def test_a_new_annotator_calibrates_first_and_a_failed_attempt_draws_other_items(
    runtime: Any, api_for: Callable[..., TestClient[Any]]
) -> None:
    _, project, production, golden = gold_project(
        runtime, production=4, gold_items=6, calibration=CALIBRATION, gold_rate=0.0
    )
    ann = api_for("annotator", project=project.id)
    first = run_attempt(ann, project.id, [WRONG, WRONG, RIGHT])  # type: ignore[arg-type]
    assert set(first) <= set(golden) and len(set(first)) == 3, "calibration items only"
    status = ann.get(f"/api/v1/projects/{project.id}/calibration").json()
    failed = status["attempts"][0]
    assert failed["passed"] is False and failed["correct"] == 1 and failed["score"] == 1 / 3
    by_item = {r["item_id"]: r for r in failed["results"]}
    assert by_item[first[0]]["expected"] == {"classification": {"category_ids": [RIGHT]}}
    assert by_item[first[0]]["explanation"] == "It is a cat: whiskers."
    assert by_item[first[0]]["answer"] == {"category_ids": [WRONG]}
    assert by_item[first[2]]["correct"] is True
    assert status["production"] is False and status["passed"] is False

    second = run_attempt(ann, project.id, [RIGHT, RIGHT, WRONG])  # type: ignore[arg-type]
    assert not set(second) & set(first), "a different draw: the project has enough gold"
    passed = ann.get(f"/api/v1/projects/{project.id}/calibration").json()
    assert passed["passed"] is True and passed["production"] is True
    page = ann.get(f"/projects/{project.id}/calibration")
    assert "It is a cat: whiskers." in page.text and "data-calibration-passed" in page.text
    assert "gold" not in page.text.lower()
    # Answers and expected answers are drawn by the type's view (named by the page's state).
    assert '<template data-annotation-view="classification"' in page.text
    assert "/static/plugins/scholia-image/classification.js" in page.text

    nxt = take(ann, project.id).json()["item"]
    assert nxt["id"] in production
    with runtime.session() as session:
        results = session.exec(select(GoldResult)).all()
        assert len(results) == 6 and all(r.calibration_attempt_id for r in results)
        accuracy = gold.accuracy(session, project, ann.user.id)  # type: ignore[attr-defined]
    assert accuracy.count == 0, "calibration answers do not count towards rolling accuracy"


def test_after_the_last_failed_attempt_there_are_no_items_until_a_manager_grants_one(
    runtime: Any, api_for: Callable[..., TestClient[Any]], client_for: Callable[..., Any]
) -> None:
    _, project, _, _ = gold_project(
        runtime, production=2, gold_items=3, calibration={**CALIBRATION, "attempts": 1}
    )
    ann = client_for("annotator", project=project.id)
    run_attempt(ann, project.id, [WRONG, WRONG, WRONG])  # type: ignore[arg-type]
    refused = take(ann, project.id)
    assert refused.status_code == 403
    assert "used all 1 calibration attempts" in refused.json()["error"]["message"]
    page = ann.post(f"/projects/{project.id}/label")
    assert page.status_code == 403 and "A manager can grant you another attempt" in page.text
    me = ann.user.id
    manager = api_for("manager", project=project.id)
    assert (
        api_for("annotator", project=project.id)
        .post(f"/api/v1/projects/{project.id}/calibration/{me}/grant")
        .status_code
        == 403
    )
    granted = manager.post(f"/api/v1/projects/{project.id}/calibration/{me}/grant")
    assert granted.status_code == 200, granted.text
    again = take(ann, project.id)
    assert again.status_code == 200 and again.json()["item"] is not None
    with runtime.session() as session:
        attempts = session.exec(
            select(CalibrationAttempt).order_by(col(CalibrationAttempt.attempt))
        ).all()
    assert [(a.attempt, a.passed) for a in attempts] == [(1, False), (2, None)]


def test_calibration_items_cannot_be_skipped(
    runtime: Any, api_for: Callable[..., TestClient[Any]]
) -> None:
    _, project, _, _ = gold_project(runtime, production=1, gold_items=3, calibration=CALIBRATION)
    ann = api_for("annotator", project=project.id)
    item = take(ann, project.id).json()["item"]  # type: ignore[arg-type]
    refused = ann.post(f"/api/v1/items/{item['id']}/skip", json={})
    assert refused.status_code == 409 and "cannot be skipped" in refused.text


def test_an_annotator_in_calibration_cannot_label_a_production_item_by_url(
    runtime: Any, api_for: Callable[..., TestClient[Any]]
) -> None:
    _, project, production, _ = gold_project(
        runtime, production=2, gold_items=3, calibration=CALIBRATION, gold_rate=0.0
    )
    ann = api_for("annotator", project=project.id)
    refused = ann.post(
        f"/api/v1/items/{production[0]}/annotations",
        json={"annotation_type": "classification", "payload": {"category_ids": [RIGHT]}},
    )
    assert refused.status_code == 403
    assert "calibration set before other items" in refused.text
    run_attempt(ann, project.id, [RIGHT, RIGHT, RIGHT])  # type: ignore[arg-type]
    answer(ann, production[0], RIGHT)  # passed: production items are open to them
