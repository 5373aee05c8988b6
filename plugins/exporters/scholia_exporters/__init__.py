"""scholia-exporters: the export formats Scholia ships, each a plain ``ExportFormat``.

Every writer reads a ``VersionView`` (manifest, categories in display order, the chosen labels
streamed from the version's records.jsonl) and writes files into a folder; none touches the
database. The version itself is modality-neutral; COCO is one of these formats like the
others. Copy one to add a format of your own (``examples/`` has a complete small distribution).

The import formats (COCO, Label Studio JSON) only read: each returns an ``ImportedDataset``
and the core brings it into a project.
"""

from __future__ import annotations

from collections.abc import Callable

from scholia.core.contributions import ExportFormat, ImportFormat
from scholia.core.hookspecs import hookimpl

from . import coco, coco_import, label_studio, label_studio_import, tabular, voc, yolo


@hookimpl
def register_export_formats(register: Callable[[ExportFormat], None]) -> None:
    register(ExportFormat(name="coco", title="COCO", write=coco.write))
    register(
        ExportFormat(
            name="yolo",
            title="YOLO (Ultralytics classification folders)",
            write=yolo.write,
            annotation_types=("classification",),
        )
    )
    register(
        ExportFormat(
            name="voc",
            title="Pascal VOC (classification)",
            write=voc.write,
            annotation_types=("classification",),
        )
    )
    register(ExportFormat(name="csv", title="CSV", write=tabular.write_csv))
    register(ExportFormat(name="jsonl", title="JSON Lines", write=tabular.write_jsonl))
    register(
        ExportFormat(
            name="label-studio",
            title="Label Studio JSON",
            write=label_studio.write,
            annotation_types=("classification",),
        )
    )


@hookimpl
def register_import_formats(register: Callable[[ImportFormat], None]) -> None:
    register(ImportFormat(name="coco", title="COCO", read=coco_import.read, extensions=(".json",)))
    register(
        ImportFormat(
            name="label-studio",
            title="Label Studio JSON",
            read=label_studio_import.read,
            extensions=(".json",),
        )
    )
