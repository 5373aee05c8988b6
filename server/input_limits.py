"""The limits a hostile client meets at the HTTP edge, checked once for every route before
any handler (or guard) reads the request.

- an integer id in the path beyond int64 names nothing this server ever gave out: 404;
- a JSON body larger than ``Settings.max_json_bytes``: 413 (uploads keep their own, larger
  ``max_upload_bytes``); nested deeper than ``Settings.max_json_depth``: 400; not UTF-8: 400;
- a NUL or a bidi override anywhere in a JSON body or a form (a field, a file's name): 422
  with the field's path (``scholia.core.limits`` says why they are refused).

Length limits are per field, on the request Structs (so the OpenAPI schema shows them) and in
the core; they are not checked here.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import ClientException, HTTPException, NotFoundException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from scholia.core.limits import INT64_MAX, first_refused

__all__ = ["InputLimitsMiddleware", "JSONTooLarge", "json_depth"]

STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
BRACKETS = re.compile(rb"[\[\]{}]")
FORMS = (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART)


class JSONTooLarge(HTTPException):
    """A JSON body over ``Settings.max_json_bytes`` (the error layer words the message)."""

    status_code = 413


def json_depth(body: bytes, stop_above: int) -> int:
    """How deeply ``body``'s arrays and objects nest (counting stops just above
    ``stop_above``), read from the bytes so a hostile body is never decoded to find out."""
    depth = deepest = 0
    for bracket in BRACKETS.finditer(STRINGS.sub(b'""', body)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


def _check_path_ids(scope: Scope) -> None:
    for name, value in (scope.get("path_params") or {}).items():
        if isinstance(value, int) and not -INT64_MAX - 1 <= value <= INT64_MAX:
            raise NotFoundException(
                f"There is nothing at {scope['path']}: {name} {value} is beyond any id this "
                "server gives out."
            )


async def _json_body(request: Request[Any, Any, Any], limit: int) -> bytes:
    """The body, read at most ``limit`` bytes far, and kept for the handler to decode."""
    too_large = JSONTooLarge(detail=f"{limit}")
    if (request.content_length or 0) > limit:
        raise too_large
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise too_large
        chunks.append(chunk)
    body = b"".join(chunks)
    ScopeState.from_scope(request.scope).body = body
    return body


def _check_json(body: bytes, max_depth: int) -> None:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ClientException(
            f"The request body is not valid UTF-8 (byte 0x{body[error.start]:02x} at position "
            f"{error.start}); send JSON encoded as UTF-8."
        ) from None
    if json_depth(body, max_depth) > max_depth:
        raise ClientException(
            f"The request body is nested more than {max_depth} levels deep; flatten it "
            "(no Scholia request needs that many)."
        )
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return  # malformed JSON: the handler's decoding says where
    if (refused := first_refused(decoded)) is not None:
        raise refused


def _form_strings(form: Any) -> dict[str, Any]:
    """A form's fields, with each uploaded file as ``{"filename": ...}`` (indexed, since a
    field may carry several files)."""
    fields: dict[str, Any] = {}
    for key, value in form.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, UploadFile) for v in values):
            fields[key] = [
                {"filename": v.filename} if isinstance(v, UploadFile) else v for v in values
            ]
        else:
            fields[key] = value
    return fields


class InputLimitsMiddleware(ASGIMiddleware):
    """Refuses hostile ids and bodies before any route handler sees them."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        _check_path_ids(scope)
        handler = scope.get("route_handler")
        if handler is not None and "data" in handler.parsed_fn_signature.parameters:
            request: Request[Any, Any, Any] = Request(scope, receive)
            settings = scope["litestar_app"].state["runtime"].settings
            content_type = request.content_type[0]
            if content_type in FORMS:
                # Uploads from someone not signed in are refused by the guards unread.
                if content_type == RequestEncodingType.URL_ENCODED or scope.get("user"):
                    form = await request.form()
                    raw = ScopeState.from_scope(scope).form
                    if (refused := first_refused(_form_strings(raw or form))) is not None:
                        raise refused
            elif request.method in ("POST", "PUT", "PATCH", "DELETE"):
                body = await _json_body(request, settings.max_json_bytes)
                if body:
                    _check_json(body, settings.max_json_depth)
        await next_app(scope, receive, send)
