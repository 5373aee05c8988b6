"""The Plugins page: what is installed, what each registered, and what failed and why."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from scholia.core.plugins import describe_plugins

from ..routing import get, runtime_of
from ..templating import page

__all__ = ["plugin_pages"]


@get("/plugins")
def plugin_list(request: Request[Any, Any, Any]) -> Response[Any]:
    plugins = runtime_of(request).plugins
    described = describe_plugins(plugins)
    return page(
        request,
        "plugins.html",
        installed=[p for p in described if not p["default"]],
        defaults=[p for p in described if p["default"]],
        failed_count=len(plugins.failed),
    )


plugin_pages = [plugin_list]
