"""One item: its media, state, annotations and the editors of the project's annotation types;
and the signed media URLs the pages use."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import File, Redirect
from sqlmodel import col, select

from scholia.core import annotations, items, labels, lifecycle, projects, queue
from scholia.core.errors import IllegalTransition
from scholia.core.models import Blob, GoldAnswer, Item, Role, Suggestion, User

from ..auth import requires, signed_in
from ..media import media_url, verify
from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page
from .forms import Form, value

__all__ = ["item_pages"]

THUMB_SIZE = 320


@get("/projects/{project_id:int}/items/{item_id:int}", guards=[signed_in])
def item_detail(
    request: Request[Any, Any, Any], project_id: FromPath[int], item_id: FromPath[int]
) -> Response[Any]:
    runtime = runtime_of(request)
    me = user_of(request)
    # Annotators see their own work only: their annotations, their status on the item, no
    # lifecycle moves and no way through the project's items (nor anything of gold).
    qa = me.has_role(Role.reviewer)
    with runtime.session() as session:
        project = projects.get_project(session, project_id)
        item = items.get_item(session, item_id, project_id)
        current = annotations.current_annotations(session, item_id)
        if not qa:
            current = [a for a in current if a.annotator_id == me.id]
        authors = {
            u.id: u
            for u in session.exec(
                select(User).where(col(User.id).in_({a.annotator_id for a in current}))
            )
        }
        # Provenance of accepted suggestions: the model they came from, by name and version.
        taken = {a.suggestion_id for a in current if a.suggestion_id is not None}
        origins = (
            {s.id: s for s in session.exec(select(Suggestion).where(col(Suggestion.id).in_(taken)))}
            if taken
            else {}
        )
        neighbours = (
            _neighbours(session, project_id, item_id) if qa else {"previous": None, "next": None}
        )
        categories = labels.live_categories(session, project_id)
        status = item.status if qa else queue.my_statuses(session, [item], me.id)[item_id]  # type: ignore[arg-type]
        gold_answers = (
            list(session.exec(select(GoldAnswer).where(col(GoldAnswer.item_id) == item_id)))
            if qa
            else []
        )
    mine = {a.annotation_type: a for a in current if a.annotator_id == me.id}
    editors = []
    for type_name in project.annotation_types:
        kind = runtime.plugins.annotation_types.get(type_name)
        provider = runtime.plugins.provider(type(kind), type_name) if kind else None
        module = (
            f"/static/plugins/{provider.name}/{kind.editor.module}"
            if kind and kind.editor and provider
            else None
        )
        editors.append(
            {"name": type_name, "type": kind, "module": module, "annotation": mine.get(type_name)}
        )
    # What static/editors.js mounts the editors with (the labeling page passes the same).
    state = {
        "project_id": project_id,
        "item": {"id": item.id, "status": status, "name": item.name},
        "revisions": {t: {"id": str(a.id), "payload": a.payload} for t, a in mine.items()},
        "categories": [
            {"id": c.id, "name": c.name, "color": c.color, "hotkey": c.hotkey} for c in categories
        ],
        "options": project.settings.get("annotation_options", {}),
        "editors": [{"name": e["name"], "module": e["module"]} for e in editors if e["module"]],
    }
    return page(
        request,
        "items/detail.html",
        project=project,
        item=item,
        annotations=current,
        authors=authors,
        origins=origins,
        editors=editors,
        media=media_url(runtime.settings.secret_key, item.content_hash),
        allowed=lifecycle.allowed_transitions(item.status) if qa else [],
        neighbours=neighbours,
        state=state,
        status=status,
        qa=qa,
        gold_answers=gold_answers,
        gold_categories=categories,
        can_promote=qa and any(a.adjudication_id for a in current),
    )


def _neighbours(session: Any, project_id: int, item_id: int) -> dict[str, int | None]:
    previous = session.exec(
        select(Item.id)
        .where(col(Item.project_id) == project_id, col(Item.id) < item_id)
        .order_by(col(Item.id).desc())
        .limit(1)
    ).first()
    following = session.exec(
        select(Item.id)
        .where(col(Item.project_id) == project_id, col(Item.id) > item_id)
        .order_by(col(Item.id))
        .limit(1)
    ).first()
    return {"previous": previous, "next": following}


@post("/projects/{project_id:int}/items/{item_id:int}/transition", guards=[requires(Role.reviewer)])
def item_transition(
    request: Request[Any, Any, Any], project_id: FromPath[int], item_id: FromPath[int], data: Form
) -> Response[Any]:
    runtime = runtime_of(request)
    target = f"/projects/{project_id}/items/{item_id}"
    try:
        with runtime.session() as session:
            items.get_item(session, item_id, project_id)
            lifecycle.transition(
                session,
                item_id,
                value(data, "to"),
                actor_id=user_of(request).id,
                reason=value(data, "reason") or None,
            )
    except IllegalTransition as error:
        return flash(Redirect(target), error.message, "error")
    return flash(Redirect(target), f"Item moved to {value(data, 'to').replace('_', ' ')}.")


@get("/media/{sha256:str}/{variant:str}")
def media(
    request: Request[Any, Any, Any],
    sha256: FromPath[str],
    variant: FromPath[str],
    expires: FromQuery[int],
    signature: FromQuery[str],
) -> Response[Any]:
    """Serve stored media by signed URL; thumbnails are made once by the modality and cached."""
    runtime = runtime_of(request)
    if not verify(runtime.settings.secret_key, sha256, variant, expires, signature):
        raise PermissionDeniedException("This media link has expired; reload the page.")
    path = runtime.store.path(sha256)
    if not path.exists() or variant not in ("original", "thumb"):
        raise NotFoundException("No such media.")
    headers = {"Cache-Control": "private, max-age=3600"}
    if variant == "original":
        with runtime.session() as session:
            blob = session.get(Blob, sha256)
        return File(
            path,
            media_type=blob.media_type if blob else None,
            headers=headers,
            content_disposition_type="inline",
        )
    thumb = runtime.settings.data_dir / "thumbs" / f"{sha256}-{THUMB_SIZE}.webp"
    if not thumb.exists():
        with runtime.session() as session:
            item = session.exec(select(Item).where(col(Item.content_hash) == sha256)).first()
            project = projects.get_project(session, item.project_id) if item else None
        modality = runtime.plugins.modalities.get(project.modality) if project else None
        if modality is None or modality.thumbnail is None:
            raise NotFoundException("No thumbnail for this media.")
        thumb.parent.mkdir(parents=True, exist_ok=True)
        partial = thumb.with_suffix(".partial")
        partial.write_bytes(modality.thumbnail(path, THUMB_SIZE))
        partial.replace(thumb)
    return File(thumb, media_type="image/webp", headers=headers, content_disposition_type="inline")


item_pages = [item_detail, item_transition, media]
