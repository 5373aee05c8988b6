"""Dataset versions through the API and the command line: created and built in the background,
polled with their progress, downloaded as a zip streamed from the version folder (or in a
format), held by the export gate (409, naming the rule), retried after a crash."""

from __future__ import annotations

import io
import json
import shutil
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import update
from sqlmodel import col, func, select

from scholia.core import datasets
from scholia.core.contributions import QualityRule, RuleResult
from scholia.core.errors import Conflict
from scholia.core.job_kinds import BUILD
from scholia.core.models import DatasetVersion, Item
from scholia.core.models.types import utcnow
from scholia.core.plugins import Plugins
from scholia.core.runtime import Runtime
from scholia.server.downloads import READ_CHUNK, zip_chunks

from .conftest import EXAMPLE_PLUGINS, crashed_build, folder_of, renamed_mid_build, with_rules

Client = Callable[..., TestClient[Any]]


def approved_share(context: datasets.GateContext, threshold: float) -> RuleResult:
    """The share of the version's items that a reviewer approved."""
    ids = list(context.item_ids)
    approved = context.session.exec(
        select(func.count())
        .select_from(Item)
        .where(col(Item.id).in_(ids), col(Item.status) == "approved")
    ).one()
    share = approved / len(ids) if ids else 0.0
    return RuleResult(
        passed=share >= threshold,
        value=round(share, 3),
        threshold=threshold,
        evidence={"approved": approved, "items": len(ids)},
        message=f"{approved} of {len(ids)} items approved",
    )


APPROVED_ONLY = QualityRule(
    name="approved_share", title="Approved items", evaluate=approved_share, default_threshold=1.0
)
"""A test rule: the export gate holds a version with items no reviewer approved."""


@pytest.fixture
def plugins() -> Plugins:
    return with_rules(APPROVED_ONLY)


def finished(client: TestClient[Any], url: str, within_s: float = 20) -> dict[str, Any]:
    """Poll ``url`` (a version) as a script would, until its build is done."""
    deadline = time.monotonic() + within_s
    while True:
        body: dict[str, Any] = client.get(url).json()
        if body["status"] != "building":
            return body
        assert time.monotonic() < deadline, f"still building after {within_s} s: {body}"
        time.sleep(0.05)


def create(client: TestClient[Any], project_id: int, **selection: Any) -> Any:
    return client.post(f"/api/v1/projects/{project_id}/datasets", json={"selection": selection})


def test_creating_a_version_answers_202_and_builds_it_in_the_background(
    api_for: Client, labeled: dict[str, Any], runtime: Runtime
) -> None:
    manager = api_for("manager", project=labeled["project"])
    pid = labeled["project"].id
    response = create(manager, pid)
    assert response.status_code == 202, response.text
    started = response.json()
    assert response.headers["location"] == started["url"] == f"/api/v1/datasets/{started['id']}"
    assert (started["version"], started["project_id"]) == (1, pid)
    assert started["selection"]["statuses"] == ["approved"]
    done = finished(manager, started["url"])
    assert done["status"] == "released"
    assert (done["item_count"], done["annotation_count"]) == (4, 4)
    assert done["progress"]["items"] == done["progress"]["total"] == 4
    assert done["gate_report"]["passed"] is True
    assert "approved_share" in [r["rule"] for r in done["gate_report"]["rules"]]
    assert done["download_url"] == f"{started['url']}/download"
    assert done["can_retry"] is False
    manifest = json.loads(
        (folder_of(runtime, _row(runtime, done["id"])) / "manifest.json").read_text()
    )
    assert done["content_hash"] == manifest["content_hash"]
    listed = manager.get(f"/api/v1/projects/{pid}/datasets").json()
    assert [v["id"] for v in listed] == [done["id"]]
    assert listed[0]["content_hash"] == done["content_hash"]


def _row(runtime: Runtime, version_id: int) -> DatasetVersion:
    with runtime.reading() as session:
        return datasets.get_version(session, version_id)


def test_only_managers_create_versions_and_reviewers_and_up_read_them(
    api_for: Client, labeled: dict[str, Any], app: Any
) -> None:
    annotator = api_for("annotator", project=labeled["project"])
    refused = create(annotator, labeled["project"].id)
    assert refused.status_code == 403
    assert "needs the manager role" in refused.json()["error"]["message"]
    # Versions carry every annotator's labels and the gate's gold statistics.
    listed = annotator.get(f"/api/v1/projects/{labeled['project'].id}/datasets")
    assert listed.status_code == 403
    assert "needs the reviewer role" in listed.json()["error"]["message"]
    reviewer = api_for("reviewer", project=labeled["project"])
    assert reviewer.get(f"/api/v1/projects/{labeled['project'].id}/datasets").json() == []
    with TestClient(app) as anonymous:
        assert anonymous.get("/api/v1/datasets/1").status_code == 401


def test_an_empty_selection_is_a_422_and_numbers_no_version(
    api_for: Client, labeled: dict[str, Any]
) -> None:
    manager = api_for("manager", project=labeled["project"])
    pid = labeled["project"].id
    nothing = create(manager, pid, statuses=["rejected"])
    assert nothing.status_code == 422
    assert nothing.json()["error"] == {
        "code": "invalid_input",
        "message": "No items match the selection: status in rejected",
        "path": "$.selection",
    }
    no_status = create(manager, pid, statuses=[])
    assert no_status.status_code == 422
    assert no_status.json()["error"]["message"] == "Choose at least one status"
    typo = create(manager, pid, statuses=["aproved"])
    assert typo.status_code == 422
    assert typo.json()["error"]["path"] == "$.selection.statuses[0]"
    assert "Unknown status 'aproved'" in typo.json()["error"]["message"]
    assert manager.get(f"/api/v1/projects/{pid}/datasets").json() == []
    missing = create(manager, 999)
    assert missing.status_code == 404


def test_the_download_is_the_version_folder_zipped_and_streamed(
    api_for: Client, labeled: dict[str, Any], runtime: Runtime
) -> None:
    manager = api_for("manager", project=labeled["project"])
    done = finished(manager, create(manager, labeled["project"].id).json()["url"])
    response = manager.get(done["download_url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == 'attachment; filename="seeded-v1.zip"'
    assert "content-length" not in response.headers  # streamed, not built first
    folder = folder_of(runtime, _row(runtime, done["id"]))
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == files
        for name in ("manifest.json", "records.jsonl", "checksums.sha256"):
            assert archive.read(name) == (folder / name).read_bytes()
        image = next(n for n in files if n.startswith("media/"))
        assert archive.read(image) == (folder / image).read_bytes()


def test_the_zip_is_written_a_chunk_at_a_time(tmp_path: Path) -> None:
    """A file several chunks long never sits in memory whole: no piece of the stream is much
    larger than one read."""
    big = bytes(range(256)) * (5 * READ_CHUNK // 256)
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "big.bin").write_bytes(big)
    (tmp_path / "manifest.json").write_text('{"content_hash": "x"}')
    pieces = list(zip_chunks(tmp_path))
    assert len(pieces) > 5
    assert max(len(p) for p in pieces) <= READ_CHUNK + 1024
    with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as archive:
        assert archive.read("images/big.bin") == big
        assert archive.getinfo("images/big.bin").compress_type == zipfile.ZIP_STORED
        assert archive.getinfo("manifest.json").compress_type == zipfile.ZIP_DEFLATED


def test_small_files_share_the_pieces_of_the_stream(tmp_path: Path) -> None:
    """Each piece of the stream is one hand-off to the thread pool: many small media files go
    out in pieces of about READ_CHUNK, not one or two pieces per file."""
    files = {f"media/{i:04d}.jpg": bytes([i % 256]) * 12_000 for i in range(300)}
    (tmp_path / "media").mkdir()
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    pieces = list(zip_chunks(tmp_path))
    assert len(pieces) <= 5  # 3.6 MB in pieces of 1 MiB, then the central directory
    assert max(len(p) for p in pieces) <= READ_CHUNK + 1024
    with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == sorted(files)
        assert all(archive.read(name) == data for name, data in files.items())


def test_a_held_export_cannot_be_downloaded_and_its_report_names_the_failing_rule(
    api_for: Client, labeled: dict[str, Any]
) -> None:
    manager = api_for("manager", project=labeled["project"])
    started = create(manager, labeled["project"].id, statuses=["approved", "labeled"]).json()
    held = finished(manager, started["url"])
    assert held["status"] == "held"
    assert held["download_url"] is None
    (rule,) = [r for r in held["gate_report"]["rules"] if not r["passed"]]
    assert rule == {
        "rule": "approved_share",
        "title": "Approved items",
        "direction": "at_least",
        "threshold": 1.0,
        "value": 0.667,
        "passed": False,
        "message": "4 of 6 items approved",
        "evidence": {"approved": 4, "items": 6},
    }
    for query in ("", "?format=yolo"):
        refused = manager.get(f"{started['url']}/download{query}")
        assert refused.status_code == 409
        message = refused.json()["error"]["message"]
        assert message == (
            "Dataset version 1 is held by the export gate (failed: approved_share (Approved "
            "items): 0.667, wanted at least 1); a held version cannot be downloaded."
        )


def test_a_build_s_progress_is_on_the_version_while_it_runs(
    api_for: Client, labeled: dict[str, Any], runtime: Runtime
) -> None:
    """A build started elsewhere (here: in a thread, as `scholia export` would in its own
    process) shows its progress through the API while it runs."""
    manager = api_for("manager", project=labeled["project"])
    with runtime.session() as session:
        version = datasets.create(session, labeled["project"].id, datasets.Selection(), 1)
    go_on = threading.Event()

    def slowly(done: int) -> None:
        if done == 2:
            time.sleep(datasets.PROGRESS_EVERY_S + 0.05)  # so item 2 is written on the row
        if done == 3:
            assert go_on.wait(20)

    builder = threading.Thread(
        target=datasets.build, args=(runtime, version.id), kwargs={"on_progress": slowly}
    )
    builder.start()
    try:
        url = f"/api/v1/datasets/{version.id}"
        deadline = time.monotonic() + 20
        while (body := manager.get(url).json())["progress"]["items"] < 2:
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
        assert body["status"] == "building"
        assert body["progress"]["total"] == 4
        assert body["can_retry"] is False  # it is moving
        refused = manager.post(f"{url}/retry")
        assert refused.status_code == 409
        assert "is being built" in refused.json()["error"]["message"]
        assert manager.get(f"{url}/download").json()["error"]["message"] == (
            "Dataset version 1 is still building (2 of 4 items); download it once it is released."
        )
    finally:
        go_on.set()
        builder.join(20)
    assert finished(manager, url)["status"] == "released"


def test_a_version_a_crash_left_building_is_retried_and_completes(
    api_for: Client, labeled: dict[str, Any], runtime: Runtime
) -> None:
    manager = api_for("manager", project=labeled["project"])
    version = crashed_build(runtime, labeled["project"].id)
    url = f"/api/v1/datasets/{version.id}"
    assert manager.get(url).json()["can_retry"] is False  # it might still be moving
    with runtime.session() as session:  # ...until its progress has not moved for a while
        session.connection().execute(
            update(DatasetVersion)
            .where(col(DatasetVersion.id) == version.id)
            .values(progress_at=utcnow() - BUILD.stalled_after * 2)
        )
    stalled = manager.get(url).json()
    assert (stalled["status"], stalled["can_retry"]) == ("building", True)
    retried = manager.post(f"{url}/retry")
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "building"
    assert finished(manager, url)["status"] == "released"
    again = manager.post(f"{url}/retry")
    assert again.status_code == 409
    assert again.json()["error"]["message"] == (
        "Dataset version 1 is released; only a failed or stalled build can be retried."
    )
    assert api_for("annotator", project=labeled["project"]).post(f"{url}/retry").status_code == 403


def test_a_download_in_a_format_is_written_then_zipped_and_leaves_nothing_behind(
    api_for: Client, labeled: dict[str, Any], runtime: Runtime
) -> None:
    manager = api_for("manager", project=labeled["project"])
    done = finished(manager, create(manager, labeled["project"].id).json()["url"])
    response = manager.get(done["download_url"], params={"format": "yolo"})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="seeded-v1-yolo.zip"'
    ids = labeled["ids"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = set(archive.namelist())
    assert {f"train/cat/{ids[0]}-seed.png", f"train/dog/{ids[1]}-photo1.png"} <= names
    assert "manifest.json" in names
    scratch = datasets.export_folder(runtime, labeled["project"].id).parent / ".downloads"
    assert list(scratch.iterdir()) == []
    unknown = manager.get(done["download_url"], params={"format": "pascal"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["message"] == (
        "Unknown export format 'pascal' (installed: coco, csv, jsonl, label-studio, voc, yolo)"
    )
    assert list(scratch.iterdir()) == []


# --- the command line -----------------------------------------------------------------------


def run_export(runtime: Runtime, *args: str) -> Any:
    from click.testing import CliRunner

    from scholia.server.cli import main

    return CliRunner().invoke(
        main,
        ["export", *args, "--data-dir", str(runtime.settings.data_dir)],
        env={
            "SCHOLIA_DATABASE_URL": runtime.settings.database_url,
            "SCHOLIA_LOAD_PLUGINS": ",".join(sorted(EXAMPLE_PLUGINS)),
        },
        catch_exceptions=False,
    )


def test_the_export_command_writes_the_version_in_a_format(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "yolo"
    result = run_export(runtime, str(labeled["project"].id), "--format", "yolo", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"as yolo → {out}" in result.output
    ids = labeled["ids"]
    assert sorted(p.name for p in (out / "train").iterdir()) == ["bird", "cat", "dog"]
    assert (out / "train" / "dog" / f"{ids[1]}-photo1.png").is_file()
    assert not (out / "records.jsonl").exists()  # the format's layout, not the raw version


def test_the_export_command_refuses_an_unknown_format_before_writing_anything(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run_export(
        runtime, str(labeled["project"].id), "--format", "darknet", "--out", str(out)
    )
    assert result.exit_code == 2
    assert (
        "unknown export format 'darknet' (installed: coco, csv, jsonl, label-studio, voc, yolo)"
        in (" ".join(result.output.split()))
    )
    assert not out.exists()
    with runtime.reading() as session:
        assert datasets.list_versions(session, labeled["project"].id) == []


def test_a_failed_build_says_why_and_a_retry_completes_it(
    api_for: Client, labeled: dict[str, Any], runtime: Runtime
) -> None:
    manager = api_for("manager", project=labeled["project"])
    version, rename = renamed_mid_build(runtime, labeled)

    with pytest.raises(Conflict):
        datasets.build(runtime, version.id, on_progress=rename)  # type: ignore[arg-type]
    url = f"/api/v1/datasets/{version.id}"
    failed = manager.get(url).json()
    assert (failed["status"], failed["can_retry"]) == ("failed", True)
    assert "categories changed while the export ran" in failed["gate_report"]["error"]
    refused = manager.get(f"{url}/download").json()["error"]["message"]
    assert refused.startswith("Dataset version 1 failed (The categories changed while")
    assert manager.post(f"{url}/retry").status_code == 202
    assert finished(manager, url)["status"] == "released"


def test_a_version_whose_files_are_gone_is_not_downloaded_as_an_empty_zip(
    api_for: Client, labeled: dict[str, Any], runtime: Runtime
) -> None:
    manager = api_for("manager", project=labeled["project"])
    done = finished(manager, create(manager, labeled["project"].id).json()["url"])
    shutil.rmtree(folder_of(runtime, _row(runtime, done["id"])))
    response = manager.get(done["download_url"])
    assert response.status_code == 409
    assert "The files of dataset version 1 are missing from" in response.json()["error"]["message"]
