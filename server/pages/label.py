"""The labeling page: queue on the left, the modality's viewer in the middle, editors on the
right (or, for a modality without a viewer, the editors in the middle).

The page is rendered once per item from ``labeling.labeling_context`` (the queue API serves
the same context as JSON); ``static/label.js`` does the rest in the browser (taking the item
up with a POST, hotkeys, optimistic saves through a persistent outbox, undo, fetching the
pages of the next items ahead and opening them in place). No GET claims anything, so a page
fetched ahead and never shown costs nothing but its rendering.
An active model's suggestion for the item rides along in the page's state, as the annotator
may see it (hidden until their own first label under anti-anchoring); ``static/suggestion.js``
shows it above the editors.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response
from litestar.params import FromPath
from litestar.response import Redirect

from scholia.core import labeling, projects, queue
from scholia.core.errors import PermissionDenied
from scholia.core.labeling import AHEAD

from ..api.schemas import LabelingContextOut
from ..routing import get, post, runtime_of, user_of
from ..templating import page
from .viewing import viewer_of

__all__ = ["label_pages"]

QUEUE_TITLES = {"all": "All", "todo": "To do", "done": "Done", "skipped": "Skipped"}


def _shown(request: Request[Any, Any, Any]) -> str:
    """The queue filter asked for in the URL (``?queue=todo``); anything else shows it all."""
    value = request.query_params.get("queue")
    return value if value in queue.QUEUE_FILTERS else "all"


def _query(show: str) -> str:
    """The query string that keeps the queue filter on every link of the page."""
    return "" if show == "all" else f"?queue={show}"


@get("/projects/{project_id:int}/label")
def label_start(request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
    """Where "label" links lead. A GET claims nothing: the page posts to take the next item
    (``static/label_start.js`` at once; without scripts, a button)."""
    with runtime_of(request).reading() as session:
        project = projects.get_project(session, project_id)
    return page(request, "label_start.html", project=project, query=_query(_shown(request)))


@post("/projects/{project_id:int}/label", status_code=200)
def label_next(request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
    """Take (or resume) the annotator's next item, hold the next ones, and open it; an empty
    queue says so."""
    runtime = runtime_of(request)
    me = user_of(request)
    assert me.id is not None
    show = _shown(request)
    try:
        with runtime.session() as session:
            project = projects.get_project(session, project_id)
            item = labeling.take_next(session, project_id, me.id)
            # With nothing left to label, the page links to what the annotator did label.
            done = (
                [] if item else queue.my_queue(session, project_id, me.id, 0, after=0, show="done")
            )
    except PermissionDenied as refused:
        return _refused(request, project_id, refused)
    if item is None:
        return page(request, "label_done.html", project=project, done=done[0] if done else None)
    return Redirect(f"/projects/{project_id}/label/{item.id}{_query(show)}", status_code=303)


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
    """The item in the labeling page, from ``labeling.labeling_context`` (as the API serves
    it). Claims nothing: the page takes the item up with a POST once it is open."""
    runtime = runtime_of(request)
    me = user_of(request)
    assert me.id is not None
    show = _shown(request)
    try:
        with runtime.reading() as session:
            context = labeling.labeling_context(
                session, runtime.plugins, project_id, item_id, me.id, show
            )
    except PermissionDenied as refused:
        return _refused(request, project_id, refused)
    out = LabelingContextOut.of(context, runtime.settings.secret_key, runtime.plugins)
    viewer = viewer_of(runtime.plugins, context.project.modality)
    window = out.queue
    state = {
        "project_id": project_id,
        "item": {
            "id": out.item.id,
            "status": out.item.status,
            "name": out.item.name,
            "media": out.item.media_url,
            "media_type": out.item.media_type,
            "meta": out.item.meta,
            "parts": msgspec.to_builtins(out.item.parts),
        },
        "queue": show,
        "query": _query(show),
        "previous": window.previous,
        "next": window.next,
        "next_todo": window.next_todo,
        "ahead": AHEAD,
        # The next items (where a label moves on to first, then those after this one), for
        # the page to fetch ahead and the viewer what it shows of them (the image viewer, the
        # image; a player may fetch nothing, as the next item may never open).
        "preload": [
            {
                "id": e.id,
                "name": e.name,
                "media": e.media_url,
                "media_type": e.media_type,
                "meta": e.meta,
            }
            for e in sorted(window.items, key=lambda e: (e.id != window.next_todo, e.id))
            if e.id > item_id or e.id == window.next_todo
        ][:AHEAD],
        "viewer": viewer,
        "revisions": {t: {"id": str(r.id), "payload": r.payload} for t, r in out.revisions.items()},
        "categories": [
            {"id": c.id, "name": c.name, "color": c.color, "hotkey": c.hotkey}
            for c in out.categories
        ],
        "options": out.options,
        "editors": [{"name": e.annotation_type, "module": e.module} for e in out.editors],
        "suggestions": msgspec.to_builtins(out.suggestions),
    }
    filters = [
        {
            "key": key,
            "title": QUEUE_TITLES[key],
            "count": window.counts[key],
            "url": f"/projects/{project_id}/label/{item_id}{_query(key)}",
            "active": key == show,
        }
        for key in queue.QUEUE_FILTERS
    ]
    return page(
        request,
        "label.html",
        project=context.project,
        item=context.item,
        held=window.items,
        calibrating=context.calibrating,
        filters=filters,
        query=_query(show),
        editors=[
            {**msgspec.to_builtins(e), "annotation": context.revisions.get(e.annotation_type)}
            for e in out.editors
        ],
        media=out.item.media_url,
        viewer=viewer,
        parts={p.role: p for p in out.item.parts},
        state=state,
    )


label_pages = [label_start, label_next, label_item]
