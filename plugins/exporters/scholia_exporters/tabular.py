"""CSV and JSON Lines: one row per annotation, with the category names and the provenance."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from scholia.core.exports import ExportRecord, VersionView

COLUMNS = (
    "file_name",
    "item_id",
    "sha256",
    "annotation_type",
    "category_ids",
    "categories",
    "payload",
    "annotator",
    "guideline_version",
    "review_decision",
)


def _row(version: VersionView, record: ExportRecord) -> dict[str, Any]:
    names = version.category_names
    review = record.provenance.get("review") or {}
    return {
        "file_name": record.file_name,
        "item_id": record.item_id,
        "sha256": record.sha256,
        "annotation_type": record.annotation_type,
        "category_ids": list(record.category_ids),
        "categories": [names[c] for c in record.category_ids],
        "payload": record.payload,
        "annotator": record.provenance["annotator"],
        "guideline_version": record.provenance["guideline_version"],
        "review_decision": review.get("decision"),
    }


def write_csv(version: VersionView, out: Path) -> None:
    """Lists are joined with ``;`` and the payload is JSON, so every cell is one value."""
    with (out / "annotations.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS)
        writer.writeheader()
        for record in version.records():
            row = _row(version, record)
            row["category_ids"] = ";".join(map(str, row["category_ids"]))
            row["categories"] = ";".join(row["categories"])
            row["payload"] = json.dumps(row["payload"], sort_keys=True)
            writer.writerow(row)


def write_jsonl(version: VersionView, out: Path) -> None:
    with (out / "annotations.jsonl").open("w") as file:
        for record in version.records():
            file.write(json.dumps(_row(version, record), sort_keys=True) + "\n")
