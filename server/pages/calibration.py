"""The annotator's calibration results: each attempt, and once it is over every item with
their answer, the expected answer and why."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from scholia.core import calibration, labels, projects

from ..media import media_url
from ..routing import get, runtime_of, user_of
from ..templating import page

__all__ = ["calibration_pages"]


def describer(names: dict[int, str]) -> Any:
    """Payloads as people read them: category names where the payload has category ids."""

    def describe(payload: Any) -> str:
        if payload is None:
            return "—"
        if isinstance(payload, dict) and isinstance(payload.get("category_ids"), list):
            return ", ".join(names.get(c, f"#{c}") for c in payload["category_ids"]) or "none"
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
        describe=describer(names),
    )


calibration_pages = [calibration_results]
