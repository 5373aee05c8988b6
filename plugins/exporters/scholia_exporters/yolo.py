"""YOLO classification, the folder layout Ultralytics documents: ``train/<class name>/<image>``.

Ultralytics reads the class of an image from its folder's name and orders classes by name; the
class order of the dataset stays the one in ``manifest.json`` (copied along), which training
code should read. A version with no split goes whole into ``train/``. Multi-label items do not
fit one folder and are refused by name.
"""

from __future__ import annotations

from pathlib import Path

from scholia.core.exports import VersionView

from .media import Placer, place


def write(version: VersionView, out: Path) -> None:
    names = version.category_names
    with Placer() as placer:
        for record in version.records():
            if record.annotation_type != "classification":
                continue
            if len(record.category_ids) != 1:
                raise ValueError(
                    f"{record.file_name} has {len(record.category_ids)} categories; the YOLO "
                    "classification layout holds exactly one class per image"
                )
            (category_id,) = record.category_ids
            name = record.file_name.rsplit("/", 1)[-1]
            placer.place(record.media, f"{out}/train/{names[category_id]}/{name}")
    place(version.folder / "manifest.json", out / "manifest.json")
