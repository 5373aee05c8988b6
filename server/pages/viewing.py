"""What pages need to show items and payloads through plugins: the viewer of a project's
modality, as pages include it (``_viewer.html``) and mount it (``static/viewers.js``), and the
editors' modules whose ``view()`` draws payloads (``static/editors.js``). The pages name no
media type and no annotation type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scholia.core.contributions import AnnotationType, Viewer
from scholia.core.models import Category, Project
from scholia.core.plugins import Plugins

from ..api.schemas import module_url

__all__ = ["editor_modules", "viewer_of", "views_state"]


def viewer_of(plugins: Plugins, modality: str) -> dict[str, Any] | None:
    """The viewer of ``modality`` (template, module URL, hotkeys), or None when no plugin
    gives one: the page then offers the file to open."""
    viewer = plugins.viewer(modality)
    provider = plugins.provider(Viewer, modality)
    if viewer is None or provider is None:
        return None
    return {
        "modality": modality,
        "template": viewer.template,
        "module": module_url(provider.name, viewer.module),
        "hotkeys": dict(viewer.hotkeys),
    }


def editor_modules(plugins: Plugins, annotation_types: Sequence[str]) -> list[dict[str, str]]:
    """``{name, module}`` of each of these types that has an editor, as static/editors.js
    mounts editors and draws views with them."""
    found = []
    for name in annotation_types:
        kind = plugins.annotation_types.get(name)
        provider = plugins.provider(AnnotationType, name) if kind else None
        if kind is not None and kind.editor is not None and provider is not None:
            found.append({"name": name, "module": module_url(provider.name, kind.editor.module)})
    return found


def views_state(
    plugins: Plugins, project: Project, categories: Sequence[Category]
) -> dict[str, Any]:
    """What static/views.js needs to draw a page's payloads with their editors' views."""
    return {
        "project_id": project.id,
        "categories": [
            {"id": c.id, "name": c.name, "color": c.color, "hotkey": c.hotkey} for c in categories
        ],
        "editors": editor_modules(plugins, project.annotation_types),
    }
