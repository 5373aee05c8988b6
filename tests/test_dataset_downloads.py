"""Downloading a dataset version as a new user does: an item with several annotation types, a
format that cannot apply to the project, and errors that say what really went wrong."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from scholia.core import annotations, exports
from scholia.core.errors import DiskFull, StorageFailed
from scholia.core.plugins import Plugins, load_plugins
from scholia.core.runtime import Runtime
from scholia.core.storage import place

from .conftest import DEFAULT_PLUGINS, EXAMPLE_PLUGINS, export, png_bytes, seed


@pytest.fixture
def plugins() -> Plugins:
    """With the video plugin too: its formats (MOT, CVAT video) must not apply to images."""
    return load_plugins(default_plugins=DEFAULT_PLUGINS, select={*EXAMPLE_PLUGINS, "scholia-video"})


@pytest.fixture
def rated_and_classified(runtime: Runtime) -> dict[str, Any]:
    """A released version of one image carrying a rating and a classification."""
    user, project, item = seed(
        runtime, annotation_types=("rating", "classification"), categories=("cat", "dog")
    )
    with runtime.session() as session:
        for annotation_type, payload in (
            ("rating", {"value": 4}),
            ("classification", {"category_ids": [1]}),
        ):
            annotations.submit(
                session,
                runtime.plugins,
                item_id=item.id,  # type: ignore[arg-type]
                annotator_id=user.id,  # type: ignore[arg-type]
                annotation_type=annotation_type,
                payload=payload,
            )
    version = export(runtime, project.id, statuses=["labeled"])  # type: ignore[arg-type]
    assert version.status == "released", version.gate_report
    return {"version": version, "item": item, "project": project}


@pytest.mark.parametrize("format_name", ["coco", "csv", "jsonl", "label-studio"])
def test_an_item_with_two_annotation_types_exports_its_image_once(
    runtime: Runtime, rated_and_classified: dict[str, Any], tmp_path: Path, format_name: str
) -> None:
    version, item = rated_and_classified["version"], rated_and_classified["item"]
    out = exports.write(runtime, version.id, format_name, tmp_path / format_name)
    stored = runtime.store.path(item.content_hash).read_bytes()
    assert [p.read_bytes() for p in out.rglob("*.png")] in ([], [stored])
    if format_name == "coco":
        coco = json.loads((out / "annotations.json").read_text())
        assert [image["id"] for image in coco["images"]] == [item.id]


def test_the_coco_download_of_such_an_item_is_a_zip_not_a_full_disk(
    runtime: Runtime, rated_and_classified: dict[str, Any], api_for: Any
) -> None:
    version = rated_and_classified["version"]
    response = api_for("admin").get(f"/api/v1/datasets/{version.id}/download?format=coco")
    assert response.status_code == 200, response.text
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "annotations.json" in names
    assert len([n for n in names if n.endswith(".png")]) == 1


def test_the_downloaded_zip_passes_unzip_and_its_checksums_match(
    rated_and_classified: dict[str, Any], api_for: Any, tmp_path: Path
) -> None:
    version = rated_and_classified["version"]
    response = api_for("admin").get(f"/api/v1/datasets/{version.id}/download")
    assert response.status_code == 200, response.text
    (tmp_path / "v.zip").write_bytes(response.content)
    tested = subprocess.run(["unzip", "-t", "v.zip"], cwd=tmp_path, capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    with zipfile.ZipFile(tmp_path / "v.zip") as archive:
        lines = archive.read("checksums.sha256").decode().splitlines()
        assert any(" media/" in line for line in lines)
        for line in lines:
            digest, name = line.split("  ", 1)
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name


def test_placing_a_different_file_over_a_taken_name_is_refused(tmp_path: Path) -> None:
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    first.write_bytes(png_bytes((1, 2, 3)))
    second.write_bytes(png_bytes((3, 2, 1)))
    place(first, tmp_path / "out" / "x.png")
    place(first, tmp_path / "out" / "x.png")  # the same file again: nothing to do
    with pytest.raises(FileExistsError):
        place(second, tmp_path / "out" / "x.png")
    assert (tmp_path / "out" / "x.png").read_bytes() == first.read_bytes()


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_only_a_full_disk_asks_for_space(code: int) -> None:
    failed = StorageFailed.of(OSError(code, "No space left on device", "/data/x"), "the export")
    assert isinstance(failed, DiskFull)
    assert "free some space" in failed.message


@pytest.mark.parametrize(
    "error",
    [
        FileExistsError(errno.EEXIST, "File exists", "/data/x"),
        PermissionError(errno.EACCES, "Permission denied", "/data/x"),
        OSError(errno.EIO, "Input/output error", "/data/x"),
    ],
)
def test_other_write_errors_do_not_claim_a_full_disk(error: OSError) -> None:
    failed = StorageFailed.of(error, "the export")
    assert not isinstance(failed, DiskFull)
    assert "space" not in failed.message
    assert error.strerror in failed.message  # type: ignore[operator]


def test_a_format_that_cannot_apply_is_refused_naming_the_project_s_types(
    runtime: Runtime, rated_and_classified: dict[str, Any], api_for: Any
) -> None:
    version = rated_and_classified["version"]
    response = api_for("admin").get(f"/api/v1/datasets/{version.id}/download?format=mot")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["path"] == "$.format"
    assert "classification, rating" in error["message"]
    assert "track" in error["message"]


def test_only_formats_for_the_project_s_types_apply(runtime: Runtime) -> None:
    image = {f.name for f in exports.formats_for(runtime.plugins, ["classification"])}
    video = {f.name for f in exports.formats_for(runtime.plugins, ["track", "segments"])}
    assert {"coco", "yolo", "csv"} <= image and "mot" not in image
    assert {"mot", "cvat-video", "segments-json", "coco"} <= video and "yolo" not in video


def test_the_download_menu_offers_only_formats_that_fit_the_project(
    rated_and_classified: dict[str, Any], client_for: Any
) -> None:
    admin = client_for("admin")
    project, version = rated_and_classified["project"], rated_and_classified["version"]
    text = admin.get(f"/projects/{project.id}/datasets").text
    offered = set(re.findall(r"download\?format=([\w-]+)", text))
    assert {"coco", "csv", "yolo"} <= offered
    assert not offered & {"mot", "cvat-video", "segments-json", "segments-csv"}
    assert f"/api/v1/datasets/{version.id}/download?format=coco" in text
    # A format that does not fit is neither chosen from the address nor accepted by the form.
    assert 'value="mot"' not in admin.get(f"/projects/{project.id}/datasets?format=mot").text
    refused = admin.post(
        f"/projects/{project.id}/datasets", data={"statuses": ["labeled"], "format": "mot"}
    )
    assert refused.status_code == 422
    assert "does not fit this project&#39;s annotation types (rating, classification)" in (
        refused.text
    )
