"""Versions written before versions became modality-neutral (``images/``, COCO
``annotations.json``, ``provenance.jsonl``, ``images.sha256``) stay on disk as they are: their
download, every export format and a recheck keep working on them, and give what the same
version in the neutral layout gives."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scholia.core import datasets, exports
from scholia.core.contributions import RuleResult
from scholia.core.models import DatasetVersion
from scholia.core.runtime import Runtime

from .conftest import export, first_layout, folder_of, gated


def _category_ids(label: dict[str, Any]) -> list[int]:
    """What the classification type says a label's categories are (the first layout's COCO)."""
    return list(label["payload"]["category_ids"])


@pytest.fixture
def versions(runtime: Runtime, labeled: dict[str, Any]) -> tuple[DatasetVersion, DatasetVersion]:
    """Two versions of the same selection: v1 in the neutral layout, v2 in the first one."""
    neutral = export(runtime, labeled["project"].id)
    old = export(runtime, labeled["project"].id)
    first_layout(folder_of(runtime, old), _category_ids)
    assert not (folder_of(runtime, old) / "records.jsonl").exists()
    assert (folder_of(runtime, old) / "annotations.json").exists()
    return neutral, old


def _write(runtime: Runtime, version: DatasetVersion, name: str, out: Path) -> Path:
    return exports.write(runtime, version.id, name, out)  # type: ignore[arg-type]


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_every_format_writes_a_first_layout_version_as_it_writes_the_neutral_one(
    runtime: Runtime, versions: tuple[DatasetVersion, DatasetVersion], tmp_path: Path
) -> None:
    from pycocotools.coco import COCO

    for name in ("yolo", "label-studio", "voc"):
        written = [_write(runtime, v, name, tmp_path / f"{name}-{v.version}") for v in versions]
        new_tree, old_tree = (_tree(folder) for folder in written)
        for tree in (new_tree, old_tree):
            tree.pop("manifest.json", None)  # each version's own
        assert new_tree == old_tree, name
    coco = [
        COCO(str(_write(runtime, v, "coco", tmp_path / f"coco-{v.version}") / "annotations.json"))
        for v in versions
    ]
    assert coco[0].dataset["images"] == coco[1].dataset["images"]
    assert coco[0].dataset["annotations"] == coco[1].dataset["annotations"]
    assert [a["category_id"] for a in coco[1].dataset["annotations"]] == [1, 2, 3, 1]
    for image in coco[1].dataset["images"]:
        assert (tmp_path / "coco-2" / image["file_name"]).is_file()
    rows = [
        list(
            csv.DictReader(
                (_write(runtime, v, "csv", tmp_path / f"c{v.version}") / "annotations.csv").open()
            )
        )
        for v in versions
    ]
    for row in (*rows[0], *rows[1]):
        row.pop("file_name")  # the version's own path: media/… or images/…
    assert rows[0] == rows[1]
    assert [r["categories"] for r in rows[1]] == ["cat", "dog", "bird", "cat"]


def test_a_first_layout_version_downloads_as_its_folder(
    runtime: Runtime,
    versions: tuple[DatasetVersion, DatasetVersion],
    api_for: Callable[..., Any],
    labeled: dict[str, Any],
) -> None:
    _, old = versions
    manager = api_for("manager", project=labeled["project"])
    response = manager.get(f"/api/v1/datasets/{old.id}/download")
    assert response.status_code == 200, response.text
    folder = folder_of(runtime, old)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == sorted(_tree(folder))
        assert archive.read("annotations.json") == (folder / "annotations.json").read_bytes()
    coco = manager.get(f"/api/v1/datasets/{old.id}/download?format=coco")
    assert coco.status_code == 200, coco.text
    with zipfile.ZipFile(io.BytesIO(coco.content)) as archive:
        images = json.loads(archive.read("annotations.json"))["images"]
        assert [i["id"] for i in images] == labeled["ids"][:4]


def test_a_held_first_layout_version_is_rechecked_on_the_items_it_holds(
    runtime: Runtime, labeled: dict[str, Any]
) -> None:
    seen: list[list[int]] = []
    cleared = {"now": False}

    def finding(context: datasets.GateContext, threshold: float) -> RuleResult:
        seen.append(sorted(context.item_ids or []))
        return RuleResult(
            passed=cleared["now"], value=None, threshold=threshold, message="a finding"
        )

    held_runtime = gated(runtime, "finding", "A finding", finding, 0)
    version = export(held_runtime, labeled["project"].id)
    assert version.status == "held"
    first_layout(folder_of(runtime, version), _category_ids)
    cleared["now"] = True
    released = datasets.recheck(held_runtime, version.id, actor_id=1)  # type: ignore[arg-type]
    assert released.status == "released"
    assert seen == [sorted(labeled["ids"][:4])] * 2
    manifest = json.loads((folder_of(runtime, version) / "manifest.json").read_text())
    assert manifest["gate"]["passed"] is True
    assert "layout" not in manifest["content"]  # read as it is, never rewritten
