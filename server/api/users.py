"""API: admins manage accounts (create, list, deactivate, reactivate, set a password).

A password the server generates is in the response once and never stored in the clear.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request
from litestar.params import FromPath, JSONBody

from scholia.core import identity
from scholia.core.models import Role, User

from ..routing import get, post, runtime_of, user_of

__all__ = ["PasswordIn", "PasswordSet", "UserCreated", "UserIn", "UserOut", "users_api"]

Username = Annotated[
    str, msgspec.Meta(min_length=2, max_length=64, description="Letters, digits, _ . @ -")
]
DisplayName = Annotated[str, msgspec.Meta(max_length=200)]
Password = Annotated[
    str,
    msgspec.Meta(
        min_length=identity.MIN_PASSWORD_LENGTH,
        max_length=identity.MAX_PASSWORD_LENGTH,
        description="Leave it out to have one generated (returned once).",
    ),
]
Roles = Annotated[list[Role], msgspec.Meta(min_length=1, max_length=len(Role))]


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    roles: Roles
    """Account roles; project roles are given on each project's Members page."""
    display_name: DisplayName | None = None
    """Defaults to the username."""
    password: Password | None = None


class PasswordIn(msgspec.Struct, forbid_unknown_fields=True):
    password: Password | None = None


class UserOut(msgspec.Struct):
    id: int
    username: str
    display_name: str
    roles: list[str]
    pseudonym: str
    """The only name exports carry."""
    is_active: bool
    created_at: datetime
    last_sign_in_at: datetime | None
    """None when the account has not signed in since sign-ins were recorded."""

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id or 0,
            username=user.username,
            display_name=user.display_name,
            roles=user.roles,
            pseudonym=user.pseudonym,
            is_active=user.is_active,
            created_at=user.created_at,
            last_sign_in_at=user.last_sign_in_at,
        )


class UserCreated(msgspec.Struct):
    user: UserOut
    password: str | None
    """The generated password, shown once; None when the request gave one."""


class PasswordSet(msgspec.Struct):
    user: UserOut
    password: str | None
    """The generated password, shown once; None when the request gave one."""
    sessions_ended: int
    """Browser sessions of the account that were signed out."""


@get("/users")
def list_users(request: Request[Any, Any, Any]) -> list[UserOut]:
    with runtime_of(request).reading() as session:
        return [UserOut.of(user) for user in identity.list_users(session)]


@post("/users")
def create_user(request: Request[Any, Any, Any], data: JSONBody[UserIn]) -> UserCreated:
    generated = identity.generate_password() if data.password is None else None
    with runtime_of(request).session() as session:
        user = identity.create_user(
            session,
            username=data.username,
            password=generated or data.password,
            roles=[role.value for role in data.roles],
            display_name=data.display_name,
            actor_id=user_of(request).id,
        )
        return UserCreated(user=UserOut.of(user), password=generated)


@get("/users/{user_id:int}")
def get_user(request: Request[Any, Any, Any], user_id: FromPath[int]) -> UserOut:
    with runtime_of(request).reading() as session:
        return UserOut.of(identity.get_user(session, user_id))


@post("/users/{user_id:int}/deactivate", status_code=200)
def deactivate_user(request: Request[Any, Any, Any], user_id: FromPath[int]) -> UserOut:
    """Signs the account out everywhere and revokes its API tokens; its work keeps its name."""
    with runtime_of(request).session() as session:
        user = identity.deactivate_user(session, user_id, actor_id=user_of(request).id)
        return UserOut.of(user)


@post("/users/{user_id:int}/reactivate", status_code=200)
def reactivate_user(request: Request[Any, Any, Any], user_id: FromPath[int]) -> UserOut:
    with runtime_of(request).session() as session:
        return UserOut.of(identity.reactivate_user(session, user_id, actor_id=user_of(request).id))


@post("/users/{user_id:int}/password", status_code=200)
def set_password(
    request: Request[Any, Any, Any], user_id: FromPath[int], data: JSONBody[PasswordIn]
) -> PasswordSet:
    """Sets the given password, or generates one (returned once); the account's browser
    sessions end."""
    generated = identity.generate_password() if data.password is None else None
    password = generated or data.password or ""
    with runtime_of(request).session() as session:
        user, ended = identity.set_password(
            session, user_id, password, actor_id=user_of(request).id
        )
        return PasswordSet(user=UserOut.of(user), password=generated, sessions_ended=ended)


users_api = [list_users, create_user, get_user, deactivate_user, reactivate_user, set_password]
