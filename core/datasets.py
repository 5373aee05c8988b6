"""Dataset versions: immutable, reproducible exports that carry their proof.

A version is built in a hidden folder beside the released ones and renamed into place only when
complete, so a crash half-way leaves nothing visible; its row stays ``building`` and ``build``
run again on it starts over and completes it. The layout:

* ``media/<item id>-<name>``: the files the items reference, hard-linked from the store
  (copied where linking fails); an item of parts has each file part at
  ``media/<item id>-<role>-<name>``;
* ``records.jsonl``: one line per item, in item id order, the same for every modality and
  annotation type: ``item`` (``id``, ``name``, ``media_type``, ``meta`` as the modality probed
  it, ``provenance`` as where it came from, ``files``: each ``{path, sha256}`` under media/,
  with its ``role`` for an item of parts, whose ``parts`` list each part: ``role``,
  ``media_type``, ``meta``, and ``data`` inline or ``name`` and ``path`` for a file),
  ``labels`` (each chosen label: ``annotation_type``, ``payload`` as its type's payload, and
  where it came from: ``annotation_id``, the annotator's pseudonym, guideline version, time
  spent, confidence, source, ``adjudication``, ``aggregation``) and ``reviews`` (the item's
  review decisions, oldest first). The provenance lives on the label it explains, so one line
  is all a reader needs of an item; formats (COCO among them) are written from it by
  ``scholia.core.exports``;
* ``checksums.sha256``: the sha256 of every media file and of ``records.jsonl``, in
  ``sha256sum`` form;
* ``manifest.json``: ``content`` (everything the content hash covers: ``layout``, schema,
  categories, selection, counts, the ``containers`` (videos…) items were extracted from, and
  the sha256 of the two files above, so of every file through ``checksums.sha256``),
  ``content_hash``, and outside it the version number, the time and the export gate's report.
  Its size does not grow with the version's items.

Versions written before this layout (``images/``, COCO ``annotations.json``,
``provenance.jsonl``, ``images.sha256``) stay as they are, and are read as they are: download,
exports and recheck work on both (see ``LAYOUT``).

The same selection over the same data gives the same bytes and the same ``content_hash``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import msgspec
import sqlalchemy
from sqlalchemy import Row, bindparam, func, update
from sqlmodel import Session, col, select

from . import audit, comparison, labels, limits
from .consensus import valid_annotation_rows
from .contributions import AnnotationType, QualityRule, RuleResult
from .driver_values import DriverValues, raw
from .errors import Conflict, InvalidInput, NotFound, StorageFailed, invalid_from_msgspec
from .item_state import ItemState
from .models import (
    Adjudication,
    DatasetVersion,
    DatasetVersionStatus,
    GuidelineVersion,
    Item,
    ItemCategory,
    ItemPart,
    Project,
    Review,
    User,
)
from .models.types import utcnow
from .parts import parts_of
from .plugins import Plugins
from .project_settings import settings_of
from .quality.aggregation import dawid_skene
from .runtime import Runtime
from .storage import Placer

__all__ = [
    "GateContext",
    "Selection",
    "build",
    "count_selected",
    "create",
    "export_folder",
    "gate_report",
    "get_version",
    "list_versions",
    "parse_selection",
    "recheck",
    "run_gate",
]

CHUNK = 500
"""Items read per query while writing: memory stays flat whatever the project's size."""

LAYOUT = 2
"""The version folder's layout, in the manifest's ``content.layout``: 2 is the modality-neutral
one below. Versions written before it (no ``layout``; ``images/``, ``annotations.json``,
``provenance.jsonl``, ``images.sha256``) are read as they are, never rewritten: their content
hash covers their bytes."""

MEDIA = "media"
"""The folder of the files items reference, each ``<item id>-<name>`` (unique in a version)."""

RECORDS = "records.jsonl"
"""One line per item, in item id order: the item, its chosen labels with their provenance."""

CHECKSUMS = "checksums.sha256"
"""The sha256 of every media file and of ``records.jsonl``, one ``<sha256>  <path>`` line each
(``sha256sum -c`` reads it). The manifest holds the sha256 of this list, so it covers every
file while its own size stays the same whatever the version's size."""

FIRST_LAYOUT_CHECKSUMS = "images.sha256"
"""The checksum list of a version of the first layout (its media only)."""

PROGRESS_EVERY_S = 0.25
"""How often a build writes its progress on the version's row (pages and the API read it)."""


class Selection(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Which items go into a version (all conditions apply together)."""

    statuses: tuple[str, ...] = (ItemState.approved.value,)
    category_ids: tuple[limits.Id, ...] = ()
    """Items with at least one of these categories; empty means any."""
    annotator_ids: tuple[limits.Id, ...] = ()
    """Items whose canonical label is by one of these annotators; empty means anyone."""
    labeled_from: datetime | None = None
    labeled_until: datetime | None = None
    """The canonical label was made in [from, until); UTC."""


def parse_selection(raw: dict[str, Any] | None) -> Selection:
    try:
        selection = msgspec.convert(raw or {}, Selection)
    except msgspec.ValidationError as error:
        raise invalid_from_msgspec(error, "$.selection") from None
    for index, status in enumerate(selection.statuses):
        if status not in ItemState.__members__:
            raise InvalidInput(
                f"Unknown status {status!r}; statuses are {', '.join(ItemState)}",
                f"$.selection.statuses[{index}]",
            )
    if not selection.statuses:
        raise InvalidInput("Choose at least one status", "$.selection.statuses")
    return selection


@dataclass(frozen=True)
class GateContext:
    """What a quality rule sees: the export gate judging a version before release, or the
    Quality Hub judging the project as it is now."""

    session: Session
    plugins: Plugins
    project: Project
    item_ids: Sequence[int] | None
    """The items of the version being judged; None for the whole project (the Quality Hub)."""
    version: DatasetVersion | None = None


def export_folder(runtime: Runtime, project_id: int) -> Path:
    return runtime.settings.data_dir / "datasets" / f"project-{project_id}"


def _folder(runtime: Runtime, version: DatasetVersion) -> Path:
    return export_folder(runtime, version.project_id) / f"v{version.version}"


# --- choosing the records ---------------------------------------------------------------------


@dataclass
class _Record:
    item: Row[Any]
    """The item's columns a version writes (``_ITEM_COLUMNS``)."""
    annotations: list[Row[Any]]
    """Its canonical annotations, as rows (``consensus.valid_annotation_rows``)."""
    reviews: list[Row[Any]]
    """Every review decision on the item, oldest first (the last one is its standing)."""
    adjudications: dict[int, Adjudication]
    votes: dict[Any, dict[str, Any]] = field(default_factory=dict)
    """How a canonical annotation was chosen by majority vote, by its id (as read)."""
    parts: list[ItemPart] = field(default_factory=list)
    """What the item is made of, when its modality has parts."""


_ITEM_COLUMNS = (
    col(Item.id),
    col(Item.name),
    col(Item.media_type),
    col(Item.meta),
    col(Item.provenance),
    col(Item.content_hash),
    col(Item.is_gold),
)
"""What a version writes of an item: rows of these, not ORM objects (a build reads every item
and changes none; building the objects cost more than the query)."""


def _selected_items(
    session: Session, project_id: int, selection: Selection, after_id: int
) -> list[Row[Any]]:
    query = _filtered(sqlalchemy.select(*_ITEM_COLUMNS), project_id, selection).where(
        col(Item.id) > after_id
    )
    return list(session.connection().execute(query.order_by(col(Item.id)).limit(CHUNK)))


def _filtered(query: Any, project_id: int, selection: Selection) -> Any:
    """``query`` over items, narrowed by the selection's statuses and categories."""
    query = query.where(
        col(Item.project_id) == project_id, col(Item.status).in_(selection.statuses)
    )
    if selection.category_ids:
        query = query.where(
            col(Item.id).in_(
                select(ItemCategory.item_id).where(
                    col(ItemCategory.project_id) == project_id,
                    col(ItemCategory.category_id).in_(selection.category_ids),
                )
            )
        )
    return query


Estimates = dict[tuple[int, str], tuple[Any, float]]
"""(item id, annotation type) → the label Dawid–Skene estimates (a decoded payload; None on a
tie) and its posterior probability."""


def _aggregated(kind: AnnotationType, of_type: list[Row[Any]]) -> tuple[Any, dict[str, Any]]:
    """The type's one label from several, and how it was reached (``"majority"`` for the
    core's default vote, ``"aggregate"`` with the type's name for its own or a default
    medoid); None when the type cannot combine them (a tie)."""
    assert kind.aggregate is not None  # completed at registration
    combined = kind.aggregate([kind.decode(a.payload) for a in of_type])
    if kind.aggregate is comparison.majority:
        return combined, {"method": "majority"}
    return combined, {"method": "aggregate", "annotation_type": kind.name}


def _canonical(
    plugins: Plugins,
    current: list[Row[Any]],
    estimates: Estimates | None = None,
    *,
    uuid_text: Callable[[Any], str] = str,
) -> tuple[list[Row[Any]], dict[Any, dict[str, Any]], str | None]:
    """One annotation per type: the adjudicated one, else the only one, else the one that
    agrees fully with the type's ``aggregate`` — or with Dawid–Skene's estimate where
    ``estimates`` has one (vote types, when the project chose it) — with how it was reached;
    or why there is none (a tie waits for adjudication).

    When no annotation agrees fully (the aggregate is a new combination: a per-category
    majority of multi-label sets), the one closest to it by the type's agreement is chosen and
    the aggregate's payload goes in the vote record under ``"payload"`` (what the version
    exports as the label). ``uuid_text`` writes an id (a build's rows hold them as the driver
    gives them, see ``driver_values``)."""
    chosen: list[Row[Any]] = []
    votes: dict[Any, dict[str, Any]] = {}
    for annotation_type in sorted({a.annotation_type for a in current}):
        of_type = [a for a in current if a.annotation_type == annotation_type]
        adjudicated = [a for a in of_type if a.adjudication_id is not None]
        if adjudicated:
            chosen.append(adjudicated[-1])
            continue
        if len(of_type) == 1:
            chosen.append(of_type[0])
            continue
        kind = plugins.annotation_type(annotation_type)
        assert kind.agreement is not None  # completed at registration
        estimate = (estimates or {}).get((of_type[0].item_id, annotation_type))
        if estimate is not None:
            winner, how = estimate[0], {"method": "dawid_skene", "posterior": estimate[1]}
        else:
            winner, how = _aggregated(kind, of_type)
        if winner is None:
            return [], {}, f"a tied vote on {annotation_type} and no adjudication"
        scores = [float(kind.agreement(kind.decode(a.payload), winner)) for a in of_type]
        agreeing = [a for a, score in zip(of_type, scores, strict=True) if score >= 1.0]
        closest = agreeing[0] if agreeing else of_type[scores.index(max(scores))]
        chosen.append(closest)
        votes[closest.id] = {
            **how,
            "votes": len(agreeing),
            "of": len(of_type),
            "agreeing": [uuid_text(a.id) for a in agreeing],
        }
        if not agreeing:
            votes[closest.id]["payload"] = msgspec.to_builtins(winner)
    return chosen, votes, None


def _label_code(
    kind: AnnotationType, payload: Any, seen: list[Any], known: dict[bytes, int]
) -> int:
    """The code of ``payload`` among the labels ``seen`` so far (the first it agrees with
    fully), adding it when it is new; ``known`` remembers exact payloads already coded."""
    exact = comparison.plain_key(payload)
    code = known.get(exact)
    if code is None:
        code = next(
            (k for k, other in enumerate(seen) if comparison.same_as(kind, other, payload)),
            None,
        )
        if code is None:
            code = len(seen)
            seen.append(payload)
        known[exact] = code
    return code


def _dawid_skene(
    session: Session, plugins: Plugins, project_id: int, selection: Selection
) -> Estimates:
    """Dawid–Skene fitted per vote type (``AnnotationType.votes``: labels that are discrete
    choices) over the selected items that have several labels and no adjudication (one read
    of the selection before the write). Labels are told apart by the type's agreement; other
    types keep their own ``aggregate``."""
    triples: dict[str, list[tuple[int, int, int]]] = {}
    seen: dict[str, list[Any]] = {}
    known: dict[str, dict[bytes, int]] = {}
    after = 0
    while chunk := _selected_items(session, project_id, selection, after):
        after = chunk[-1].id  # type: ignore[assignment]
        current = valid_annotation_rows(session, [i.id for i in chunk])
        for item_id, found in current.items():
            for annotation_type in {a.annotation_type for a in found}:
                kind = plugins.annotation_type(annotation_type)
                of_type = [a for a in found if a.annotation_type == annotation_type]
                if (
                    not kind.votes
                    or len(of_type) < 2
                    or any(a.adjudication_id is not None for a in of_type)
                ):
                    continue
                seen_of = seen.setdefault(annotation_type, [])
                codes = known.setdefault(annotation_type, {})
                triples.setdefault(annotation_type, []).extend(
                    (
                        item_id,
                        a.annotator_id,
                        _label_code(kind, kind.decode(a.payload), seen_of, codes),
                    )
                    for a in of_type
                )
    estimates: Estimates = {}
    for annotation_type, rows in triples.items():
        labels_seen = seen[annotation_type]
        if len(labels_seen) < 2:
            continue  # everyone agreed everywhere: the vote says the same
        fit = dawid_skene(rows, labels=list(range(len(labels_seen))))
        best = fit.posterior.max(axis=1).tolist()
        for unit, code, probability in zip(fit.units, fit.labels.values(), best, strict=True):
            label = None if code is None else labels_seen[int(code)]
            estimates[(unit, annotation_type)] = (label, round(float(probability), 6))
    return estimates


_REVIEWS: Any = (
    sqlalchemy.select(
        *(
            raw(column) if column.name == "created_at" else column
            for column in Review.__table__.c  # type: ignore[attr-defined]
        )
    )
    .where(col(Review.item_id).in_(bindparam("item_ids", expanding=True)))
    .order_by(col(Review.id))
)
"""Every review of some items, oldest first (built once: a build asks for every chunk); its
time as the driver gives it (``driver_values``)."""


def _records(
    session: Session,
    plugins: Plugins,
    project_id: int,
    selection: Selection,
    excluded: dict[str, int],
    estimates: Estimates | None = None,
) -> Iterator[_Record]:
    """The selected items with their canonical annotations, in item id order, chunk by chunk."""
    values = DriverValues.of(session.connection().dialect.name)
    after = 0
    while chunk := _selected_items(session, project_id, selection, after):
        after = chunk[-1].id  # type: ignore[assignment]
        ids = [i.id for i in chunk]
        current = valid_annotation_rows(session, ids)
        reviews: dict[int, list[Row[Any]]] = {}
        for review in session.connection().execute(_REVIEWS, {"item_ids": ids}):
            reviews.setdefault(review.item_id, []).append(review)
        adjudications = {
            a.id: a
            for a in session.exec(select(Adjudication).where(col(Adjudication.item_id).in_(ids)))
        }
        made_of = parts_of(session, ids)
        for item in chunk:
            chosen, votes, problem = _canonical(
                plugins,
                current.get(item.id, []),  # type: ignore[arg-type]
                estimates,
                uuid_text=values.uuid_text,
            )
            if item.is_gold:
                problem = "gold item (kept for quality control)"
            elif problem is None and not chosen:
                problem = "no label"
            wanted = selection.annotator_ids
            if problem is None and wanted and any(a.annotator_id not in wanted for a in chosen):
                continue
            if problem is None and (selection.labeled_from or selection.labeled_until):
                start, end = selection.labeled_from, selection.labeled_until
                made = [values.moment(a.created_at) for a in chosen]
                if any((start and at < start) or (end and at >= end) for at in made):
                    continue
            if problem is not None:
                excluded[problem] = excluded.get(problem, 0) + 1
                continue
            yield _Record(
                item,
                chosen,
                reviews.get(item.id, []),  # type: ignore[arg-type]
                adjudications,  # type: ignore[arg-type]
                votes,
                made_of.get(item.id, []),  # type: ignore[arg-type]
            )


# --- writing ----------------------------------------------------------------------------------


_LINE = msgspec.json.Encoder(order="sorted")
"""A records.jsonl line: canonical JSON (sorted keys, no spaces, UTF-8), so equal content gives
equal bytes; msgspec writes it ~8× faster than ``json.dumps`` (one line per item). It writes
floats in the shortest exponent form (``1e-5``, where ``json`` writes ``1e-05``)."""


def _content_hash(content: dict[str, Any]) -> str:
    """The sha256 of the canonical JSON of ``content`` (sorted keys, no spaces, as
    ``json.dumps`` writes it), encoded piece by piece: the file list is long."""
    digest = hashlib.sha256()
    for piece in _CANONICAL.iterencode(content):
        digest.update(piece.encode())
    return digest.hexdigest()


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class _Writer:
    """Streams the version's files: memory holds one chunk of items, never the whole set."""

    folder: Path
    runtime: Runtime
    session: Session
    names: dict[int, str] = field(default_factory=dict)
    guidelines: dict[int, int] = field(default_factory=dict)
    items: int = 0
    annotations: int = 0
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The files items were extracted from (a frame's video), by sha256, with item counts."""
    records_digest: Any = field(default_factory=hashlib.sha256)
    checksums_digest: Any = field(default_factory=hashlib.sha256)
    """The two files' sha256 as they are written, for the manifest (not read back again)."""
    root: str = field(init=False, default="")
    """``folder`` as a string: joining strings is cheaper than ``Path`` once per file."""
    placer: Placer = field(init=False)
    values: DriverValues = field(init=False)
    """The rows' ids and times as their driver gives them, written as text."""
    lines: list[bytes] = field(init=False, default_factory=list)
    listed: list[str] = field(init=False, default_factory=list)
    """Lines of the two files not yet written: they go out a chunk at a time (one write and
    one digest update instead of one per item)."""

    def __post_init__(self) -> None:
        (self.folder / MEDIA).mkdir(parents=True)
        self.root = str(self.folder)
        self.placer = Placer()
        self.values = DriverValues.of(self.session.connection().dialect.name)
        self.records: IO[bytes] = (self.folder / RECORDS).open("wb")
        self.checksums: IO[str] = (self.folder / CHECKSUMS).open("w", encoding="utf-8")

    def _pseudonym(self, user_id: int) -> str:
        if user_id not in self.names:
            user = self.session.get(User, user_id)
            self.names[user_id] = user.pseudonym if user is not None else f"user-{user_id}"
        return self.names[user_id]

    def _guideline(self, guideline_id: int) -> int:
        if guideline_id not in self.guidelines:
            guideline = self.session.get(GuidelineVersion, guideline_id)
            self.guidelines[guideline_id] = guideline.version if guideline is not None else 0
        return self.guidelines[guideline_id]

    def _file(self, content_hash: str, path: str) -> str:
        """Place a stored file at ``path`` under the version; its sha256, listed.

        The store is content-addressed (a file's name is the sha256 its bytes had when they
        were received), so the listed sum is that name, not a fresh read: a file damaged in the
        store since then fails the consumer's check instead of being vouched for."""
        self.placer.place(self.runtime.store.location(content_hash), f"{self.root}/{path}")
        self.listed.append(f"{content_hash}  {path}\n")
        return content_hash

    def _flush(self) -> None:
        """Write the lines held so far, and take them into the two files' sums."""
        if self.lines:
            written = b"\n".join(self.lines) + b"\n"
            self.records.write(written)
            self.records_digest.update(written)
            self.lines = []
        if self.listed:
            listed = "".join(self.listed)
            self.checksums.write(listed)
            self.checksums_digest.update(listed.encode())
            self.listed = []

    def _parts(self, record: _Record) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """An item of parts: its files (each file part under media/, with its role) and its
        parts as the record lists them (inline ones with their data, file ones by path)."""
        item, files, listed = record.item, [], []
        for part in record.parts:
            entry: dict[str, Any] = {
                "role": part.role,
                "media_type": part.media_type,
                "meta": part.meta,
            }
            if part.content_hash is None:
                entry["data"] = part.data
            else:
                path = f"{MEDIA}/{item.id}-{part.role}-{part.name}"
                sha256 = self._file(part.content_hash, path)
                files.append({"path": path, "sha256": sha256, "role": part.role})
                entry.update(name=part.name, path=path)
            listed.append(entry)
        return files, listed

    def add(self, record: _Record) -> None:
        """One line of records.jsonl, and the item's files placed under media/: its one file,
        or each file part of an item of parts (whose inline parts are in the line)."""
        item = record.item
        extra: dict[str, Any] = {}
        if record.parts:
            files, extra["parts"] = self._parts(record)
        else:
            path = f"{MEDIA}/{item.id}-{item.name}"
            files = [{"path": path, "sha256": self._file(item.content_hash, path)}]
        container = item.provenance.get("container")
        if container is not None:
            entry = self.containers.setdefault(container["sha256"], {**container, "items": 0})
            entry["items"] += 1
        self.lines.append(
            _LINE.encode(
                {
                    "item": {
                        "id": item.id,
                        "name": item.name,
                        "media_type": item.media_type,
                        "meta": item.meta,
                        "provenance": item.provenance,
                        "files": files,
                        **extra,
                    },
                    "labels": [self._label(record, label) for label in record.annotations],
                    "reviews": [self._review(review) for review in record.reviews],
                }
            )
        )
        self.items += 1
        self.annotations += len(record.annotations)
        if len(self.lines) >= CHUNK:
            self._flush()

    def _review(self, review: Row[Any]) -> dict[str, Any]:
        return {
            "decision": review.decision,
            "reviewer": self._pseudonym(review.reviewer_id),
            "at": self.values.time_text(review.created_at),
            "comment": review.comment,
        }

    def _label(self, record: _Record, annotation: Row[Any]) -> dict[str, Any]:
        """The chosen label as its type's payload, with where it came from: the annotation,
        who made it under which guideline, how it was adjudicated or aggregated. Where the
        type's aggregate combined several labels into one that none of them is, ``payload`` is
        the combined one and ``annotation_id`` the annotation it was chosen through."""
        adjudication = (
            record.adjudications.get(annotation.adjudication_id)
            if annotation.adjudication_id is not None
            else None
        )
        aggregation = record.votes.get(annotation.id)
        payload = annotation.payload
        if aggregation is not None and "payload" in aggregation:
            aggregation = dict(aggregation)
            payload = aggregation.pop("payload")
        return {
            "annotation_type": annotation.annotation_type,
            "payload": payload,
            "annotation_id": self.values.uuid_text(annotation.id),
            "annotator": self._pseudonym(annotation.annotator_id),
            "labeled_at": self.values.time_text(annotation.created_at),
            "guideline_version": self._guideline(annotation.guideline_version_id),
            "schema_version": annotation.schema_version,
            "labels_hash": annotation.labels_hash,
            "time_spent_ms": annotation.time_spent_ms,
            "confidence": annotation.annotator_confidence,
            "source": annotation.source,
            "suggestion_id": self.values.uuid_text(annotation.suggestion_id)
            if annotation.suggestion_id
            else None,
            "model_version": annotation.model_version,
            "adjudication": None
            if adjudication is None
            else {
                "id": adjudication.id,
                "adjudicator": self._pseudonym(adjudication.adjudicator_id),
                "reasoning": adjudication.reasoning,
                "decided_at": adjudication.created_at.isoformat(),
                "considered": adjudication.considered,
                "chosen_annotation_id": str(adjudication.chosen_annotation_id)
                if adjudication.chosen_annotation_id
                else None,
                "routed_because": adjudication.evidence.get("routed_because"),
                "versions": adjudication.evidence.get("versions"),
            },
            "aggregation": aggregation,
        }

    def finish(self) -> None:
        """Close the files; the checksum list ends with records.jsonl's own line."""
        self._flush()
        self.records.close()
        self.listed.append(f"{self.records_digest.hexdigest()}  {RECORDS}\n")
        self._flush()
        self.checksums.close()
        self.placer.close()

    def abort(self) -> None:
        self.placer.abandon()
        for part in (self.records, self.checksums):
            part.close()


# --- the version's life -----------------------------------------------------------------------


def create(
    session: Session, project_id: int, selection: Selection, actor_id: int
) -> DatasetVersion:
    """Number a new version of ``project_id`` (``building``); ``build`` writes it."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound("project", project_id)
    if not _selected_items(session, project_id, selection, 0):
        raise InvalidInput(f"No items match the selection: {_describe(selection)}", "$.selection")
    schema = labels.current_schema(session, project_id)
    highest = session.exec(
        select(func.max(DatasetVersion.version)).where(col(DatasetVersion.project_id) == project_id)
    ).one()
    version = DatasetVersion(
        project_id=project_id,
        version=(highest or 0) + 1,
        selection=msgspec.to_builtins(selection),
        schema_version=schema.schema_version,
        labels_hash=schema.labels_hash,
        created_by=actor_id,
    )
    session.add(version)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        project_id=project_id,
        entity="dataset_version",
        entity_id=version.id,
        action="create",
        to_state=version.status,
        data={"version": version.version, "selection": version.selection},
    )
    return version


def run_gate(
    rules: Sequence[QualityRule],
    context: GateContext,
    thresholds: dict[str, float],
) -> dict[str, Any]:
    """Every quality rule, judged against its threshold; the version passes if all do."""
    results = []
    for rule in sorted(rules, key=lambda r: r.name):
        threshold = float(thresholds.get(rule.name, rule.default_threshold))
        try:
            result: RuleResult = rule.evaluate(context, threshold)
        except Exception as error:  # a broken rule holds the version instead of passing it
            result = RuleResult(
                passed=False, value=None, threshold=threshold, message=f"the rule failed: {error}"
            )
        results.append(
            {
                "rule": rule.name,
                "title": rule.title,
                "direction": rule.direction,
                "threshold": threshold,
                "value": result.value,
                "passed": bool(result.passed),
                "message": result.message,
                "evidence": dict(result.evidence),
            }
        )
    return {"passed": all(r["passed"] for r in results), "rules": results}


def gate_report(
    session: Session,
    plugins: Plugins,
    project: Project,
    item_ids: Sequence[int] | None,
    version: DatasetVersion | None = None,
    *,
    gate_only: bool = True,
) -> dict[str, Any]:
    """The project's quality rules judged with its thresholds: the export gate's (``item_ids``
    of ``version``), or with ``item_ids`` None and ``gate_only`` False, every rule on the
    project as it is now (the Quality Hub)."""
    rules = [rule for rule in plugins.all(QualityRule) if rule.gate or not gate_only]
    thresholds = dict(project.settings.get("quality_thresholds", {}))
    return run_gate(rules, GateContext(session, plugins, project, item_ids, version), thresholds)


def build(
    runtime: Runtime,
    version_id: int,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> DatasetVersion:
    """Write version ``version_id`` (``building`` or ``failed``), judge it, release or hold it.

    Runs again from scratch, on the categories as they are then, on a version a crash left
    ``building`` or that failed: a retry completes it. A categories change while
    it runs, or a write error (a full disk), fails the version with the reason and removes what
    was written; nothing released before is touched.
    """
    with runtime.session() as session:
        version = session.get(DatasetVersion, version_id)
        if version is None:
            raise NotFound("dataset version", version_id)
        if version.status not in (DatasetVersionStatus.building, DatasetVersionStatus.failed):
            raise Conflict(f"Dataset version {version.version} is already {version.status}.")
        selection = msgspec.convert(version.selection, Selection)
        schema = labels.current_schema(session, version.project_id)  # a retry builds afresh
        version.schema_version, version.labels_hash = schema.schema_version, schema.labels_hash
        version.status = DatasetVersionStatus.building
        version.total_items = count_selected(session, version.project_id, selection)
        version.progress_items = 0
        version.progress_at = utcnow()
        session.add(version)
    root = export_folder(runtime, version.project_id)
    root.mkdir(parents=True, exist_ok=True)
    final = _folder(runtime, version)
    for stale in [final, *root.glob(f".building-v{version.version}-*")]:
        shutil.rmtree(stale, ignore_errors=True)  # an earlier attempt's leftovers
    partial = root / f".building-v{version.version}-{uuid.uuid4().hex[:8]}"
    try:
        recorder = _progress_recorder(runtime, version_id, on_progress)
        content, item_ids = _write(runtime, version, selection, partial, recorder)
        content_hash = _content_hash(content)
        with runtime.session() as session:
            stored = session.get(DatasetVersion, version_id)
            project = session.get(Project, version.project_id)
            assert stored is not None and project is not None
            now = labels.current_schema(session, version.project_id)
            if now.schema_version != version.schema_version:
                raise Conflict(
                    f"The categories changed while the export ran (schema "
                    f"{version.schema_version} → {now.schema_version}); export again."
                )
            report = gate_report(session, runtime.plugins, project, item_ids, stored)
            manifest = {
                "content": content,
                "content_hash": content_hash,
                "version": version.version,
                "created_at": utcnow().isoformat(),
                "gate": report,
            }
            with (partial / "manifest.json").open("w") as out:
                json.dump(manifest, out, indent=2, sort_keys=True)  # streamed, not one string
            os.replace(partial, final)
            stored.content_hash = content_hash
            stored.item_count = content["counts"]["items"]
            stored.annotation_count = content["counts"]["annotations"]
            stored.progress_items = stored.item_count
            stored.progress_at = utcnow()
            stored.gate_report = report
            released = report["passed"]
            stored.status = DatasetVersionStatus.released if released else DatasetVersionStatus.held
            stored.released_at = utcnow() if released else None
            session.add(stored)
            audit.record(
                session,
                actor_id=stored.created_by,
                project_id=stored.project_id,
                entity="dataset_version",
                entity_id=stored.id,
                action="build",
                from_state=DatasetVersionStatus.building,
                to_state=stored.status,
                data={"content_hash": content_hash, "items": stored.item_count},
            )
            return stored
    except BaseException as error:
        shutil.rmtree(partial, ignore_errors=True)
        if not isinstance(error, Exception):
            raise  # interrupted: the row stays building, and a retry completes it
        failure = (
            StorageFailed.of(error, f"dataset version {version.version}")
            if isinstance(error, OSError)
            else error
        )
        with runtime.session() as session:
            stored = session.get(DatasetVersion, version_id)
            assert stored is not None
            if stored.status == DatasetVersionStatus.building:
                stored.status = DatasetVersionStatus.failed
                stored.gate_report = {"error": getattr(failure, "message", None) or str(failure)}
                session.add(stored)
        if failure is not error:
            raise failure from error
        raise


def recheck(runtime: Runtime, version_id: int, actor_id: int) -> DatasetVersion:
    """Judge a held version again, on the same items: once the finding is cleared (the
    adjudication backlog worked off, say) it is released as it was built. Its content and
    content hash do not change; the manifest's gate report is the new one."""
    with runtime.session() as session:
        version = get_version(session, version_id)
        if version.status != DatasetVersionStatus.held:
            raise Conflict(
                f"Dataset version {version.version} is {version.status}; only a held version "
                "is checked again."
            )
        project = session.get(Project, version.project_id)
        assert project is not None
        folder = _folder(runtime, version)
        item_ids = _built_item_ids(folder)
        report = gate_report(session, runtime.plugins, project, item_ids, version)
        manifest_path = folder / "manifest.json"
        manifest = json.loads(manifest_path.read_text())
        manifest["gate"] = report
        manifest["gate_checked_at"] = utcnow().isoformat()
        written = folder / ".manifest.json.part"
        with written.open("w") as out:
            json.dump(manifest, out, indent=2, sort_keys=True)
        os.replace(written, manifest_path)
        version.gate_report = report
        if report["passed"]:
            version.status = DatasetVersionStatus.released
            version.released_at = utcnow()
        session.add(version)
        audit.record(
            session,
            actor_id=actor_id,
            project_id=version.project_id,
            entity="dataset_version",
            entity_id=version.id,
            action="recheck",
            from_state=DatasetVersionStatus.held,
            to_state=version.status,
            data={"failing": [r["rule"] for r in report["rules"] if not r["passed"]]},
        )
        return version


class _Built(msgspec.Struct):
    item: _BuiltItem


class _BuiltItem(msgspec.Struct):
    id: int


def _built_item_ids(folder: Path) -> list[int]:
    """The items a built version holds, read back from its ``records.jsonl`` (decoding only
    each item's id), or in a version of the first layout from its checksum list
    (``<sha256>  images/<item id>-<name>``)."""
    if not (folder / RECORDS).exists():
        ids = []
        with (folder / FIRST_LAYOUT_CHECKSUMS).open() as lines:
            for line in lines:
                _, _, path = line.rstrip("\n").partition("  ")
                ids.append(int(path.removeprefix("images/").split("-", 1)[0]))
        return ids
    decoder = msgspec.json.Decoder(_Built)
    with (folder / RECORDS).open("rb") as records:
        return [decoder.decode(line).item.id for line in records]


def _progress_recorder(
    runtime: Runtime, version_id: int, on_progress: Callable[[int], None] | None
) -> Callable[[int], None]:
    """Tell ``on_progress`` of every item, and write the count on the version's row at most
    every ``PROGRESS_EVERY_S`` (each write is a short unit of work of its own)."""
    last = time.monotonic()

    def record(done: int) -> None:
        nonlocal last
        if on_progress is not None:
            on_progress(done)
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY_S:
            last = now
            with runtime.session() as session:
                session.connection().execute(
                    update(DatasetVersion)
                    .where(col(DatasetVersion.id) == version_id)
                    .values(progress_items=done, progress_at=utcnow())
                )

    return record


def _write(
    runtime: Runtime,
    version: DatasetVersion,
    selection: Selection,
    folder: Path,
    on_progress: Callable[[int], None] | None,
) -> tuple[dict[str, Any], Sequence[int]]:
    """The version's files in ``folder``; returns the manifest's hashed content and item ids."""
    excluded: dict[str, int] = {}
    item_ids = array("q")  # 8 bytes an item, not an int object and a pointer
    with runtime.reading() as session:
        project = session.get(Project, version.project_id)
        assert project is not None
        schema = labels.current_schema(session, version.project_id)
        live = [c for c in schema.categories if not c["deleted"]]
        writer = _Writer(folder, runtime, session)
        try:
            estimates = (
                _dawid_skene(session, runtime.plugins, version.project_id, selection)
                if settings_of(project).adjudication.aggregator == "dawid_skene"
                else None
            )
            for record in _records(
                session, runtime.plugins, version.project_id, selection, excluded, estimates
            ):
                writer.add(record)
                item_ids.append(record.item.id)  # type: ignore[arg-type]
                if on_progress is not None:
                    on_progress(writer.items)
        except BaseException:
            writer.abort()
            raise
        if writer.items == 0:
            writer.abort()
            reasons = ", ".join(f"{n} with {why}" for why, n in sorted(excluded.items()))
            raise InvalidInput(
                "No items match the selection"
                + (f" (left out: {reasons})" if reasons else "")
                + f": {_describe(selection)}",
                "$.selection",
            )
        writer.finish()
    categories = [
        {"id": c["id"], "name": c["name"], "display_order": c["display_order"]}
        for c in sorted(live, key=lambda c: (c["display_order"], c["id"]))
    ]
    written = {
        RECORDS: writer.records_digest.hexdigest(),
        CHECKSUMS: writer.checksums_digest.hexdigest(),
    }
    files = {
        p.name: written.get(p.name) or _sha256(p) for p in sorted(folder.iterdir()) if p.is_file()
    }
    content = {
        "dataset_id": f"scholia/project-{project.id}",
        "title": project.name,
        "layout": LAYOUT,
        "schema_version": schema.schema_version,
        "labels_hash": schema.labels_hash,
        "task_type": sorted(project.annotation_types),
        "categories": categories,
        "selection": msgspec.to_builtins(selection),
        "counts": {
            "items": writer.items,
            "annotations": writer.annotations,
            "excluded": dict(sorted(excluded.items())),
        },
        "containers": [writer.containers[sha] for sha in sorted(writer.containers)],
        "files": files,
    }
    return content, item_ids


def get_version(session: Session, version_id: int) -> DatasetVersion:
    version = session.get(DatasetVersion, version_id)
    if version is None:
        raise NotFound("dataset version", version_id)
    return version


def list_versions(session: Session, project_id: int) -> list[DatasetVersion]:
    """The project's dataset versions, newest first."""
    return list(
        session.exec(
            select(DatasetVersion)
            .where(col(DatasetVersion.project_id) == project_id)
            .order_by(col(DatasetVersion.version).desc())
        )
    )


def count_selected(session: Session, project_id: int, selection: Selection) -> int:
    """How many items the selection's status and category filters match (an upper bound:
    items without a canonical label are left out while writing)."""
    query = _filtered(select(func.count()).select_from(Item), project_id, selection)
    return int(session.exec(query).one())


def _describe(selection: Selection) -> str:
    parts = [f"status in {', '.join(selection.statuses)}"]
    if selection.category_ids:
        parts.append(f"category in {', '.join(map(str, selection.category_ids))}")
    if selection.annotator_ids:
        parts.append(f"annotator in {', '.join(map(str, selection.annotator_ids))}")
    if selection.labeled_from:
        parts.append(f"labeled from {selection.labeled_from.isoformat()}")
    if selection.labeled_until:
        parts.append(f"labeled before {selection.labeled_until.isoformat()}")
    return "; ".join(parts)
