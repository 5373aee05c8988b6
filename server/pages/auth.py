"""Signing in and out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response
from litestar.params import FromQuery
from litestar.response import Redirect

from scholia.core import identity, throttle
from scholia.core.errors import SignInFailed

from ..auth import SESSION_COOKIE
from ..proxy import client_address, is_https
from ..routing import get, post, runtime_of
from ..templating import flash, page
from .forms import Form, value

__all__ = ["auth_pages"]

REASONS = {
    "expired": "Your session has expired. Please sign in again.",
    "required": "Please sign in to continue.",
}


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so a link cannot send people elsewhere after signing in."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/projects"
    # Browsers read a backslash as a slash and drop tabs and newlines, so "/\\evil.example"
    # and "/\t/evil.example" would leave the site: refuse them too.
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return "/projects"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return "/projects"
    return parts.path + (f"?{parts.query}" if parts.query else "")


@get("/sign-in")
def sign_in_form(
    request: Request[Any, Any, Any],
    next: FromQuery[str | None] = None,
    reason: FromQuery[str | None] = None,
) -> Response[Any]:
    if request.scope.get("user") is not None and reason is None:
        return Redirect(_safe_next(next))
    return page(request, "sign_in.html", next=_safe_next(next), notice=REASONS.get(reason or ""))


def _signed_in_response(
    request: Request[Any, Any, Any], token: FromQuery[str], target: str
) -> Response[Any]:
    runtime = runtime_of(request)
    response = Redirect(target)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=runtime.settings.session_max_age_s,
        httponly=True,
        samesite="lax",
        secure=is_https(request.scope, runtime.settings),
        path="/",
    )
    return response


@post("/sign-in")
def sign_in(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    """Check the password, unless this account or address is locked for failing too often:
    then 429 with ``Retry-After``, even for the right password, until the window passes."""
    runtime = runtime_of(request)
    username = value(data, "username").strip()
    target = _safe_next(value(data, "next"))
    address = client_address(request.scope, runtime.settings)
    limits = throttle.Limits.of(runtime.settings)
    lock = runtime.read(lambda session: throttle.lockout(session, username, address, limits))
    if lock is not None:
        return _locked_page(request, lock, target, username)
    try:
        with runtime.session() as session:
            user = identity.authenticate(session, username, value(data, "password"))
            token = identity.start_web_session(session, user, runtime.settings.session_max_age_s)
            throttle.forget_account(session, username)
    except SignInFailed as error:
        with runtime.session() as session:
            throttle.record_failure(session, username, address, limits)
        return page(
            request,
            "sign_in.html",
            status_code=401,
            next=target,
            error=error.message,
            username=username,
        )
    return _signed_in_response(request, token, target)


def _locked_page(
    request: Request[Any, Any, Any], lock: throttle.Lockout, target: str, username: str
) -> Response[Any]:
    who = "this account" if lock.kind == "account" else "your network address"
    response = page(
        request,
        "sign_in.html",
        status_code=429,
        next=target,
        error=(
            f"Too many failed sign-ins for {who}. Please wait {lock.wait_in_words()} and try "
            "again, or ask an administrator to lift the lock."
        ),
        username=username,
    )
    response.headers["Retry-After"] = str(lock.retry_after_s())
    return response


@get("/sign-in/link")
def sign_in_link(request: Request[Any, Any, Any], token: FromQuery[str]) -> Response[Any]:
    """The demo's one-click sign-in: only when the server was started by ``scholia demo``."""
    runtime = runtime_of(request)
    if not request.app.state.get("link_sign_in"):
        return page(
            request,
            "error.html",
            status_code=404,
            status=404,
            title="Not found",
            message="Sign-in links are only enabled by `scholia demo`.",
        )
    with runtime.session() as session:
        found = identity.resolve_web_session(session, token, runtime.settings.session_max_age_s)
    if found.user is None:
        return Redirect("/sign-in?reason=expired")
    return _signed_in_response(request, token, "/projects")


@post("/sign-out")
def sign_out(request: Request[Any, Any, Any]) -> Response[Any]:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with runtime_of(request).session() as session:
            identity.end_web_session(session, cookie)
    response: Response[Any] = Redirect("/sign-in")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return flash(response, "You are signed out.")


auth_pages = [sign_in_form, sign_in, sign_in_link, sign_out]
