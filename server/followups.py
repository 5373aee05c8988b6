"""Follow-up work runs after the response is sent (``scholia.core.followups``): the person
who made a change does not wait for its consequences, and how long they waited says nothing
about what those were (a gold answer's accuracy check, say)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
from litestar.types import ASGIApp, Receive, Scope, Send

from scholia.core.runtime import Runtime

__all__ = ["after_response"]

log = logging.getLogger(__name__)


def after_response(runtime: Runtime) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware: the follow-ups queued while a request was handled run once the handler's
    response has gone out, one after another, on a worker thread."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            with runtime.deferring() as later:
                await app(scope, receive, send)
            for work in later:
                await anyio.to_thread.run_sync(work)

        return handle

    return middleware
