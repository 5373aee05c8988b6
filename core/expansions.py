"""Expansions: a container file (a video) turned into items of a project (its frames).

A project takes the files of its own modality as items, and also the files of a container
modality that ``yields`` it: a video uploaded to an image project is kept in the store, and an
expansion job makes one item per frame the modality's ``expand`` gives, each with where it came
from in ``item.provenance`` (its ``container`` and its position: frame index, timestamp).

The job (``JOB``, kind ``expansion``) is resumable the way suggestion jobs are: its progress
is on its row, written with each batch of items in the same transaction; a failed (a
truncated file), cancelled or stalled expansion runs again from the start, and the items it
already made are found by their content and not made twice. The same file with the same
options is one expansion, however often it is uploaded.
"""

from __future__ import annotations

import hashlib
import io
import json
import mimetypes
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

import msgspec
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from . import audit, jobs
from .contributions import ContainerFile, ExpandedItem, Modality
from .errors import InvalidInput, NotFound, ScholiaError
from .items import container_for, ingest, keep_probed, refuse_empty
from .models import Expansion, JobStatus, Project
from .models.types import utcnow
from .plugins import Plugins
from .runtime import Runtime
from .storage import MediaStore

__all__ = [
    "BATCH",
    "JOB",
    "Started",
    "decode_options",
    "expected",
    "get_expansion",
    "list_expansions",
    "run",
    "start",
]

BATCH = 16
"""Items stored, with the job's progress, per transaction: a frame is tens of kilobytes and is
probed and hashed, so a batch is a fraction of a second and a cancel is seen promptly."""


@dataclass(frozen=True)
class Started:
    expansion: Expansion
    created: bool
    """False when the same file with the same options was expanded (or is) already."""


def decode_options(modality: Modality, options: Mapping[str, Any] | None) -> Any:
    """The upload's options as the modality's ``expand_options`` Struct (its defaults when
    none were given); a bad one is refused with the field's path."""
    if modality.expand_options is None:
        return None
    try:
        # strict=False: options from a form arrive as text ("10" for a count)
        return msgspec.convert(dict(options or {}), modality.expand_options, strict=False)
    except msgspec.ValidationError as error:
        message, _, path = str(error).rpartition(" - at `")
        where = "$.options" + path.rstrip("`").removeprefix("$") if path else "$.options"
        raise InvalidInput(message or str(error), where) from None


def _key(options: Any) -> tuple[dict[str, Any], str]:
    plain = msgspec.to_builtins(options) if options is not None else {}
    canonical = json.dumps(plain, sort_keys=True, separators=(",", ":"))
    return plain, hashlib.sha256(canonical.encode()).hexdigest()


def start(
    session: Session,
    store: MediaStore,
    plugins: Plugins,
    project: Project,
    *,
    name: str,
    source: BinaryIO,
    options: Mapping[str, Any] | None,
    actor_id: int,
) -> Started:
    """Keep a container file and queue its expansion into ``project``.

    A file the container modality cannot read (corrupt, no video stream, unknown codec) is
    refused with ``InvalidInput`` naming the file and the reason, and nothing is kept."""
    modality = container_for(plugins, project, name)
    if modality is None:
        raise InvalidInput(f"{name!r} is not a file that expands into {project.modality} items")
    plain, key = _key(decode_options(modality, options))
    assert project.id is not None
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    with store.staging(source) as staged:
        refuse_empty(name, staged)
        existing = _find(session, project.id, staged.sha256, key)
        if existing is not None:
            return Started(existing, created=False)
        meta = keep_probed(session, store, modality, name, staged, media_type)
        sha256, size = staged.sha256, staged.size
    expansion = Expansion(
        project_id=project.id,
        source_sha256=sha256,
        name=Path(name).name,
        modality=modality.name,
        options=plain,
        options_key=key,
        meta={"size": size, **meta},
        created_by=actor_id,
        progress_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(expansion)
            session.flush()
    except IntegrityError:  # the same upload arrived concurrently
        raced = _find(session, project.id, sha256, key)
        assert raced is not None
        return Started(raced, created=False)
    _audit(session, expansion, "start", actor_id, None, data={"name": name, "options": plain})
    return Started(expansion, created=True)


def _find(session: Session, project_id: int, sha256: str, key: str) -> Expansion | None:
    return session.exec(
        select(Expansion).where(
            col(Expansion.project_id) == project_id,
            col(Expansion.source_sha256) == sha256,
            col(Expansion.options_key) == key,
        )
    ).first()


def _audit(
    session: Session,
    expansion: Expansion,
    action: str,
    actor_id: int,
    from_state: str | None,
    data: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        actor_id=actor_id,
        project_id=expansion.project_id,
        entity="expansion",
        entity_id=expansion.id,
        action=action,
        from_state=from_state,
        to_state=expansion.status,
        data=data,
    )


def get_expansion(session: Session, expansion_id: int, project_id: int | None = None) -> Expansion:
    expansion = session.get(Expansion, expansion_id)
    if expansion is None or (project_id is not None and expansion.project_id != project_id):
        raise NotFound("expansion", expansion_id)
    return expansion


def list_expansions(session: Session, project_id: int, limit: int = 20) -> list[Expansion]:
    """The project's latest expansions, newest first."""
    return list(
        session.exec(
            select(Expansion)
            .where(col(Expansion.project_id) == project_id)
            .order_by(col(Expansion.id).desc())
            .limit(limit)
        )
    )


def _take(items: Iterator[ExpandedItem], count: int) -> tuple[list[ExpandedItem], str | None]:
    """Up to ``count`` items, and why the container stopped, if it did."""
    taken: list[ExpandedItem] = []
    try:
        taken.extend(islice(items, count))
    except ValueError as error:  # a truncated file: what came before it is kept
        return taken, str(error)
    return taken, None


def _store(
    runtime: Runtime, expansion_id: int, project: Project, batch: list[ExpandedItem]
) -> bool:
    """One batch of items and the job's progress, in one transaction; False when the job was
    cancelled meanwhile (the batch is still stored: nothing is thrown away)."""
    with runtime.session() as session:
        stored = get_expansion(session, expansion_id)
        container = {
            "sha256": stored.source_sha256,
            "name": stored.name,
            "modality": stored.modality,
        }
        for item in batch:
            ingested = ingest(
                session,
                runtime.store,
                runtime.plugins,
                project,
                name=item.name,
                source=io.BytesIO(item.data),
                actor_id=stored.created_by,
                provenance={**item.provenance, "container": container},
            )
            if ingested.created:
                stored.created += 1
            else:
                stored.existing += 1
        stored.processed += len(batch)
        stored.progress_at = utcnow()
        session.add(stored)
        return stored.status == JobStatus.running


def run(
    runtime: Runtime,
    expansion_id: int,
    on_progress: Callable[[Expansion], None] | None = None,
) -> Expansion:
    """Make the expansion's items until the container is done, it is cancelled or it fails."""
    with runtime.reading() as session:
        expansion = get_expansion(session, expansion_id)
        project = session.get(Project, expansion.project_id)
        assert project is not None
    if expansion.status != JobStatus.running:
        return expansion
    modality = runtime.plugins.modalities.get(expansion.modality)
    if modality is None or modality.expand is None:
        jobs.finish(
            runtime,
            Expansion,
            expansion_id,
            JobStatus.failed,
            f"No loaded plugin expands {expansion.modality!r} files; install it and retry.",
        )
        return _reread(runtime, expansion_id)
    try:
        produced = _produced(runtime, modality, expansion)
        _record_total(runtime, expansion_id, operator.length_hint(produced, 0) or None)
        items = iter(produced)
        while True:
            batch, stopped = _take(items, BATCH)
            still_running = _store(runtime, expansion_id, project, batch) if batch else True
            if stopped is not None:
                jobs.finish(runtime, Expansion, expansion_id, JobStatus.failed, stopped)
                break
            if len(batch) < BATCH:
                jobs.finish(runtime, Expansion, expansion_id, JobStatus.done)
                break
            if not still_running:
                break
            if on_progress is not None:
                on_progress(_reread(runtime, expansion_id))
    except (ScholiaError, ValueError) as error:  # unreadable now, or a frame refused
        message = error.message if isinstance(error, ScholiaError) else str(error)
        jobs.finish(runtime, Expansion, expansion_id, JobStatus.failed, message)
    except Exception as error:  # a bug: the job still stops, saying so, and can be retried
        jobs.finish(
            runtime, Expansion, expansion_id, JobStatus.failed, f"{type(error).__name__}: {error}"
        )
        raise
    return _reread(runtime, expansion_id)


def _produced(runtime: Runtime, modality: Modality, expansion: Expansion) -> Iterable[ExpandedItem]:
    """The items the container yields (lazily: nothing is decoded until they are read)."""
    assert modality.expand is not None
    container = ContainerFile(
        path=runtime.store.path(expansion.source_sha256),
        sha256=expansion.source_sha256,
        name=expansion.name,
        meta=expansion.meta,
    )
    return modality.expand(container, decode_options(modality, expansion.options))


def expected(runtime: Runtime, expansion: Expansion) -> int | None:
    """How many items the expansion should make, when its modality can tell (before it runs,
    for a progress bar)."""
    modality = runtime.plugins.modalities.get(expansion.modality)
    if modality is None or modality.expand is None:
        return None
    return operator.length_hint(_produced(runtime, modality, expansion), 0) or None


def _record_total(runtime: Runtime, expansion_id: int, total: int | None) -> None:
    with runtime.session() as session:
        stored = get_expansion(session, expansion_id)
        stored.total = total
        session.add(stored)


def _reread(runtime: Runtime, expansion_id: int) -> Expansion:
    with runtime.reading() as session:
        return get_expansion(session, expansion_id)


JOB = jobs.JobKind(
    name="expansion",
    table=Expansion,
    run=run,
    describe=lambda expansion: f"The expansion of {expansion.name!r}",
    noun="expansion",
    reset={"processed": 0, "existing": 0},  # its items so far stay and are found again
    url=lambda expansion: f"/api/v1/expansions/{expansion.id}",
)
"""Its items so far stay on a retry, and are found by their content, not made again."""
