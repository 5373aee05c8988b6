"""Who is asking: a session cookie (browsers) or a bearer token (scripts); CSRF. What they may
do is the access table's business (``scholia.server.access``).

Browsers carry credentials on every request, so their unsafe requests need a CSRF token
(Litestar's double-submit check). A bearer token is never sent by a browser on its own, so
requests that carry one skip the CSRF check, as in Django REST framework.
"""

from __future__ import annotations

from typing import Any, Protocol

import anyio.to_thread
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlmodel import Session

from scholia.core import identity
from scholia.core.models import User
from scholia.core.runtime import Runtime

__all__ = [
    "SESSION_COOKIE",
    "AuthMiddleware",
    "BearerAwareCSRFMiddleware",
    "Beside",
    "signed_in",
]

SESSION_COOKIE = "scholia_session"
UNAUTHENTICATED = ("/static/", "/media/")
"""Paths that never need the user: static files, and media (authorised by URL signature)."""


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text = value.decode("latin-1")
            if text[:7].lower() == "bearer ":
                return text[7:].strip()
    return None


class AuthMiddleware:
    """Puts the user (or None) in ``scope["user"]``, and ``scope["auth"]`` says how."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNAUTHENTICATED):
            scope["user"] = None
            scope["auth"] = {"method": None, "expired": False, "bad_token": False}
            await self.app(scope, receive, send)
            return
        runtime: Runtime = scope["litestar_app"].state["runtime"]
        token = _bearer(scope)
        cookie = None if token else _cookie(scope, SESSION_COOKIE)
        user: User | None = None
        expired = False
        if token or cookie:
            beside: Beside | None = scope["litestar_app"].state.get("access")
            user, expired = await anyio.to_thread.run_sync(
                _identify, runtime, token, cookie, beside, scope
            )
        scope["user"] = user
        scope["auth"] = {
            "method": "token" if token else "session",
            "expired": expired,
            "bad_token": bool(token) and user is None,
        }
        await self.app(scope, receive, send)


def _cookie(scope: Scope, name: str) -> str | None:
    for header, value in scope.get("headers", ()):
        if header == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, cookie_value = part.strip().partition("=")
                if key == name:
                    return cookie_value
    return None


class Beside(Protocol):
    """What else the unit of work that finds the user looks up for the request (the access
    table: the caller's role in the project the route is under), saving a unit of work and
    a trip to a worker thread of its own."""

    def prepare(self, session: Session, user: User, scope: Scope) -> None: ...


def _identify(
    runtime: Runtime, token: str | None, cookie: str | None, beside: Beside | None, scope: Scope
) -> tuple[User | None, bool]:
    """The user a bearer token or a session cookie names, and whether the session expired."""
    max_age = runtime.settings.session_max_age_s

    def work(session: Session) -> tuple[User | None, bool]:
        if token:
            user, expired = identity.resolve_api_token(session, token), False
        else:
            assert cookie is not None
            found = identity.resolve_web_session(session, cookie, max_age)
            user, expired = found.user, found.expired
        if user is not None and beside is not None:
            beside.prepare(session, user, scope)
        return user, expired

    return runtime.read(work)


def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: someone must be signed in (401 for the API, the sign-in page for people)."""
    if not isinstance(connection.scope.get("user"), User):
        auth = connection.scope.get("auth", {})
        if auth.get("bad_token"):
            raise NotAuthorizedException("The API token is not valid (revoked or mistyped).")
        if auth.get("expired"):
            raise NotAuthorizedException("Your session has expired; please sign in again.")
        raise NotAuthorizedException("Please sign in first.")


class BearerAwareCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF check, skipped for requests authenticated by a bearer token."""

    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        super().__init__(app, config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _bearer(scope):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
