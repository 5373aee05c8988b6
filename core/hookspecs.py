"""The plugin hooks: their docstrings, and those of ``scholia.core.contributions``, are the
reference (``docs/plugin_hooks.md`` is generated from them by ``scripts/plugin_hooks_doc.py``).

Scholia finds plugins through the entry-point group ``scholia`` and calls their hooks once, at
start-up. Every hook has the same shape: it receives ``register``, a callable taking one
*contribution* (a frozen dataclass from ``scholia.core.contributions``). Call it once per thing
your plugin adds; implement only the hooks you need, with ``@hookimpl`` from
``scholia.core.hookspecs``::

    from scholia.core.hookspecs import hookimpl
    from scholia.core.contributions import MenuLink

    @hookimpl
    def register_menu_links(register):
        register(MenuLink(name="reports", label="Reports", href="/reports"))

The host checks each contribution (``check()``), refuses duplicate names, and records which
plugin gave what: ``scholia plugins`` and the Plugins page show it, so the return shape never
has to change. A plugin whose import fails, that implements a hook that does not exist (a
misspelling), or that registers something invalid is reported with its error and skipped as a
whole; Scholia keeps running. No hook is ``firstresult`` or ``historic``: registration collects
from every plugin and happens before anything else runs.

Built-in behaviour is registered as *default plugins*. An installed plugin may replace a
default contribution by registering the same name; two installed plugins may not share one.

Plugins bring ``templates/`` and ``static/`` folders beside their module. Templates are
searched before the core's (``default:base.html`` names the core original, to extend it);
static files are served under ``/static/plugins/<distribution name>/``.

``SCHOLIA_LOAD_PLUGINS`` (comma-separated distribution names; empty for none) chooses which
installed plugins load. See ``examples/rating`` for a complete plugin to copy.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from .contributions import (
    AnnotationType,
    EventHandler,
    ExportFormat,
    ImportFormat,
    MenuLink,
    Modality,
    PrelabelBackend,
    QualityRule,
    Route,
    TemplateVars,
    Viewer,
)

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "scholia"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_modalities(register: Callable[[Modality], None]) -> None:
    """Register the kinds of media the plugin ingests.

    Each ``Modality`` names its MIME types and extensions, a ``probe`` that reads metadata
    (width and height, duration, frame count…) without decoding more than it must, and
    optionally a ``thumbnail``. A container modality also gives ``expand`` (a stored file
    becomes several items: a video becomes frames), ``yields`` (the modality of those items:
    projects of it take these files) and ``expand_options`` (the Struct of its options, whose
    fields' ``msgspec.Meta`` titles and ``extra`` choices make the upload form); the core runs
    the expansion as a resumable job and records each item's ``provenance``.

    A modality whose items are made of several parts (a point cloud frame's ``points``,
    ``camera_front`` and ``calibration`` files; a text record kept inline) declares them as
    ``parts``, a tuple of ``PartRole`` (name, ``file`` or ``inline``, required, accepted media
    types, an inline part's ``schema``, a per-part ``probe``). The core checks each item's
    parts against them, probes each part, and identifies the item by all its parts together.
    """


@hookspec
def register_viewers(register: Callable[[Viewer], None]) -> None:
    """Register how a modality's items are shown: a ``Viewer`` names the modality, a template
    and an ES module in the plugin's ``templates/`` and ``static/`` folders.

    The labeling page, the item page and the adjudication page include the viewer of the
    project's modality and mount its module (``mount({ root, item })``); what ``mount``
    returns is handed to every editor as ``viewer`` (the image viewer gives its ``stage``, to
    draw on, and ``zoom``), so an editor of boxes draws on the image without knowing how it is
    shown. The module may export ``preload(item)``: the labeling page calls it for the next
    items of the queue (the image viewer fetches the image; a player would fetch nothing). A
    modality without a viewer is offered as a file to open, or shown by its editors.
    """


@hookspec
def register_annotation_types(register: Callable[[AnnotationType], None]) -> None:
    """Register annotation types: a payload ``msgspec.Struct``, its validation and its editor.

    ``validate`` is required: a payload is checked against the item and the project's live
    categories before it is stored. ``agreement`` (pairwise, in [0, 1]) and ``aggregate`` (one
    payload from several, None when they cannot be combined) are how the core tells whether two
    labels are the same and which label an item ends with: consensus, adjudication versions,
    gold scoring, the Quality Hub's alpha (distance 1 − agreement) and a version's canonical
    label. Left out, the core fills them at registration (``scholia.core.comparison``): equality
    of the payloads, and the majority payload (None on a tie) or, for a type with its own
    agreement, the most central payload. ``votes=True`` says labels are discrete choices a
    project may combine with Dawid–Skene (a type compared by equality is one). ``editor``
    names a template and an ES module in the plugin's ``templates/`` and ``static/`` folders,
    and the hotkeys it answers. ``options``, a ``msgspec.Struct``, is the shape of the type's
    per-project options; the core checks a new project's ``settings.annotation_options[name]``
    against it.
    """


@hookspec
def register_prelabel_backends(register: Callable[[PrelabelBackend], None]) -> None:
    """Register sources of suggestions (an ONNX runtime, a remote model service…).

    A ``PrelabelBackend`` names the annotation types it serves, the ``config`` Struct a model's
    registration must fit (preprocessing, timeouts…) and whether a model's ``source`` is a file
    or a URL. ``load`` receives a ``ModelRegistration`` (source, version, the ``(id, name)``
    categories in output order, the checked config) and returns a predictor; it is called once
    per process and model version, and raises ``ModelFailed`` saying what is wrong (a missing or
    corrupt file, an input shape the registration does not describe, a service that does not
    answer). ``predictor.predict(inputs)`` answers one ``Prediction`` per ``PredictionInput``:
    candidates (payloads of the annotation type with scores, best first) or that item's
    ``error``. The core validates every candidate against the project's schema before storing it
    as a suggestion; suggestions are kept apart from annotations until a person accepts one.
    """


@hookspec
def register_export_formats(register: Callable[[ExportFormat], None]) -> None:
    """Register formats a dataset version can be written in (COCO, YOLO, CSV…)."""


@hookspec
def register_import_formats(register: Callable[[ImportFormat], None]) -> None:
    """Register formats items, categories and annotations can be read from (COCO, Label Studio…).

    ``read(path)`` returns an ``ImportedDataset`` (``scholia.core.contributions``): categories (with
    the file's id where it has one), items (a name and the media file) and their annotations
    (type, payload with a ``CategoryRef(name)`` wherever a category id goes, and the source's
    annotator). It never touches the database: the core applies what it read, keeping given
    category ids (a clash refuses the whole file), storing media once by sha256 and submitting
    each annotation with ``source`` imported.
    """


@hookspec
def register_quality_rules(register: Callable[[QualityRule], None]) -> None:
    """Register named quality checks with a default threshold and its direction.

    Rules are evaluated for the Quality Hub and by the export gate, which holds a dataset
    version when any rule fails.
    """


@hookspec
def register_event_handlers(register: Callable[[EventHandler], None]) -> None:
    """Register handlers called after an annotation is submitted, an item changes state or a
    dataset version is exported.

    Handlers run after the change is saved; an error in a handler is logged and never undoes
    the change or reaches the person who made it. Webhooks are one such plugin.
    """


@hookspec
def register_routes(register: Callable[[Route], None]) -> None:
    """Register extra web routes: Litestar route handlers (``@get``, ``@post``…).

    Templates the handlers render are looked up in the plugin's ``templates/`` folder first.
    Each ``Route`` says who may call it (``access``: ``public``, ``signed_in``, ``admin``, or
    under a project ``member`` or a project role); a route without it is refused.
    """


@hookspec
def register_menu_links(register: Callable[[MenuLink], None]) -> None:
    """Register links for the navigation bar, optionally only for users with a given role."""


@hookspec
def register_template_vars(register: Callable[[TemplateVars], None]) -> None:
    """Register providers of extra template variables.

    ``provide(page)`` returns a mapping merged into the context of every page the server
    renders; a plugin's templates (or overrides of core templates) can then use them. ``page``
    is a ``PageRequest``, a plain value with no HTTP in it: the template's name (it is that
    ``str``), with ``page.user`` (the signed-in user or None), ``page.project_id`` (None
    outside a project), ``page.role`` (the user's role in that project, ``admin`` for admins,
    None outside one), ``page.method`` and ``page.path``, so what a provider gives may depend
    on who asks, where and with what rights.
    """
