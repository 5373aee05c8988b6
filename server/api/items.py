"""API: items (upload, list, read), annotations on them, and lifecycle transitions."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody
from sqlmodel import col, select

from scholia.core import (
    annotations,
    counts,
    expansions,
    items,
    labels,
    lifecycle,
    limits,
    parts,
    projects,
    queue,
    uploads,
)
from scholia.core.errors import InvalidInput
from scholia.core.item_state import ItemState
from scholia.core.models import Item, ItemPart, Role, User
from scholia.core.revisions import current_annotations

from ..access import can
from ..background import jobs_of
from ..media import media_url
from ..option_fields import expand_options
from ..routing import get, post, runtime_of, user_of
from .expansions import expansion_out
from .schemas import (
    AnnotationIn,
    AnnotationOut,
    ItemOut,
    ItemPage,
    PartOut,
    RecordsIn,
    TransitionIn,
    TransitionOut,
    UploadOut,
    UploadProblem,
)

__all__ = ["item_api"]


def _item_out(
    request: Request[Any, Any, Any],
    item: Item,
    status: str | None = None,
    made_of: list[ItemPart] | None = None,
) -> ItemOut:
    secret = runtime_of(request).settings.secret_key
    return ItemOut.of(
        item,
        media_url(secret, item.content_hash),
        status,
        [PartOut.of(p, secret) for p in made_of or []],
    )


def is_annotator(request: Request[Any, Any, Any]) -> bool:
    """Annotators (no reviewer role in the project) see only their own work: their own
    annotations, and their own status on an item instead of its lifecycle state."""
    return not can(request, Role.reviewer)


@get("/projects/{project_id:int}/items")
def list_items(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    status: FromQuery[str | None] = None,
    group: FromQuery[str | None] = None,
    category: FromQuery[int | None] = None,
    q: FromQuery[str | None] = None,
    annotator: FromQuery[int | None] = None,
    sort: FromQuery[str] = "added",
    after: FromQuery[int | None] = None,
    before: FromQuery[int | None] = None,
    last: FromQuery[bool] = False,
    limit: FromQuery[int] = 50,
) -> ItemPage:
    """A page of items in ``sort`` order (added, name, updated; ``-`` reverses), by keyset.
    Filters: ``status`` (one lifecycle state), ``group`` (all, unlabeled, in_review, done),
    ``category`` (a category id the item's current annotations use), ``q`` (text the item's
    name contains) and ``annotator`` (a user id who submitted on the item); for reviewers and
    above (annotators use their queue).
    Follow ``next_after`` as ``after`` for the next page; pass the
    first item's id as ``before`` for the previous one, or ``last=true`` for the last page."""
    if limit < 1:
        raise InvalidInput(f"limit must be at least 1 (got {limit})", "$.limit")
    if status is not None and status not in ItemState.__members__:
        raise InvalidInput(
            f"Unknown status {status!r}; statuses are {', '.join(ItemState)}", "$.status"
        )
    if group is not None and group not in counts.GROUPS:
        raise InvalidInput(
            f"Unknown group {group!r}; groups are {', '.join(counts.GROUPS)}", "$.group"
        )
    if after is not None and (before is not None or last):
        raise InvalidInput("Use either after (forwards) or before / last (backwards)", "$.after")
    if sort not in items.SORTS:
        raise InvalidInput(f"Unknown sort {sort!r}; sorts are {', '.join(items.SORTS)}", "$.sort")
    limits.check(q, "$.q", limits.NAME_MAX)
    size = min(limit, 500)
    with runtime_of(request).reading() as session:
        projects.get_project(session, project_id)
        if category is not None and category not in {
            c.id for c in labels.all_categories(session, project_id)
        }:
            raise InvalidInput(f"Project {project_id} has no category {category}", "$.category")
        filters: dict[str, Any] = {
            "status": status,
            "group": group,
            "category_id": category,
            "name": q or None,
            "annotator_id": annotator,
            "sort": sort,
        }
        found = items.list_items(
            session,
            project_id,
            **filters,
            after_id=after,
            before_id=before,
            last=last,
            limit=size + 1,
        )
        backwards = before is not None or last
        page = found[1:] if backwards and len(found) > size else found[:size]
        if backwards:
            more = bool(page) and bool(
                items.list_items(session, project_id, **filters, after_id=page[-1].id, limit=1)
            )
        else:
            more = len(found) > size
    return ItemPage(
        items=[_item_out(request, i) for i in page],
        next_after=page[-1].id if more and page else None,
    )


@post("/projects/{project_id:int}/items")
def upload_items(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> UploadOut:
    """Upload files (multipart field ``files``). Each file is judged alone: a bad one is
    reported by name and the rest go in.

    For a modality whose items are made of parts, one item per request: each part in the
    field ``parts.<role>`` (a file, or inline JSON as text), and an optional ``name``. A bad
    part refuses the item, at ``$.parts.<role>``; the same parts again give the existing item.

    A container file the project expands (a video into an image project's frames) is kept and
    expanded in the background: it is listed in ``expansions``, each with the URL of its
    progress. Its options are the fields ``options.<name>`` (for a video: ``options.mode``
    ``fps``, ``count`` or ``all``, ``options.fps``, ``options.count``)."""
    if any(key.startswith(PART_FIELD) for key in data):
        return _upload_parts(request, project_id, data)
    value = data.get("files")
    files = [
        f for f in (value if isinstance(value, list) else [value]) if isinstance(f, UploadFile)
    ]
    if not files:
        raise InvalidInput("Send one or more files in the multipart field 'files'", "$.files")
    runtime = runtime_of(request)
    result = uploads.ingest_files(
        runtime,
        project_id,
        [(f.filename, f.file) for f in files],
        actor_id=user_of(request).id,  # type: ignore[arg-type]
        expand_options=expand_options(data),
    )
    running = jobs_of(request.app.state, runtime)
    for expansion_id in result.queued:
        running.start(expansions.JOB, expansion_id)
    return UploadOut(
        created=[_item_out(request, i) for i in result.created],
        existing=[_item_out(request, i) for i in result.existing],
        errors=[UploadProblem(file=name, message=reason) for name, reason in result.problems],
        expansions=[expansion_out(e, running) for e in result.expansions],
    )


PART_FIELD = "parts."


def _upload_parts(
    request: Request[Any, Any, Any], project_id: int, data: dict[str, Any]
) -> UploadOut:
    files: dict[str, parts.PartFile] = {}
    inline: dict[str, Any] = {}
    for key, value in data.items():
        if not key.startswith(PART_FIELD):
            continue
        role = key.removeprefix(PART_FIELD)
        if isinstance(value, list):
            raise InvalidInput("send one value per part", f"$.parts.{role}")
        if isinstance(value, UploadFile):
            files[role] = parts.PartFile(value.filename, value.file, value.content_type)
        else:
            try:
                inline[role] = msgspec.json.decode(value)
            except msgspec.DecodeError as error:
                raise InvalidInput(f"an inline part is JSON ({error})", f"$.parts.{role}") from None
    name = data.get("name")
    new = parts.NewItem(files=files, inline=inline, name=name if isinstance(name, str) else "")
    runtime = runtime_of(request)
    with runtime.session() as session:
        project = projects.get_project(session, project_id)
        made = parts.ingest_parts(
            session,
            runtime.store,
            runtime.plugins,
            project,
            new,
            actor_id=user_of(request).id,  # type: ignore[arg-type]
        )
        assert made.item.id is not None
        made_of = parts.parts_of(session, [made.item.id])[made.item.id]
    out = _item_out(request, made.item, made_of=made_of)
    return UploadOut(
        created=[out] if made.created else [], existing=[] if made.created else [out], errors=[]
    )


@post("/projects/{project_id:int}/records")
def add_records(
    request: Request[Any, Any, Any], project_id: FromPath[int], data: JSONBody[RecordsIn]
) -> UploadOut:
    """Add items made of inline parts (a text record, a conversation) as JSON:
    ``{"records": [{"name": …, "parts": {"<role>": <data>}, "provenance": {…}}]}``. All or
    none: a bad record refuses the request at ``$.records[<i>].parts.<role>`` (a required
    role missing, an unknown role, data too large or not of the role's shape). Records whose
    parts are already an item of the project are listed in ``existing``."""
    runtime = runtime_of(request)
    result = parts.ingest_records(
        runtime,
        project_id,
        [parts.NewItem(inline=r.parts, name=r.name, provenance=r.provenance) for r in data.records],
        actor_id=user_of(request).id,  # type: ignore[arg-type]
    )
    with runtime.reading() as session:
        made_of = parts.parts_of(
            session, [i.id for i in [*result.created, *result.existing] if i.id is not None]
        )
    return UploadOut(
        created=[_item_out(request, i, made_of=made_of.get(i.id or 0)) for i in result.created],
        existing=[_item_out(request, i, made_of=made_of.get(i.id or 0)) for i in result.existing],
        errors=[],
    )


@get("/items/{item_id:int}")
def get_item(request: Request[Any, Any, Any], item_id: FromPath[int]) -> ItemOut:
    """An item; to an annotator with their own status on it (see ``ItemOut.status``)."""
    me = user_of(request)
    with runtime_of(request).reading() as session:
        item = items.get_item(session, item_id)
        made_of = parts.parts_of(session, [item_id]).get(item_id)
        if is_annotator(request):
            mine = queue.my_statuses(session, [item], me.id)  # type: ignore[arg-type]
            return _item_out(request, item, mine[item_id], made_of)
        return _item_out(request, item, made_of=made_of)


def _pseudonyms(session: Any, ids: set[int]) -> dict[int, str]:
    users = session.exec(select(User).where(col(User.id).in_(ids)))
    return {u.id: u.pseudonym for u in users}


@get("/items/{item_id:int}/annotations")
def list_annotations(
    request: Request[Any, Any, Any], item_id: FromPath[int]
) -> list[AnnotationOut]:
    """The current revision of each annotation on the item (an annotator's own only)."""
    me = user_of(request)
    with runtime_of(request).reading() as session:
        items.get_item(session, item_id)
        current = current_annotations(session, item_id)
        if is_annotator(request):
            current = [a for a in current if a.annotator_id == me.id]
        names = _pseudonyms(session, {a.annotator_id for a in current})
    return [AnnotationOut.of(a, names[a.annotator_id]) for a in current]


@post("/items/{item_id:int}/annotations")
def submit_annotation(
    request: Request[Any, Any, Any], item_id: FromPath[int], data: JSONBody[AnnotationIn]
) -> Response[AnnotationOut]:
    """Submit an annotation (201), or replay one by ``client_op_id`` (200, nothing new)."""
    runtime = runtime_of(request)
    user = user_of(request)
    with runtime.session() as session:
        result = annotations.submit(
            session,
            runtime.plugins,
            item_id=item_id,
            annotator_id=user.id,  # type: ignore[arg-type]
            annotation_type=data.annotation_type,
            payload=data.payload,
            supersedes_id=data.supersedes_id,
            client_op_id=data.client_op_id,
            annotator_confidence=data.annotator_confidence,
            reasoning=data.reasoning,
            time_spent_ms=data.time_spent_ms,
        )
    # A replay by client_op_id is found among the caller's own annotations: the author is them.
    return Response(
        AnnotationOut.of(result.annotation, user.pseudonym),
        status_code=201 if result.created else 200,
    )


@post("/items/{item_id:int}/transitions", status_code=200)
def transition_item(
    request: Request[Any, Any, Any], item_id: FromPath[int], data: JSONBody[TransitionIn]
) -> TransitionOut:
    """Move an item through the lifecycle; 409 names the allowed states when refused."""
    with runtime_of(request).session() as session:
        event = lifecycle.transition(
            session, item_id, data.to, actor_id=user_of(request).id, reason=data.reason
        )
    return TransitionOut(
        item_id=item_id,
        from_state=event.from_state or "",
        to_state=event.to_state or "",
        at=event.at,
    )


item_api = [
    list_items,
    upload_items,
    add_records,
    get_item,
    list_annotations,
    submit_annotation,
    transition_item,
]
