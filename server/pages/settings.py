"""The quality settings page: overlap, gold, calibration, adjudication, rule thresholds and
how model suggestions reach annotators.

A thin form over ``scholia.core.projects.update_settings``: a refused value comes back with
the field marked and everything typed kept, and nothing is stored.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response
from litestar.params import FromPath
from litestar.response import Redirect

from scholia.core import projects
from scholia.core.contributions import QualityRule
from scholia.core.errors import InvalidInput
from scholia.core.project_settings import settings_of

from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page
from .forms import Form, value

__all__ = ["settings_pages"]

NUMBERS = {
    "overlap": ("overlap",),
    "gold_rate": ("gold_rate",),
    "calibration.items": ("calibration", "items"),
    "calibration.pass_mark": ("calibration", "pass_mark"),
    "calibration.attempts": ("calibration", "attempts"),
    "gold.correct_at": ("gold", "correct_at"),
    "gold.window": ("gold", "window"),
    "gold.min_count": ("gold", "min_count"),
    "gold.threshold": ("gold", "threshold"),
    "adjudication.below": ("adjudication", "below"),
}
"""Form field → where it goes in the settings."""
SUGGESTIONS = ("suggestions.reveal", "suggestions.order", "suggestions.top_k")
"""The suggestions group: stored as a whole when the form has it (the page always does)."""
LEASE = "claims.lease_minutes"
SWITCHES = {
    "calibration.required": ("calibration", "required"),
    "adjudication.auto_accept_unanimous": ("adjudication", "auto_accept_unanimous"),
}


def _number(text: str, field: str) -> float | int:
    try:
        return int(text) if text.strip().lstrip("-").isdigit() else float(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a number", f"$.settings.{field}") from None


def _changes(data: dict[str, Any], rules: list[QualityRule]) -> dict[str, Any]:
    """The settings the form describes (every field is on the form, so all are given)."""
    changes: dict[str, Any] = {}

    def put(path: tuple[str, ...], item: Any) -> None:
        target = changes
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = item

    for field, path in NUMBERS.items():
        put(path, _number(value(data, field), field))
    for field, path in SWITCHES.items():
        put(path, value(data, field) == "on")
    put(("adjudication", "aggregator"), value(data, "adjudication.aggregator", "majority"))
    if "claims.lease_minutes" in data:  # the page always has it; older forms may not
        put(("claims", "lease_minutes"), _number(value(data, LEASE), LEASE))
    if any(field in data for field in SUGGESTIONS):
        changes["suggestions"] = {
            "reveal": value(data, "suggestions.reveal", "at_once"),
            "order": value(data, "suggestions.order", "default"),
            "top_k": _number(value(data, "suggestions.top_k"), "suggestions.top_k"),
        }
    thresholds = {}
    for rule in rules:
        text = value(data, f"threshold.{rule.name}").strip()
        if text:
            thresholds[rule.name] = _number(text, f"quality_thresholds.{rule.name}")
    changes["quality_thresholds"] = thresholds
    return changes


def _render(
    request: Request[Any, Any, Any],
    project_id: int,
    *,
    form: dict[str, Any] | None = None,
    error: InvalidInput | None = None,
    status_code: int = 200,
) -> Response[Any]:
    runtime = runtime_of(request)
    with runtime.reading() as session:
        project = projects.get_project(session, project_id)
        current = msgspec.to_builtins(settings_of(project))
    rules = sorted(runtime.plugins.all(QualityRule), key=lambda r: r.name)
    return page(
        request,
        "projects/settings.html",
        status_code=status_code,
        project=project,
        settings=current,
        rules=rules,
        form=form,
        error=error,
    )


@get("/projects/{project_id:int}/settings")
def settings_page(request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
    return _render(request, project_id)


@post("/projects/{project_id:int}/settings")
def save_settings(
    request: Request[Any, Any, Any], project_id: FromPath[int], data: Form
) -> Response[Any]:
    runtime = runtime_of(request)
    try:
        changes = _changes(data, runtime.plugins.all(QualityRule))
        with runtime.session() as session:
            projects.update_settings(
                session,
                runtime.plugins,
                project_id,
                changes,
                actor_id=user_of(request).id,  # type: ignore[arg-type]
            )
    except InvalidInput as error:
        return _render(request, project_id, form=data, error=error, status_code=422)
    return flash(Redirect(f"/projects/{project_id}/settings"), "Quality settings saved.")


settings_pages = [settings_page, save_settings]
