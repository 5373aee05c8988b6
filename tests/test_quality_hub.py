"""The Quality Hub: its figures, its page (inline SVG, no JavaScript needed) and its API."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import insert

from scholia.core import audit, lifecycle
from scholia.core.models import GoldResult, User
from scholia.core.quality import hub
from scholia.core.quality.statistics import wilson_interval
from scholia.core.runtime import Runtime

from .test_signals import CAT, DOG, W45, W46, Data


@pytest.fixture
def data(runtime: Runtime, make_user: Callable[..., User]) -> Data:
    return Data(runtime, make_user)


def busy(data: Data) -> dict[str, int]:
    """Two annotators over two weeks: 12 shared items a week (10 agreed), 200 labels each a
    week, and 10 reviewed items each a week with one rejected."""
    a, b = data.annotator(), data.annotator()
    for week in (W45, W46):
        for k in range(12):
            item = data.item()
            first = CAT if k % 2 else DOG
            data.label(item, a, first, week, ms=1000 + k)
            data.label(item, b, first if k < 10 else CAT + DOG - first, week, ms=1100 + k)
        data.labels_of(a, [CAT] * 94 + [DOG] * 94, at=week)
        drifting = week == W46  # b labels nearly everything a cat in the second week
        data.labels_of(
            b, [CAT] * (188 if drifting else 94) + [DOG] * (0 if drifting else 94), at=week
        )
    return {"a": a, "b": b}


def review_some(data: Data, annotator: int, count: int, rejected: int) -> None:
    items = [data.item() for _ in range(count)]
    for item in items:
        data.label(item, annotator, CAT, W46 + timedelta(days=1))
    data.review(items[rejected:], "approved")
    if rejected:
        data.review(items[:rejected], "rejected")


def test_hub_figures_cover_every_signal_and_rule(runtime: Runtime, data: Data) -> None:
    who = busy(data)
    review_some(data, who["a"], 10, 1)
    with runtime.reading() as session:
        figures = hub.compute(session, runtime.plugins, data.project_id)
    assert [(w.week, w.items) for w in figures.agreement] == [("2026-W45", 12), ("2026-W46", 12)]
    assert all(w.alpha is not None and 0 < w.alpha < 1 for w in figures.agreement)
    drift = {(c.annotator_id, c.week): c.divergence for c in figures.drift}
    assert drift[(who["b"], "2026-W46")] > 0.05 > drift[(who["a"], "2026-W46")]
    assert figures.reopen.annotators[who["a"]].value == pytest.approx(0.1)
    assert {r["rule"] for r in figures.rules["rules"]} >= {"label_drift", "annotator_reopen_rate"}
    by_name = {r["rule"]: r for r in figures.rules["rules"]}
    assert by_name["label_drift"]["passed"] is False
    assert by_name["label_drift"]["gate"] is False
    assert by_name["annotator_reopen_rate"]["value"] == pytest.approx(0.1)
    with runtime.reading() as session:
        name = session.get(User, who["a"]).display_name  # type: ignore[union-attr]
    assert figures.annotators[who["a"]] == name


def test_kept_figures_are_served_until_the_project_changes(runtime: Runtime, data: Data) -> None:
    a = data.annotator()
    data.labels_of(a, [CAT] * 3)
    # Every computation counts as fast, however loaded the machine: recomputed at once.
    cache = hub.HubCache(sync_budget_s=float("inf"))
    first = cache.view(runtime, data.project_id)
    again = cache.view(runtime, data.project_id)
    assert again.data is first.data and again.current
    with runtime.session() as session:
        audit.record(
            session, actor_id=None, entity="project", entity_id=data.project_id,
            action="test", project_id=data.project_id,
        )  # fmt: skip
    changed = cache.view(runtime, data.project_id)
    assert changed.data is not first.data and changed.current


def test_slow_figures_are_refreshed_in_the_background(runtime: Runtime, data: Data) -> None:
    data.labels_of(data.annotator(), [CAT] * 3)
    cache = hub.HubCache(sync_budget_s=0.0)  # every computation counts as slow
    first = cache.view(runtime, data.project_id)
    item = data.item()
    with runtime.session() as session:
        lifecycle.transition(session, item, "needs_review", actor_id=None)
    stale = cache.view(runtime, data.project_id)
    assert stale.data is first.data and not stale.current
    for thread in [t for t in threading.enumerate() if t.name.startswith("quality-hub-")]:
        thread.join(timeout=30)
    assert cache.view(runtime, data.project_id).data.fingerprint > first.data.fingerprint


# --- the page -----------------------------------------------------------------------------


def svgs(html: str) -> list[str]:
    """The charts (the favicon in the head is an SVG too)."""
    return re.findall(r'<svg\b[^>]*class="chart.*?</svg>', html, flags=re.S)


def test_the_hub_page_without_data_shows_empty_states(
    data: Data, client_for: Callable[..., TestClient[Any]]
) -> None:
    response = client_for("reviewer", project=data.project_id).get(
        f"/projects/{data.project_id}/quality"
    )
    assert response.status_code == 200
    html = response.text
    assert "Quality Hub" in html
    assert "not enough data yet: 0 labels in 0 weeks" in html
    assert "not enough data: 0 reviewed items (need at least 10)" in html
    assert svgs(html) == []
    assert f'href="/projects/{data.project_id}/adjudication"' in html


def test_the_hub_page_draws_its_charts_as_inline_svg(
    data: Data, client_for: Callable[..., TestClient[Any]]
) -> None:
    who = busy(data)
    review_some(data, who["a"], 10, 1)
    html = (
        client_for("reviewer", project=data.project_id)
        .get(f"/projects/{data.project_id}/quality")
        .text
    )
    charts = svgs(html)
    titles = [re.search(r"<title[^>]*>(.*?)</title>", svg).group(1) for svg in charts]  # type: ignore[union-attr]
    assert "Agreement per week (Krippendorff&#x27;s alpha, nominal)" in titles
    assert any(t.startswith("Label drift per annotator and week") for t in titles)
    for svg in charts:
        assert 'role="img"' in svg and "<desc" in svg
    agreement = charts[titles.index("Agreement per week (Krippendorff&#x27;s alpha, nominal)")]
    assert "2026-W45: " in agreement and "ISO week" in agreement  # values in words, axis label
    drift = next(s for s in charts if "Label drift" in s)
    assert "At or above 0.050:" in drift  # the drifting week is named in the description
    assert 'class="cell hot"' in drift
    assert "chi-square test of homogeneity" in html
    assert "Krippendorff" in html and "nominal" in html  # the method is said on the page
    assert "Label drift (highest weekly Jensen" in html  # the rules with their values
    assert "Agreement with others" in html and "Agreement per category" in html
    assert "<script" not in html.split("</head>", 1)[1].replace('src="/static/htmx.min.js"', "")


def test_annotators_cannot_open_the_hub(
    data: Data, client_for: Callable[..., TestClient[Any]]
) -> None:
    response = client_for("annotator", project=data.project_id).get(
        f"/projects/{data.project_id}/quality"
    )
    assert response.status_code == 403


def test_an_unknown_project_has_no_hub(client_for: Callable[..., TestClient[Any]]) -> None:
    assert client_for("reviewer").get("/projects/999999/quality").status_code == 404


# --- the API ------------------------------------------------------------------------------


def test_the_api_gives_the_same_figures(
    data: Data, api_for: Callable[..., TestClient[Any]]
) -> None:
    who = busy(data)
    review_some(data, who["a"], 10, 1)
    response = api_for("reviewer", project=data.project_id).get(
        f"/api/v1/projects/{data.project_id}/quality"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["current"] is True
    assert body["adjudication_backlog"] == 0
    assert [w["week"] for w in body["agreement"]["weeks"]] == ["2026-W45", "2026-W46"]
    assert "Krippendorff" in body["agreement"]["method"]
    breakdown = body["agreement"]
    assert set(breakdown["annotators"]) == {str(who["a"]), str(who["b"])}
    assert all(0 <= v["agreement"] <= 1 for v in breakdown["annotators"].values())
    assert breakdown["categories"] and "per category" in breakdown["breakdown_method"]
    assert body["reopen"]["annotators"][str(who["a"])]["value"] == pytest.approx(0.1)
    assert str(who["b"]) not in body["reopen"]["annotators"]  # none of b's items was reviewed
    rules = {r["rule"]: r for r in body["rules"]["rules"]}
    assert rules["label_drift"]["passed"] is False
    bias = {b["annotator_id"]: b for b in body["bias"]}
    assert bias[who["b"]]["test"] == "chi-square test of homogeneity"
    assert body["times"]["timed"] == 2 * (24 + 2 * 188) + 10  # every timed annotation


def test_the_api_refuses_annotators(data: Data, api_for: Callable[..., TestClient[Any]]) -> None:
    response = api_for("annotator", project=data.project_id).get(
        f"/api/v1/projects/{data.project_id}/quality"
    )
    assert response.status_code == 403


def test_a_large_project_is_first_computed_in_the_background(
    runtime: Runtime,
    data: Data,
    client_for: Callable[..., TestClient[Any]],
    api_for: Callable[..., TestClient[Any]],
) -> None:
    data.labels_of(data.annotator(), [CAT, DOG, CAT])
    cache = hub.cache_for(runtime)
    cache.sync_annotations = 2  # three annotations count as large here
    page = client_for("reviewer", project=data.project_id).get(
        f"/projects/{data.project_id}/quality"
    )
    assert page.status_code == 200
    assert "Computing the figures" in page.text
    assert '<meta http-equiv="refresh" content="5">' in page.text  # reloads without JavaScript
    for thread in [t for t in threading.enumerate() if t.name.startswith("quality-hub-")]:
        thread.join(timeout=30)
    ready = api_for("reviewer", project=data.project_id).get(
        f"/api/v1/projects/{data.project_id}/quality"
    )
    assert ready.status_code == 200
    assert ready.json()["labels"]["total"] == 3


def test_the_api_answers_202_while_the_first_figures_are_computed(
    runtime: Runtime, data: Data, api_for: Callable[..., TestClient[Any]]
) -> None:
    data.labels_of(data.annotator(), [CAT, DOG, CAT])
    hub.cache_for(runtime).sync_annotations = 2
    response = api_for("reviewer", project=data.project_id).get(
        f"/api/v1/projects/{data.project_id}/quality"
    )
    assert response.status_code == 202
    assert response.headers["retry-after"] == "5"
    assert response.json() == {"computing": True, "annotations": 3, "adjudication_backlog": 0}


def gold_answers(data: Data, annotator: int, correct: int, wrong: int) -> None:
    """Scored answers on gold items, as ``scholia.core.gold`` records them."""
    for k in range(correct + wrong):
        item = data.item()
        annotation = data.label(item, annotator, CAT)
        with data.runtime.engine.begin() as connection:
            connection.execute(
                insert(GoldResult).values(
                    project_id=data.project_id,
                    item_id=item,
                    annotator_id=annotator,
                    annotation_id=annotation,
                    agreement=1.0 if k < correct else 0.0,
                    correct=k < correct,
                    created_at=W45 + timedelta(minutes=k),
                )
            )


def test_the_hub_shows_rolling_gold_accuracy_with_its_wilson_interval(
    data: Data, client_for: Callable[..., TestClient[Any]]
) -> None:
    a, b = data.annotator(), data.annotator()
    gold_answers(data, a, correct=9, wrong=3)
    gold_answers(data, b, correct=2, wrong=0)
    html = (
        client_for("reviewer", project=data.project_id)
        .get(f"/projects/{data.project_id}/quality")
        .text
    )
    (chart,) = [s for s in svgs(html) if "Rolling gold accuracy" in s]
    low, high = wilson_interval(9, 12)
    assert (
        f"75% of the last 12 gold answers correct (95% Wilson interval {low:.0%}-{high:.0%})"
        in html
    )
    assert 'class="whisker"' in chart
    assert "below 80%" in html  # 75% is under the default threshold
    assert "not enough data: 2 gold answers (need at least 10)" in html
