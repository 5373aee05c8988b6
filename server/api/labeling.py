"""API: an annotator's queue — claim the next item, read the labeling context of one and take
it up, skip one, withdraw (undo) an annotation.

Reading (``GET .../queue/{item_id}``) claims nothing; claiming is always a POST."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request
from litestar.params import FromPath, JSONBody, QueryParameter

from scholia.core import annotations, items, labeling, projects, queue
from scholia.core.limits import OpId, Text
from scholia.core.models import User

from ..media import media_url
from ..routing import get, post, runtime_of, user_of
from .schemas import AnnotationOut, ItemOut, LabelingContextOut

__all__ = ["labeling_api"]


class NextItem(msgspec.Struct):
    item: ItemOut | None
    """None when the annotator's queue is empty."""


class SkipIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text | None = None


class WithdrawIn(msgspec.Struct, forbid_unknown_fields=True):
    client_op_id: OpId | None = None


class TakeUpIn(msgspec.Struct, forbid_unknown_fields=True):
    ahead: Annotated[int, msgspec.Meta(ge=0, le=labeling.AHEAD)] = 0
    """How many more items to hold beyond this one (the labeling page holds two, so its next
    link is direct and their media preload). Every claim is a lease (``claims.lease_minutes``)."""


@post("/projects/{project_id:int}/queue/next", status_code=200)
def claim_next(request: Request[Any, Any, Any], project_id: FromPath[int]) -> NextItem:
    """Claim the annotator's next item (or resume the one they hold); its ``status`` is your
    own (to do, done, skipped). 403 with the reason when you may not have items: suspended,
    or calibration not passed."""
    runtime = runtime_of(request)
    me = user_of(request)
    with runtime.session() as session:
        projects.get_project(session, project_id)
        item = queue.claim_next(session, project_id, me.id)  # type: ignore[arg-type]
        if item is None:
            return NextItem(item=None)
        status = queue.my_statuses(session, [item], me.id)[item.id]  # type: ignore[arg-type,index]
    return NextItem(
        item=ItemOut.of(item, media_url(runtime.settings.secret_key, item.content_hash), status)
    )


@get("/projects/{project_id:int}/queue/{item_id:int}")
def labeling_context(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    item_id: FromPath[int],
    show: Annotated[
        Literal["all", "todo", "done", "skipped"],
        QueryParameter(name="queue", description="Which of your items the queue window shows."),
    ] = "all",
) -> LabelingContextOut:
    """What labeling the item needs, exactly as the labeling page shows it: the item, the
    project's editors, your current annotations, the categories and options, the suggestions
    as you may see them, and your queue around the item (``queue`` filters it). Claims
    nothing: take the item up with ``POST .../queue/{item_id}/claim``. 403 with the reason
    when you are suspended."""
    runtime = runtime_of(request)
    me = user_of(request)
    assert me.id is not None
    with runtime.reading() as session:
        context = labeling.labeling_context(
            session, runtime.plugins, project_id, item_id, me.id, show
        )
    return LabelingContextOut.of(context, runtime.settings.secret_key, runtime.plugins)


@post("/projects/{project_id:int}/queue/{item_id:int}/claim", status_code=200)
def take_up(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    item_id: FromPath[int],
    data: JSONBody[TakeUpIn | None] = None,
    show: Annotated[
        Literal["all", "todo", "done", "skipped"],
        QueryParameter(name="queue", description="Which of your items the queue window shows."),
    ] = "all",
) -> LabelingContextOut:
    """Take the item up: claim your slot on it (or renew your claim's lease) and hold up to
    ``ahead`` more items; returns the labeling context as it now is (its queue window
    filtered by ``queue``). 409 when others hold
    all its slots, 403 with the reason when you may not have it (suspended, or calibration
    not passed). Nothing is held when refused."""
    runtime = runtime_of(request)
    me = user_of(request)
    assert me.id is not None
    ahead = data.ahead if data is not None else 0
    with runtime.session() as session:
        item = items.get_item(session, item_id, project_id)
        labeling.take_up(session, item, me.id, ahead)
        context = labeling.labeling_context(
            session, runtime.plugins, project_id, item_id, me.id, show
        )
    return LabelingContextOut.of(context, runtime.settings.secret_key, runtime.plugins)


@post("/items/{item_id:int}/skip", status_code=200)
def skip_item(
    request: Request[Any, Any, Any], item_id: FromPath[int], data: JSONBody[SkipIn]
) -> ItemOut:
    """Pass on an item you hold: it is ``skipped`` for you (reviewers see the skipped count)."""
    runtime = runtime_of(request)
    me = user_of(request)
    with runtime.session() as session:
        item = items.get_item(session, item_id)
        queue.skip(session, item, me.id, data.reason)  # type: ignore[arg-type]
        session.refresh(item)
        status = queue.my_statuses(session, [item], me.id)[item_id]  # type: ignore[arg-type]
    return ItemOut.of(item, media_url(runtime.settings.secret_key, item.content_hash), status)


@post("/annotations/{annotation_id:uuid}/withdraw", status_code=200)
def withdraw_annotation(
    request: Request[Any, Any, Any],
    annotation_id: FromPath[uuid.UUID],
    data: JSONBody[WithdrawIn],
) -> AnnotationOut:
    """Undo your own annotation: a withdrawal revision supersedes it (nothing is deleted)."""
    runtime = runtime_of(request)
    with runtime.session() as session:
        result = annotations.withdraw(
            session,
            runtime.plugins,
            annotation_id=annotation_id,
            actor_id=user_of(request).id,
            client_op_id=data.client_op_id,  # type: ignore[arg-type]
        )
        author = session.get(User, result.annotation.annotator_id)
    assert author is not None
    return AnnotationOut.of(result.annotation, author.pseudonym)


labeling_api = [claim_next, labeling_context, take_up, skip_item, withdraw_annotation]
