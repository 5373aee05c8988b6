"""The labeling page: queue on the left, the viewer in the middle, editors on the right.

The page is rendered once per item; ``static/label.js`` does the rest in the browser
(hotkeys, optimistic saves through a persistent outbox, undo, preloading the next items).
An active model's suggestion for the item rides along in the page's state, as the annotator
may see it (hidden until their own first label under anti-anchoring); ``static/suggestion.js``
shows it above the editors.
"""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.params import FromPath
from litestar.response import Redirect

from scholia.core import (
    annotations,
    calibration,
    items,
    labels,
    projects,
    queue,
    standing,
    suggestions,
)
from scholia.core.contributions import AnnotationType
from scholia.core.errors import Conflict, PermissionDenied

from ..api.suggestions import suggestion_out
from ..media import media_url
from ..routing import get, runtime_of, user_of
from ..templating import page
from .items import editor_item

__all__ = ["label_pages"]

AHEAD = 2
"""Slots the page holds beyond the current item: the next link is direct and their images
preload. The page holds no more than it shows and preloads (every claim is a lease, see
``claims.lease_minutes``)."""
QUEUE_TITLES = {"all": "All", "todo": "To do", "done": "Done", "skipped": "Skipped"}


def _shown(request: Request[Any, Any, Any]) -> str:
    """The queue filter asked for in the URL (``?queue=todo``); anything else shows it all."""
    value = request.query_params.get("queue")
    return value if value in queue.QUEUE_FILTERS else "all"


def _query(show: str) -> str:
    """The query string that keeps the queue filter on every link of the page."""
    return "" if show == "all" else f"?queue={show}"


@get("/projects/{project_id:int}/label")
def label_next(request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
    """Claim (or resume) the annotator's next item and open it; an empty queue says so."""
    runtime = runtime_of(request)
    me = user_of(request)
    assert me.id is not None
    show = _shown(request)
    try:
        with runtime.session() as session:
            project = projects.get_project(session, project_id)
            item = queue.claim_next(session, project_id, me.id)
            # With nothing left to label, the page links to what the annotator did label.
            done = (
                [] if item else queue.my_queue(session, project_id, me.id, 0, after=0, show="done")
            )
    except PermissionDenied as refused:
        return _refused(request, project_id, refused)
    if item is None:
        return page(request, "label_done.html", project=project, done=done[0] if done else None)
    return Redirect(f"/projects/{project_id}/label/{item.id}{_query(show)}")


def _refused(
    request: Request[Any, Any, Any], project_id: int, refused: PermissionDenied
) -> Response[Any]:
    """No items for this annotator (suspended, or calibration not passed): the page says why."""
    with runtime_of(request).reading() as session:
        project = projects.get_project(session, project_id)
    return page(
        request,
        "calibration/no_items.html",
        status_code=403,
        project=project,
        reason=refused.message,
    )


@get("/projects/{project_id:int}/label/{item_id:int}")
def label_item(
    request: Request[Any, Any, Any], project_id: FromPath[int], item_id: FromPath[int]
) -> Response[Any]:
    runtime = runtime_of(request)
    me = user_of(request)
    assert me.id is not None
    secret = runtime.settings.secret_key
    show = _shown(request)
    with runtime.session() as session:
        project = projects.get_project(session, project_id)
        item = items.get_item(session, item_id, project_id)
        suspension = standing.is_suspended(session, project_id, me.id)
        if suspension is not None:
            refusal = PermissionDenied(standing.refusal(suspension))
        calibrating = calibration.serves(session, item, me.id)
        if suspension is None:  # the page holds what it shows: a claim, or a renewed one
            with contextlib.suppress(Conflict, PermissionDenied):
                queue.ensure_slot(session, item, me.id)
            queue.renew(session, item_id, me.id)
        queue.reserve(session, project_id, me.id, AHEAD)
        mine = {
            a.annotation_type: a
            for a in annotations.current_annotations(session, item_id)
            if a.annotator_id == me.id
        }
        held = queue.my_queue(session, project_id, me.id, item_id, show=show)
        # Where a label moves on to: the next item still to do, whatever the filter shows.
        todo = queue.my_queue(session, project_id, me.id, item_id, before=0, after=1, show="todo")
        counts = queue.my_queue_counts(session, project_id, me.id)
        categories = labels.live_categories(session, project_id)
        statuses = queue.my_statuses(session, [item, *held], me.id)
        # One query for the queue's badges; the item's own suggestions are read only when it
        # has one, and never during calibration (a gold item is the annotator's own test).
        suggested = suggestions.suggested_items(
            session, project_id, [i.id for i in [item, *held] if i.id is not None]
        )
        shown = (
            [
                s
                for name in project.annotation_types
                if (s := suggestions.shown_to(session, project, item, name, me.id)) is not None
            ]
            if item_id in suggested and not calibrating
            else []
        )
    if suspension is not None:
        return _refused(request, project_id, refusal)
    # The current item need not be in the filtered queue: its neighbours are by id either way.
    earlier = [i for i in held if i.id is not None and i.id < item_id]
    following = [i for i in held if i.id is not None and i.id > item_id]
    editors = []
    for name in project.annotation_types:
        kind: AnnotationType | None = runtime.plugins.annotation_types.get(name)
        provider = runtime.plugins.provider(AnnotationType, name) if kind else None
        if kind is None or kind.editor is None or provider is None:
            continue
        editors.append(
            {
                "name": name,
                "type": kind,
                "template": kind.editor.template,
                "module": f"/static/plugins/{provider.name}/{kind.editor.module}",
                "annotation": mine.get(name),
            }
        )
    media = media_url(secret, item.content_hash)
    state = {
        "project_id": project_id,
        "item": editor_item(item, statuses[item_id], media),
        "queue": show,
        "query": _query(show),
        "previous": earlier[-1].id if earlier else None,
        "next": following[0].id if following else None,
        "next_todo": next((i.id for i in todo if i.id is not None and i.id > item_id), None),
        # Images load ahead so the next item shows at once; other media (a video) only when
        # its editor asks for it, since the next one may never be opened.
        "preload": [
            media_url(secret, i.content_hash)
            for i in following[:AHEAD]
            if i.media_type.startswith("image/")
        ],
        "revisions": {t: {"id": str(a.id), "payload": a.payload} for t, a in mine.items()},
        "categories": [
            {"id": c.id, "name": c.name, "color": c.color, "hotkey": c.hotkey} for c in categories
        ],
        "options": project.settings.get("annotation_options", {}),
        "editors": [{"name": e["name"], "module": e["module"]} for e in editors],
        "suggestions": [
            msgspec.to_builtins(suggestion_out(s.suggestion, s.hidden, s.decision)) for s in shown
        ],
    }
    filters = [
        {
            "key": key,
            "title": QUEUE_TITLES[key],
            "count": counts[key],
            "url": f"/projects/{project_id}/label/{item_id}{_query(key)}",
            "active": key == show,
        }
        for key in queue.QUEUE_FILTERS
    ]
    return page(
        request,
        "label.html",
        project=project,
        item=item,
        held=held,
        statuses=statuses,
        suggested=suggested,
        calibrating=calibrating,
        filters=filters,
        query=_query(show),
        editors=editors,
        media=media,
        state=state,
        thumbs={i.id: media_url(secret, i.content_hash, "thumb") for i in held},
    )


label_pages = [label_next, label_item]
