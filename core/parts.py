"""Items made of several parts: files with roles and inline records, created together.

A modality that declares ``parts`` (see ``PartRole``) has its items made here, never from one
file: a point cloud frame from its ``points``, ``camera_front`` and ``calibration`` files, a
text record from its inline ``text``. Each part is checked against its role (required, known,
of an accepted media type, inline data of the role's schema and within
``limits.INLINE_PART_MAX``) and probed; a refusal names the part (``$.parts.<role>``).

The item's identity covers all its parts: ``Item.content_hash`` is the sha256 of a small
canonical description of them (each file part's sha256, each inline part's data), kept in the
media store like any file, so importing the same parts again finds the same item. Items of one
file have no parts rows and are untouched by this module.
"""

from __future__ import annotations

import io
import json
import logging
import mimetypes
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import msgspec
from sqlmodel import Session, col, select

from . import limits
from .contributions import Modality, PartRole
from .errors import InvalidInput, NotFound, invalid_from_msgspec
from .items import IngestResult, add_item, by_hash, keep_probed, modality_of, refuse_empty
from .models import Blob, Item, ItemPart, Project
from .plugins import Plugins
from .runtime import Runtime
from .storage import MediaStore

__all__ = [
    "ITEM_MEDIA_TYPE",
    "NewItem",
    "PartFile",
    "RecordsResult",
    "ingest_parts",
    "ingest_records",
    "parts_of",
]

log = logging.getLogger(__name__)

ITEM_MEDIA_TYPE = "application/vnd.scholia.parts+json"
"""The media type of a parts item's own stored file: the description its identity hashes."""


@dataclass(frozen=True)
class PartFile:
    """A file arriving for a file part: the name it was sent with and its bytes."""

    name: str
    source: BinaryIO
    media_type: str | None = None
    """As the sender declared it; else guessed from the name."""


@dataclass(frozen=True)
class NewItem:
    """What one item of parts is made of, as it arrives (an API record, an import row)."""

    files: Mapping[str, PartFile] = field(default_factory=dict)
    inline: Mapping[str, Any] = field(default_factory=dict)
    """Role → the inline part's data as plain JSON."""
    name: str = ""
    """For people; empty: the first part's file name, else ``record``."""
    provenance: Mapping[str, Any] = field(default_factory=dict)


def _roles(modality: Modality) -> dict[str, PartRole]:
    if not modality.parts:
        raise InvalidInput(
            f"{modality.title} items are made of one file each, not of parts: upload files",
            "$.parts",
        )
    return {role.name: role for role in modality.parts}


def _check_roles(roles: Mapping[str, PartRole], new: NewItem, prefix: str) -> None:
    known = ", ".join(f"{r.name} ({r.kind})" for r in roles.values())
    for name, kind in [*((n, "file") for n in new.files), *((n, "inline") for n in new.inline)]:
        role = roles.get(name)
        if role is None:
            raise InvalidInput(f"no part role {name!r}; the roles are {known}", f"{prefix}.{name}")
        if role.kind != kind:
            raise InvalidInput(
                f"part {name!r} is {'a file' if role.kind == 'file' else 'inline data'}, "
                f"not {'a file' if kind == 'file' else 'inline data'}",
                f"{prefix}.{name}",
            )
    for role in roles.values():
        if role.required and role.name not in new.files and role.name not in new.inline:
            raise InvalidInput(
                f"the required part {role.name!r} is missing", f"{prefix}.{role.name}"
            )


def _inline(role: PartRole, data: Any, path: str) -> tuple[Any, dict[str, Any]]:
    """The inline part's data (decoded through the role's schema, back to plain data) and
    what its probe reads of it."""
    try:
        encoded = msgspec.json.encode(data)
    except (TypeError, msgspec.EncodeError) as error:
        raise InvalidInput(f"the part is not JSON data ({error})", path) from None
    if len(encoded) > limits.INLINE_PART_MAX:
        raise InvalidInput(
            f"the part is {len(encoded):,} bytes of JSON; inline parts hold at most "
            f"{limits.INLINE_PART_MAX:,} (send larger content as a file part)",
            path,
        )
    decoded = data
    if role.schema is not None:
        try:
            decoded = msgspec.convert(data, role.schema)
        except msgspec.ValidationError as error:
            raise invalid_from_msgspec(error, path) from None
        data = msgspec.to_builtins(decoded)
    meta: dict[str, Any] = {"size": len(encoded)}
    if role.probe is not None:
        try:
            meta.update(role.probe(decoded))
        except ValueError as error:
            raise InvalidInput(f"the part cannot be read: {error}", path) from None
    return data, meta


def _identity(modality: str, parts: Mapping[str, Mapping[str, Any]]) -> bytes:
    """The canonical description an item of parts is identified by (sorted keys)."""
    return json.dumps(
        {"modality": modality, "parts": parts},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def ingest_parts(
    session: Session,
    store: MediaStore,
    plugins: Plugins,
    project: Project,
    new: NewItem,
    *,
    actor_id: int,
    path: str = "$",
) -> IngestResult:
    """Add one item made of parts to ``project``: each part checked against its role and
    probed, each file kept by sha256, inline data kept on its part row.

    Refused with ``InvalidInput`` at ``<path>.parts.<role>`` (a missing required role, an
    unknown one, a wrong media type, inline data too large or not of the role's schema, a
    file the probe cannot read); nothing is stored then. The same parts again return the
    existing item (``created`` False)."""
    modality = modality_of(plugins, project)
    roles = _roles(modality)
    prefix = f"{path}.parts"
    _check_roles(roles, new, prefix)
    inline = {
        name: _inline(roles[name], data, f"{prefix}.{name}") for name, data in new.inline.items()
    }
    assert project.id is not None
    with ExitStack() as stack:
        staged = {}
        for name, part in new.files.items():
            role, where = roles[name], f"{prefix}.{name}"
            media_type = (
                (
                    part.media_type
                    or mimetypes.guess_type(part.name)[0]
                    or "application/octet-stream"
                )
                .split(";")[0]
                .strip()
            )
            if role.media_types and media_type not in role.media_types:
                raise InvalidInput(
                    f"{part.name!r} is {media_type}; the {name!r} part takes "
                    + ", ".join(role.media_types),
                    where,
                )
            file = stack.enter_context(store.staging(part.source))
            try:
                refuse_empty(part.name, file)
            except InvalidInput as error:
                raise InvalidInput(error.reason, where) from None
            staged[name] = (part, file, media_type)
        described = {
            **{name: {"sha256": file.sha256} for name, (_, file, _) in staged.items()},
            **{name: {"data": data} for name, (data, _) in inline.items()},
        }
        identity = _identity(modality.name, described)
        with store.staging(io.BytesIO(identity)) as own:
            existing = by_hash(session, project.id, own.sha256)
            if existing is not None:
                return IngestResult(item=existing, created=False)
            probed = {}
            for name, (part, file, media_type) in staged.items():
                probed[name] = _probe_file(
                    session,
                    store,
                    modality,
                    roles[name],
                    part.name,
                    file,
                    media_type,
                    f"{prefix}.{name}",
                )
            store.keep(own)
            if session.get(Blob, own.sha256) is None:
                session.add(Blob(sha256=own.sha256, size=own.size, media_type=ITEM_MEDIA_TYPE))
            sha256 = own.sha256
    rows = [
        ItemPart(
            item_id=0,
            role=name,
            content_hash=file.sha256,
            name=Path(part.name).name,
            media_type=media_type,
            meta=probed[name],
        )
        for name, (part, file, media_type) in staged.items()
    ] + [
        ItemPart(item_id=0, role=name, data=data, media_type="application/json", meta=meta)
        for name, (data, meta) in inline.items()
    ]
    order = [r.name for r in modality.parts]
    rows.sort(key=lambda r: order.index(r.role))
    first_file = next((r.name for r in rows if r.name), "")
    item = Item(
        project_id=project.id,
        content_hash=sha256,
        name=(new.name or first_file or "record")[: limits.FILE_NAME_MAX],
        media_type=ITEM_MEDIA_TYPE,
        meta={"parts": {r.role: r.meta for r in rows}},
        provenance=dict(new.provenance),
    )

    def add_parts(made: Item) -> None:
        for row in rows:
            row.item_id = made.id  # type: ignore[assignment]
            session.add(row)
        session.flush()

    return add_item(session, project, item, actor_id=actor_id, before_slots=add_parts)


@dataclass
class RecordsResult:
    created: list[Item] = field(default_factory=list)
    existing: list[Item] = field(default_factory=list)
    """Records whose parts were already an item of the project: nothing was duplicated."""


def ingest_records(
    runtime: Runtime, project_id: int, records: Sequence[NewItem], *, actor_id: int
) -> RecordsResult:
    """Add several items of parts (a JSON body of records) in one transaction: all or none.
    A bad record refuses the batch, at ``$.records[<index>].parts.<role>``."""
    result = RecordsResult()
    with runtime.session() as session:
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound("project", project_id)
        for index, new in enumerate(records):
            made = ingest_parts(
                session,
                runtime.store,
                runtime.plugins,
                project,
                new,
                actor_id=actor_id,
                path=f"$.records[{index}]",
            )
            (result.created if made.created else result.existing).append(made.item)
    return result


def _probe_file(
    session: Session,
    store: MediaStore,
    modality: Modality,
    role: PartRole,
    name: str,
    staged: Any,
    media_type: str,
    where: str,
) -> dict[str, Any]:
    """The file part's probed metadata (its role's probe, else the modality's), the file
    then kept; refused at ``where`` when it cannot be read."""
    if role.probe is None:
        try:
            return {
                "size": staged.size,
                **keep_probed(session, store, modality, name, staged, media_type),
            }
        except InvalidInput as error:
            raise InvalidInput(error.reason, where) from None
    try:
        meta = role.probe(staged.path)
    except ValueError as error:
        raise InvalidInput(f"{name!r} cannot be read: {error}", where) from None
    store.keep(staged)
    if session.get(Blob, staged.sha256) is None:
        session.add(Blob(sha256=staged.sha256, size=staged.size, media_type=media_type))
    return {"size": staged.size, **meta}


def parts_of(session: Session, item_ids: Iterable[int]) -> dict[int, list[ItemPart]]:
    """The parts of these items in their modality's order of roles (as stored), by item id;
    items of one file are absent."""
    ids: Sequence[int] = list(item_ids)
    found: dict[int, list[ItemPart]] = {}
    if not ids:
        return found
    for part in session.exec(
        select(ItemPart).where(col(ItemPart.item_id).in_(ids)).order_by(col(ItemPart.id))
    ):
        found.setdefault(part.item_id, []).append(part)
    return found
