"""/metrics: Prometheus text format per project, for managers (signed in or by API token)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from scholia.core import items, review
from scholia.core.runtime import Runtime

from .conftest import png_bytes


def scrape(client: TestClient[Any]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def of(project: Any, **more: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({"project": str(project.id), "project_name": project.name, **more}.items()))


def test_metrics_count_submissions_decisions_and_time_per_project(
    runtime: Runtime, labeled: dict[str, Any], api_for: Callable[..., TestClient[Any]]
) -> None:
    project, ids = labeled["project"], labeled["ids"]
    with runtime.session() as session:  # one of the two labeled items is rejected
        review.decide(
            session,
            item_ids=[ids[4]],
            decision="rejected",
            reviewer_id=labeled["reviewer"].id,
            comment="wrong category",
        )
    metrics = scrape(api_for("manager", project=project))
    labels = of(project)
    assert metrics[("scholia_annotations_submitted_total", labels)] == 6
    assert metrics[("scholia_review_decisions_total", of(project, decision="approved"))] == 4
    assert metrics[("scholia_review_decisions_total", of(project, decision="rejected"))] == 1
    assert metrics[("scholia_rejections_total", labels)] == 1
    assert metrics[("scholia_items", of(project, state="approved"))] == 4
    assert metrics[("scholia_items", of(project, state="rejected"))] == 1
    assert metrics[("scholia_items", of(project, state="labeled"))] == 1
    # time_spent_ms was 1000, 1001, … 1005: 6.015 s over 6 annotations.
    assert metrics[("scholia_time_per_item_seconds_count", labels)] == 6
    assert metrics[("scholia_time_per_item_seconds_sum", labels)] == pytest.approx(6.015)
    # One annotator per item: no agreement yet, so no agreement sample (never a made-up 0).
    assert ("scholia_agreement", labels) not in metrics
    assert ("scholia_agreement_computed_timestamp_seconds", labels) in metrics


def test_a_new_item_deepens_the_queue(
    runtime: Runtime, labeled: dict[str, Any], api_for: Callable[..., TestClient[Any]]
) -> None:
    project = labeled["project"]
    manager = api_for("manager", project=project)
    before = scrape(manager)[("scholia_queue_depth", of(project))]
    with runtime.session() as session:
        items.ingest(
            session,
            runtime.store,
            runtime.plugins,
            project,
            name="new.png",
            source=io.BytesIO(png_bytes(colour=(1, 2, 3))),
            actor_id=labeled["owner"].id,
        )
    assert scrape(manager)[("scholia_queue_depth", of(project))] == before + 1


def test_metrics_show_agreement_once_items_have_two_labels(
    runtime: Runtime, api_for: Callable[..., TestClient[Any]], make_user: Callable[..., Any]
) -> None:
    from .test_signals import CAT, DOG, Data

    data = Data(runtime, make_user)
    a, b = data.annotator(), data.annotator()
    for k in range(10):
        item = data.item()
        data.label(item, a, CAT if k < 5 else DOG)
        data.label(item, b, CAT if k < 5 else DOG)
    metrics = scrape(api_for("manager", project=data.project))
    assert metrics[("scholia_agreement", of(data.project))] == pytest.approx(1.0)


def test_metrics_need_a_manager(
    labeled: dict[str, Any],
    api_for: Callable[..., TestClient[Any]],
    client_for: Callable[..., TestClient[Any]],
    app: Any,
) -> None:
    with TestClient(app) as anonymous:
        refused = anonymous.get("/metrics", follow_redirects=False)
        # A person is sent to the sign-in page; either way no figure is served.
        assert refused.status_code == 401  # a scraper gets an answer, not a sign-in page
        assert "scholia_" not in refused.text
    project = labeled["project"]
    assert api_for("annotator", project=project).get("/metrics").status_code == 403
    assert api_for("reviewer", project=project).get("/metrics").status_code == 403
    assert client_for("manager", project=project).get("/metrics").status_code == 200
    # A manager of another project scrapes only that one.
    elsewhere = api_for("manager")
    other = elsewhere.post(
        "/api/v1/projects",
        json={"name": "Elsewhere", "modality": "image", "annotation_types": ["rating"]},
    ).json()
    scraped = scrape(elsewhere)
    assert {dict(k[1]).get("project") for k in scraped} == {str(other["id"])}
