"""Writing a released dataset version in another format, through an export-format plugin.

A format plugin never touches the database: it reads a ``VersionView`` (the manifest, the
categories in display order, and the version's labels streamed from ``records.jsonl``) and
writes files into a folder: the version itself is modality-neutral, and every format, COCO
included, is built from it here. A version of the first layout (``provenance.jsonl``) is read
the same way. The result is written beside ``out`` and renamed into place when
complete, so a failure leaves nothing half-written and an existing folder is never touched.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import msgspec

from . import datasets
from .contributions import AnnotationType, ExportFormat
from .errors import Conflict, InvalidInput, NotFound, StorageFailed
from .models import DatasetVersion, DatasetVersionStatus
from .plugins import Plugins
from .runtime import Runtime

__all__ = ["ExportRecord", "VersionView", "applies", "formats_for", "write"]


@dataclass(frozen=True)
class ExportRecord:
    """One chosen label of the version, with its item, as a format writes it."""

    item_id: int
    file_name: str
    """The item's file relative to the version folder, e.g. ``media/12-cat.jpg`` (``images/…``
    in a version of the first layout); for an item of parts its first file part, or its name
    when it has no file (inline parts only)."""
    sha256: str
    """The file's sha256 (empty without a file)."""
    annotation_type: str
    payload: dict[str, Any]
    """The label as its type's payload."""
    category_ids: tuple[int, ...]
    """The categories the payload uses, by the type's ``categories`` (empty for types without
    categories), in the order it gives them; categories deleted since are left out."""
    provenance: dict[str, Any]
    """Where the label came from: ``annotator`` (pseudonym), ``guideline_version``, ``source``,
    ``review`` (the item's standing review decision, or None), ``reviews``, ``adjudication``,
    ``aggregation``…"""
    item_meta: dict[str, Any]
    """What the modality probed of the item: width and height; a video's fps, frame count…"""
    item_provenance: dict[str, Any]
    """Where the item came from: a frame's ``video_id``, ``frame_index``, ``timestamp_ms``…"""
    parts: tuple[dict[str, Any], ...] = ()
    """An item of parts: each part (``role``, ``media_type``, ``meta``, and ``data`` inline or
    ``name`` and ``path`` for a file), as ``records.jsonl`` lists them."""
    folder: Path | None = None
    """The version folder the record was read from."""

    @cached_property
    def media(self) -> Path | None:
        """The file itself (in the version folder); None for an item without a file. Made
        when asked for: a format that places files by ``file_name`` never pays for a ``Path``
        per record."""
        if not self.sha256 or self.folder is None:
            return None
        return self.folder / self.file_name


class _LineItem(msgspec.Struct):
    id: int
    name: str
    meta: dict[str, Any]
    provenance: dict[str, Any]
    files: list[dict[str, Any]]
    parts: tuple[dict[str, Any], ...] = ()


class _Line(msgspec.Struct):
    """A ``records.jsonl`` line, as far as an export reads it (the item's fields it uses)."""

    item: _LineItem
    labels: list[dict[str, Any]]
    reviews: list[dict[str, Any]]


@dataclass(frozen=True)
class VersionView:
    """What a format plugin reads: never the database, only the version's own files."""

    folder: Path
    manifest: dict[str, Any]
    plugins: Plugins

    @property
    def categories(self) -> list[dict[str, Any]]:
        """``{id, name, display_order}`` in display order: the dataset's class order."""
        return list(self.manifest["content"]["categories"])

    @cached_property
    def category_names(self) -> dict[int, str]:
        return {c["id"]: c["name"] for c in self.categories}

    @cached_property
    def _types(self) -> dict[str, AnnotationType]:
        """The loaded annotation types, by name (once: every record asks)."""
        return self.plugins.annotation_types

    def records(self) -> Iterator[ExportRecord]:
        """The version's labels in item order (an item's labels together, by annotation type),
        read one line at a time."""
        if (self.folder / datasets.RECORDS).exists():
            yield from self._records()
        else:
            yield from self._first_layout_records()

    def _records(self) -> Iterator[ExportRecord]:
        decoder = msgspec.json.Decoder(_Line)
        with (self.folder / datasets.RECORDS).open("rb") as lines:
            for line in lines:
                entry = decoder.decode(line)  # ~8× json.loads: one line per item
                item = entry.item
                first = item.files[0] if item.files else {"path": item.name, "sha256": ""}
                reviews = entry.reviews
                for label in entry.labels:
                    provenance = {
                        key: value
                        for key, value in label.items()
                        if key not in ("annotation_type", "payload")
                    }
                    provenance["review"] = reviews[-1] if reviews else None
                    provenance["reviews"] = reviews
                    yield self._record(
                        item.id,
                        first["path"],
                        first["sha256"],
                        label["annotation_type"],
                        label["payload"],
                        provenance,
                        item.meta,
                        item.provenance,
                        item.parts,
                    )

    def _first_layout_records(self) -> Iterator[ExportRecord]:
        """A version written before the neutral layout: one ``provenance.jsonl`` line per
        label, the item's fields repeated on each."""
        with (self.folder / "provenance.jsonl").open() as lines:
            for line in lines:
                entry = json.loads(line)
                yield self._record(
                    entry["item_id"],
                    entry["file_name"],
                    entry["sha256"],
                    entry["annotation_type"],
                    entry["payload"],
                    entry,
                    entry.get("item_meta", {}),
                    entry.get("item_provenance", {}),
                )

    def _record(
        self,
        item_id: int,
        file_name: str,
        sha256: str,
        annotation_type: str,
        payload: dict[str, Any],
        provenance: dict[str, Any],
        item_meta: dict[str, Any],
        item_provenance: dict[str, Any],
        made_of: tuple[dict[str, Any], ...] = (),
    ) -> ExportRecord:
        kind = self._types.get(annotation_type)
        used: tuple[int, ...] = ()
        if kind is not None and kind.categories is not None:
            live = self.category_names
            used = tuple(
                c for c in kind.categories(msgspec.convert(payload, kind.payload)) if c in live
            )
        return ExportRecord(
            item_id=item_id,
            file_name=file_name,
            sha256=sha256,
            annotation_type=annotation_type,
            payload=payload,
            category_ids=used,
            provenance=provenance,
            item_meta=item_meta,
            item_provenance=item_provenance,
            parts=made_of,
            folder=self.folder,
        )


def applies(export_format: ExportFormat, annotation_types: Iterable[str]) -> bool:
    """Whether the format writes any of ``annotation_types`` (one that names none writes any)."""
    return not export_format.annotation_types or bool(
        set(export_format.annotation_types) & set(annotation_types)
    )


def formats_for(plugins: Plugins, annotation_types: Iterable[str]) -> list[ExportFormat]:
    """The installed formats that can write a project of ``annotation_types``, by name: what
    a download menu offers."""
    types = list(annotation_types)
    return sorted((f for f in plugins.all(ExportFormat) if applies(f, types)), key=lambda f: f.name)


def write(runtime: Runtime, version_id: int, format_name: str, out: Path) -> Path:
    """Write released version ``version_id`` in ``format_name`` into the new folder ``out``."""
    formats = {f.name: f for f in runtime.plugins.all(ExportFormat)}
    chosen = formats.get(format_name)
    if chosen is None:
        installed = ", ".join(sorted(formats)) or "none"
        raise InvalidInput(
            f"Unknown export format {format_name!r} (installed: {installed})", "$.format"
        )
    with runtime.reading() as session:
        version = session.get(DatasetVersion, version_id)
        if version is None:
            raise NotFound("dataset version", version_id)
    if version.status != DatasetVersionStatus.released:
        failed = [r["rule"] for r in version.gate_report.get("rules", []) if not r["passed"]]
        reason = f" (failed: {', '.join(failed)})" if failed else ""
        raise Conflict(
            f"Dataset version {version.version} is {version.status}{reason}; only a released "
            "version can be exported."
        )
    folder = datasets.export_folder(runtime, version.project_id) / f"v{version.version}"
    manifest = json.loads((folder / "manifest.json").read_text())
    types = sorted(manifest["content"]["task_type"])
    if not applies(chosen, types):
        fitting = ", ".join(f.name for f in formats_for(runtime.plugins, types)) or "none"
        raise InvalidInput(
            f"The {chosen.title} format writes {', '.join(chosen.annotation_types)}; this "
            f"version holds {', '.join(types)} (its project's annotation types). Formats "
            f"that fit: {fitting}.",
            "$.format",
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput(f"{str(out)!r} is not an empty folder; nothing was written", "$.out")
    partial = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    partial.mkdir(parents=True)
    try:
        chosen.write(VersionView(folder, manifest, runtime.plugins), partial)
        if out.exists():
            out.rmdir()  # empty, checked above
        partial.rename(out)
    except BaseException as error:
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(error, OSError):
            raise StorageFailed.of(error, f"the {chosen.title} export") from error
        raise
    return out
