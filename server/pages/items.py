"""One item: its media, state, annotations and the editors of the project's annotation types;
and the signed media URLs the pages use."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import File, Redirect, Stream
from sqlmodel import Session, col, select

from scholia.core import items, labels, lifecycle, parts, projects, queue, review
from scholia.core.errors import IllegalTransition, InvalidInput
from scholia.core.item_state import allowed_transitions
from scholia.core.models import Blob, GoldAnswer, Item, Role, Suggestion, User
from scholia.core.revisions import current_annotations

from ..access import can
from ..api.schemas import PartOut
from ..media import media_url, verify
from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page
from .forms import Form, value
from .viewing import viewer_of

log = logging.getLogger(__name__)

__all__ = ["editor_item", "item_pages", "parts_out"]

THUMB_SIZE = 320
NO_PREVIEW = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240">'
    b'<rect width="320" height="240" fill="#e8e8ec"/><text x="160" y="128" font-size="20" '
    b'text-anchor="middle" fill="#777" font-family="sans-serif">no preview</text></svg>'
)
"""The thumbnail of an item whose modality draws none."""
CHUNK = 256 * 1024
"""Bytes read at a time when streaming part of a media file."""
BYTE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def editor_item(
    item: Item, status: str, media: str, made_of: Sequence[PartOut] = ()
) -> dict[str, Any]:
    """The item as editors are mounted with it (static/editors.js): an editor that shows the
    media itself (a video player, an audio waveform) needs its URL, type and probed metadata;
    one of an item made of parts (a text record, a sensor frame), each part."""
    return {
        "id": item.id,
        "status": status,
        "name": item.name,
        "media": media,
        "media_type": item.media_type,
        "meta": item.meta,
        "parts": msgspec.to_builtins(list(made_of)),
    }


def parts_out(session: Session, secret: str, item_id: int) -> list[PartOut]:
    """The item's parts as pages and editors see them (none for an item of one file)."""
    return [PartOut.of(p, secret) for p in parts.parts_of(session, [item_id]).get(item_id, [])]


@get("/projects/{project_id:int}/items/{item_id:int}")
def item_detail(
    request: Request[Any, Any, Any], project_id: FromPath[int], item_id: FromPath[int]
) -> Response[Any]:
    runtime = runtime_of(request)
    me = user_of(request)
    # Annotators see their own work only: their annotations, their status on the item, no
    # lifecycle moves and no way through the project's items (nor anything of gold).
    qa = can(request, Role.reviewer)
    with runtime.session() as session:
        project = projects.get_project(session, project_id)
        item = items.get_item(session, item_id, project_id)
        current = current_annotations(session, item_id)
        if not qa:
            current = [a for a in current if a.annotator_id == me.id]
        reviews = review.history(session, item_id) if qa else []
        authors = {
            u.id: u
            for u in session.exec(
                select(User).where(
                    col(User.id).in_(
                        {a.annotator_id for a in current} | {r.reviewer_id for r in reviews}
                    )
                )
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
        made_of = parts_out(session, runtime.settings.secret_key, item_id)
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
    media = media_url(runtime.settings.secret_key, item.content_hash)
    viewer = viewer_of(runtime.plugins, project.modality)
    # What static/editors.js mounts the editors with (the labeling page passes the same).
    state = {
        "project_id": project_id,
        "item": editor_item(item, status, media, made_of),
        "revisions": {t: {"id": str(a.id), "payload": a.payload} for t, a in mine.items()},
        "categories": [
            {"id": c.id, "name": c.name, "color": c.color, "hotkey": c.hotkey} for c in categories
        ],
        "options": project.settings.get("annotation_options", {}),
        "editors": [{"name": e["name"], "module": e["module"]} for e in editors if e["module"]],
        "viewer": viewer,
    }
    return page(
        request,
        "items/detail.html",
        project=project,
        item=item,
        annotations=current,
        reviews=reviews,
        authors=authors,
        origins=origins,
        editors=editors,
        media=media,
        viewer=viewer,
        allowed=allowed_transitions(item.status) if qa else [],
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


@post("/projects/{project_id:int}/items/{item_id:int}/transition")
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
        media_type = blob.media_type if blob else None
        ranged = request.headers.get("range")
        if ranged:
            return _partial(path, ranged, media_type, headers)
        return File(
            path,
            media_type=media_type,
            headers={**headers, "Accept-Ranges": "bytes"},
            content_disposition_type="inline",
        )
    thumb = runtime.settings.data_dir / "thumbs" / f"{sha256}-{THUMB_SIZE}.webp"
    if not thumb.exists():
        source: Path | None = path
        with runtime.session() as session:
            item = session.exec(select(Item).where(col(Item.content_hash) == sha256)).first()
            project = projects.get_project(session, item.project_id) if item else None
            modality = runtime.plugins.modalities.get(project.modality) if project else None
            if item is not None and modality is not None and modality.parts:
                made_of = parts.parts_of(session, [item.id]).get(item.id, [])
                source = _preview_part(runtime, modality, made_of)  # an item of parts: its preview
        if item is not None and modality is not None and (modality.thumbnail is None or not source):
            # The modality draws none (a text record, a sensor frame without a preview part):
            # lists show a neutral tile, not a broken image.
            return Response(NO_PREVIEW, media_type="image/svg+xml", headers=headers)
        if modality is None or modality.thumbnail is None:
            raise NotFoundException("No thumbnail for this media.")
        try:
            drawn = modality.thumbnail(source or path, THUMB_SIZE)
        except Exception as error:  # a plugin's failure on one file: that file's answer only
            if not isinstance(error, ValueError):
                log.exception("thumbnail of %s failed", sha256)
            raise InvalidInput(f"No thumbnail can be made of this media: {error}.") from None
        thumb.parent.mkdir(parents=True, exist_ok=True)
        # Each request writes its own file: two asking for the same thumbnail at once (a list
        # and the labeling page's preload) must not rename one shared file from under the other.
        partial = thumb.with_name(f".{thumb.name}.partial-{uuid.uuid4().hex[:8]}")
        partial.write_bytes(drawn)
        partial.replace(thumb)
    return File(thumb, media_type="image/webp", headers=headers, content_disposition_type="inline")


def _preview_part(runtime: Any, modality: Any, made_of: list[Any]) -> Path | None:
    """The stored file of an item's first part whose role is its modality's ``preview``."""
    previews = [role.name for role in modality.parts if role.preview and role.kind == "file"]
    by_role = {part.role: part for part in made_of if part.content_hash is not None}
    for role in previews:
        if role in by_role:
            found: Path = runtime.store.path(by_role[role].content_hash)
            return found
    return None


def _partial(
    path: Path, requested: str, media_type: str | None, headers: dict[str, str]
) -> Response[Any]:
    """Part of a media file, for a ``Range`` request: a browser seeking in a video asks for
    the bytes at the new position, and without 206 answers Chromium cannot seek at all.

    One range is served (``bytes=first-last``, ``bytes=first-`` or the suffix ``bytes=-n``);
    a header asking for several, or of another unit, is ignored and the whole file sent, as
    RFC 9110 allows. Files are stored by content hash and never change, so ``If-Range``
    always holds."""
    size = path.stat().st_size
    found = BYTE_RANGE.fullmatch(requested.strip())
    if found is None or found.group(1) == found.group(2) == "":
        return File(
            path,
            media_type=media_type,
            headers={**headers, "Accept-Ranges": "bytes"},
            content_disposition_type="inline",
        )
    first_text, last_text = found.groups()
    if first_text:
        first = int(first_text)
        last = min(int(last_text), size - 1) if last_text else size - 1
    else:
        first, last = max(0, size - int(last_text)), size - 1
    if first >= size or last < first:
        return Response(
            content=f"The range {requested!r} is outside the file ({size} bytes).",
            status_code=416,
            media_type="text/plain",
            headers={**headers, "Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"},
        )
    return Stream(
        _read(path, first, last),
        status_code=206,
        media_type=media_type or "application/octet-stream",
        headers={
            **headers,
            "Accept-Ranges": "bytes",
            "Content-Range": f"bytes {first}-{last}/{size}",
            "Content-Length": str(last - first + 1),
        },
    )


def _read(path: Path, first: int, last: int) -> Iterator[bytes]:
    """The bytes ``first`` to ``last`` (inclusive) of ``path``, a chunk at a time."""
    with path.open("rb") as file:
        file.seek(first)
        left = last - first + 1
        while left > 0:
            chunk = file.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


item_pages = [item_detail, item_transition, media]
