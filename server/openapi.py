"""The OpenAPI schema as the API really answers: one error shape, and every status an
operation can give.

Litestar documents errors as ``{status_code, detail}`` and only the 400 of request validation;
the API answers every error as ``{"error": {"code", "message", "path"?}}`` (server/errors.py),
and any operation can also be refused for who is asking (401, 403), for what it names (404),
for what it sends (400, 413, 422) or for the state it meets (409). The schema served at
``/api/v1/schema/openapi.json`` is Litestar's with those answers written in, so clients and
fuzzers (schemathesis) can hold the API to it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import msgspec
from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope

__all__ = ["ERROR_SCHEMA", "TruthfulJsonRenderPlugin", "allow_every_method", "document_errors"]

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "A stable, machine-readable code."},
                "message": {"type": "string", "description": "What went wrong, for a person."},
                "path": {
                    "type": "string",
                    "description": "The bad field, as a JSON path (e.g. $.payload.value).",
                },
                "current": {"type": "string"},
                "requested": {"type": "string"},
                "allowed": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": True,
        }
    },
    "description": "Every error the API answers.",
}

DESCRIPTIONS = {
    "400": "The request could not be read (malformed JSON, wrong types, a missing field).",
    "401": "Not signed in: send Authorization: Bearer <token>.",
    "403": "Signed in, but this needs a role you do not have in this project.",
    "404": "Not found, or in a project you are not a member of.",
    "405": "Method not allowed; the Allow header lists the ones that are.",
    "409": "Clashes with what is stored (an illegal transition, a stale revision, a duplicate).",
    "413": "The request body is larger than the server accepts.",
    "422": "Read, but refused: a value is not valid here; the path names it.",
    "429": "Too many attempts; wait for Retry-After seconds.",
    "507": "The server's disk is full; nothing was written.",
}

PUBLIC = {"/healthz", "/readyz"}
"""Operations anyone may call: they answer no 401 or 403."""

STORAGE = ("/items", "/records", "/imports", "/datasets", "/model-files", "/download")
"""Operations that write files (or stream them), so a full disk answers 507."""


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[str]:
    """The error statuses an operation can answer, from what it takes and who may call it."""
    statuses = {"400"}
    if path not in PUBLIC:
        statuses |= {"401", "403"}
    if "{" in path or path not in PUBLIC:
        statuses.add("404")
    if operation.get("parameters"):
        statuses.add("422")
    if operation.get("requestBody"):
        statuses |= {"413", "422"}
    if method in {"post", "patch", "put", "delete"} or "{" in path:
        # Writes meet the stored state; so do reads of one object (a held dataset version,
        # an item not in adjudication).
        statuses |= {"409", "422"}
    if path.endswith("/tokens") and method == "post":
        statuses.add("429")
    if any(part in path for part in STORAGE):
        statuses.add("507")
    return statuses


def _structs(cls: type[msgspec.Struct]) -> Iterator[type[msgspec.Struct]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _structs(sub)


def _closed_components(components: dict[str, Any]) -> None:
    """Request Structs refuse unknown fields (``forbid_unknown_fields``); say so in their
    schemas (``additionalProperties: false``), which Litestar leaves out."""
    closed = {
        cls.__name__
        for cls in _structs(msgspec.Struct)
        if cls.__struct_config__.forbid_unknown_fields
    }
    for name, component in components.items():
        if name in closed and component.get("type") == "object":
            component["additionalProperties"] = False


def _kinds(kind: Any) -> Iterator[Any]:
    """``kind`` and, through unions, the types it may be."""
    if isinstance(kind, msgspec.inspect.UnionType):
        for each in kind.types:
            yield from _kinds(each)
    else:
        yield kind


def _zero_minimums(components: dict[str, Any]) -> None:
    """Litestar leaves out a lower bound of 0 (``Meta(ge=0)``: it skips falsy values), so ids
    looked as if negative ones were valid; write ``minimum: 0`` back where the Struct says it."""
    structs = {cls.__name__: cls for cls in _structs(msgspec.Struct)}
    for name, component in components.items():
        properties = component.get("properties")
        if name not in structs or not properties:
            continue
        for field in msgspec.inspect.type_info(structs[name]).fields:  # type: ignore[attr-defined]
            schema = properties.get(field.encode_name)
            if schema is None:
                continue
            for kind in _kinds(field.type):
                if isinstance(kind, msgspec.inspect.IntType) and kind.ge == 0:
                    schema["minimum"] = 0
                elif (
                    isinstance(kind, msgspec.inspect.ListType)
                    and "items" in schema
                    and any(
                        isinstance(item, msgspec.inspect.IntType) and item.ge == 0
                        for item in _kinds(kind.item_type)
                    )
                ):
                    schema["items"]["minimum"] = 0


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` with the error shape as a component and, on every operation,
    each status it can answer pointing at it (Litestar's own error schemas replaced)."""
    out = copy.deepcopy(schema)
    components = out.setdefault("components", {}).setdefault("schemas", {})
    _closed_components(components)
    _zero_minimums(components)
    components["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path, item in out.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "post", "patch", "put", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status in _statuses(path, method, operation) | {
                s for s in responses if s[0] in "45"
            }:
                responses[status] = {
                    "description": DESCRIPTIONS.get(status, "An error."),
                    "content": {"application/json": {"schema": reference}},
                }
    return out


class TruthfulJsonRenderPlugin(JsonRenderPlugin):
    """Serves ``openapi.json`` with ``document_errors`` applied (worked out once)."""

    def __init__(self) -> None:
        super().__init__()
        self._rendered: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._rendered is None:
            self._rendered = self.render_json(request, document_errors(openapi_schema))
        return self._rendered


async def allow_every_method(message: Message, scope: Scope) -> None:
    """``before_send`` fix for OPTIONS: Litestar answers it from the first handler registered
    on a path, so ``Allow`` can miss methods registered later (POST beside GET)."""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    app = scope["litestar_app"]
    methods = app.state.get("allow")
    if methods is None:
        methods = app.state["allow"] = {
            route.path_format: ", ".join(sorted(route.methods)).encode()
            for route in app.routes
            if isinstance(route, HTTPRoute)
        }
    allow = methods.get(scope.get("path_template", ""))
    if allow is None:
        return
    message["headers"] = [
        (name, allow if name.lower() == b"allow" else value)
        for name, value in message.get("headers", [])
    ]
