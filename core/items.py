"""Items: ingesting media into a project (stored once, probed by the modality) and listing them."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from . import audit
from .contributions import Modality
from .counts import GROUPS
from .errors import InvalidInput, NotFound
from .lifecycle import ItemState
from .models import Assignment, Blob, Item, ItemCategory, Project
from .plugins import Plugins
from .runtime import Runtime
from .storage import MediaStore

__all__ = ["BatchResult", "IngestResult", "get_item", "ingest", "ingest_files", "list_items"]


@dataclass(frozen=True)
class IngestResult:
    item: Item
    created: bool
    """False when the same bytes were already in the project: nothing new was stored."""


def _modality(plugins: Plugins, project: Project) -> Modality:
    modality = plugins.modalities.get(project.modality)
    if modality is None:
        raise InvalidInput(
            f"Project {project.id} labels {project.modality!r} media, but no loaded plugin "
            "provides that modality; install it and restart",
            "$.modality",
        )
    return modality


def _media_type(modality: Modality, name: str) -> str:
    suffix = Path(name).suffix.lower()
    guessed = mimetypes.guess_type(name)[0]
    if suffix not in modality.extensions and guessed not in modality.media_types:
        accepted = ", ".join(modality.extensions)
        raise InvalidInput(
            f"{name!r} is not {modality.title.lower()} media: accepted extensions are {accepted}",
            "$.file",
        )
    return guessed or modality.media_types[0]


def ingest(
    session: Session,
    store: MediaStore,
    plugins: Plugins,
    project: Project,
    *,
    name: str,
    source: BinaryIO,
    actor_id: int,
) -> IngestResult:
    """Add one file to ``project``: check it with the modality's probe, store it by sha256.

    A file the modality cannot read raises ``InvalidInput`` naming the file and the reason;
    nothing is stored for it. Re-adding the same bytes returns the existing item.
    """
    modality = _modality(plugins, project)
    media_type = _media_type(modality, name)
    assert project.id is not None
    with store.staging(source) as staged:
        if staged.size == 0:
            raise InvalidInput(f"{name!r} is empty (0 bytes)", "$.file")
        sha256, size = staged.sha256, staged.size
        existing = _by_hash(session, project.id, sha256)
        if existing is not None:  # already probed and kept: nothing to write
            return IngestResult(item=existing, created=False)
        try:
            meta = modality.probe(staged.path)
        except ValueError as error:
            raise InvalidInput(f"{name!r} cannot be read: {error}", "$.file") from None
        store.keep(staged)
    if session.get(Blob, sha256) is None:
        session.add(Blob(sha256=sha256, size=size, media_type=media_type))
    item = Item(
        project_id=project.id,
        content_hash=sha256,
        name=Path(name).name,
        media_type=media_type,
        meta={"size": size, **meta},
    )
    try:
        with session.begin_nested():
            session.add(item)
            session.flush()
    except IntegrityError:  # the same bytes arrived concurrently
        raced = _by_hash(session, project.id, sha256)
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
        data={"name": item.name, "sha256": sha256},
    )
    return IngestResult(item=item, created=True)


@dataclass
class BatchResult:
    created: list[Item] = field(default_factory=list)
    existing: list[Item] = field(default_factory=list)
    """Files whose bytes were already in the project: nothing was duplicated."""
    problems: list[tuple[str, str]] = field(default_factory=list)
    """(file name, reason) for each file that was refused."""


def ingest_files(
    runtime: Runtime,
    project_id: int,
    files: Iterable[tuple[str, BinaryIO]],
    *,
    actor_id: int,
    on_file: Callable[[str, str], None] | None = None,
) -> BatchResult:
    """Ingest several files, each in its own transaction: a bad file is reported by name with
    the reason, and the rest of the batch goes in.

    ``on_file(name, outcome)``, if given, is called after each file with ``"created"``,
    ``"existing"`` or ``"refused"`` (the reason is in the result's ``problems``)."""
    result = BatchResult()
    with runtime.session() as session:  # read once; each file below is its own transaction
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound("project", project_id)
    for name, source in files:
        try:
            with runtime.session() as session:
                ingested = ingest(
                    session,
                    runtime.store,
                    runtime.plugins,
                    project,
                    name=name,
                    source=source,
                    actor_id=actor_id,
                )
        except InvalidInput as error:
            result.problems.append((name, error.reason))
            if on_file is not None:
                on_file(name, "refused")
            continue
        (result.created if ingested.created else result.existing).append(ingested.item)
        if on_file is not None:
            on_file(name, "created" if ingested.created else "existing")
    return result


def _by_hash(session: Session, project_id: int, sha256: str) -> Item | None:
    return session.exec(
        select(Item).where(col(Item.project_id) == project_id, col(Item.content_hash) == sha256)
    ).first()


def get_item(session: Session, item_id: int, project_id: int | None = None) -> Item:
    item = session.get(Item, item_id)
    if item is None or (project_id is not None and item.project_id != project_id):
        raise NotFound("item", item_id)
    return item


def list_items(
    session: Session,
    project_id: int,
    *,
    status: str | None = None,
    group: str | None = None,
    category_id: int | None = None,
    after_id: int | None = None,
    before_id: int | None = None,
    last: bool = False,
    limit: int = 50,
) -> list[Item]:
    """A page of items in id order, by keyset (no OFFSET scan, whatever the page).

    Filters: one lifecycle ``status``, a status ``group`` (see ``counts.GROUPS``: all,
    unlabeled, in_review, done) and a ``category_id`` the item's current annotations use.
    Pages: the first by default; those after ``after_id``; those just before ``before_id``;
    or the ``last`` page. Backwards pages are read in descending id order, so the last page
    costs what the first does; the result is always in ascending id order.

    A group of several states is read as one index range per state (``project_id, status,
    id``), merged by id: each range stops after ``limit`` rows, however many items match.
    """
    limit = max(1, min(limit, 501))
    if status is not None and status not in ItemState.__members__:
        raise InvalidInput(f"Unknown status {status!r}; statuses are {', '.join(ItemState)}")
    if group is not None and group not in GROUPS:
        raise InvalidInput(f"Unknown group {group!r}; groups are {', '.join(GROUPS)}")
    if after_id is not None and (before_id is not None or last):
        raise InvalidInput("Page forwards (after) or backwards (before, last), not both")
    descending = before_id is not None or last
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
        key: Any = col(ItemCategory.item_id)
        base = (
            select(Item)
            .join(ItemCategory, key == col(Item.id))
            .where(
                col(ItemCategory.project_id) == project_id,
                col(ItemCategory.category_id) == category_id,
            )
        )
        queries = [base if states == [None] else base.where(col(Item.status).in_(states))]
    else:
        key = col(Item.id)
        base = select(Item).where(col(Item.project_id) == project_id)
        queries = [base if s is None else base.where(col(Item.status) == s) for s in states]
    found: list[Item] = []
    for query in queries:
        if after_id is not None:
            query = query.where(key > after_id)
        if before_id is not None:
            query = query.where(key < before_id)
        query = query.order_by(key.desc() if descending else key).limit(limit)
        found.extend(session.exec(query))
    found.sort(key=lambda i: i.id or 0, reverse=descending)
    page = found[:limit]
    return page[::-1] if descending else page
