"""Writing a released version in the formats of scholia-exporters, each checked by a reader
that is not ours (pycocotools, Python's csv and json, the layouts Ultralytics and Label Studio
document); and what an unknown format, a held version or a busy folder get."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from scholia.core import exports
from scholia.core.contributions import QualityRule, RuleResult
from scholia.core.errors import Conflict, InvalidInput
from scholia.core.runtime import Runtime

from .conftest import export, relabel, with_rules


def write(runtime: Runtime, labeled: dict[str, Any], name: str, out: Path) -> Path:
    version = export(runtime, labeled["project"].id)
    return exports.write(runtime, version.id, name, out)  # type: ignore[arg-type]


def test_coco_opens_in_pycocotools_with_every_image_present(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    from pycocotools.coco import COCO

    out = write(runtime, labeled, "coco", tmp_path / "coco")
    coco = COCO(str(out / "annotations.json"))
    assert sorted(coco.getImgIds()) == sorted(labeled["ids"][:4])
    for image in coco.loadImgs(coco.getImgIds()):
        assert (out / image["file_name"]).is_file()


def test_yolo_uses_the_ultralytics_classification_layout(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    out = write(runtime, labeled, "yolo", tmp_path / "yolo")
    classes = {p.name: sorted(f.name for f in p.iterdir()) for p in (out / "train").iterdir()}
    ids = labeled["ids"]
    assert classes == {
        "cat": sorted([f"{ids[0]}-seed.png", f"{ids[3]}-photo3.png"]),
        "dog": [f"{ids[1]}-photo1.png"],
        "bird": [f"{ids[2]}-photo2.png"],
    }
    order = json.loads((out / "manifest.json").read_text())["content"]["categories"]
    assert [c["name"] for c in order] == ["cat", "dog", "bird"]


def test_csv_and_jsonl_hold_one_row_per_label_with_its_provenance(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    rows = list(
        csv.DictReader((write(runtime, labeled, "csv", tmp_path / "c") / "annotations.csv").open())
    )
    assert [r["categories"] for r in rows] == ["cat", "dog", "bird", "cat"]
    assert {r["annotator"] for r in rows} == {labeled["annotator"].pseudonym}
    assert {r["review_decision"] for r in rows} == {"approved"}
    lines = (write(runtime, labeled, "jsonl", tmp_path / "j") / "annotations.jsonl").read_text()
    parsed = [json.loads(line) for line in lines.splitlines()]
    assert [p["category_ids"] for p in parsed] == [[1], [2], [3], [1]]


def test_label_studio_json_has_the_shape_label_studio_exports(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    out = write(runtime, labeled, "label-studio", tmp_path / "ls")
    tasks = json.loads((out / "tasks.json").read_text())
    assert len(tasks) == 4
    first = tasks[0]
    assert (out / first["data"]["image"]).is_file()
    (result,) = first["annotations"][0]["result"]
    assert result == {
        "from_name": "choice",
        "to_name": "image",
        "type": "choices",
        "value": {"choices": ["cat"]},
    }
    config = (out / "label_config.xml").read_text()
    assert '<Choices name="choice" toName="image">' in config
    assert '<Image name="image" value="$image"/>' in config


def test_an_unknown_format_names_the_installed_ones_and_writes_nothing(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(
        InvalidInput, match=r"Unknown export format 'parquet' \(installed: coco, csv"
    ):
        write(runtime, labeled, "parquet", tmp_path / "p")
    assert not (tmp_path / "p").exists()


def test_a_folder_with_files_is_left_alone(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("keep")
    with pytest.raises(InvalidInput, match="is not an empty folder"):
        write(runtime, labeled, "coco", busy)
    assert [p.name for p in busy.iterdir()] == ["mine.txt"]


def test_a_writer_that_fails_half_way_leaves_nothing(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    """A multi-label item cannot go in a YOLO class folder: the writer stops, nothing stays."""

    item_id = labeled["ids"][2]
    with runtime.session() as session:
        stored = session.get(type(labeled["project"]), labeled["project"].id)
        assert stored is not None
        stored.settings = {
            **stored.settings,
            "annotation_options": {"classification": {"mode": "multi"}},
        }
        session.add(stored)
    relabel(runtime, labeled, item_id, [2, 3])
    target = tmp_path / "exports"
    target.mkdir()
    with pytest.raises(ValueError, match="has 2 categories; the YOLO classification layout"):
        write(runtime, labeled, "yolo", target / "yolo")
    assert list(target.iterdir()) == []


def test_a_held_version_cannot_be_exported_and_says_which_rule_held_it(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    plugins = with_rules(
        QualityRule(
            name="gold_accuracy",
            title="Gold accuracy",
            evaluate=lambda context, threshold: RuleResult(False, 0.5, threshold),
            default_threshold=0.8,
        )
    )
    gated = dataclasses.replace(runtime, plugins=plugins)
    with pytest.raises(Conflict, match=r"is held \(failed: gold_accuracy\)"):
        write(gated, labeled, "coco", tmp_path / "held")
    assert not (tmp_path / "held").exists()
