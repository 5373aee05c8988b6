"""Route decorators for sync handlers (run in a worker thread) and access to the runtime."""

from __future__ import annotations

from functools import partial
from typing import Any

import litestar
from litestar.connection import ASGIConnection

from scholia.core.models import User
from scholia.core.runtime import Runtime

__all__ = ["delete", "get", "patch", "post", "runtime_of", "user_of"]

# Handlers talk to the database synchronously, so they run in Litestar's thread pool.
get = partial(litestar.get, sync_to_thread=True)
post = partial(litestar.post, sync_to_thread=True)
patch = partial(litestar.patch, sync_to_thread=True)
delete = partial(litestar.delete, sync_to_thread=True)


def runtime_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Runtime:
    runtime: Runtime = connection.app.state["runtime"]
    return runtime


def user_of(connection: ASGIConnection[Any, Any, Any, Any]) -> User:
    """The signed-in user; handlers behind the ``signed_in`` guard can rely on it."""
    user = connection.scope.get("user")
    assert isinstance(user, User)
    return user
