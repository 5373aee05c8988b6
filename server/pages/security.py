"""The Security page (admins): accounts and addresses locked for failing to sign in too
often, until when, and a button to lift a lock for someone who locked themselves out."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.response import Redirect

from scholia.core import audit, throttle

from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page
from .forms import Form, value

__all__ = ["security_pages"]


@get("/security")
def security(request: Request[Any, Any, Any]) -> Response[Any]:
    runtime = runtime_of(request)
    limits = throttle.Limits.of(runtime.settings)
    locked = runtime.read(lambda session: throttle.lockouts(session, limits))
    return page(request, "security.html", locked=locked, limits=limits)


@post("/security/lift")
def lift(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    kind = value(data, "kind")
    key = value(data, "key")
    response: Response[Any] = Redirect("/security")
    if kind not in ("account", "address") or not key:
        return flash(response, "Choose a locked account or address to lift.", "error")
    with runtime_of(request).session() as session:
        forgotten = throttle.lift(session, kind, key)  # type: ignore[arg-type]
        audit.record(
            session,
            actor_id=user_of(request).id,
            entity="sign_in_lock",
            entity_id=f"{kind}:{key}"[:64],
            action="lift",
            data={"kind": kind, "key": key, "failures": forgotten},
        )
    return flash(response, f"Lifted the lock on {kind} {key}.")


security_pages = [security, lift]
