"""Health: /healthz (the process answers), /readyz (database reachable, schema current)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from sqlalchemy import text

from scholia.core.db import migration_status

from .routing import get, runtime_of

__all__ = ["health_handlers"]


@get("/healthz", opt={"exclude_from_csrf": True})
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz")
def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    runtime = runtime_of(request)
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        status = migration_status(runtime.engine)
    except Exception as error:
        return Response(
            {"status": "unavailable", "database": f"unreachable: {error}"}, status_code=503
        )
    body: dict[str, Any] = {
        "status": "ready" if status.is_current else "unavailable",
        "database": runtime.engine.dialect.name,
        "migration": status.current,
        "expected_migration": status.head,
    }
    if not status.is_current:
        body["hint"] = "Run `scholia db upgrade`."
    return Response(body, status_code=200 if status.is_current else 503)


health_handlers = [healthz, readyz]
