"""An example export format: the Hugging Face ``imagefolder`` layout with ``metadata.csv``.

    train/<image>            the images of the version
    train/metadata.csv       file_name, label, label_id, annotator, reviewer, guideline_version
    manifest.json            the version's manifest: classes and their order, content hash

``datasets.load_dataset("imagefolder", data_dir=...)`` reads the metadata file's columns as
features. The whole format is ``write``: it reads a ``VersionView`` (never the database) and
writes files into the folder it is given; Scholia renames that folder into place only when
``write`` returns, so a format never has to clean up after itself.
"""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from scholia.core.contributions import ExportFormat
from scholia.core.exports import VersionView
from scholia.core.hookspecs import hookimpl

__all__ = ["COLUMNS", "register_export_formats", "write"]

COLUMNS = ("file_name", "label", "label_id", "annotator", "reviewer", "guideline_version")


def _place(source: Path, target: Path) -> None:
    """Hard-link the version's file (no copy of the bytes); copy where linking fails."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def write(version: VersionView, out: Path) -> None:
    names = version.category_names
    train = out / "train"
    train.mkdir()
    with (train / "metadata.csv").open("w", newline="") as file:
        rows = csv.writer(file)
        rows.writerow(COLUMNS)
        for record in version.records():  # streamed: one record in memory at a time
            if len(record.category_ids) != 1:
                raise ValueError(
                    f"{record.file_name} has {len(record.category_ids)} categories; this "
                    "format holds exactly one label per image"
                )
            (category_id,) = record.category_ids
            image_name = Path(record.file_name).name
            _place(record.media, train / image_name)
            review = record.provenance["review"] or {}
            rows.writerow(
                (
                    image_name,
                    names[category_id],
                    category_id,
                    record.provenance["annotator"],
                    review.get("reviewer", ""),
                    record.provenance["guideline_version"],
                )
            )
    _place(version.folder / "manifest.json", out / "manifest.json")


@hookimpl
def register_export_formats(register: Callable[[ExportFormat], None]) -> None:
    register(
        ExportFormat(
            name="hf-imagefolder",
            title="Hugging Face ImageFolder (metadata.csv)",
            write=write,
            annotation_types=("classification",),
        )
    )
