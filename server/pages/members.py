"""The Members page (managers): who works on the project and as what; add a user by
username with a role, change a role, remove a member. Every action is a form post answered
by a redirect back with a message; a refusal (unknown user, the last manager…) says why."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath
from litestar.response import Redirect

from scholia.core import membership, projects
from scholia.core.errors import ScholiaError

from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page
from .forms import Form, value

__all__ = ["member_pages"]


def _back(project_id: int) -> str:
    return f"/projects/{project_id}/members"


@get("/projects/{project_id:int}/members")
def members_page(request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
    with runtime_of(request).reading() as session:
        project = projects.get_project(session, project_id)
        members = membership.list_members(session, project_id)
    return page(
        request,
        "projects/members.html",
        project=project,
        members=members,
        roles=[r.value for r in membership.PROJECT_ROLES],
        me=user_of(request),
    )


def _act(request: Request[Any, Any, Any], project_id: int, done: str, work: Any) -> Response[Any]:
    try:
        with runtime_of(request).session() as session:
            work(session, user_of(request).id)
    except ScholiaError as error:
        return flash(Redirect(_back(project_id)), error.message, "error")
    return flash(Redirect(_back(project_id)), done)


@post("/projects/{project_id:int}/members")
def add_member(
    request: Request[Any, Any, Any], project_id: FromPath[int], data: Form
) -> Response[Any]:
    username, role = value(data, "username"), value(data, "role")

    def work(session: Any, actor_id: int) -> None:
        user = membership.find_user(session, username)
        membership.add_member(session, project_id, user.id, role, actor_id)  # type: ignore[arg-type]

    return _act(request, project_id, f"{username.strip()} added as {role}.", work)


@post("/projects/{project_id:int}/members/{user_id:int}")
def change_role(
    request: Request[Any, Any, Any], project_id: FromPath[int], user_id: FromPath[int], data: Form
) -> Response[Any]:
    role = value(data, "role")

    def work(session: Any, actor_id: int) -> None:
        membership.change_role(session, project_id, user_id, role, actor_id)

    return _act(request, project_id, f"Role changed to {role}.", work)


@post("/projects/{project_id:int}/members/{user_id:int}/remove")
def remove_member(
    request: Request[Any, Any, Any], project_id: FromPath[int], user_id: FromPath[int]
) -> Response[Any]:
    def work(session: Any, actor_id: int) -> None:
        membership.remove_member(session, project_id, user_id, actor_id)

    return _act(request, project_id, "Member removed; their annotations stay.", work)


member_pages = [members_page, add_member, change_role, remove_member]
