"""Dataset versions: reproducible content hashes, provenance, the export gate, and what a crash,
a categories change or an empty selection leave behind (nothing visible, nothing lost)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from scholia.core import datasets, exports
from scholia.core.consensus import valid_annotation_rows
from scholia.core.contributions import RuleResult
from scholia.core.errors import Conflict, InvalidInput
from scholia.core.models import DatasetVersion
from scholia.core.runtime import Runtime

from .conftest import (
    crashed_build,
    export,
    folder_of,
    gated,
    labels_of,
    records_of,
    relabel,
    renamed_mid_build,
)


def test_two_exports_of_the_same_selection_have_the_same_content_hash_and_bytes(
    runtime: Runtime, labeled: dict[str, Any]
) -> None:
    first = export(runtime, labeled["project"].id)
    second = export(runtime, labeled["project"].id)
    assert (first.version, second.version) == (1, 2)
    assert first.status == second.status == "released"
    assert first.content_hash == second.content_hash
    assert (first.item_count, first.annotation_count) == (4, 4)
    for name in ("records.jsonl", "checksums.sha256"):
        assert (folder_of(runtime, first) / name).read_bytes() == (
            folder_of(runtime, second) / name
        ).read_bytes()


def test_changing_one_label_changes_the_content_hash(
    runtime: Runtime, labeled: dict[str, Any]
) -> None:
    before = export(runtime, labeled["project"].id)
    item_id = labeled["ids"][0]
    relabel(runtime, labeled, item_id, [3])
    after = export(runtime, labeled["project"].id)
    assert after.content_hash != before.content_hash
    (label,) = [label for label in labels_of(runtime, after) if label["item_id"] == item_id]
    assert label["payload"] == {"category_ids": [3]}


def test_the_version_holds_records_media_and_a_manifest_with_every_file_hashed(
    runtime: Runtime, labeled: dict[str, Any]
) -> None:
    version = export(runtime, labeled["project"].id)
    folder = folder_of(runtime, version)
    assert sorted(p.name for p in folder.iterdir()) == [
        "checksums.sha256",
        "manifest.json",
        "media",
        "records.jsonl",
    ]
    records = records_of(runtime, version)
    assert [r["item"]["id"] for r in records] == labeled["ids"][:4]
    first = records[0]
    assert first["item"]["name"] == "seed.png" and first["item"]["media_type"] == "image/png"
    assert (first["item"]["meta"]["width"], first["item"]["meta"]["height"]) == (32, 24)
    (media,) = first["item"]["files"]
    assert media["path"] == f"media/{labeled['ids'][0]}-seed.png"
    assert hashlib.sha256((folder / media["path"]).read_bytes()).hexdigest() == media["sha256"]
    assert [r["labels"][0]["payload"] for r in records] == [
        {"category_ids": [1]},
        {"category_ids": [2]},
        {"category_ids": [3]},
        {"category_ids": [1]},
    ]
    (label,) = first["labels"]
    assert label["annotation_type"] == "classification"
    assert label["annotator"] == labeled["annotator"].pseudonym
    assert label["guideline_version"] == 1
    assert label["time_spent_ms"] == 1000
    assert label["source"] == "human"
    assert label["aggregation"] is None and label["adjudication"] is None
    (review,) = first["reviews"]
    assert review["decision"] == "approved"
    assert review["reviewer"] == labeled["reviewer"].pseudonym
    assert labeled["annotator"].username not in (folder / "records.jsonl").read_text()
    manifest = json.loads((folder / "manifest.json").read_text())
    content = manifest["content"]
    assert manifest["content_hash"] == version.content_hash
    assert content["layout"] == datasets.LAYOUT
    assert content["counts"] == {"items": 4, "annotations": 4, "excluded": {}}
    assert content["selection"]["statuses"] == ["approved"]
    assert [(c["id"], c["name"], c["display_order"]) for c in content["categories"]] == [
        (1, "cat", 0),
        (2, "dog", 1),
        (3, "bird", 2),
    ]
    assert sorted(content["files"]) == ["checksums.sha256", "records.jsonl"]
    for name, sha256 in content["files"].items():  # summed as written, so checked against disk
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha256
    media_files = sorted(p.relative_to(folder).as_posix() for p in (folder / "media").iterdir())
    listed = [
        line.split("  ", 1) for line in (folder / "checksums.sha256").read_text().splitlines()
    ]
    assert sorted(name for _, name in listed) == sorted([*media_files, "records.jsonl"])
    checked = subprocess.run(  # coreutils' own reader checks every file against the list
        ["sha256sum", "--check", "--strict", "checksums.sha256"], cwd=folder, capture_output=True
    )
    assert checked.returncode == 0, checked.stdout
    assert manifest["gate"]["passed"] is True
    assert manifest["gate"]["rules"] == version.gate_report["rules"]  # the default gate's four


def test_the_version_names_no_modality_and_no_format_of_its_own(
    runtime: Runtime, labeled: dict[str, Any]
) -> None:
    """Nothing of COCO, images or a type's payload fields is written by the core: only inside
    what the item's modality probed (``meta``), its media type and the type's own payload."""
    version = export(runtime, labeled["project"].id)
    for record in records_of(runtime, version):
        assert sorted(record) == ["item", "labels", "reviews"]
        item = {k: v for k, v in record["item"].items() if k not in ("meta", "media_type")}
        labels = [{k: v for k, v in x.items() if k != "payload"} for x in record["labels"]]
        text = json.dumps({**record, "item": item, "labels": labels}).lower()
        for word in ("category_id", "image", "width", "height", "bbox", "coco"):
            assert word not in text, (word, text)
    content = json.loads((folder_of(runtime, version) / "manifest.json").read_text())["content"]
    assert sorted(content) == [
        "categories",
        "containers",
        "counts",
        "dataset_id",
        "files",
        "labels_hash",
        "layout",
        "schema_version",
        "selection",
        "task_type",
        "title",
    ]


def test_a_selection_by_status_and_category(runtime: Runtime, labeled: dict[str, Any]) -> None:
    pid = labeled["project"].id
    version = export(runtime, pid, statuses=["approved", "labeled"], category_ids=[2])
    items = [record["item"]["id"] for record in records_of(runtime, version)]
    assert items == [labeled["ids"][1], labeled["ids"][4]]


def test_an_empty_selection_is_refused_and_numbers_no_version(
    runtime: Runtime, labeled: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInput, match="No items match the selection: status in rejected"):
        export(runtime, labeled["project"].id, statuses=["rejected"])
    with runtime.reading() as session:
        assert session.get(DatasetVersion, 1) is None
    with pytest.raises(InvalidInput, match="Unknown status 'aproved'"):
        datasets.parse_selection({"statuses": ["aproved"]})


def test_an_interrupted_build_leaves_nothing_visible_and_a_retry_completes_it(
    runtime: Runtime, labeled: dict[str, Any]
) -> None:
    clean = export(runtime, labeled["project"].id)
    version = crashed_build(runtime, labeled["project"].id)
    root = datasets.export_folder(runtime, version.project_id)
    assert sorted(p.name for p in root.iterdir()) == ["v1"]
    with runtime.reading() as session:
        assert session.get(DatasetVersion, version.id).status == "building"  # type: ignore[union-attr]
    retried = datasets.build(runtime, version.id)  # type: ignore[arg-type]
    assert retried.status == "released"
    assert retried.content_hash == clean.content_hash
    assert sorted(p.name for p in root.iterdir()) == ["v1", "v2"]


def test_a_categories_change_during_the_export_fails_it_and_leaves_nothing(
    runtime: Runtime, labeled: dict[str, Any]
) -> None:
    version, rename = renamed_mid_build(runtime, labeled)

    with pytest.raises(Conflict, match=r"categories changed while the export ran \(schema 1.0.0"):
        datasets.build(runtime, version.id, on_progress=rename)  # type: ignore[arg-type]
    assert not datasets.export_folder(runtime, version.project_id).joinpath("v1").exists()
    with runtime.reading() as session:
        failed = session.get(DatasetVersion, version.id)
        assert failed is not None and failed.status == "failed"
        assert "categories changed" in failed.gate_report["error"]


def test_a_failing_quality_rule_holds_the_version_and_the_report_names_it(
    runtime: Runtime, labeled: dict[str, Any]
) -> None:
    def at_least_ten_items(context: datasets.GateContext, threshold: float) -> RuleResult:
        count = len(context.item_ids)
        return RuleResult(
            passed=count >= threshold,
            value=count,
            threshold=threshold,
            evidence={"items": count},
            message=f"{count} items",
        )

    held_runtime = gated(runtime, "min_items", "Enough items", at_least_ten_items, 10)
    version = export(held_runtime, labeled["project"].id)
    assert version.status == "held"
    (result,) = [r for r in version.gate_report["rules"] if not r["passed"]]
    assert result == {
        "rule": "min_items",
        "title": "Enough items",
        "direction": "at_least",
        "threshold": 10.0,
        "value": 4,
        "passed": False,
        "message": "4 items",
        "evidence": {"items": 4},
    }
    assert version.released_at is None


def test_pycocotools_reads_the_coco_export(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    """An independent reader (pycocotools, a test-only dependency) opens the COCO format's
    annotations.json, built from the version's records, and finds every image with its class."""
    from pycocotools.coco import COCO

    version = export(runtime, labeled["project"].id)
    out = exports.write(runtime, version.id, "coco", tmp_path / "coco")  # type: ignore[arg-type]
    coco = COCO(str(out / "annotations.json"))
    assert sorted(coco.getImgIds()) == sorted(labeled["ids"][:4])
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["cat", "dog", "bird"]
    dogs = coco.getImgIds(catIds=[2])
    assert dogs == [labeled["ids"][1]]
    (annotation,) = coco.loadAnns(coco.getAnnIds(imgIds=dogs))
    assert annotation["category_id"] == 2


def run_export(runtime: Runtime, *args: str) -> Any:
    from click.testing import CliRunner

    from scholia.server.cli import main

    return CliRunner().invoke(
        main,
        ["export", *args, "--data-dir", str(runtime.settings.data_dir)],
        env={"SCHOLIA_DATABASE_URL": runtime.settings.database_url},
        catch_exceptions=False,
    )


def test_the_export_command_writes_a_version_with_progress(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run_export(runtime, str(labeled["project"].id), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "export: 4/4 items (100%)" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert f"content hash {manifest['content_hash']}" in result.output
    assert manifest["content"]["counts"]["items"] == 4
    assert (out / "records.jsonl").exists() and (out / "checksums.sha256").exists()


def test_the_export_command_refuses_a_folder_with_files_and_an_empty_selection(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    refused = run_export(runtime, str(labeled["project"].id), "--out", str(busy))
    assert refused.exit_code == 2
    assert "is not an empty folder; nothing was written" in refused.output
    assert (busy / "keep.txt").read_text() == "mine"
    empty = run_export(
        runtime, str(labeled["project"].id), "--status", "rejected", "--out", str(tmp_path / "e")
    )
    assert empty.exit_code == 2
    assert "No items match the selection: status in rejected" in empty.output
    assert not (tmp_path / "e").exists()
    unknown = run_export(runtime, "999", "--out", str(tmp_path / "u"))
    assert unknown.exit_code == 2 and "No project with id 999" in unknown.output


def test_a_label_the_aggregate_combined_is_written_as_the_combined_payload(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    """Where the type's aggregate made a label none of the annotations is (``payload`` in how
    it was chosen), the version holds that payload, and the annotation it was chosen through
    stays its provenance."""
    item_id = labeled["ids"][0]
    chosen = labeled["revisions"][item_id]
    how = {"method": "aggregate", "votes": 2, "of": 3, "payload": {"category_ids": [1, 3]}}
    with runtime.reading() as session:
        item = session.get(datasets.Item, item_id)
        assert item is not None
        writer = datasets._Writer(tmp_path / "v", runtime, session)
        # A build's rows, whose id is as the driver gives it (text on SQLite).
        row = next(
            a
            for a in valid_annotation_rows(session, [item_id])[item_id]
            if writer.values.uuid_text(a.id) == str(chosen.id)
        )
        record = datasets._Record(item, [row], [], {}, {row.id: how})
        label = writer._label(record, row)
        writer.abort()
    assert label["payload"] == {"category_ids": [1, 3]}
    assert label["annotation_id"] == str(chosen.id)
    assert label["aggregation"] == {"method": "aggregate", "votes": 2, "of": 3}
    assert how["payload"] == {"category_ids": [1, 3]}  # the build's own record is left alone
