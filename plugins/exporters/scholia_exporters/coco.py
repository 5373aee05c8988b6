"""COCO: the version's own ``annotations.json`` (already COCO) with its images beside it.

Classification is encoded COCO-style: one annotation per category an image has, with
``category_id`` and no box; ``categories`` keep the project's ids in display order.
"""

from __future__ import annotations

from pathlib import Path

from scholia.core.exports import VersionView

from .media import place


def write(version: VersionView, out: Path) -> None:
    place(version.folder / "annotations.json", out / "annotations.json")
    for record in version.records():
        place(record.media, out / record.file_name)
