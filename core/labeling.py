"""The labeling context: everything one annotator needs to label one item, in one place.

The labeling page and ``GET /api/v1/projects/{id}/queue/{item_id}`` are both thin over
``labeling_context``, so what a script reads is what the page shows. Reading it claims
nothing: taking work (claiming the item's slot or renewing its lease, and holding the next
items of the queue) is the separate, explicit step of ``take_next`` and ``take_up``, which
the page asks for with a POST.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlmodel import Session

from . import calibration, items, labels, parts, projects, queue, slots, standing, suggestions
from .contributions import AnnotationType, Editor
from .errors import InvalidInput, PermissionDenied
from .models import Annotation, Category, Item, ItemPart, Project
from .plugins import Plugins
from .revisions import current_annotations

__all__ = [
    "AHEAD",
    "EditorRef",
    "HeldItem",
    "LabelingContext",
    "QueueWindow",
    "Visibility",
    "labeling_context",
    "take_next",
    "take_up",
]

AHEAD = 2
"""Slots the labeling page holds beyond the current item, so its next link is direct and
their media preload. It holds no more than it shows (every claim is a lease, see
``claims.lease_minutes``)."""

Visibility = Literal["hidden", "revealed", "none"]
"""What the annotator sees of an annotation type's suggestion on the item: only that one waits
(anti-anchoring, until their own first label), the suggestion itself, or nothing (there is
none for them: no active model's fitting suggestion, or they are in calibration)."""


@dataclass(frozen=True)
class EditorRef:
    """One of the project's editors, as data: the page includes ``editor.template`` and loads
    ``editor.module`` from the static files of the ``plugin`` that provides the type."""

    annotation_type: str
    title: str
    plugin: str
    editor: Editor


@dataclass(frozen=True)
class HeldItem:
    """An item of the annotator's queue window: their own status on it (``queue.MINE``) and
    whether a suggestion waits on it for them (the queue's badge)."""

    item: Item
    status: str
    suggested: bool


@dataclass(frozen=True)
class QueueWindow:
    """The annotator's queue around the item, as filtered by ``show``."""

    show: str
    items: list[HeldItem]
    """The held items around the current one, in id order (the current one need not be in
    it: a filter may leave it out)."""
    previous: int | None
    next: int | None
    next_todo: int | None
    """Where a label moves on to: the next item still to do, whatever the filter shows."""
    counts: dict[str, int]
    """How many items each of ``queue.QUEUE_FILTERS`` holds."""

    def following(self, item_id: int) -> list[HeldItem]:
        """The held items after ``item_id`` (what the page preloads)."""
        return [h for h in self.items if h.item.id is not None and h.item.id > item_id]


@dataclass(frozen=True)
class LabelingContext:
    """What labeling ``item`` needs, for one annotator."""

    project: Project
    item: Item
    status: str
    """The item's status as the annotator sees it (``queue.MINE``)."""
    parts: list[ItemPart]
    """What the item is made of, when its modality has parts (files with roles, inline
    records), in its order of roles; empty for an item of one file."""
    calibrating: bool
    """The item is one of the annotator's calibration items."""
    editors: list[EditorRef]
    """The project's annotation types that have an installed editor, in project order."""
    revisions: dict[str, Annotation]
    """The annotator's current annotation on the item, by annotation type."""
    categories: list[Category]
    options: dict[str, Any]
    """The project's options per annotation type (``annotation_options``)."""
    suggestions: list[suggestions.Shown]
    visibility: dict[str, Visibility]
    """Per annotation type of the project."""
    queue: QueueWindow


def _editors(plugins: Plugins, project: Project) -> list[EditorRef]:
    found = []
    for name in project.annotation_types:
        kind: AnnotationType | None = plugins.annotation_types.get(name)
        provider = plugins.provider(AnnotationType, name) if kind else None
        if kind is None or kind.editor is None or provider is None:
            continue
        found.append(
            EditorRef(
                annotation_type=name,
                title=kind.title,
                plugin=provider.name,
                editor=kind.editor,
            )
        )
    return found


def _next_todo(session: Session, item: Item, annotator_id: int, todo: list[Item]) -> int | None:
    """The held item still to do after ``item`` by id, else the first one before it: the queue
    holds items in the order they were handed out (shuffled), so one may sit below."""
    following = next((i.id for i in todo if i.id is not None and i.id > (item.id or 0)), None)
    if following is not None:
        return following
    first = queue.my_queue(
        session, item.project_id, annotator_id, 0, before=0, after=0, show="todo"
    )
    return next((i.id for i in first if i.id != item.id), None)


def _window(
    session: Session, item: Item, annotator_id: int, show: str
) -> tuple[QueueWindow, dict[int, str], set[int]]:
    assert item.id is not None
    project_id, item_id = item.project_id, item.id
    held = queue.my_queue(session, project_id, annotator_id, item_id, show=show)
    todo = queue.my_queue(
        session, project_id, annotator_id, item_id, before=0, after=1, show="todo"
    )
    statuses = queue.my_statuses(session, [item, *held], annotator_id)
    suggested = suggestions.suggested_items(
        session, project_id, [i.id for i in [item, *held] if i.id is not None], annotator_id
    )
    # The current item need not be in the filtered queue: its neighbours are by id either way.
    earlier = [i for i in held if i.id is not None and i.id < item_id]
    following = [i for i in held if i.id is not None and i.id > item_id]
    window = QueueWindow(
        show=show,
        items=[HeldItem(i, statuses[i.id], i.id in suggested) for i in held if i.id is not None],
        previous=earlier[-1].id if earlier else None,
        next=following[0].id if following else None,
        next_todo=_next_todo(session, item, annotator_id, todo),
        counts=queue.my_queue_counts(session, project_id, annotator_id),
    )
    return window, statuses, suggested


def labeling_context(
    session: Session,
    plugins: Plugins,
    project_id: int,
    item_id: int,
    annotator_id: int,
    show: str = "all",
) -> LabelingContext:
    """What ``annotator_id`` needs to label item ``item_id``, with their queue filtered by
    ``show`` (one of ``queue.QUEUE_FILTERS``). Reads only. ``PermissionDenied`` (saying why)
    for an annotator suspended from the project; ``NotFound`` for an item of another project."""
    if show not in queue.QUEUE_FILTERS:
        raise InvalidInput(
            f"Unknown queue filter {show!r}; use one of {', '.join(queue.QUEUE_FILTERS)}.",
            path="queue",
        )
    project = projects.get_project(session, project_id)
    item = items.get_item(session, item_id, project_id)
    suspension = standing.is_suspended(session, project_id, annotator_id)
    if suspension is not None:
        raise PermissionDenied(standing.refusal(suspension))
    window, statuses, suggested = _window(session, item, annotator_id, show)
    # The item's own suggestions are read only when it has one for the annotator.
    shown = (
        [
            s
            for name in project.annotation_types
            if (s := suggestions.shown_to(session, project, item, name, annotator_id)) is not None
        ]
        if item_id in suggested
        else []
    )
    by_type = {s.suggestion.annotation_type: s for s in shown}
    return LabelingContext(
        project=project,
        item=item,
        status=statuses[item_id],
        parts=parts.parts_of(session, [item_id]).get(item_id, []),
        calibrating=calibration.serves(session, item, annotator_id),
        editors=_editors(plugins, project),
        revisions={
            a.annotation_type: a
            for a in current_annotations(session, item_id)
            if a.annotator_id == annotator_id
        },
        categories=labels.live_categories(session, project_id),
        options=dict(project.settings.get("annotation_options", {})),
        suggestions=shown,
        visibility={
            name: (
                "none" if name not in by_type else "hidden" if by_type[name].hidden else "revealed"
            )
            for name in project.annotation_types
        },
        queue=window,
    )


def take_next(
    session: Session, project_id: int, annotator_id: int, ahead: int = AHEAD
) -> Item | None:
    """The annotator takes their next item (``queue.claim_next``: calibration first, else the
    one they hold, else a new claim) and holds up to ``ahead`` more; None when the queue is
    empty. ``PermissionDenied`` with the reason when they may not have items."""
    item = queue.claim_next(session, project_id, annotator_id)
    if item is not None:
        queue.reserve(session, project_id, annotator_id, ahead)
    return item


def take_up(session: Session, item: Item, annotator_id: int, ahead: int = AHEAD) -> None:
    """The annotator works on ``item`` (opened from the queue or by its URL): their slot on
    it is claimed (or its lease renewed) and up to ``ahead`` more items are held. Refused
    like a submit would be: ``PermissionDenied`` when suspended or before calibration is
    passed, ``Conflict`` when others hold all its slots."""
    assert item.id is not None
    queue.ensure_slot(session, item, annotator_id)
    slots.renew(session, item.id, annotator_id)
    queue.reserve(session, item.project_id, annotator_id, ahead)
