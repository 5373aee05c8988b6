"""The categories editor: add, rename, recolour, hotkey, reorder, delete and restore.

Every action is a form post. With htmx (``HX-Request``) the answer is the editor fragment,
swapped in place; without JavaScript it is a redirect back to the page with a message. A
refused change (empty or duplicate name, a restore that clashes with a live name, moving the
first category up…) answers 422 with the editor re-rendered, the message next to the row and
what was typed kept. Each change writes one label schema version (see ``scholia.core.labels``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath
from litestar.response import Redirect
from sqlmodel import Session, col, select

from scholia.core import labels, projects
from scholia.core.errors import Conflict, InvalidInput, NotFound
from scholia.core.models import Category, LabelSchemaVersion, Role, User

from ..access import can
from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page
from .forms import Form, value

__all__ = ["category_pages"]

HISTORY_LIMIT = 200
FULL = "projects/categories.html"
FRAGMENT = "projects/_categories_editor.html"


def _url(project_id: int) -> str:
    return f"/projects/{project_id}/categories"


def _is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def _context(session: Session, project_id: int) -> dict[str, Any]:
    project = projects.get_project(session, project_id)
    everything = labels.all_categories(session, project_id)
    history = session.exec(
        select(LabelSchemaVersion, User)
        .join(User, col(User.id) == col(LabelSchemaVersion.created_by))
        .where(col(LabelSchemaVersion.project_id) == project_id)
        .order_by(col(LabelSchemaVersion.id).desc())
        .limit(HISTORY_LIMIT + 1)
    ).all()
    next_id = max((c.id for c in everything), default=0) + 1
    return {
        "project": project,
        "live": [c for c in everything if c.deleted_at is None],
        "deleted": [c for c in everything if c.deleted_at is not None],
        "schema": labels.current_schema(session, project_id),
        "history": history[:HISTORY_LIMIT],
        "history_truncated": len(history) > HISTORY_LIMIT,
        "next_colour": labels.PALETTE[(next_id - 1) % len(labels.PALETTE)],
    }


def _render(
    request: Request[Any, Any, Any],
    project_id: int,
    *,
    status_code: int = 200,
    fragment: bool = False,
    **extra: Any,
) -> Response[Any]:
    with runtime_of(request).session() as session:
        context = _context(session, project_id)
    defaults: dict[str, Any] = {"error": None, "notice": None, "draft": {}}
    return page(
        request,
        FRAGMENT if fragment else FULL,
        status_code=status_code,
        can_edit=can(request, Role.manager),
        **{**defaults, **context, **extra},
    )


@get("/projects/{project_id:int}/categories")
def categories_page(request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
    return _render(request, project_id)


Action = Callable[[Session, int], str]


def _act(
    request: Request[Any, Any, Any],
    project_id: int,
    action: Action,
    *,
    category_id: int | None = None,
    draft: dict[str, str] | None = None,
) -> Response[Any]:
    """Run ``action`` (which returns what it did) in one unit of work and answer with the
    editor; a refusal re-renders it with the message at the row (or the add form)."""
    actor = user_of(request).id
    assert actor is not None
    try:
        with runtime_of(request).session() as session:
            projects.get_project(session, project_id)  # an unknown project is a 404 page
            done = action(session, actor)
            version = labels.current_schema(session, project_id).schema_version
    except (InvalidInput, Conflict, NotFound) as error:
        if isinstance(error, NotFound) and error.kind != "category":
            raise
        message = error.reason if isinstance(error, InvalidInput) else error.message
        return _render(
            request,
            project_id,
            status_code=404 if isinstance(error, NotFound) else 422,
            fragment=_is_htmx(request),
            error={"message": message, "category_id": category_id},
            draft=draft or {},
        )
    notice = f"{done} Schema is now v{version}."
    if not _is_htmx(request):
        return flash(Redirect(_url(project_id)), notice)
    return _render(request, project_id, fragment=True, notice=notice)


def _category(session: Session, project_id: int, category_id: int) -> Category:
    category = session.get(Category, (project_id, category_id))
    if category is None:
        raise NotFound("category", category_id)
    return category


@post("/projects/{project_id:int}/categories")
def add_category(
    request: Request[Any, Any, Any], project_id: FromPath[int], data: Form
) -> Response[Any]:
    name, colour = value(data, "name"), value(data, "color")

    def action(session: Session, actor: int) -> str:
        category = labels.add_category(session, project_id, name, actor, color=colour or None)
        return f"Added category {category.id} “{category.name}”."

    return _act(request, project_id, action, draft={"name": name, "color": colour})


@post("/projects/{project_id:int}/categories/{category_id:int}")
def save_category(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    category_id: FromPath[int],
    data: Form,
) -> Response[Any]:
    """Name, colour and hotkey of one category, saved together as one schema version."""
    name, colour, hotkey = value(data, "name"), value(data, "color"), value(data, "hotkey")

    def action(session: Session, actor: int) -> str:
        if not name.strip():
            raise InvalidInput("A category needs a name", "$.name")
        before = labels.current_schema(session, project_id).schema_version
        category = labels.update_category(
            session,
            project_id,
            category_id,
            actor,
            name=name,
            color=colour or None,
            hotkey=hotkey,
        )
        if labels.current_schema(session, project_id).schema_version == before:
            return f"Nothing to save for category {category.id} “{category.name}”."
        return f"Saved category {category.id} “{category.name}”."

    draft = {"name": name, "color": colour, "hotkey": hotkey}
    return _act(request, project_id, action, category_id=category_id, draft=draft)


@post(
    "/projects/{project_id:int}/categories/{category_id:int}/move",
)
def move_category(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    category_id: FromPath[int],
    data: Form,
) -> Response[Any]:
    direction = value(data, "direction")

    def action(session: Session, actor: int) -> str:
        category = labels.move_category(session, project_id, category_id, direction, actor)
        return f"Moved category {category.id} “{category.name}” {direction}."

    return _act(request, project_id, action, category_id=category_id)


@post(
    "/projects/{project_id:int}/categories/{category_id:int}/delete",
)
def delete_category(
    request: Request[Any, Any, Any], project_id: FromPath[int], category_id: FromPath[int]
) -> Response[Any]:
    def action(session: Session, actor: int) -> str:
        if _category(session, project_id, category_id).deleted_at is not None:
            raise InvalidInput(f"Category {category_id} is already deleted")
        category = labels.update_category(session, project_id, category_id, actor, deleted=True)
        return f"Deleted category {category.id} “{category.name}” (restore it below)."

    return _act(request, project_id, action, category_id=category_id)


@post(
    "/projects/{project_id:int}/categories/{category_id:int}/restore",
)
def restore_category(
    request: Request[Any, Any, Any], project_id: FromPath[int], category_id: FromPath[int]
) -> Response[Any]:
    def action(session: Session, actor: int) -> str:
        if _category(session, project_id, category_id).deleted_at is None:
            raise InvalidInput(f"Category {category_id} is not deleted; nothing to restore")
        category = labels.update_category(session, project_id, category_id, actor, deleted=False)
        return f"Restored category {category.id} “{category.name}”."

    return _act(request, project_id, action, category_id=category_id)


category_pages = [
    categories_page,
    add_category,
    save_category,
    move_category,
    delete_category,
    restore_category,
]
