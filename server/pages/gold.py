"""QA pages for gold items: mark an item gold from its page (expected answer and why), the
project's gold list with each annotator's rolling gold accuracy, and suspensions to lift.

For reviewers, adjudicators and managers only: nothing here is ever shown to an annotator.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath
from litestar.response import Redirect
from sqlmodel import col, select

from scholia.core import gold, labels, projects, standing
from scholia.core.errors import Conflict, InvalidInput, NotFound
from scholia.core.models import Role, User

from ..access import can
from ..media import media_url
from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page
from .calibration import describer
from .forms import Form, value
from .viewing import views_state

__all__ = ["gold_pages"]


@get("/projects/{project_id:int}/gold")
def gold_list(request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
    runtime = runtime_of(request)
    with runtime.reading() as session:
        project = projects.get_project(session, project_id)
        found = gold.list_gold(session, project_id)
        accuracy = gold.accuracies(session, project_id)
        suspended = standing.suspensions(session, project_id)
        ids = {s.annotator_id for s in suspended}
        users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(ids)))}
        names = {c.id: c.name for c in labels.all_categories(session, project_id)}
        labels_live = labels.live_categories(session, project_id)
    secret = runtime.settings.secret_key
    active = {s.annotator_id for s in suspended if s.lifted_at is None}
    return page(
        request,
        "gold/list.html",
        project=project,
        gold_items=found,
        accuracy=accuracy,
        active=active,
        suspensions=suspended,
        users=users,
        thumbs={g.item.id: media_url(secret, g.item.content_hash, "thumb") for g in found},
        describe=describer(runtime.plugins, names),
        state=views_state(runtime.plugins, project, labels_live),
        can_lift=can(request, Role.manager),
    )


def _payload(data: dict[str, Any]) -> Any:
    """The expected answer from the form: the payload the type's editor made (or written by
    hand), as JSON."""
    text = value(data, "payload").strip()
    if not text:
        raise InvalidInput("Make the expected answer first (in the editor above)", "$.payload")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"The payload is not valid JSON: {error.msg}", "$.payload") from None


@post("/projects/{project_id:int}/items/{item_id:int}/gold")
def gold_mark(
    request: Request[Any, Any, Any], project_id: FromPath[int], item_id: FromPath[int], data: Form
) -> Response[Any]:
    runtime = runtime_of(request)
    back = Redirect(f"/projects/{project_id}/items/{item_id}")
    action = value(data, "action") or "mark"
    try:
        with runtime.session() as session:
            me = user_of(request).id
            assert me is not None
            if action == "unmark":
                gold.unmark(session, project_id, item_id, actor_id=me)
                return flash(back, "The item is no longer gold.")
            if action == "promote":
                gold.promote(
                    session,
                    runtime.plugins,
                    project_id,
                    item_id,
                    actor_id=me,
                    explanation=value(data, "explanation"),
                )
                return flash(back, "The adjudicated label is now this gold item's answer.")
            gold.mark_gold(
                session,
                runtime.plugins,
                project_id,
                item_id,
                annotation_type=value(data, "annotation_type"),
                payload=_payload(data),
                explanation=value(data, "explanation"),
                actor_id=me,
            )
    except (InvalidInput, Conflict) as error:
        return flash(back, error.message, "error")
    return flash(back, "Marked as gold with its expected answer.")


@post(
    "/projects/{project_id:int}/suspensions/{suspension_id:int}/lift",
)
def lift(
    request: Request[Any, Any, Any], project_id: FromPath[int], suspension_id: FromPath[int]
) -> Response[Any]:
    back = Redirect(f"/projects/{project_id}/gold")
    try:
        with runtime_of(request).session() as session:
            standing.lift(session, project_id, suspension_id, actor_id=user_of(request).id)  # type: ignore[arg-type]
    except (Conflict, NotFound) as error:
        return flash(back, error.message, "error")
    return flash(back, "Suspension lifted: the annotator gets items again.")


gold_pages = [gold_list, gold_mark, lift]
