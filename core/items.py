"""Items: ingesting media into a project (stored once, probed by the modality) and listing them."""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, tuple_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from . import audit, limits
from .contributions import Modality
from .counts import GROUPS, category_counts, status_counts
from .errors import InvalidInput, NotFound
from .item_state import ItemState
from .models import Assignment, Blob, Item, ItemCategory, Project
from .plugins import Plugins
from .storage import MediaStore, Staged

__all__ = [
    "SORTS",
    "IngestResult",
    "add_item",
    "by_hash",
    "container_for",
    "count_items",
    "get_item",
    "ingest",
    "keep_probed",
    "list_items",
    "modality_of",
    "refuse_empty",
    "takes",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    item: Item
    created: bool
    """False when the same bytes were already in the project: nothing new was stored."""


def modality_of(plugins: Plugins, project: Project) -> Modality:
    """The project's modality, or ``InvalidInput`` saying which plugin is missing."""
    modality = plugins.modalities.get(project.modality)
    if modality is None:
        raise InvalidInput(
            f"Project {project.id} labels {project.modality!r} media, but no loaded plugin "
            "provides that modality; install it and restart",
            "$.modality",
        )
    return modality


def takes(modality: Modality, name: str) -> bool:
    """Whether a file of this name is ``modality``'s media, by its extension or media type."""
    guessed = mimetypes.guess_type(name)[0]
    return Path(name).suffix.lower() in modality.extensions or guessed in modality.media_types


def container_for(plugins: Plugins, project: Project, name: str) -> Modality | None:
    """The container modality (a video's) whose files expand into this project's items, when
    ``name`` is such a file and not the project's own media."""
    own = plugins.modalities.get(project.modality)
    if own is not None and takes(own, name):
        return None
    for modality in plugins.modalities.values():
        if modality.yields == project.modality and takes(modality, name):
            return modality
    return None


def _media_type(plugins: Plugins, modality: Modality, name: str) -> str:
    if not takes(modality, name):
        accepted = [*modality.extensions]
        accepted += [
            e
            for m in plugins.modalities.values()
            if m.yields == modality.name
            for e in m.extensions
        ]
        raise InvalidInput(
            f"{name!r} is not {modality.title.lower()} media: accepted extensions are "
            + ", ".join(accepted),
            "$.file",
        )
    return mimetypes.guess_type(name)[0] or modality.media_types[0]


def refuse_empty(name: str, staged: Staged) -> None:
    """A file with no bytes, or a name the items table cannot hold, is refused by name."""
    if staged.size == 0:
        raise InvalidInput(f"{name!r} is empty (0 bytes)", "$.file")
    if len(Path(name).name) > limits.FILE_NAME_MAX:
        raise InvalidInput(
            f"{name[:60]!r}… has a name of {len(Path(name).name):,} characters; at most "
            f"{limits.FILE_NAME_MAX} are accepted",
            "$.file",
        )


def keep_probed(
    session: Session,
    store: MediaStore,
    modality: Modality,
    name: str,
    staged: Staged,
    media_type: str,
) -> dict[str, Any]:
    """What ``modality`` probes of a staged file, which is then kept in the store (with its
    blob row); a file it cannot read is refused, naming it, and nothing is kept."""
    try:
        meta = modality.probe(staged.path)
    except ValueError as error:
        raise InvalidInput(f"{name!r} cannot be read: {error}", "$.file") from None
    except Exception as error:  # a plugin's failure on one file refuses that file, no more
        log.exception("the %s modality failed to probe %r", modality.name, name)
        raise InvalidInput(
            f"{name!r} cannot be read: the {modality.name} modality failed on it "
            f"({type(error).__name__}: {error})",
            "$.file",
        ) from None
    store.keep(staged)
    if session.get(Blob, staged.sha256) is None:
        session.add(Blob(sha256=staged.sha256, size=staged.size, media_type=media_type))
    return meta


def ingest(
    session: Session,
    store: MediaStore,
    plugins: Plugins,
    project: Project,
    *,
    name: str,
    source: BinaryIO,
    actor_id: int,
    provenance: Mapping[str, Any] | None = None,
) -> IngestResult:
    """Add one file to ``project``: check it with the modality's probe, store it by sha256.

    A file the modality cannot read raises ``InvalidInput`` naming the file and the reason;
    nothing is stored for it. Re-adding the same bytes returns the existing item (whose
    provenance stays the first one's).
    """
    modality = modality_of(plugins, project)
    media_type = _media_type(plugins, modality, name)
    assert project.id is not None
    with store.staging(source) as staged:
        refuse_empty(name, staged)
        sha256, size = staged.sha256, staged.size
        existing = by_hash(session, project.id, sha256)
        if existing is not None:  # already probed and kept: nothing to write
            return IngestResult(item=existing, created=False)
        meta = keep_probed(session, store, modality, name, staged, media_type)
    item = Item(
        project_id=project.id,
        content_hash=sha256,
        name=Path(name).name,
        media_type=media_type,
        meta={"size": size, **meta},
        provenance=dict(provenance or {}),
    )
    return add_item(session, project, item, actor_id=actor_id)


def add_item(
    session: Session,
    project: Project,
    item: Item,
    *,
    actor_id: int,
    before_slots: Callable[[Item], None] | None = None,
) -> IngestResult:
    """Insert a new ``item`` (its media already kept) with its overlap's open slots and the
    audit row; when the same content arrived concurrently, the item that won.
    ``before_slots(item)`` adds what belongs to the item (its parts) once it has an id."""
    assert project.id is not None
    try:
        with session.begin_nested():
            session.add(item)
            session.flush()
            if before_slots is not None:
                before_slots(item)
    except IntegrityError:  # the same content arrived concurrently
        raced = by_hash(session, project.id, item.content_hash)
        assert raced is not None
        return IngestResult(item=raced, created=False)
    overlap = int(project.settings.get("overlap", 1))
    for slot in range(overlap):
        session.add(Assignment(item_id=item.id, slot=slot))  # type: ignore[arg-type]
    audit.record(
        session,
        actor_id=actor_id,
        project_id=project.id,
        entity="item",
        entity_id=item.id,
        action="ingest",
        to_state=item.status,
        data={"name": item.name, "sha256": item.content_hash},
    )
    return IngestResult(item=item, created=True)


def by_hash(session: Session, project_id: int, sha256: str) -> Item | None:
    """The project's item of this content (a file's sha256, or a parts item's identity)."""
    return session.exec(
        select(Item).where(col(Item.project_id) == project_id, col(Item.content_hash) == sha256)
    ).first()


def get_item(session: Session, item_id: int, project_id: int | None = None) -> Item:
    item = session.get(Item, item_id)
    if item is None or (project_id is not None and item.project_id != project_id):
        raise NotFound("item", item_id)
    return item


SORTS = ("added", "-added", "name", "-name", "updated", "-updated")
"""Grid orders: when the item was added (its id), its name, its last change (``updated_at``);
a leading ``-`` reverses. Every order ends with the id, so a page boundary is one keyset."""


def _matching(query: Any, *, name: str | None, annotator_id: int | None) -> Any:
    if name:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(col(Item.name).ilike(f"%{escaped}%", escape="\\"))
    if annotator_id is not None:
        query = query.where(
            col(Item.id).in_(
                select(Assignment.item_id).where(
                    col(Assignment.annotator_id) == annotator_id,
                    col(Assignment.submitted_at).is_not(None),
                )
            )
        )
    return query


def list_items(
    session: Session,
    project_id: int,
    *,
    status: str | None = None,
    group: str | None = None,
    category_id: int | None = None,
    name: str | None = None,
    annotator_id: int | None = None,
    sort: str = "added",
    after_id: int | None = None,
    before_id: int | None = None,
    last: bool = False,
    limit: int = 50,
) -> list[Item]:
    """A page of items in ``sort`` order, by keyset (no OFFSET scan, whatever the page).

    Filters: one lifecycle ``status``, a status ``group`` (see ``counts.GROUPS``: all,
    unlabeled, in_review, done), a ``category_id`` the item's current annotations use, a
    ``name`` the item's contains (any case), an ``annotator_id`` who submitted on the item.
    Pages: the first by default; those after the item ``after_id``; those just before
    ``before_id``; or the ``last`` page. Backwards pages are read in reverse order, so the last
    page costs what the first does; the result is always in ``sort`` order.

    A group of several states is read as one index range per state (``project_id, status,
    id``), merged: each range stops after ``limit`` rows, however many items match.
    """
    limit = max(1, min(limit, 501))
    if status is not None and status not in ItemState.__members__:
        raise InvalidInput(f"Unknown status {status!r}; statuses are {', '.join(ItemState)}")
    if group is not None and group not in GROUPS:
        raise InvalidInput(f"Unknown group {group!r}; groups are {', '.join(GROUPS)}")
    if sort not in SORTS:
        raise InvalidInput(f"Unknown sort {sort!r}; sorts are {', '.join(SORTS)}", "$.sort")
    if after_id is not None and (before_id is not None or last):
        raise InvalidInput("Page forwards (after) or backwards (before, last), not both")
    backwards = before_id is not None or last
    reverse = sort.startswith("-")
    field = {"added": None, "name": "name", "updated": "updated_at"}[sort.lstrip("-")]
    states: list[str | None] = [None]
    if status is not None or (group is not None and group != "all"):
        wanted = {status} if status is not None else {s.value for s in GROUPS[group or "all"]}
        if group is not None and status is not None:
            wanted &= {s.value for s in GROUPS[group]}
        states = sorted(wanted)  # type: ignore[assignment]
        if not states:
            return []
    if category_id is not None:
        # One range of the (project_id, category_id, item_id) index, item states checked
        # on the way: a category filter reads its own rows, never the whole project.
        ident: Any = col(ItemCategory.item_id)
        base = (
            select(Item)
            .join(ItemCategory, ident == col(Item.id))
            .where(
                col(ItemCategory.project_id) == project_id,
                col(ItemCategory.category_id) == category_id,
            )
        )
        queries = [base if states == [None] else base.where(col(Item.status).in_(states))]
    else:
        ident = col(Item.id)
        base = select(Item).where(col(Item.project_id) == project_id)
        queries = [base if s is None else base.where(col(Item.status) == s) for s in states]
    key: Any = ident if field is None else tuple_(getattr(Item, field), ident)
    anchor_id = after_id if after_id is not None else before_id
    anchor: Any = anchor_id
    if field is not None and anchor_id is not None:
        known = session.get(Item, anchor_id)
        if known is None or known.project_id != project_id:
            raise InvalidInput(f"No item {anchor_id} in project {project_id} to page from")
        anchor = tuple_(getattr(known, field), anchor_id)
    descending = backwards != reverse
    found: list[Item] = []
    for query in queries:
        query = _matching(query, name=name, annotator_id=annotator_id)
        if anchor_id is not None:
            query = query.where(key < anchor if descending else key > anchor)
        order = [ident] if field is None else [getattr(Item, field), ident]
        query = query.order_by(*(c.desc() if descending else c for c in order)).limit(limit)
        found.extend(session.exec(query))

    def sort_key(item: Item) -> Any:
        return (item.id or 0) if field is None else (getattr(item, field), item.id or 0)

    found.sort(key=sort_key, reverse=descending)
    page = found[:limit]
    return page[::-1] if backwards else page


def count_items(
    session: Session,
    project_id: int,
    *,
    status: str | None = None,
    group: str | None = None,
    category_id: int | None = None,
    name: str | None = None,
    annotator_id: int | None = None,
) -> int:
    """How many items ``list_items`` with these filters pages through: from the kept counts
    (``counts``) when only states or only a category filter, otherwise one ``COUNT``."""
    wanted = {s.value for s in GROUPS[group or "all"]}
    if status is not None:
        wanted &= {status}
    if not name and annotator_id is None:
        if category_id is None:
            by_state = status_counts(session, [project_id])[project_id]
            return sum(by_state[s] for s in wanted)
        if len(wanted) == len(ItemState):
            return next(
                (c.count for c in category_counts(session, project_id) if c.id == category_id), 0
            )
    query: Any = select(func.count()).select_from(Item).where(col(Item.project_id) == project_id)
    if category_id is not None:
        query = query.join(ItemCategory, col(ItemCategory.item_id) == col(Item.id)).where(
            col(ItemCategory.category_id) == category_id
        )
    if len(wanted) < len(ItemState):
        query = query.where(col(Item.status).in_(sorted(wanted)))
    return int(session.exec(_matching(query, name=name, annotator_id=annotator_id)).one())
