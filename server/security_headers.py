"""Headers every response carries, and ``Secure`` on cookies sent over HTTPS.

The policy allows scripts only from this site (no inline script, no ``eval``): every page's
JavaScript is an ES module under a ``static/`` folder, so an injected ``<script>`` or
``onclick=`` does not run. Inline *styles* stay allowed (``style-src 'unsafe-inline'``): the
templates and editors set ``style=`` for colours and positions, and htmx adds its indicator
style; a style cannot run code. ``frame-ancestors 'none'`` stops the pages being framed
(clickjacking).

The headers are added in ``before_send``, which sees every message the app sends, so they are
on pages, the API, static files, media and the errors Litestar answers before any route runs.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from scholia.core.settings import Settings

from .proxy import is_https

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "add_security_headers"]

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
"""``X-Frame-Options`` repeats ``frame-ancestors`` for browsers that predate CSP level 2."""


async def add_security_headers(message: Message, scope: Scope) -> None:
    """``before_send`` hook: the headers above on every response; over HTTPS, every cookie
    (session, CSRF, flash) gets ``Secure`` so it is never sent back over plain HTTP."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in SECURITY_HEADERS.items():
        if name not in headers:
            headers[name] = value
    settings: Settings = scope["litestar_app"].state["runtime"].settings
    if is_https(scope, settings):
        cookies = headers.getall("set-cookie", [])
        if cookies:
            del headers["set-cookie"]
            for cookie in cookies:
                secure = any(p.strip().lower() == "secure" for p in cookie.split(";")[1:])
                headers.add("set-cookie", cookie if secure else f"{cookie}; Secure")
