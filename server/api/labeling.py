"""API: an annotator's queue — claim the next item, skip one, withdraw (undo) an annotation."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Request
from litestar.params import FromPath, JSONBody

from scholia.core import annotations, items, projects, queue
from scholia.core.limits import OpId, Text
from scholia.core.models import User

from ..media import media_url
from ..routing import post, runtime_of, user_of
from .schemas import AnnotationOut, ItemOut

__all__ = ["labeling_api"]


class NextItem(msgspec.Struct):
    item: ItemOut | None
    """None when the annotator's queue is empty."""


class SkipIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text | None = None


class WithdrawIn(msgspec.Struct, forbid_unknown_fields=True):
    client_op_id: OpId | None = None


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


labeling_api = [claim_next, skip_item, withdraw_annotation]
