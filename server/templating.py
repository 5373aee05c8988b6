"""Templates: plugin ``templates/`` folders are searched before the core's, as in Datasette.

A plugin overrides a core template by shipping one with the same name; to extend the original
instead, it names it with the ``default:`` prefix (``{% extends "default:base.html" %}``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from litestar import Request, Response
from litestar.response import Template

from scholia.core.contributions import MenuLink, PageRequest, TemplateVars
from scholia.core.models import User
from scholia.core.plugins import Plugins

from .access import can

__all__ = ["FLASH_COOKIE", "build_environment", "flash", "page"]

CORE_TEMPLATES = Path(__file__).parent / "templates"
FLASH_COOKIE = "scholia_flash"


def build_environment(plugins: Plugins) -> Environment:
    # Installed plugins first, then default plugins, then the core: the first match wins.
    ordered = sorted(plugins.loaded, key=lambda info: info.is_default)
    plugin_dirs = [
        str(info.templates_dir)
        for info in ordered
        if info.templates_dir and info.templates_dir != CORE_TEMPLATES
    ]
    core = FileSystemLoader(str(CORE_TEMPLATES))
    environment = Environment(
        loader=ChoiceLoader(
            [FileSystemLoader(plugin_dirs), core, PrefixLoader({"default": core}, delimiter=":")]
        ),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["tojson_attr"] = lambda value: json.dumps(value)
    environment.filters["label"] = lambda value: str(value).replace("_", " ")
    return environment


def _menu(plugins: Plugins, user: User | None) -> list[MenuLink]:
    if user is None:
        return []
    links = [m for m in plugins.all(MenuLink) if m.role is None or user.has_role(m.role)]  # type: ignore[arg-type]
    return sorted(links, key=lambda m: (m.order, m.label))


def page(
    request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any
) -> Template:
    """Render ``template`` with the shared context: the user, the menu, the flash message and
    whatever plugins add through ``register_template_vars``."""
    runtime = request.app.state["runtime"]
    plugins: Plugins = runtime.plugins
    user = request.scope.get("user")
    shared: dict[str, Any] = {}
    found = request.scope.get("membership")  # the project the access guard found, if any
    asked = PageRequest(
        template,
        user=user,
        project_id=getattr(found, "project_id", None),
        role=getattr(found, "role", None),
        method=request.method,
        path=request.url.path,
    )
    for provider in plugins.all(TemplateVars):
        shared.update(provider.provide(asked))
    flash_value = request.cookies.get(FLASH_COOKIE)
    message = None
    if flash_value:
        kind, _, text = flash_value.partition(":")
        message = {"kind": kind, "text": unquote(text)}
    response = Template(
        template_name=template,
        context={
            **shared,
            "user": user,
            "menu": _menu(plugins, user),
            "flash": message,
            "current_path": request.url.path,
            "can": lambda role: can(request, role),
            **context,
        },
        status_code=status_code,
    )
    if flash_value:
        response.delete_cookie(FLASH_COOKIE)
    return response


def flash(response: Response[Any], text: str, kind: str = "success") -> Response[Any]:
    """Show ``text`` once, on the next page rendered (after a redirect)."""
    response.set_cookie(
        FLASH_COOKIE, f"{kind}:{quote(text)}", max_age=60, httponly=True, samesite="lax"
    )
    return response
