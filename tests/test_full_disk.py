"""A disk that fills up while a dataset version (or a format export) is written: a clear error,
nothing half-written left, the versions released before untouched, and a retry that completes
once there is room. The disk is real: a small tmpfs mounted where the versions are written."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scholia.core import datasets, exports
from scholia.core.errors import StorageFailed
from scholia.core.models import DatasetVersion
from scholia.core.runtime import Runtime

from .conftest import export, folder_of


def _mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")


@pytest.fixture
def small_disk(runtime: Runtime) -> Iterator[Path]:
    """The data directory's ``datasets`` folder on its own 1 MiB filesystem."""
    folder = runtime.settings.data_dir / "datasets"
    _mount_tmpfs(folder, "1m")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    """Take all but ``leave`` bytes of the disk's free space."""
    filler = disk / "filler"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with filler.open("wb") as file:
        file.write(b"\0" * max(0, free - leave))
    return filler


def _intact(folder: Path) -> bool:
    """Every file matches the manifest (the media through the ``checksums.sha256`` it lists)."""
    content = json.loads((folder / "manifest.json").read_text())["content"]
    listed = [
        (name, digest)
        for digest, name in (
            line.split("  ", 1) for line in (folder / "checksums.sha256").read_text().splitlines()
        )
    ]
    return all(
        hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
        for name, digest in [*content["files"].items(), *listed]
    )


def test_a_version_that_fills_the_disk_fails_clearly_and_a_retry_completes(
    runtime: Runtime, labeled: dict[str, Any], small_disk: Path
) -> None:
    released = export(runtime, labeled["project"].id)
    assert _intact(folder_of(runtime, released))
    filler = _fill(small_disk, leave=4096)
    with runtime.session() as session:
        version = datasets.create(
            session,
            labeled["project"].id,
            datasets.parse_selection({"statuses": ["approved", "labeled"]}),
            labeled["annotator"].id,
        )
    with pytest.raises(StorageFailed, match="No space left on device") as failed:
        datasets.build(runtime, version.id)  # type: ignore[arg-type]
    assert "free some space" in failed.value.message
    with runtime.reading() as session:
        stored = session.get(DatasetVersion, version.id)
        assert stored is not None and stored.status == "failed"
        assert "No space left on device" in stored.gate_report["error"]
    project_folder = datasets.export_folder(runtime, labeled["project"].id)
    assert sorted(p.name for p in project_folder.iterdir()) == [f"v{released.version}"]
    assert _intact(folder_of(runtime, released))

    filler.unlink()
    rebuilt = datasets.build(runtime, version.id)  # type: ignore[arg-type]
    assert rebuilt.status == "released" and rebuilt.item_count == 6
    assert _intact(folder_of(runtime, rebuilt))


def test_a_format_export_that_fills_the_disk_leaves_nothing(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    version = export(runtime, labeled["project"].id)
    target = tmp_path / "small"
    _mount_tmpfs(target, "64k")
    try:
        _fill(target, leave=0)
        with pytest.raises(StorageFailed, match="Could not write the COCO export"):
            exports.write(runtime, version.id, "coco", target / "coco")  # type: ignore[arg-type]
        assert sorted(p.name for p in target.iterdir()) == ["filler"]
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)
    shutil.rmtree(target, ignore_errors=True)
