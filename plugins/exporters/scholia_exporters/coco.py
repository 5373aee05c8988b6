"""COCO, built from the version's records: ``annotations.json`` and ``images/`` beside it.

    annotations.json     info, images (id, file_name, width and height where the item's probe
                         knows them, and where an extracted item sits in its container: a
                         frame's video_id, frame_index, timestamp_ms), annotations, categories
    images/<item id>-<name>

A label is encoded COCO-style as one annotation per category its type says the payload uses
(the type's ``categories``), with ``category_id`` and no box; ``categories`` keep the project's
ids in display order. An item with several labels (several annotation types) is one image.
Written as it is read, one item at a time: the images and annotations are streamed to two
parts and joined, so memory stays flat whatever the version's size.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Any

import msgspec

from scholia.core.exports import ExportRecord, VersionView

from .media import Placer

_ENCODER = msgspec.json.Encoder(order="sorted")
"""Compact JSON with sorted keys; msgspec, as one image and one annotation per item add up."""


def _position(provenance: dict[str, Any]) -> dict[str, Any]:
    """Where in its container an extracted item sits (``video_id``, ``frame_index``,
    ``timestamp_ms`` of a frame): the plain values only."""
    return {
        key: value
        for key, value in provenance.items()
        if isinstance(value, str | int | float) and not isinstance(value, bool)
    }


def _image(record: ExportRecord, file_name: str) -> dict[str, Any]:
    return {
        **_position(record.item_provenance),  # never over the keys below
        "id": record.item_id,
        "file_name": file_name,
        "width": record.item_meta.get("width"),
        "height": record.item_meta.get("height"),
    }


class _Annotation(msgspec.Struct):
    """A COCO annotation of a label's category (no box); its fields sorted as written."""

    area: int
    bbox: list[float]
    category_id: int
    id: int
    image_id: int
    iscrowd: int


BATCH = 1000
"""Images written to the parts at a time (one write of many, not one per image)."""


def write(version: VersionView, out: Path) -> None:
    images_part, annotations_part = out / ".images.part", out / ".annotations.part"
    folder, target = str(version.folder), str(out)
    count = 0
    images_held: list[bytes] = []
    annotations_held: list[bytes] = []
    with (
        images_part.open("wb") as images,
        annotations_part.open("wb") as annotations,
        Placer() as placer,
    ):

        def flush() -> None:
            # Each part is one comma-separated list: a batch after the first starts with one.
            for held, part in ((images_held, images), (annotations_held, annotations)):
                if held:
                    part.write((b"," if part.tell() else b"") + b",".join(held))
                    held.clear()

        for _, labels in itertools.groupby(version.records(), key=lambda r: r.item_id):
            first, *rest = labels
            file_name = f"images/{first.file_name.rsplit('/', 1)[-1]}"
            placer.place(f"{folder}/{first.file_name}", f"{target}/{file_name}")
            images_held.append(_ENCODER.encode(_image(first, file_name)))
            for record in (first, *rest):
                for category_id in sorted(record.category_ids):
                    count += 1
                    annotations_held.append(
                        _ENCODER.encode(_Annotation(0, [], category_id, count, record.item_id, 0))
                    )
            if len(images_held) >= BATCH:
                flush()
        flush()
    content = version.manifest["content"]
    dataset_id = content["dataset_id"]
    title = content.get("title")  # a version of the first layout has none
    info = {
        "description": f"{title} ({dataset_id})" if title else dataset_id,
        "schema_version": content["schema_version"],
    }
    categories = [
        {"id": c["id"], "name": c["name"], "supercategory": ""} for c in version.categories
    ]
    with (out / "annotations.json").open("wb") as result:
        result.write(b'{"info":' + _ENCODER.encode(info) + b',"images":[')
        with images_part.open("rb") as part:
            shutil.copyfileobj(part, result)
        result.write(b'],"annotations":[')
        with annotations_part.open("rb") as part:
            shutil.copyfileobj(part, result)
        result.write(b'],"categories":' + _ENCODER.encode(categories) + b"}")
    images_part.unlink()
    annotations_part.unlink()
