"""What the Quality Hub shows, computed once and kept until the project changes.

Computing the figures means aggregating every annotation of the project (seconds at a million
annotations), so they are kept per project with the id of the project's latest audit event:
every submission, review, transition and settings change writes one, so a page asking again
with nothing new gets the kept figures at the cost of one indexed lookup. When something has
changed, figures that took less than ``sync_budget_s`` to compute are recomputed at once (the
page is always current on small projects); slower ones are recomputed by a background thread
while the page shows the kept figures with the time they are from.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from .. import counts, gold, projects
from ..contributions import QualityRule
from ..datasets import gate_report
from ..item_state import ItemState
from ..models import Annotation, AuditEvent, Category, User
from ..models.types import utcnow
from ..plugins import Plugins
from ..runtime import Runtime
from . import signals
from .signals import (
    AGREEMENT_METHOD,
    BREAKDOWN_METHOD,
    MIN_WEEK_LABELS,
    AgreementBreakdown,
    AgreementWeek,
    Bias,
    DriftCell,
    LabelCounts,
    ReopenRates,
    TimeOutliers,
    agreement_breakdown,
    agreement_by_week,
    annotator_bias,
    label_counts,
    label_drift,
    reopen_rates,
    time_outliers,
)

__all__ = [
    "HubCache",
    "HubData",
    "HubView",
    "annotation_count",
    "as_dict",
    "backlog_count",
    "cache_for",
    "compute",
    "fingerprint",
]


@dataclass(frozen=True)
class HubData:
    """Every figure of a project's Quality Hub, as of ``computed_at``."""

    project_id: int
    computed_at: datetime
    seconds: float
    """How long computing them took."""
    fingerprint: int
    annotators: dict[int, str]
    """Annotator id → display name, for everyone the figures mention."""
    categories: dict[int, str]
    labels: LabelCounts
    agreement: list[AgreementWeek]
    agreement_method: str
    breakdown: AgreementBreakdown
    """Agreement over all time per annotator and per category (``BREAKDOWN_METHOD``)."""
    drift: list[DriftCell]
    bias: list[Bias]
    reopen: ReopenRates
    times: TimeOutliers
    rules: dict[str, Any]
    """The active rules' report, as ``run_gate`` gives it (each rule: value, threshold…)."""
    gold: list[gold.GoldAccuracy]
    """Rolling gold accuracy of everyone who answered a gold item (``scholia.core.gold``)."""


@dataclass(frozen=True)
class HubView:
    data: HubData | None
    """None while the first figures of a large project are computed in the background."""
    current: bool
    """False while a background refresh brings in newer work."""
    backlog: int
    """Items waiting for an adjudicator, counted now (not kept)."""
    annotations: int = 0
    """Annotations in the project, counted now (what the first computation has to go over)."""


def fingerprint(session: Session, project_id: int) -> int:
    """The project's latest audit event id: it changes whenever anything the Hub shows can."""
    found = session.execute(
        select(func.max(col(AuditEvent.id))).where(col(AuditEvent.project_id) == project_id)
    ).scalar_one()
    return int(found or 0)


def annotation_count(session: Session, project_id: int) -> int:
    found = session.execute(
        select(func.count()).where(col(Annotation.project_id) == project_id)
    ).scalar_one()
    return int(found)


def backlog_count(session: Session, project_id: int) -> int:
    statuses = counts.status_counts(session, [project_id]).get(project_id, {})
    return int(statuses.get(ItemState.adjudication, 0))


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(col(User.id), col(User.display_name)).where(col(User.id).in_(ids))
    )
    return {int(i): str(name) for i, name in rows}


def _categories(session: Session, project_id: int) -> dict[int, str]:
    rows = session.execute(
        select(col(Category.id), col(Category.name))
        .where(col(Category.project_id) == project_id)
        .order_by(col(Category.display_order))
    )
    return {int(i): str(name) for i, name in rows}


def compute(session: Session, plugins: Plugins, project_id: int) -> HubData:
    """Every figure, from the database as it is now."""
    session.info[signals.MEMO] = {}  # the signal rules reuse what is computed here
    try:
        return _compute(session, plugins, project_id)
    finally:
        session.info.pop(signals.MEMO, None)


def _compute(session: Session, plugins: Plugins, project_id: int) -> HubData:
    started = time.perf_counter()
    project = projects.get_project(session, project_id)
    mark = fingerprint(session, project_id)
    labels = label_counts(session, plugins.annotation_types, project_id)
    reopen = reopen_rates(session, project_id)
    times = time_outliers(session, project_id)
    rules = gate_report(session, plugins, project, None, gate_only=False)
    by_name = {r.name: r for r in plugins.all(QualityRule)}
    for entry in rules["rules"]:
        rule = by_name.get(entry["rule"])
        entry["gate"] = bool(rule.gate) if rule else False
    agreement = agreement_by_week(session, plugins, project_id)
    breakdown = agreement_breakdown(session, plugins, project_id)
    accuracies = gold.accuracies(session, project_id)
    mentioned = (
        set(labels.annotators) | set(reopen.annotators) | {a.annotator_id for a in times.annotators}
    )
    mentioned |= {a.annotator_id for _, a in accuracies}
    return HubData(
        project_id=project_id,
        computed_at=utcnow(),
        seconds=time.perf_counter() - started,
        fingerprint=mark,
        annotators=_names(session, mentioned),
        categories=_categories(session, project_id),
        labels=labels,
        agreement=agreement,
        agreement_method=AGREEMENT_METHOD,
        breakdown=breakdown,
        drift=label_drift(labels),
        bias=annotator_bias(labels),
        reopen=reopen,
        times=times,
        rules=rules,
        gold=[a for _, a in accuracies],
    )


@dataclass
class HubCache:
    """The kept figures of each project, for one runtime."""

    sync_budget_s: float = 0.5
    """Recompute at once when the last computation took less than this; else in the
    background, showing the kept figures meanwhile."""
    sync_annotations: int = 50_000
    """With nothing kept yet, a project with more annotations than this is first computed
    in the background (the page says so and reloads itself) rather than in the request."""
    _kept: dict[int, HubData] = field(default_factory=dict)
    _running: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def view(self, runtime: Runtime, project_id: int) -> HubView:
        """The figures for the Hub page and API: current, or the kept ones while newer work
        is brought in."""
        with runtime.reading() as session:
            projects.get_project(session, project_id)  # NotFound for an unknown project
            mark = fingerprint(session, project_id)
            backlog = backlog_count(session, project_id)
            kept = self._kept.get(project_id)
            if kept is None:
                annotations = annotation_count(session, project_id)
                if annotations > self.sync_annotations:
                    self._refresh_in_background(runtime, project_id)
                    return HubView(None, False, backlog, annotations)
        if kept is not None and kept.fingerprint == mark:
            return HubView(kept, True, backlog)
        if kept is not None and kept.seconds >= self.sync_budget_s:
            self._refresh_in_background(runtime, project_id)
            return HubView(kept, False, backlog)
        data = self.refresh(runtime, project_id)
        return HubView(data, data.fingerprint >= mark, backlog)

    def refresh(self, runtime: Runtime, project_id: int) -> HubData:
        """Compute now and keep the result."""
        with runtime.reading() as session:
            data = compute(session, runtime.plugins, project_id)
        with self._lock:
            kept = self._kept.get(project_id)
            if kept is None or kept.fingerprint <= data.fingerprint:
                self._kept[project_id] = data
        return data

    def _refresh_in_background(self, runtime: Runtime, project_id: int) -> None:
        with self._lock:
            if project_id in self._running:
                return
            self._running.add(project_id)

        def work() -> None:
            try:
                self.refresh(runtime, project_id)
            finally:
                with self._lock:
                    self._running.discard(project_id)

        runtime.spawn(work, f"quality-hub-{project_id}")


_CACHES: dict[int, HubCache] = {}


def cache_for(runtime: Runtime) -> HubCache:
    """The runtime's cache of Hub figures (dropped with the runtime)."""
    key = id(runtime)
    cache = _CACHES.get(key)
    if cache is None:
        cache = _CACHES[key] = HubCache()
        weakref.finalize(runtime, _CACHES.pop, key, None)
    return cache


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def as_dict(view: HubView) -> dict[str, Any]:
    """The figures as plain data (the JSON API's body): the same numbers as the page."""
    data = view.data
    if data is None:
        return {
            "computing": True,
            "annotations": view.annotations,
            "adjudication_backlog": view.backlog,
        }
    labels = data.labels
    return {
        "computing": False,
        "project_id": data.project_id,
        "computed_at": data.computed_at.isoformat(),
        "compute_seconds": round(data.seconds, 4),
        "current": view.current,
        "adjudication_backlog": view.backlog,
        "annotators": {str(k): v for k, v in data.annotators.items()},
        "categories": {str(k): v for k, v in data.categories.items()},
        "labels": {
            "total": labels.total,
            "weeks": list(labels.weeks),
            "skipped_types": list(labels.skipped_types),
        },
        "agreement": {
            "method": data.agreement_method,
            "weeks": _plain(data.agreement),
            "breakdown_method": BREAKDOWN_METHOD,
            "annotators": {
                str(a): {"agreement": v, "partners": n}
                for a, (v, n) in data.breakdown.annotators.items()
            },
            "categories": {
                str(c): {"alpha": v, "note": note}
                for c, (v, note) in data.breakdown.categories.items()
            },
        },
        "drift": {
            "baseline": "every annotator's labels over all time",
            "minimum_labels": MIN_WEEK_LABELS,
            "cells": _plain(data.drift),
        },
        "bias": _plain(data.bias),
        "reopen": {
            "project": _plain(data.reopen.project),
            "annotators": _plain(data.reopen.annotators),
            "weeks": [{"week": w, **_plain(r)} for w, r in data.reopen.weeks],
            "reopened": data.reopen.reopened,
        },
        "times": _plain(data.times),
        "rules": _plain(data.rules),
        "gold": [{**_plain(a), "message": a.message} for a in data.gold],
    }
