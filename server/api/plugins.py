"""API: installed plugins and what each registered."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from scholia.core.plugins import describe_plugins

from ..routing import get, runtime_of
from .schemas import PluginOut

__all__ = ["plugin_api"]


@get("/plugins")
def list_plugins(request: Request[Any, Any, Any]) -> list[PluginOut]:
    return [msgspec.convert(p, PluginOut) for p in describe_plugins(runtime_of(request).plugins)]


plugin_api = [list_plugins]
