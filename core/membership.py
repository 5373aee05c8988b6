"""Project membership: who works on a project and with which role.

Roles are per project (annotator, reviewer, adjudicator, manager) with the implications of
``IMPLIED_ROLES``: a manager is also a reviewer and an annotator, an adjudicator also a
reviewer. ``admin`` is the one global role: admins see and may do everything in every
project without being members. Everyone else sees only the projects they are members of.

Who may create a project: admins, and users whose account roles include ``manager`` (the
account's roles say what a person may do outside any project). The creator becomes the
project's first manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select

from . import audit
from .errors import Conflict, InvalidInput, NotFound
from .models import ProjectMember, Role, User
from .models.identity import IMPLIED_ROLES

__all__ = [
    "PROJECT_ROLES",
    "Member",
    "add_member",
    "change_role",
    "highest_account_role",
    "holds",
    "list_members",
    "may_create_projects",
    "remove_member",
    "role_in",
    "visible_project_ids",
]

PROJECT_ROLES = (Role.annotator, Role.reviewer, Role.adjudicator, Role.manager)
"""The roles a member can have in a project, lowest first; ``admin`` is only global."""


def holds(role: str | None, needed: str) -> bool:
    """Whether ``role`` (a member's role in a project, or ``admin``) includes ``needed``."""
    if role is None:
        return False
    return role == needed or needed in IMPLIED_ROLES.get(role, ())


def highest_account_role(user: User) -> str | None:
    """The highest project role among the account's roles (what the migration gave existing
    users in every project), or None."""
    for role in reversed(PROJECT_ROLES):
        if role in user.roles:
            return role.value
    return None


def may_create_projects(user: User) -> bool:
    return user.has_role(Role.manager)


_ROLE = select(ProjectMember.role).where(
    col(ProjectMember.project_id) == bindparam("project_id"),
    col(ProjectMember.user_id) == bindparam("user_id"),
)
"""Built once: every request under a project runs it."""


def role_in(session: Session, project_id: int, user: User) -> str | None:
    """The user's role in the project: ``admin`` for admins, None for a non-member."""
    if Role.admin in user.roles:
        return Role.admin.value
    found = session.exec(_ROLE, params={"project_id": project_id, "user_id": user.id}).first()
    return found


def visible_project_ids(session: Session, user: User, role: str | None = None) -> set[int] | None:
    """The projects the user may see (with ``role``: those where they hold it); None means
    all (admins)."""
    if Role.admin in user.roles:
        return None
    rows = session.exec(
        select(ProjectMember.project_id, ProjectMember.role).where(
            col(ProjectMember.user_id) == user.id
        )
    )
    return {p for p, held in rows if role is None or holds(held, role)}


@dataclass(frozen=True)
class Member:
    user: User
    role: str
    added_by: int | None
    added_at: datetime


def list_members(session: Session, project_id: int) -> list[Member]:
    """The project's members, by role (managers first), then username."""
    rows = session.exec(
        select(ProjectMember, User)
        .join(User, col(User.id) == col(ProjectMember.user_id))
        .where(col(ProjectMember.project_id) == project_id)
    ).all()
    order = {role.value: n for n, role in enumerate(reversed(PROJECT_ROLES))}
    members = [Member(user, m.role, m.added_by, m.added_at) for m, user in rows]
    return sorted(members, key=lambda m: (order.get(m.role, 9), m.user.username))


def _check_role(role: str) -> str:
    known = [r.value for r in PROJECT_ROLES]
    if role not in known:
        hint = " (admin is a global role, given on the account)" if role == Role.admin else ""
        raise InvalidInput(
            f"Unknown project role {role!r}{hint}; roles are {', '.join(known)}", "$.role"
        )
    return role


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def find_user(session: Session, username: str) -> User:
    """The user by username, or a clear error naming it."""
    user = session.exec(select(User).where(col(User.username) == username.strip())).first()
    if user is None:
        raise InvalidInput(f"There is no user named {username.strip()!r}", "$.username")
    return user


def add_member(
    session: Session, project_id: int, user_id: int, role: str, actor_id: int | None
) -> ProjectMember:
    """Make the user a member with ``role``; a user who is already one is a conflict
    (change their role instead)."""
    _check_role(role)
    user = _user(session, user_id)
    if session.get(ProjectMember, (project_id, user_id)) is not None:
        raise Conflict(
            f"{user.username} is already a member of this project; change their role instead."
        )
    member = ProjectMember(project_id=project_id, user_id=user_id, role=role, added_by=actor_id)
    session.add(member)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        project_id=project_id,
        entity="project_member",
        entity_id=user_id,
        action="add",
        data={"username": user.username, "role": role},
    )
    return member


def _member(session: Session, project_id: int, user_id: int) -> ProjectMember:
    member = session.get(ProjectMember, (project_id, user_id))
    if member is None:
        raise NotFound("member", user_id)
    return member


def _managers(session: Session, project_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(ProjectMember)
        .where(
            col(ProjectMember.project_id) == project_id,
            col(ProjectMember.role) == Role.manager.value,
        )
    ).one()


def _keep_a_manager(session: Session, member: ProjectMember, what: str) -> None:
    if member.role == Role.manager and _managers(session, member.project_id) <= 1:
        raise Conflict(
            f"This is the project's last manager and cannot be {what}: make someone else "
            "a manager first."
        )


def change_role(
    session: Session, project_id: int, user_id: int, role: str, actor_id: int | None
) -> ProjectMember:
    """Give a member another role (the last manager keeps theirs)."""
    _check_role(role)
    member = _member(session, project_id, user_id)
    if member.role == role:
        return member
    if role != Role.manager:
        _keep_a_manager(session, member, "given another role")
    before = member.role
    member.role = role
    session.add(member)
    audit.record(
        session,
        actor_id=actor_id,
        project_id=project_id,
        entity="project_member",
        entity_id=user_id,
        action="change_role",
        data={"from": before, "to": role},
    )
    return member


def remove_member(session: Session, project_id: int, user_id: int, actor_id: int | None) -> None:
    """Take the user off the project (their annotations stay, with their provenance)."""
    member = _member(session, project_id, user_id)
    _keep_a_manager(session, member, "removed")
    session.delete(member)
    audit.record(
        session,
        actor_id=actor_id,
        project_id=project_id,
        entity="project_member",
        entity_id=user_id,
        action="remove",
        data={"role": member.role},
    )
