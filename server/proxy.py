"""What a request says about where it came from: over HTTPS or not, and the client's address.

Behind a reverse proxy the socket shows the proxy, and the truth is in ``X-Forwarded-Proto``
and ``X-Forwarded-For``. Those headers are believed only when ``Settings.trust_proxy`` says
a proxy sets them; otherwise any client could claim to be anyone.
"""

from __future__ import annotations

from litestar.types import Scope

from scholia.core.settings import Settings

__all__ = ["client_address", "is_https"]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def is_https(scope: Scope, settings: Settings) -> bool:
    """Did the request reach us over HTTPS, directly or through a trusted proxy?"""
    if scope.get("scheme") in ("https", "wss"):
        return True
    if not settings.trust_proxy:
        return False
    forwarded = _header(scope, b"x-forwarded-proto")
    return forwarded is not None and forwarded.split(",")[0].strip().lower() == "https"


def client_address(scope: Scope, settings: Settings) -> str:
    """The client's address: the socket's peer, or behind a trusted proxy the last address it
    appended to ``X-Forwarded-For`` (earlier entries are the client's own claims)."""
    if settings.trust_proxy:
        forwarded = _header(scope, b"x-forwarded-for")
        if forwarded:
            last = forwarded.split(",")[-1].strip()
            if last:
                return last[:64]
    client = scope.get("client")
    return str(client[0])[:64] if client else "unknown"
