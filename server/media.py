"""Short-lived signed URLs for media, so files are never reachable by a guessable raw path."""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = ["media_url", "verify"]

LIFETIME_S = 3600


def _signature(secret: str, sha256: str, variant: str, expires: int) -> str:
    message = f"{sha256}:{variant}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def media_url(secret: str, sha256: str, variant: str = "original", now: float | None = None) -> str:
    """A URL valid for about an hour; expiry is rounded so pages can be cached a while."""
    expires = (int(now or time.time()) // 600 + 1) * 600 + LIFETIME_S
    signature = _signature(secret, sha256, variant, expires)
    return f"/media/{sha256}/{variant}?expires={expires}&signature={signature}"


def verify(secret: str, sha256: str, variant: str, expires: int, signature: str) -> bool:
    if expires < time.time():
        return False
    return hmac.compare_digest(_signature(secret, sha256, variant, expires), signature)
