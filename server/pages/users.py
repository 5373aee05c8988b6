"""The Users page (admins): create accounts, deactivate and reactivate them, set passwords.

A generated password is rendered in the answer to the POST that made it, once; it is never
stored in the clear nor put in a redirect or a cookie.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath
from litestar.response import Redirect

from scholia.core import identity
from scholia.core.errors import Conflict, InvalidInput
from scholia.core.models import Role

from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page
from .forms import Form, value, values

__all__ = ["user_pages"]

USERS = "/admin/users"


def _users_page(
    request: Request[Any, Any, Any], status_code: int = 200, **context: Any
) -> Response[Any]:
    with runtime_of(request).reading() as session:
        everyone = identity.list_users(session)
    context.setdefault("form", {})
    return page(
        request,
        "users.html",
        status_code=status_code,
        users=everyone,
        roles=[role.value for role in Role],
        **context,
    )


@get(USERS)
def users(request: Request[Any, Any, Any]) -> Response[Any]:
    return _users_page(request)


@post(USERS)
def create_user(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    username = value(data, "username").strip()
    display_name = value(data, "display_name").strip()
    typed = value(data, "password")
    roles = values(data, "roles")
    form = {"username": username, "display_name": display_name, "roles": roles}
    try:
        if not roles:
            raise InvalidInput("Give the account at least one role", "$.roles")
        password = typed or identity.generate_password()
        with runtime_of(request).session() as session:
            user = identity.create_user(
                session,
                username=username,
                password=password,
                roles=roles,
                display_name=display_name or None,
                actor_id=user_of(request).id,
            )
    except InvalidInput as error:
        return _users_page(request, 422, form=form, error=error)
    except Conflict as error:
        return _users_page(request, 409, form=form, error=InvalidInput(error.message, "$.username"))
    return _users_page(request, created=user, new_password=None if typed else password)


@post(f"{USERS}/{{user_id:int}}/deactivate")
def deactivate_user(request: Request[Any, Any, Any], user_id: FromPath[int]) -> Response[Any]:
    try:
        with runtime_of(request).session() as session:
            user = identity.deactivate_user(session, user_id, actor_id=user_of(request).id)
    except Conflict as error:
        return flash(Redirect(USERS), error.message, kind="error")
    return flash(
        Redirect(USERS),
        f"{user.username} is deactivated: signed out everywhere, API tokens revoked.",
    )


@post(f"{USERS}/{{user_id:int}}/reactivate")
def reactivate_user(request: Request[Any, Any, Any], user_id: FromPath[int]) -> Response[Any]:
    with runtime_of(request).session() as session:
        user = identity.reactivate_user(session, user_id, actor_id=user_of(request).id)
    return flash(Redirect(USERS), f"{user.username} can sign in again.")


@post(f"{USERS}/{{user_id:int}}/password")
def set_password(
    request: Request[Any, Any, Any], user_id: FromPath[int], data: Form
) -> Response[Any]:
    typed = value(data, "password")
    password = typed or identity.generate_password()
    try:
        with runtime_of(request).session() as session:
            user, ended = identity.set_password(
                session, user_id, password, actor_id=user_of(request).id
            )
    except InvalidInput as error:
        return _users_page(request, 422, password_error=error, password_error_for=user_id)
    return _users_page(
        request, password_set=user, new_password=None if typed else password, sessions_ended=ended
    )


user_pages = [users, create_user, deactivate_user, reactivate_user, set_password]
