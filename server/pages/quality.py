"""The Quality Hub: a project's agreement, drift, reopen rate, time outliers, rules and
adjudication backlog on one page, every chart an inline SVG drawn here (no JavaScript).

The figures come from ``scholia.core.quality.hub`` (kept until the project changes); the page
says when they were computed and whether newer work is still being brought in.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath
from litestar.response import Redirect

from scholia.core import projects
from scholia.core.quality import escalation, hub, signals

from .. import charts
from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page

__all__ = ["quality_pages"]

RECENT_WEEKS = 26
"""Weeks the trend and the heatmap show (the most recent ones)."""


def _name(data: hub.HubData, annotator_id: int) -> str:
    return data.annotators.get(annotator_id, f"annotator {annotator_id}")


def _agreement_chart(data: hub.HubData) -> Any:
    weeks = data.agreement[-RECENT_WEEKS:]
    if not any(w.alpha is not None for w in weeks):
        return None
    return charts.line_chart(
        [(w.week, w.alpha) for w in weeks],
        title="Agreement per week (Krippendorff's alpha, nominal)",
        y_label="alpha",
        x_label="ISO week",
        y_range=(min(0.0, *(w.alpha for w in weeks if w.alpha is not None)), 1.0),
        threshold=0.8,
        threshold_label="0.80: commonly taken as reliable",
    )


def _drift_chart(data: hub.HubData) -> Any:
    judged = [c for c in data.drift if c.divergence is not None]
    if not judged:
        return None
    weeks = sorted({c.week for c in data.drift})[-RECENT_WEEKS:]
    annotators = sorted({c.annotator_id for c in data.drift})
    threshold = _threshold(data, "label_drift", signals.DRIFT_THRESHOLD)
    cells: dict[tuple[int, int], tuple[float | None, str]] = {}
    w_at = {w: i for i, w in enumerate(weeks)}
    a_at = {a: i for i, a in enumerate(annotators)}
    for c in data.drift:
        if c.week not in w_at:
            continue
        who = _name(data, c.annotator_id)
        tip = (
            f"{who}, {c.week}: {c.note}"
            if c.divergence is None
            else f"{who}, {c.week}: JS divergence {c.divergence:.3f} over {c.labels} labels"
        )
        cells[(a_at[c.annotator_id], w_at[c.week])] = (c.divergence, tip)
    return charts.heatmap(
        [_name(data, a) for a in annotators],
        weeks,
        cells,
        title="Label drift per annotator and week (Jensen–Shannon divergence from the baseline)",
        row_label="annotator",
        column_label="ISO week",
        high=threshold,
    )


def _threshold(data: hub.HubData, rule: str, default: float) -> float:
    for entry in data.rules.get("rules", []):
        if entry["rule"] == rule:
            return float(entry["threshold"])
    return default


def _reopen_sparkline(data: hub.HubData) -> Any:
    weeks = data.reopen.weeks[-RECENT_WEEKS:]
    if sum(1 for _, r in weeks if r.value is not None) < 2:
        return None
    return charts.sparkline(
        [(w, r.value) for w, r in weeks], title="Reopen rate per week of first review"
    )


def _gold_chart(data: hub.HubData) -> Any:
    judged = [a for a in data.gold if a.rate is not None]
    if not judged:
        return None
    return charts.bar_chart(
        [
            (
                _name(data, a.annotator_id),
                a.rate or 0.0,
                f"{_name(data, a.annotator_id)}: {a.message}",
            )
            for a in judged
        ],
        title="Rolling gold accuracy per annotator, with 95% Wilson intervals",
        value_label="share of gold answers correct",
        intervals=[a.interval for a in judged],
    )


def _context(view: hub.HubView) -> dict[str, Any]:
    data = view.data
    if data is None:
        return {"view": view, "data": None}
    bias = {b.annotator_id: b for b in data.bias}
    times = {t.annotator_id: t for t in data.times.annotators}
    agreement = data.breakdown.annotators
    annotators = sorted(
        set(data.reopen.annotators) | set(bias) | set(times) | set(agreement),
        key=lambda a: _name(data, a),
    )
    rows = [
        {
            "id": a,
            "name": _name(data, a),
            "reopen": data.reopen.annotators.get(a),
            "bias": bias.get(a),
            "time": times.get(a),
            "agreement": agreement.get(a),
        }
        for a in annotators
    ]
    weeks_with_labels = len(data.labels.weeks)
    return {
        "view": view,
        "data": data,
        "rows": rows,
        "agreement_chart": _agreement_chart(data),
        "agreement_weeks": [w for w in data.agreement if w.alpha is not None],
        "drift_chart": _drift_chart(data),
        "reopen_sparkline": _reopen_sparkline(data),
        "empty_note": (
            f"not enough data yet: {data.labels.total} labels in {weeks_with_labels} "
            f"week{'s' if weeks_with_labels != 1 else ''}"
        ),
        "min_week_labels": signals.MIN_WEEK_LABELS,
        "min_week_units": signals.MIN_WEEK_UNITS,
        "outlier_z": signals.OUTLIER_Z,
        "categories": data.categories,
        "category_agreement": [
            {"name": data.categories.get(c, f"category {c}"), "alpha": v, "note": note}
            for c, (v, note) in sorted(data.breakdown.categories.items())
        ],
        "breakdown_method": signals.BREAKDOWN_METHOD,
        "reopen_threshold": _threshold(
            data,
            "reopen_rate",
            _threshold(data, "annotator_reopen_rate", signals.REOPEN_THRESHOLD),
        ),
        "gold_rows": [{"name": _name(data, a.annotator_id), "accuracy": a} for a in data.gold],
        "gold_chart": _gold_chart(data),
    }


@get("/projects/{project_id:int}/quality")
def quality_page(request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
    runtime = runtime_of(request)
    view = hub.cache_for(runtime).view(runtime, project_id)
    with runtime.reading() as session:
        project = projects.get_project(session, project_id)
    return page(request, "quality/hub.html", project=project, **_context(view))


@post("/projects/{project_id:int}/quality/escalate")
def escalate(request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
    """Act on the signal rules (see ``scholia.core.quality.escalation``); back to the Hub."""
    runtime = runtime_of(request)
    with runtime.session() as session:
        project = projects.get_project(session, project_id)
        done = escalation.escalate(
            session,
            runtime.plugins,
            project,
            actor_id=user_of(request).id,  # type: ignore[arg-type]
        )
    moved = len(done.to_adjudication) + len(done.to_review)
    text = (
        f"{len(done.to_adjudication)} items sent to adjudication (label drift), "
        f"{len(done.to_review)} back to review (reopen rate)."
        if moved
        else "No labeled item is affected by a failing signal rule."
    )
    return flash(Redirect(f"/projects/{project_id}/quality"), text, "info")


quality_pages = [quality_page, escalate]
