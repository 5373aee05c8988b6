"""A released dataset version as a zip, streamed from its folder as it is read.

The zip is never built in memory nor written to disk: ``zipfile`` writes into a sink that only
keeps what it was given since the stream last took it (``zipfile`` handles a sink it cannot
seek by writing each file's sizes after its data). Asked for a format, the version is first
written in it by its export-format plugin into a temporary folder, which is zipped the same way
and removed once the stream ends.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

from litestar.background_tasks import BackgroundTask
from litestar.response import Stream

from scholia.core import datasets, exports
from scholia.core.errors import Conflict
from scholia.core.models import DatasetVersion, DatasetVersionStatus
from scholia.core.runtime import Runtime

from . import heap

__all__ = ["download", "file_name", "refusal", "zip_chunks"]

READ_CHUNK = 1024 * 1024
COMPRESSED_SUFFIXES = frozenset({".json", ".jsonl", ".csv", ".txt", ".xml", ".yaml", ".yml"})
"""Text is deflated; media (already compressed) is stored as it is."""


class _Sink:
    """A write-only file: keeps what ``zipfile`` writes until the stream takes it."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))  # no copy of ``bytes``, which is what zipfile writes
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        self.size = 0
        return data


def _files(folder: Path) -> list[tuple[str, os.DirEntry[str]]]:
    """Every file under ``folder`` as (its path relative to it, its entry), in sorted order
    (part by part, as ``sorted(folder.rglob("*"))`` orders); one ``scandir`` per folder, as
    ``pathlib`` costs more than zipping a small file."""
    found: list[tuple[list[str], os.DirEntry[str]]] = []
    pending = [("", os.fspath(folder))]
    while pending:
        prefix, directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                name = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    pending.append((name + "/", entry.path))
                elif entry.is_file():
                    found.append((name.split("/"), entry))
    found.sort(key=lambda pair: pair[0])
    return [("/".join(parts), entry) for parts, entry in found]


def _info(name: str, entry: os.DirEntry[str]) -> zipfile.ZipInfo:
    """What ``ZipInfo.from_file`` makes of a file, from its already read ``stat``; times
    outside what a zip can hold are clamped, as ``strict_timestamps=False`` does."""
    stat = entry.stat()
    when = time.localtime(stat.st_mtime)[:6]
    when = min(max(when, (1980, 1, 1, 0, 0, 0)), (2107, 12, 31, 23, 59, 59))
    info = zipfile.ZipInfo(name, when)
    info.external_attr = (stat.st_mode & 0xFFFF) << 16
    info.file_size = stat.st_size
    compressed = os.path.splitext(name)[1].lower() in COMPRESSED_SUFFIXES
    info.compress_type = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    return info


def zip_chunks(folder: Path) -> Iterator[bytes]:
    """Every file under ``folder`` (paths relative to it, in sorted order), zipped, in pieces of
    about ``READ_CHUNK`` bytes: small files share a piece, so a stream of many small media
    files is not one thread hand-off per file (each piece of a sync iterator is one)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", strict_timestamps=False) as archive:  # type: ignore[arg-type]
        for name, entry in _files(folder):
            with open(entry.path, "rb") as source, archive.open(_info(name, entry), "w") as target:
                # Read only what fills the piece (a header may have filled it: then one byte),
                # so no piece grows much past READ_CHUNK.
                while chunk := source.read(max(READ_CHUNK - sink.size, 1)):
                    target.write(chunk)
                    if sink.size >= READ_CHUNK:
                        yield sink.take()
            if sink.size >= READ_CHUNK:  # the file's data descriptor filled it
                yield sink.take()
    rest = sink.take()  # the last files and the central directory
    for start in range(0, len(rest), READ_CHUNK):
        yield rest[start : start + READ_CHUNK]


def refusal(version: DatasetVersion) -> str | None:
    """Why ``version`` cannot be downloaded (None when it is released)."""
    number = version.version
    if version.status == DatasetVersionStatus.released:
        return None
    if version.status == DatasetVersionStatus.held:
        failed = [
            f"{r['rule']} ({r['title']}): {r['value']}, wanted {r['direction'].replace('_', ' ')} "
            f"{r['threshold']:g}"
            for r in version.gate_report.get("rules", [])
            if not r["passed"]
        ]
        return (
            f"Dataset version {number} is held by the export gate (failed: "
            f"{'; '.join(failed)}); a held version cannot be downloaded."
        )
    if version.status == DatasetVersionStatus.failed:
        reason = version.gate_report.get("error") or "no reason recorded"
        return f"Dataset version {number} failed ({reason}); retry it or create a new one."
    return (
        f"Dataset version {number} is still building ({version.progress_items} of "
        f"{version.total_items} items); download it once it is released."
    )


def file_name(project_name: str, version: DatasetVersion, format_name: str | None) -> str:
    """``photos-v3.zip`` (``photos-v3-yolo.zip`` in a format): a safe name for any project."""
    slug = re.sub(r"[^a-z0-9]+", "-", project_name.lower()).strip("-") or "dataset"
    suffix = f"-{format_name}" if format_name else ""
    return f"{slug}-v{version.version}{suffix}.zip"


def download(
    runtime: Runtime, version: DatasetVersion, project_name: str, format_name: str | None
) -> Stream:
    """The version as a streamed zip; refused (Conflict) unless released. A format is written
    before the response starts, so an unknown or unfitting one is an error, not a broken zip."""
    reason = refusal(version)
    if reason is not None:
        raise Conflict(reason)
    assert version.id is not None
    folder = datasets.export_folder(runtime, version.project_id) / f"v{version.version}"
    if not (folder / "manifest.json").is_file():
        raise Conflict(
            f"The files of dataset version {version.version} are missing from {folder} (was "
            "the data directory moved or restored without them?); create a new version."
        )
    scratch: Path | None = None
    if format_name:
        parent = datasets.export_folder(runtime, version.project_id).parent / ".downloads"
        parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f"v{version.version}-{format_name}-", dir=parent))
        try:
            folder = exports.write(runtime, version.id, format_name, scratch / "export")
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        finally:
            heap.give_back()  # the writer's working set, freed, goes back to the system

    def chunks() -> Iterator[bytes]:
        try:
            yield from zip_chunks(folder)
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)

    name = file_name(project_name, version, format_name)
    return Stream(
        chunks(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
        # Should the stream never start (the client left), the folder still goes.
        background=None
        if scratch is None
        else BackgroundTask(shutil.rmtree, scratch, ignore_errors=True),
    )
