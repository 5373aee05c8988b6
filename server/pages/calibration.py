"""The annotator's calibration results: each attempt, and once it is over every item with
their answer, the expected answer and why."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.params import FromPath

from scholia.core import calibration, labels, projects
from scholia.core.plugins import Plugins

from ..media import media_url
from ..routing import get, runtime_of, user_of
from ..templating import page
from .viewing import views_state

__all__ = ["calibration_pages"]


def describer(plugins: Plugins, names: dict[int, str]) -> Any:
    """Payloads as people read them, where no editor's view draws them: the category names
    the type says a payload uses (its ``categories``), else the payload as JSON."""

    def describe(payload: Any, annotation_type: str | None) -> str:
        if payload is None:
            return "—"
        kind = plugins.annotation_type(annotation_type) if annotation_type else None
        if kind is not None and kind.categories is not None:
            try:
                used = list(kind.categories(kind.decode(payload)))
            except (msgspec.ValidationError, TypeError, ValueError):
                used = None
            if used is not None:
                return ", ".join(names.get(c, f"#{c}") for c in used) or "none"
        return json.dumps(payload, sort_keys=True)

    return describe


@get("/projects/{project_id:int}/calibration")
def calibration_results(
    request: Request[Any, Any, Any], project_id: FromPath[int]
) -> Response[Any]:
    runtime = runtime_of(request)
    me = user_of(request)
    with runtime.session() as session:
        project = projects.get_project(session, project_id)
        found = calibration.status(session, project_id, me.id)  # type: ignore[arg-type]
        names = {c.id: c.name for c in labels.all_categories(session, project_id)}
        live = labels.live_categories(session, project_id)
    secret = runtime.settings.secret_key
    thumbs = {
        row.item.id: media_url(secret, row.item.content_hash, "thumb")
        for report in found.attempts
        for row in report.items
    }
    return page(
        request,
        "calibration/results.html",
        project=project,
        status=found,
        thumbs=thumbs,
        describe=describer(runtime.plugins, names),
        state=views_state(runtime.plugins, project, live),
    )


calibration_pages = [calibration_results]
