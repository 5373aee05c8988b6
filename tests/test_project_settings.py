"""Quality settings: changed through the API, checked before anything is stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient


@pytest.fixture
def manager_project(project: dict[str, Any]) -> tuple[TestClient[Any], str]:
    return project["manager"], f"/api/v1/projects/{project['id']}/settings"


def test_a_settings_group_is_merged_key_by_key(manager_project: tuple[Any, str]) -> None:
    manager, url = manager_project
    response = manager.patch(url, json={"overlap": 3, "gold": {"window": 20}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["overlap"] == 3
    assert body["gold"] == {"correct_at": 1.0, "window": 20, "min_count": 10, "threshold": 0.8}
    assert manager.patch(url, json={"gold": {"threshold": 0.9}}).json()["gold"]["window"] == 20


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        ({"quality_thresholds": {"reopen_rate": 1.5}}, "reopen_rate", "at most 1"),
        ({"quality_thresholds": {"reopen_rate": "low"}}, "reopen_rate", "must be a number"),
        (
            {"quality_thresholds": {"adjudication_backlog": -1}},
            "adjudication_backlog",
            "at least 0",
        ),
        ({"quality_thresholds": {"no_such_rule": 0.5}}, "no_such_rule", "No quality rule"),
    ],
)
def test_a_rule_with_an_invalid_threshold_is_refused_when_configured(
    manager_project: tuple[Any, str], change: dict[str, Any], path: str, words: str
) -> None:
    manager, url = manager_project
    response = manager.patch(url, json=change)
    assert response.status_code == 422, response.text
    assert words in response.text
    assert path in response.text
    assert manager.patch(url, json={}).json()["quality_thresholds"] == {}  # nothing was stored


@pytest.mark.parametrize(
    "change",
    [{"overlap": 0}, {"gold": {"min_count": 100, "window": 10}}, {"calibration": {"pass": 1}}],
)
def test_settings_out_of_range_are_refused(
    manager_project: tuple[Any, str], change: dict[str, Any]
) -> None:
    manager, url = manager_project
    assert manager.patch(url, json=change).status_code == 422


def test_only_managers_change_settings(
    project: dict[str, Any], api_for: Callable[..., TestClient[Any]]
) -> None:
    annotator = api_for("annotator", project=project["id"])
    response = annotator.patch(f"/api/v1/projects/{project['id']}/settings", json={"overlap": 2})
    assert response.status_code == 403


def _form(**changes: str) -> dict[str, str]:
    """The settings form as the page sends it, with the defaults, then ``changes``."""
    form = {
        "overlap": "1",
        "gold_rate": "0.05",
        "gold.correct_at": "1",
        "gold.window": "50",
        "gold.min_count": "10",
        "gold.threshold": "0.8",
        "calibration.items": "30",
        "calibration.pass_mark": "0.85",
        "calibration.attempts": "3",
        "adjudication.below": "0.5",
        "adjudication.aggregator": "majority",
    }
    return {**form, **changes}


def test_the_settings_page_saves_the_form(
    project: dict[str, Any], client_for: Callable[..., TestClient[Any]]
) -> None:
    manager = client_for("manager", project=project["id"])
    url = f"/projects/{project['id']}/settings"
    assert "Annotators per item" in manager.get(url).text
    saved = manager.post(
        url,
        data=_form(overlap="2", **{"calibration.required": "on", "threshold.reopen_rate": "0.05"}),
    )
    assert saved.status_code == 200 and "Quality settings saved." in saved.text
    stored = project["manager"].get(f"/api/v1/projects/{project['id']}").json()["settings"]
    assert stored["overlap"] == 2 and stored["calibration"]["required"] is True
    assert stored["quality_thresholds"] == {"reopen_rate": 0.05}


def test_the_settings_page_refuses_a_bad_threshold_and_keeps_what_was_typed(
    project: dict[str, Any], client_for: Callable[..., TestClient[Any]]
) -> None:
    manager = client_for("manager", project=project["id"])
    url = f"/projects/{project['id']}/settings"
    refused = manager.post(url, data=_form(overlap="4", **{"threshold.gold_coverage": "2"}))
    assert refused.status_code == 422
    assert "gold_coverage&#39; must be at least 0 and at most 1" in refused.text
    assert 'name="overlap" value="4"' in refused.text  # kept
    stored = project["manager"].get(f"/api/v1/projects/{project['id']}").json()["settings"]
    assert stored.get("overlap", 1) == 1  # nothing stored
