"""Adjudication: the backlog of items the annotators disagreed on, and the page where an
adjudicator weighs the versions side by side and decides, with written reasoning."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath
from litestar.response import Redirect

from scholia.core import adjudication, counts, labels, projects
from scholia.core.contributions import AnnotationType
from scholia.core.errors import Conflict, InvalidInput, NotFound

from ..media import media_url
from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page
from .forms import Form, value
from .items import editor_item, parts_out
from .viewing import viewer_of

__all__ = ["adjudication_pages", "ago"]

KEYED = 9
"""Versions 1 to 9 are picked with the digit keys."""
OWN = "own"
"""The choice that sends a label of the adjudicator's own (made in the types' editors)."""


def ago(when: datetime, now: datetime | None = None) -> str:
    """How long ago, as a person says it: "just now", "5 min ago", "3 h ago", "2 days ago"."""
    seconds = max(0, int(((now or datetime.now(UTC)) - when).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return "1 day ago" if days == 1 else f"{days} days ago"


def _backlog_ids(session: Any, plugins: Any, project_id: int) -> list[int]:
    return [w.item.id for w in adjudication.backlog(session, plugins, project_id)]


@get("/projects/{project_id:int}/adjudication")
def adjudication_queue(request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
    """The backlog, longest-waiting first; an empty one says the backlog is clear."""
    runtime = runtime_of(request)
    secret = runtime.settings.secret_key
    rows = []
    now = datetime.now(UTC)
    with runtime.reading() as session:
        project = projects.get_project(session, project_id)
        # The list holds the longest-waiting cases; the count is every one.
        total = counts.status_counts(session, [project_id])[project_id]["adjudication"]
        for waiting in adjudication.backlog(session, runtime.plugins, project_id):
            assert waiting.item.id is not None
            rows.append(
                {
                    "item": waiting.item,
                    "reason": waiting.reason,
                    "routed_at": waiting.routed_at,
                    "ago": ago(waiting.routed_at, now),
                    "versions": waiting.versions,
                    "annotators": waiting.annotators,
                    "thumb": media_url(secret, waiting.item.content_hash, "thumb"),
                }
            )
    return page(request, "adjudication/queue.html", project=project, cases=rows, total=total)


def _editors(request: Request[Any, Any, Any], types: list[str]) -> list[dict[str, Any]]:
    """The editors of the case's annotation types, for a label of the adjudicator's own."""
    plugins = runtime_of(request).plugins
    found = []
    for name in types:
        kind: AnnotationType | None = plugins.annotation_types.get(name)
        provider = plugins.provider(AnnotationType, name) if kind else None
        if kind is None or kind.editor is None or provider is None:
            continue
        module = f"/static/plugins/{provider.name}/{kind.editor.module}"
        found.append({"name": name, "type": kind, "module": module})
    return found


def _own_label(form: dict[str, str]) -> dict[str, Any] | None:
    """The label of one's own a refused form carried, to show it again (None if unreadable)."""
    try:
        payload = json.loads(form.get("payload") or "null")
    except ValueError:
        return None
    return {"annotation_type": form.get("annotation_type", ""), "payload": payload}


FIELDS = ("annotation_id", "reasoning", "payload", "annotation_type")


def _case_context(
    request: Request[Any, Any, Any], project_id: int, item_id: int, form: dict[str, str] | None
) -> dict[str, Any]:
    """The case page's context; ``form`` is what a refused form sent (None: a fresh page, the
    most common version picked)."""
    runtime = runtime_of(request)
    with runtime.reading() as session:
        project = projects.get_project(session, project_id)
        case = adjudication.case_of(session, runtime.plugins, item_id)
        if case.item.project_id != project_id:
            raise NotFound(f"item in project {project_id}", item_id)
        backlog = _backlog_ids(session, runtime.plugins, project_id)
        live = labels.live_categories(session, project_id)
        made_of = parts_out(session, runtime.settings.secret_key, item_id)
    if form is None:
        suggested = case.suggested.opinions[0].annotation_id if case.suggested else ""
        form = dict.fromkeys(FIELDS, "") | {"annotation_id": str(suggested)}
    colours = {c.name: c.color for c in live}
    media = media_url(runtime.settings.secret_key, case.item.content_hash)
    viewer = viewer_of(runtime.plugins, project.modality)
    editors = _editors(request, sorted({v.annotation_type for v in case.versions}))
    # What static/editors.js mounts the editors with (as on the item page), with no revision:
    # the adjudicator's label starts empty, or as a refused form left it.
    state = {
        "project_id": project_id,
        "item": editor_item(case.item, case.item.status, media, made_of),
        "revisions": {},
        "categories": [
            {"id": c.id, "name": c.name, "color": c.color, "hotkey": c.hotkey} for c in live
        ],
        "options": project.settings.get("annotation_options", {}),
        "editors": [{"name": e["name"], "module": e["module"]} for e in editors],
        "viewer": viewer,
        "own": _own_label(form) if form.get("annotation_id") == OWN else None,
    }
    at = backlog.index(item_id) if item_id in backlog else None
    versions = [
        {
            "number": number,
            "version": version,
            "key": str(number) if number <= KEYED else None,
            "choice": str(version.opinions[0].annotation_id),
            "suggested": version is case.suggested,
        }
        for number, version in enumerate(case.versions, start=1)
    ]
    annotators = sum(v.count for v in case.versions)
    return {
        "project": project,
        "case": case,
        "form": form,
        "own": OWN,
        "editors": editors,
        "state": state,
        "versions": versions,
        "tie": case.suggested is None and len(versions) > 1,
        "several_types": len({v.annotation_type for v in case.versions}) > 1,
        "colours": colours,
        "media": media,
        "viewer": viewer,
        "routed_ago": ago(case.routed_at),
        "annotators": annotators,
        "position": None if at is None else at + 1,
        "backlog_size": len(backlog),
        "previous": backlog[at - 1] if at else None,
        "next": backlog[at + 1] if at is not None and at + 1 < len(backlog) else None,
    }


@get(
    "/projects/{project_id:int}/adjudication/{item_id:int}",
)
def adjudication_case(
    request: Request[Any, Any, Any], project_id: FromPath[int], item_id: FromPath[int]
) -> Response[Any]:
    """One case: the media, the versions side by side with their evidence, the decision
    (the most common version pre-selected; nothing on a tie)."""
    context = _case_context(request, project_id, item_id, None)
    return page(request, "adjudication/case.html", error=None, **context)


def _choice(form: dict[str, str]) -> dict[str, Any]:
    """What the form picked: one of the versions (an annotation id), or a label of one's own."""
    picked = form["annotation_id"]
    if not picked:
        return {}
    if picked == OWN:
        try:
            payload = json.loads(form["payload"]) if form["payload"] else None
        except ValueError:
            raise InvalidInput("Your label could not be read; make it again", "$.payload") from None
        if payload is None:
            raise InvalidInput("Make your label in “A label of your own” first", "$.payload")
        return {"payload": payload, "annotation_type": form["annotation_type"] or None}
    try:
        return {"annotation_id": uuid.UUID(picked)}
    except ValueError:
        raise InvalidInput(f"{picked!r} is not an annotation id", "$.annotation_id") from None


@post(
    "/projects/{project_id:int}/adjudication/{item_id:int}",
)
def adjudication_decide(
    request: Request[Any, Any, Any], project_id: FromPath[int], item_id: FromPath[int], data: Form
) -> Response[Any]:
    """Decide, then open the next case of the backlog (or its empty state). A refusal shows
    on the page again with what was typed and picked kept."""
    runtime = runtime_of(request)
    form = {key: value(data, key) for key in FIELDS}
    with runtime.reading() as session:
        projects.get_project(session, project_id)
        before = _backlog_ids(session, runtime.plugins, project_id)
    try:
        choice = _choice(form) if form["reasoning"].strip() else {}
        with runtime.session() as session:
            record = adjudication.decide(
                session,
                runtime.plugins,
                item_id,
                adjudicator_id=user_of(request).id,  # type: ignore[arg-type]
                reasoning=form["reasoning"],
                **choice,
            )
    except InvalidInput as error:
        context = _case_context(request, project_id, item_id, form)
        return page(request, "adjudication/case.html", status_code=422, error=error, **context)
    except Conflict as error:
        # Decided by someone else meanwhile: the backlog shows what is left.
        return flash(Redirect(f"/projects/{project_id}/adjudication"), error.message, "error")
    with runtime.reading() as session:
        remaining = _backlog_ids(session, runtime.plugins, project_id)
    after = before[before.index(item_id) + 1 :] if item_id in before else []
    later = [i for i in after if i in remaining]
    upcoming = later or remaining
    target = f"/projects/{project_id}/adjudication"
    if upcoming:
        target += f"/{upcoming[0]}"
    return flash(
        Redirect(target), f"Item {item_id} approved with your decision (adjudication {record.id})."
    )


adjudication_pages = [adjudication_queue, adjudication_case, adjudication_decide]
