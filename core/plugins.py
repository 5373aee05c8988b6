"""Finding, loading and checking plugins, and the registry of what they contributed.

Plugins are found through the entry-point group ``scholia``, a vendor's exactly like our own.
``SCHOLIA_LOAD_PLUGINS`` picks which installed distributions load (comma-separated names;
empty means none; unset means all). Built-in behaviour comes from *default plugins*, loaded
first, so an installed plugin may override any of it by registering the same name.

A plugin that fails to import, implements a hook that does not exist, or registers something
invalid is recorded with its error and skipped as a whole: it never takes the server down.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pluggy

from . import comparison, hookspecs
from .contributions import (
    AnnotationType,
    Contribution,
    EventHandler,
    ExportFormat,
    ImportFormat,
    InvalidContribution,
    MenuLink,
    Modality,
    PrelabelBackend,
    QualityRule,
    Route,
    TemplateVars,
    Viewer,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "LOAD_PLUGINS_ENV",
    "PluginInfo",
    "Plugins",
    "load_plugins",
]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "scholia"
LOAD_PLUGINS_ENV = "SCHOLIA_LOAD_PLUGINS"

# Each hook and the one contribution class it accepts.
HOOK_KINDS: dict[str, type[Contribution]] = {
    "register_modalities": Modality,
    "register_viewers": Viewer,
    "register_annotation_types": AnnotationType,
    "register_prelabel_backends": PrelabelBackend,
    "register_export_formats": ExportFormat,
    "register_import_formats": ImportFormat,
    "register_quality_rules": QualityRule,
    "register_event_handlers": EventHandler,
    "register_routes": Route,
    "register_menu_links": MenuLink,
    "register_template_vars": TemplateVars,
}

C = TypeVar("C", bound=Contribution)


@dataclass
class PluginInfo:
    """One plugin as loaded: where it came from, what it gave, or why it was skipped."""

    name: str
    """Distribution name (``scholia-rating``), or the module name for default plugins."""
    version: str | None
    module: str
    is_default: bool = False
    contributions: list[Contribution] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    """Default contributions this plugin replaced, as ``kind:name``."""
    error: str | None = None
    """Why the plugin was skipped; None when it loaded."""
    templates_dir: Path | None = None
    static_dir: Path | None = None

    @property
    def loaded(self) -> bool:
        return self.error is None

    def summary(self) -> dict[str, list[str]]:
        """Contribution names by kind, for listings."""
        kinds: dict[str, list[str]] = {}
        for contribution in self.contributions:
            kinds.setdefault(contribution.kind, []).append(contribution.name)
        return kinds


class Plugins:
    """The loaded plugins and everything they contributed, by kind and name."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self.manager = manager
        self.infos: list[PluginInfo] = []
        self._by_kind: dict[str, dict[str, tuple[Contribution, PluginInfo]]] = {
            cls.kind: {} for cls in HOOK_KINDS.values()
        }

    # -- what was contributed ------------------------------------------------------------
    def all(self, cls: type[C]) -> list[C]:
        """Every contribution of one kind, in registration order."""
        return [c for c, _ in self._by_kind[cls.kind].values() if isinstance(c, cls)]

    def get(self, cls: type[C], name: str) -> C | None:
        entry = self._by_kind[cls.kind].get(name)
        return entry[0] if entry is not None and isinstance(entry[0], cls) else None

    def provider(self, cls: type[Contribution], name: str) -> PluginInfo | None:
        """The plugin that contributed ``name``."""
        entry = self._by_kind[cls.kind].get(name)
        return entry[1] if entry else None

    @property
    def modalities(self) -> dict[str, Modality]:
        return {m.name: m for m in self.all(Modality)}

    def viewer(self, modality: str) -> Viewer | None:
        """The viewer that shows items of ``modality``, if a plugin gives one."""
        return self.get(Viewer, modality)

    @property
    def annotation_types(self) -> dict[str, AnnotationType]:
        return {a.name: a for a in self.all(AnnotationType)}

    def annotation_type(self, name: str) -> AnnotationType:
        """The type that compares and combines annotations of ``name``: the registered one, or
        for a type whose plugin is not loaded the core's fallback (plain data, equality,
        majority). Every comparison of stored labels asks this, never ``annotation_types``."""
        return self.get(AnnotationType, name) or comparison.fallback_type(name)

    @property
    def loaded(self) -> list[PluginInfo]:
        return [info for info in self.infos if info.loaded]

    @property
    def failed(self) -> list[PluginInfo]:
        return [info for info in self.infos if not info.loaded]

    def info(self, name: str) -> PluginInfo | None:
        return next((info for info in self.infos if info.name == name), None)

    # -- loading -------------------------------------------------------------------------
    def add(self, plugin: object, info: PluginInfo) -> None:
        """Register ``plugin`` and take its contributions, or record why it was refused."""
        self.infos.append(info)
        try:
            self.manager.register(plugin, name=info.name)
        except Exception as error:  # pluggy refuses impls whose arguments match no spec
            info.error = _describe(error)
            return
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError as error:
            self.manager.unregister(plugin)
            info.error = _misspelled_hook_message(plugin, error)
            return
        try:
            staged = self._collect(plugin, info)
            info.overrides = self._check_names(staged, info)
        except (InvalidContribution, TypeError, ValueError) as error:
            self.manager.unregister(plugin)
            info.error = str(error)
            return
        except Exception as error:  # a hook that raised: the plugin's bug, not ours
            self.manager.unregister(plugin)
            info.error = f"a hook raised {_describe(error)}"
            return
        for contribution in staged:
            self._by_kind[contribution.kind][contribution.name] = (contribution, info)
        info.contributions = staged

    def _collect(self, plugin: object, info: PluginInfo) -> list[Contribution]:
        staged: list[Contribution] = []
        for hook_name, cls in HOOK_KINDS.items():
            for impl in getattr(self.manager.hook, hook_name).get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                arguments = {"register": _make_register(cls, staged, hook_name)}
                impl.function(**{name: arguments[name] for name in impl.argnames})
        return staged

    def _check_names(self, staged: Sequence[Contribution], info: PluginInfo) -> list[str]:
        overrides: list[str] = []
        seen: set[tuple[str, str]] = set()
        for contribution in staged:
            key = (contribution.kind, contribution.name)
            if key in seen:
                raise InvalidContribution(
                    f"{contribution.kind} {contribution.name!r} is registered twice by this plugin"
                )
            seen.add(key)
            existing = self._by_kind[contribution.kind].get(contribution.name)
            if existing is None:
                continue
            owner = existing[1]
            if owner.is_default and not info.is_default:
                overrides.append(f"{contribution.kind}:{contribution.name}")
                continue
            raise InvalidContribution(
                f"{contribution.kind} {contribution.name!r} is already registered by plugin "
                f"{owner.name!r}; choose another name"
            )
        return overrides


def _make_register(
    cls: type[Contribution], staged: list[Contribution], hook_name: str
) -> Callable[[Contribution], None]:
    def register(contribution: Contribution) -> None:
        if not isinstance(contribution, cls):
            raise InvalidContribution(
                f"{hook_name} takes {cls.__name__} objects, got {type(contribution).__name__}"
            )
        contribution.check()
        if isinstance(contribution, AnnotationType):
            contribution = comparison.completed(contribution)
        staged.append(contribution)

    return register


def _describe(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {error}{where}"


def _misspelled_hook_message(plugin: object, error: pluggy.PluginValidationError) -> str:
    known = ", ".join(sorted(HOOK_KINDS))
    return f"{error}. Scholia's hooks are: {known}"


def _folders(module: ModuleType | object) -> tuple[Path | None, Path | None]:
    """The plugin's ``templates/`` and ``static/`` folders, found by convention beside it."""
    file = getattr(module, "__file__", None)
    if file is None:
        return None, None
    base = Path(file).parent
    templates, static = base / "templates", base / "static"
    return (templates if templates.is_dir() else None, static if static.is_dir() else None)


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def selected_distributions(env: dict[str, str] | None = None) -> set[str] | None:
    """Names picked by ``SCHOLIA_LOAD_PLUGINS``: None means all installed plugins."""
    value = (os.environ if env is None else env).get(LOAD_PLUGINS_ENV)
    if value is None:
        return None
    return {_normalise(n) for n in value.split(",") if n.strip()}


def _entry_points() -> Iterator[importlib.metadata.EntryPoint]:
    points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    yield from sorted(points, key=lambda ep: (_normalise(ep.dist.name) if ep.dist else "", ep.name))


def load_plugins(
    *,
    default_plugins: Iterable[str] = (),
    select: set[str] | str | None = "env",
    extra: Iterable[object] = (),
) -> Plugins:
    """Load default plugins (module names), then installed ones, then ``extra`` objects.

    ``select`` limits the installed plugins by distribution name: ``"env"`` reads
    ``SCHOLIA_LOAD_PLUGINS``, None loads all, a set loads those.
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    plugins = Plugins(manager)
    chosen = selected_distributions() if select == "env" else select
    assert chosen is None or isinstance(chosen, set)

    for module_name in default_plugins:
        module = importlib.import_module(module_name)
        templates, static = _folders(module)
        plugins.add(
            module,
            PluginInfo(
                name=module_name,
                version=None,
                module=module_name,
                is_default=True,
                templates_dir=templates,
                static_dir=static,
            ),
        )

    found: set[str] = set()
    for entry_point in _entry_points():
        dist_name = entry_point.dist.name if entry_point.dist else entry_point.name
        if chosen is not None and _normalise(dist_name) not in chosen:
            continue
        found.add(_normalise(dist_name))
        version = entry_point.dist.version if entry_point.dist else None
        info = PluginInfo(name=dist_name, version=version, module=entry_point.value)
        try:
            plugin = entry_point.load()
        except Exception as error:  # a plugin's import error must not stop the host
            info.error = f"failed to import: {_describe(error)}"
            plugins.infos.append(info)
            log.warning("plugin %s skipped: %s", dist_name, info.error)
            continue
        info.templates_dir, info.static_dir = _folders(plugin)
        plugins.add(plugin, info)
        if info.error:
            log.warning("plugin %s skipped: %s", dist_name, info.error)

    for name in sorted((chosen or set()) - found):
        plugins.infos.append(
            PluginInfo(
                name=name,
                version=None,
                module="",
                error=f"{LOAD_PLUGINS_ENV} names {name!r}, but no installed distribution "
                f"declares a '{ENTRY_POINT_GROUP}' entry point with that name",
            )
        )

    for index, plugin in enumerate(extra):
        name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{index}"
        templates, static = _folders(plugin)
        plugins.add(
            plugin,
            PluginInfo(
                name=name, version=None, module=name, templates_dir=templates, static_dir=static
            ),
        )
    return plugins


def describe_plugins(plugins: Plugins) -> list[dict[str, Any]]:
    """A plain description of each plugin, for the CLI, the API and the Plugins page."""
    return [
        {
            "name": info.name,
            "version": info.version,
            "module": info.module,
            "default": info.is_default,
            "loaded": info.loaded,
            "error": info.error,
            "contributions": info.summary(),
            "overrides": info.overrides,
            "annotation_types": {
                c.name: comparison.describe(c)
                for c in info.contributions
                if isinstance(c, AnnotationType)
            },
        }
        for info in plugins.infos
    ]
