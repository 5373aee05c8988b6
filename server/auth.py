"""Who is asking: a session cookie (browsers) or a bearer token (scripts); CSRF. What they may
do is the access table's business (``scholia.server.access``).

Browsers carry credentials on every request, so their unsafe requests need a CSRF token
(Litestar's double-submit check). A bearer token is never sent by a browser on its own, so
requests that carry one skip the CSRF check, as in Django REST framework.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from scholia.core import identity
from scholia.core.models import User
from scholia.core.runtime import Runtime

__all__ = [
    "SESSION_COOKIE",
    "AuthMiddleware",
    "BearerAwareCSRFMiddleware",
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
        if token:
            user = await anyio.to_thread.run_sync(_token_user, runtime, token)
        elif cookie:
            user, expired = await anyio.to_thread.run_sync(_session_user, runtime, cookie)
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


def _token_user(runtime: Runtime, token: str) -> User | None:
    return runtime.read(lambda session: identity.resolve_api_token(session, token))


def _session_user(runtime: Runtime, cookie: str) -> tuple[User | None, bool]:
    max_age = runtime.settings.session_max_age_s
    found = runtime.read(lambda session: identity.resolve_web_session(session, cookie, max_age))
    return found.user, found.expired


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
