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
    annotator = api_for("annotator")
    response = annotator.patch(f"/api/v1/projects/{project['id']}/settings", json={"overlap": 2})
    assert response.status_code == 403
