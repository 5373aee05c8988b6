"""API: a project's Quality Hub figures, the same numbers as the page."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response
from litestar.params import FromPath

from scholia.core import projects
from scholia.core.quality import escalation, hub

from ..routing import get, post, runtime_of, user_of

__all__ = ["quality_api"]


@get("/projects/{project_id:int}/quality")
def project_quality(
    request: Request[Any, Any, Any], project_id: FromPath[int]
) -> Response[dict[str, Any]]:
    """Agreement per week (with its method), label drift per annotator and week, annotator
    bias (the test named, its p-value, the categories most over- and under-used), reopen
    rates (project, per annotator with a Wilson interval, per week), time-per-item outliers
    (robust z), the active quality rules with their values, and the adjudication backlog.
    A figure over too little data is null with a ``note`` saying the count. ``computed_at``
    says when the figures were computed; ``current`` is false while newer work is being
    brought in. While a large project's first figures are computed (in the background) the
    answer is 202 with ``computing`` true and a ``Retry-After`` header."""
    runtime = runtime_of(request)
    view = hub.cache_for(runtime).view(runtime, project_id)
    if view.data is None:
        return Response(hub.as_dict(view), status_code=202, headers={"Retry-After": "5"})
    return Response(hub.as_dict(view))


class DriftFinding(msgspec.Struct):
    annotator: str
    week: str
    divergence: float


class ReopenFinding(msgspec.Struct):
    annotator: str
    reopen_rate: float


class EscalationOut(msgspec.Struct):
    to_adjudication: list[int]
    """Labeled items sent to an adjudicator: a drifting annotator-week labeled them."""
    to_review: list[int]
    """Labeled items sent back to review: their annotator's reopen rate is above its ceiling."""
    drifting: list[DriftFinding]
    """The annotator-weeks whose labels drifted from the baseline, and by how much."""
    reopening: list[ReopenFinding]
    """The annotators above the reopen ceiling, and their rate."""


@post(
    "/projects/{project_id:int}/quality/escalate",
    status_code=200,
)
def escalate(request: Request[Any, Any, Any], project_id: FromPath[int]) -> EscalationOut:
    """Act on the signal rules: move the project's labeled items that ``label_drift`` or
    ``annotator_reopen_rate`` finds against, each with the finding as its audit reason."""
    runtime = runtime_of(request)
    with runtime.session() as session:
        project = projects.get_project(session, project_id)
        done = escalation.escalate(
            session,
            runtime.plugins,
            project,
            actor_id=user_of(request).id,  # type: ignore[arg-type]
        )
    return EscalationOut(
        done.to_adjudication,
        done.to_review,
        [DriftFinding(*finding) for finding in done.drifting],
        [ReopenFinding(*finding) for finding in done.reopening],
    )


quality_api = [project_quality, escalate]
