"""``GET /metrics``: Prometheus text format, one series per project (labels ``project`` and
``project_name``).

Protected like the rest of the app: it needs the manager role, either signed in or with a
manager's API token as a bearer token, which is how Prometheus scrapes it::

    scrape_configs:
      - job_name: scholia
        metrics_path: /metrics
        authorization: {type: Bearer, credentials_file: /etc/prometheus/scholia-token}
        static_configs: [{targets: ["scholia.example.org:8000"]}]

Counts are read from the tables at each scrape (GROUP BY per project); agreement comes from
the Quality Hub's kept figures (``scholia.core.quality.hub``), so a scrape never recomputes a
large project's agreement itself, and ``scholia_agreement_computed_timestamp_seconds`` says
how fresh it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from litestar import Request, Response
from litestar.exceptions import PermissionDeniedException
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from sqlalchemy import func, select
from sqlmodel import Session

from scholia.core import membership
from scholia.core.models import (
    Annotation,
    AnnotationSource,
    Assignment,
    Item,
    Project,
    Review,
    Role,
)
from scholia.core.quality import hub
from scholia.core.runtime import Runtime

from .routing import get, runtime_of, user_of

__all__ = ["metrics_handlers"]

LABELS = ["project", "project_name"]
TEXT_FORMAT = "text/plain; version=0.0.4"
"""What ``generate_latest`` writes (Litestar adds the charset)."""
HUMAN = (AnnotationSource.human.value, AnnotationSource.suggestion.value)


class ProjectCollector:
    """Collects every project's figures once per scrape."""

    def __init__(self, runtime: Runtime, only: set[int] | None = None) -> None:
        self.runtime = runtime
        self.only = only
        """The projects to report (those the caller manages); None: all."""

    def collect(self) -> Iterator[Metric]:
        with self.runtime.reading() as session:
            names = {
                int(i): str(n)
                for i, n in session.execute(
                    select(Project.id, Project.name).where(Project.archived_at.is_(None))  # type: ignore[union-attr]
                )
                if self.only is None or int(i) in self.only
            }
            yield from self._counts(session, names)
        yield from self._agreement(names)

    def _counts(self, session: Session, names: dict[int, str]) -> Iterator[Metric]:
        a, r, i, s = (m.__table__ for m in (Annotation, Review, Item, Assignment))  # type: ignore[attr-defined]

        def labels(project_id: int) -> list[str]:
            return [str(project_id), names[project_id]]

        submitted = CounterMetricFamily(
            "scholia_annotations_submitted",
            "Annotations submitted by annotators (every revision; withdrawals not counted).",
            labels=LABELS,
        )
        rows = session.execute(
            select(a.c.project_id, func.count())
            .where(a.c.source.in_(HUMAN))
            .group_by(a.c.project_id)
        )
        found = {p: n for p, n in rows}
        for project_id in names:
            submitted.add_metric(labels(project_id), found.get(project_id, 0))
        yield submitted

        decisions = CounterMetricFamily(
            "scholia_review_decisions",
            "Review decisions, by decision (approved, rejected, needs_review).",
            labels=[*LABELS, "decision"],
        )
        rejections = CounterMetricFamily(
            "scholia_rejections", "Review decisions that rejected an item.", labels=LABELS
        )
        by_decision: dict[tuple[int, str], int] = {}
        for project_id, decision, count in session.execute(
            select(i.c.project_id, r.c.decision, func.count())
            .select_from(r.join(i, i.c.id == r.c.item_id))
            .group_by(i.c.project_id, r.c.decision)
        ):
            by_decision[(project_id, decision)] = count
        for project_id in names:
            for decision in ("approved", "rejected", "needs_review"):
                decisions.add_metric(
                    [*labels(project_id), decision], by_decision.get((project_id, decision), 0)
                )
            rejections.add_metric(labels(project_id), by_decision.get((project_id, "rejected"), 0))
        yield decisions
        yield rejections

        depth = GaugeMetricFamily(
            "scholia_queue_depth",
            "Assignment slots waiting for an annotator's submission (not submitted, not voided).",
            labels=LABELS,
        )
        open_slots = {
            p: n
            for p, n in session.execute(
                select(i.c.project_id, func.count())
                .select_from(s.join(i, i.c.id == s.c.item_id))
                .where(s.c.submitted_at.is_(None), s.c.voided_at.is_(None))
                .group_by(i.c.project_id)
            )
        }
        for project_id in names:
            depth.add_metric(labels(project_id), open_slots.get(project_id, 0))
        yield depth

        items = GaugeMetricFamily(
            "scholia_items", "Items by lifecycle state.", labels=[*LABELS, "state"]
        )
        for project_id, state, count in session.execute(
            select(i.c.project_id, i.c.status, func.count()).group_by(i.c.project_id, i.c.status)
        ):
            if project_id in names:
                items.add_metric([*labels(project_id), state], count)
        yield items

        spent = SummaryMetricFamily(
            "scholia_time_per_item_seconds",
            "Time annotators spent per annotation (annotations that recorded it).",
            labels=LABELS,
        )
        totals = {
            p: (n, ms or 0)
            for p, n, ms in session.execute(
                select(a.c.project_id, func.count(), func.sum(a.c.time_spent_ms))
                .where(a.c.source.in_(HUMAN), a.c.time_spent_ms.is_not(None))
                .group_by(a.c.project_id)
            )
        }
        for project_id in names:
            n, ms = totals.get(project_id, (0, 0))
            spent.add_metric(labels(project_id), count_value=n, sum_value=ms / 1000)
        yield spent

    def _agreement(self, names: dict[int, str]) -> Iterator[Metric]:
        alpha = GaugeMetricFamily(
            "scholia_agreement",
            "Krippendorff's alpha (nominal) in the latest ISO week with enough items with two "
            "or more annotations; absent for a project without such a week.",
            labels=LABELS,
        )
        computed = GaugeMetricFamily(
            "scholia_agreement_computed_timestamp_seconds",
            "When the agreement figure was computed (Unix time).",
            labels=LABELS,
        )
        cache = hub.cache_for(self.runtime)
        for project_id, name in names.items():
            data = cache.view(self.runtime, project_id).data
            weeks = [w for w in data.agreement if w.alpha is not None]
            if weeks:
                alpha.add_metric([str(project_id), name], weeks[-1].alpha)  # type: ignore[arg-type]
            computed.add_metric([str(project_id), name], data.computed_at.timestamp())
        yield alpha
        yield computed


@get("/metrics", include_in_schema=False)
def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The figures of the projects the caller manages (admins: every project)."""
    runtime = runtime_of(request)
    with runtime.reading() as session:
        managed = membership.visible_project_ids(session, user_of(request), Role.manager)
    if managed is not None and not managed:
        raise PermissionDeniedException("Metrics are for managers of a project (or admins).")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ProjectCollector(runtime, managed))  # type: ignore[arg-type]
    return Response(generate_latest(registry), media_type=TEXT_FORMAT)


metrics_handlers = [metrics]
