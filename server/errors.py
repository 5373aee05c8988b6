"""Errors to responses: JSON with a code, a message and the bad field's path for the API;
a page a person can act on for the browser (or the sign-in page when signing in is the fix)."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DataError

from scholia.core.errors import (
    Conflict,
    DiskFull,
    IllegalTransition,
    InvalidInput,
    ModelFailed,
    NotFound,
    PermissionDenied,
    ScholiaError,
    SignInFailed,
    StorageFailed,
)

from .input_limits import JSONTooLarge
from .templating import page

__all__ = ["exception_handlers", "is_api"]

log = logging.getLogger(__name__)

STATUS: list[tuple[type[ScholiaError], int, str]] = [
    (IllegalTransition, 409, "illegal_transition"),
    (Conflict, 409, "conflict"),
    (NotFound, 404, "not_found"),
    (InvalidInput, 422, "invalid_input"),
    (ModelFailed, 422, "model_failed"),
    (PermissionDenied, 403, "permission_denied"),
    (SignInFailed, 401, "sign_in_failed"),
    (DiskFull, 507, "disk_full"),
    (StorageFailed, 500, "storage_failed"),
]

TITLES = {
    400: "That request could not be read",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "That clashes with what is saved",
    413: "Too large",
    422: "Please check what you entered",
    500: "Something went wrong on our side",
}


def is_api(request: Request[Any, Any, Any]) -> bool:
    """Machine endpoints answer errors as JSON, never with a redirect to sign in."""
    return request.url.path.startswith("/api/") or request.url.path in (
        "/healthz",
        "/readyz",
        "/metrics",
    )


def _respond(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[Any]:
    if is_api(request):
        body: dict[str, Any] = {"code": code, "message": message}
        body.update({k: v for k, v in extra.items() if v is not None})
        return Response(
            {"error": body}, status_code=status, media_type=MediaType.JSON, headers=headers
        )
    if status == 401 and request.method == "GET":
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        reason = "expired" if "expired" in message else "required"
        return Redirect(f"/sign-in?next={target}&reason={reason}")
    response = page(
        request,
        "error.html",
        status_code=status,
        status=status,
        title=TITLES.get(status, "Error"),
        message=message,
        **extra,
    )
    if headers:
        response.headers.update(headers)
    return response


def scholia_error(request: Request[Any, Any, Any], error: ScholiaError) -> Response[Any]:
    status, code = next(
        ((status, code) for cls, status, code in STATUS if isinstance(error, cls)), (400, "error")
    )
    extra: dict[str, Any] = {}
    if isinstance(error, InvalidInput):
        extra["path"] = error.path
        message = error.reason
    else:
        message = error.message
    if isinstance(error, IllegalTransition):
        extra.update(current=error.current, requested=error.requested, allowed=error.allowed)
    return _respond(request, status, code, message, **extra)


MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")


def validation_error(request: Request[Any, Any, Any], error: ValidationException) -> Response[Any]:
    """Litestar's request validation (wrong types, missing fields) with the bad field's path."""
    details = error.extra if isinstance(error.extra, list) else []
    first = details[0] if details and isinstance(details[0], dict) else {}
    message = str(first.get("message") or error.detail or "The request could not be read")
    message, _, at = message.partition(" - at `")
    key = str(first.get("key") or "")
    path = None
    if key == "data" and message == "'data'":
        # Litestar's report of a request without a body.
        message = "The request has no body; send a JSON object."
    elif at:
        path = at.rstrip("`")
    elif missing := MISSING_FIELD.search(message):
        path = f"$.{missing.group(1)}"
    elif key and key != "data":
        path = f"$.{key}"
    elif key == "data":
        path = "$"  # the body as a whole is of the wrong kind
    return _respond(request, 400, "bad_request", message, path=path)


def http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    status = error.status_code
    code = {
        400: "bad_request",
        401: "not_signed_in",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
    }.get(status, "http_error")
    message = error.detail
    if isinstance(error, PermissionDeniedException) and "CSRF" in message:
        if is_api(request) and request.scope.get("user") is None:
            # The CSRF check runs before the guards; a script that sent no credentials needs
            # to hear that, not advice about reloading a form.
            auth = request.scope.get("auth") or {}
            if auth.get("expired"):
                message = "Your session has expired; please sign in again."
            else:
                message = "Please sign in first (scripts send Authorization: Bearer <token>)."
            return _respond(request, 401, "not_signed_in", message)
        message = "This form has expired or came from another page. Reload the page and try again."
        code = "csrf_failed"
    if status == 400 and message.startswith("JSON is malformed"):
        code = "bad_request"
        message = (
            f"The request body is not valid JSON ({message.removeprefix('JSON is malformed: ')})."
        )
    elif status == 400 and message == "Input data was truncated":
        code = "bad_request"
        message = "The request body is not valid JSON (it ends too early)."
    if isinstance(error, JSONTooLarge):
        limit = request.app.state["runtime"].settings.max_json_bytes
        message = (
            f"The JSON body is larger than this server accepts ({_megabytes(limit)}); nothing "
            "from it was saved. Send less at a time, or shorter text."
        )
    elif status == 413:
        limit = request.app.state["runtime"].settings.max_upload_bytes
        message = (
            f"The request is larger than this server accepts ({_megabytes(limit)} per request); "
            "nothing from it was saved. Send fewer or smaller files at a time."
        )
    if status == 404 and message in ("Not Found", ""):
        message = f"There is nothing at {request.url.path}."
    # Keep what the exception says in headers: Allow on a 405, Retry-After on a 429.
    return _respond(request, status, code, message, headers=dict(error.headers or {}))


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.4g} MB"


def out_of_range(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """A number (or text) too large for the database's column. An id in the path names
    nothing (404); anything else is refused (the request Structs and the core bound their
    values, so this is only the last line)."""
    if not _is_overflow(error):
        return server_error(request, error)
    if any(
        isinstance(value, int) and abs(value) > 2**31 - 1 for value in request.path_params.values()
    ):
        return _respond(request, 404, "not_found", f"There is nothing at {request.url.path}.")
    return _respond(
        request, 422, "invalid_input", "A value in the request is too large to be stored."
    )


def _is_overflow(error: Exception) -> bool:
    if isinstance(error, OverflowError):  # SQLite: "Python int too large to convert"
        return True
    # PostgreSQL: numeric_value_out_of_range (22003), string_data_right_truncation (22001)
    return getattr(getattr(error, "orig", None), "sqlstate", None) in ("22003", "22001")


def server_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return _respond(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "server_error",
        "An unexpected error happened; nothing you saved before it is lost. The server log has "
        "the details.",
    )


exception_handlers: dict[Any, Any] = {
    ScholiaError: scholia_error,
    ValidationException: validation_error,
    NotAuthorizedException: http_error,
    HTTPException: http_error,
    OverflowError: out_of_range,
    DataError: out_of_range,
    Exception: server_error,
}
