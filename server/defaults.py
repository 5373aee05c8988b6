"""The server's default plugin: the core pages' menu links, registered like any plugin's, so a
plugin can replace one by registering the same name."""

from __future__ import annotations

from collections.abc import Callable

from scholia.core.contributions import MenuLink
from scholia.core.hookspecs import hookimpl

__all__ = ["register_menu_links"]


@hookimpl
def register_menu_links(register: Callable[[MenuLink], None]) -> None:
    register(MenuLink(name="projects", label="Projects", href="/projects", order=10))
    register(MenuLink(name="plugins", label="Plugins", href="/plugins", order=90))
    register(MenuLink(name="users", label="Users", href="/admin/users", role="admin", order=95))
    register(MenuLink(name="security", label="Security", href="/security", role="admin", order=96))
