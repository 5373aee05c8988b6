"""API: a project's members and their roles (managers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.params import FromPath, JSONBody

from scholia.core import membership, projects

from ..routing import delete, get, patch, post, runtime_of, user_of

__all__ = ["member_api"]


class MemberIn(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    role: str
    """annotator, reviewer, adjudicator or manager."""


class RoleIn(msgspec.Struct, forbid_unknown_fields=True):
    role: str


class MemberOut(msgspec.Struct):
    user_id: int
    username: str
    display_name: str
    role: str
    added_by: int | None
    added_at: datetime

    @classmethod
    def of(cls, member: membership.Member) -> MemberOut:
        return cls(
            user_id=member.user.id or 0,
            username=member.user.username,
            display_name=member.user.display_name,
            role=member.role,
            added_by=member.added_by,
            added_at=member.added_at,
        )


def _one(session: Any, project_id: int, user_id: int) -> MemberOut:
    found = next(m for m in membership.list_members(session, project_id) if m.user.id == user_id)
    return MemberOut.of(found)


@get("/projects/{project_id:int}/members")
def list_members(request: Request[Any, Any, Any], project_id: FromPath[int]) -> list[MemberOut]:
    """The project's members with their roles, managers first."""
    with runtime_of(request).reading() as session:
        projects.get_project(session, project_id)
        return [MemberOut.of(m) for m in membership.list_members(session, project_id)]


@post("/projects/{project_id:int}/members", status_code=201)
def add_member(
    request: Request[Any, Any, Any], project_id: FromPath[int], data: JSONBody[MemberIn]
) -> Response[MemberOut]:
    """Add a user (by username) with a role; 409 if they are a member already, 422 naming
    the field for an unknown user or role."""
    with runtime_of(request).session() as session:
        user = membership.find_user(session, data.username)
        assert user.id is not None
        membership.add_member(session, project_id, user.id, data.role, user_of(request).id)
        return Response(_one(session, project_id, user.id), status_code=201)


@patch("/projects/{project_id:int}/members/{user_id:int}")
def change_role(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    user_id: FromPath[int],
    data: JSONBody[RoleIn],
) -> MemberOut:
    """Give a member another role (409 for the project's last manager)."""
    with runtime_of(request).session() as session:
        membership.change_role(session, project_id, user_id, data.role, user_of(request).id)
        return _one(session, project_id, user_id)


@delete("/projects/{project_id:int}/members/{user_id:int}", status_code=204)
def remove_member(
    request: Request[Any, Any, Any], project_id: FromPath[int], user_id: FromPath[int]
) -> None:
    """Take a member off the project (409 for its last manager). Their annotations stay."""
    with runtime_of(request).session() as session:
        membership.remove_member(session, project_id, user_id, user_of(request).id)


member_api = [list_members, add_member, change_role, remove_member]
