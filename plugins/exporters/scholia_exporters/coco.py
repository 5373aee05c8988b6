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


def _dump(value: Any) -> str:
    """Compact JSON with sorted keys; msgspec, as one image and one annotation per item add up."""
    return _ENCODER.encode(value).decode()


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


def write(version: VersionView, out: Path) -> None:
    images_part, annotations_part = out / ".images.part", out / ".annotations.part"
    count = 0
    with (
        images_part.open("w") as images,
        annotations_part.open("w") as annotations,
        Placer() as placer,
    ):
        for position, (_, labels) in enumerate(
            itertools.groupby(version.records(), key=lambda r: r.item_id)
        ):
            first, *rest = labels
            file_name = f"images/{first.file_name.rsplit('/', 1)[-1]}"
            placer.place(first.media, f"{out}/{file_name}")
            images.write(("," if position else "") + _dump(_image(first, file_name)))
            for record in (first, *rest):
                for category_id in sorted(record.category_ids):
                    count += 1
                    annotation = {
                        "id": count,
                        "image_id": record.item_id,
                        "category_id": category_id,
                        "iscrowd": 0,
                        "area": 0,
                        "bbox": [],
                    }
                    annotations.write(("," if count > 1 else "") + _dump(annotation))
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
    with (out / "annotations.json").open("w") as result:
        result.write('{"info":' + _dump(info) + ',"images":[')
        with images_part.open() as part:
            shutil.copyfileobj(part, result)
        result.write('],"annotations":[')
        with annotations_part.open() as part:
            shutil.copyfileobj(part, result)
        result.write('],"categories":' + _dump(categories) + "}")
    images_part.unlink()
    annotations_part.unlink()
