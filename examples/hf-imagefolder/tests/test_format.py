"""The example format's own tests: its layout on a real dataset version, and what a version
that does not fit it gets."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from scholia.core.exports import VersionView
from scholia.core.plugins import load_plugins
from scholia_hf_imagefolder import COLUMNS, write


def _version(
    folder: Path, records: list[dict[str, Any]], categories: list[dict[str, Any]]
) -> VersionView:
    """A version folder as Scholia writes one: manifest, records.jsonl and the media."""
    (folder / "media").mkdir(parents=True)
    content = {"categories": categories, "task_type": ["classification"], "layout": 2}
    (folder / "manifest.json").write_text(json.dumps({"content": content}))
    with (folder / "records.jsonl").open("w") as lines:
        for record in records:
            (path,) = (f["path"] for f in record["item"]["files"])
            (folder / path).write_bytes(b"image bytes " + path.encode())
            lines.write(json.dumps(record) + "\n")
    return VersionView(
        folder,
        json.loads((folder / "manifest.json").read_text()),
        load_plugins(select={"scholia-image"}),
    )


def _record(
    item_id: int, category_ids: list[int], reviewer: str | None = "rev-1"
) -> dict[str, Any]:
    return {
        "item": {
            "id": item_id,
            "name": "photo.png",
            "media_type": "image/png",
            "meta": {},
            "provenance": {},
            "files": [{"path": f"media/{item_id}-photo.png", "sha256": "0" * 64}],
        },
        "labels": [
            {
                "annotation_type": "classification",
                "payload": {"category_ids": category_ids},
                "annotator": "ann-7",
                "guideline_version": 2,
            }
        ],
        "reviews": [{"decision": "approved", "reviewer": reviewer}] if reviewer else [],
    }


CATEGORIES = [
    {"id": 5, "name": "dog", "display_order": 0},
    {"id": 2, "name": "cat", "display_order": 1},
]


def test_each_image_gets_a_metadata_row_with_its_label_and_provenance(tmp_path: Path) -> None:
    version = _version(
        tmp_path / "v1", [_record(1, [2]), _record(2, [5], reviewer=None)], CATEGORIES
    )
    out = tmp_path / "out"
    out.mkdir()
    write(version, out)
    with (out / "train" / "metadata.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert tuple(rows[0]) == COLUMNS
    assert [(r["file_name"], r["label"], r["label_id"], r["reviewer"]) for r in rows] == [
        ("1-photo.png", "cat", "2", "rev-1"),
        ("2-photo.png", "dog", "5", ""),
    ]
    assert all(
        (out / "train" / r["file_name"]).read_bytes().startswith(b"image bytes") for r in rows
    )
    assert json.loads((out / "manifest.json").read_text())["content"]["categories"] == CATEGORIES


def test_a_multi_label_image_is_refused_by_name(tmp_path: Path) -> None:
    version = _version(tmp_path / "v1", [_record(3, [2, 5])], CATEGORIES)
    with pytest.raises(ValueError, match=r"media/3-photo\.png has 2 categories"):
        write(version, tmp_path)


def test_the_plugin_registers_the_format_for_classification() -> None:
    from scholia.core.contributions import ExportFormat

    formats = {f.name: f for f in load_plugins(select={"scholia-hf-imagefolder"}).all(ExportFormat)}
    assert formats["hf-imagefolder"].write is write
    assert formats["hf-imagefolder"].annotation_types == ("classification",)
