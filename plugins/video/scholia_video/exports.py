"""The video plugin's export formats: tracks as CVAT for video 1.1 and MOT, action segments as
JSON and CSV.

Each writer reads only the released version (``VersionView``): its records, the probed
``item_meta`` of each video (``frame_count``, ``width``, ``height``, ``fps``) and its categories.
A version holds one record per item and annotation type, the canonical one the version chose
(the adjudicated label, the only one, or the aggregator's pick); that is the one written. Who
made it is said where the format has a place for it: CVAT's task ``<assignee>`` and track
``source``, the segments JSON's ``annotator``; the version's ``records.jsonl`` has the rest.
A track or segment of a category deleted since is left out, as the COCO export leaves it out.
Videos are named ``<item id>-<name>`` as in the version.

Layouts, each video's media hard-linked beside its labels so the export stands alone:

``cvat-video``, one folder per video, as CVAT exports a task (a CVAT task holds one video, and
a task's annotations upload one ``annotations.xml`` at a time)::

    12-street/annotations.xml
    12-street/12-street.mp4

``mot``, one MOTChallenge sequence per video, labels only (no ``img1/`` frames, as CVAT's MOT
export without images and MOTChallenge's ``*Labels.zip``)::

    12-street/gt/gt.txt
    12-street/gt/labels.txt
    12-street/seqinfo.ini          (when the probe knew the frame rate)
    12-street/12-street.mp4

``segments-json`` and ``segments-csv``, every video in one file, ``video`` its path in the
export::

    segments.json  (or segments.csv)
    videos/12-street.mp4
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from scholia.core.contributions import ExportFormat
from scholia.core.errors import InvalidInput
from scholia.core.exports import ExportRecord, VersionView
from scholia.core.storage import place

from . import cvat_video, mot, segments_export
from .segments import Segments
from .tracks import Tracks

__all__ = [
    "FORMATS",
    "write_cvat_video",
    "write_mot",
    "write_segments_csv",
    "write_segments_json",
]

CVAT_SOURCES = {"suggestion": "semi-auto", "imported": "file"}
"""Scholia's annotation sources in CVAT's words; anything else a person drew is ``manual``."""


def _of_type(version: VersionView, annotation_type: str) -> Iterator[ExportRecord]:
    """The version's records of ``annotation_type``; refuses a version with none, which would
    otherwise export as an empty folder."""
    found = False
    for record in version.records():
        if record.annotation_type == annotation_type:
            found = True
            yield record
    if not found:
        raise InvalidInput(
            f"This dataset version holds no {annotation_type} annotations, so there is nothing "
            "to write; choose a format for what it holds",
            "$.format",
        )


def _size(record: ExportRecord) -> tuple[int, int, int]:
    """The video's frame count, width and height, which CVAT and MOT need."""
    values = []
    for key in ("frame_count", "width", "height"):
        value = record.item_meta.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInput(
                f"{record.file_name} has no {key} in its metadata (its probe did not record "
                "it), so its tracks cannot be laid out on frames; upload the video again"
            )
        values.append(value)
    frame_count, width, height = values
    return frame_count, width, height


def _fps(record: ExportRecord) -> float | None:
    value = record.item_meta.get("fps")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None


def _tracks(record: ExportRecord, names: dict[int, str]) -> Tracks:
    payload = msgspec.convert(record.payload, Tracks)
    return Tracks(tracks=[t for t in payload.tracks if t.category_id in names])


def _video(record: ExportRecord) -> tuple[str, str]:
    """The video's file name in the version (``12-street.mp4``) and its stem (``12-street``)."""
    path = Path(record.file_name)
    return path.name, path.stem


def write_cvat_video(version: VersionView, out: Path) -> None:
    """One ``<video>/annotations.xml`` per video, with the video beside it."""
    names = version.category_names
    for record in _of_type(version, "track"):
        frame_count, width, height = _size(record)
        file_name, stem = _video(record)
        provenance: dict[str, Any] = record.provenance
        cvat_video.write_cvat_video(
            _tracks(record, names),
            _folder(out, stem) / "annotations.xml",
            categories=names,
            frame_count=frame_count,
            width=width,
            height=height,
            name=file_name.removeprefix(f"{record.item_id}-"),
            assignee=provenance.get("annotator"),
            source=CVAT_SOURCES.get(provenance.get("source") or "", "manual"),
        )
        place(record.media, out / stem / file_name)


def _folder(out: Path, stem: str) -> Path:
    folder = out / stem
    folder.mkdir(parents=True)
    return folder


def write_mot(version: VersionView, out: Path) -> None:
    """One MOT sequence per video: ``gt/gt.txt``, ``gt/labels.txt``, ``seqinfo.ini``."""
    names = version.category_names
    for record in _of_type(version, "track"):
        frame_count, width, height = _size(record)
        file_name, stem = _video(record)
        sequence = _folder(out, stem)
        mot.write_mot(_tracks(record, names), sequence, categories=names, frame_count=frame_count)
        fps = _fps(record)
        if fps is not None:
            (sequence / "seqinfo.ini").write_text(
                mot.seqinfo_ini(stem, fps=fps, frame_count=frame_count, width=width, height=height),
                encoding="utf-8",
            )
        place(record.media, sequence / file_name)


def _timelines(version: VersionView, out: Path) -> list[segments_export.VideoSegments]:
    names = version.category_names
    timelines = []
    for record in _of_type(version, "segments"):
        payload = msgspec.convert(record.payload, Segments)
        kept = Segments(segments=[s for s in payload.segments if s.category_id in names])
        video = f"videos/{_video(record)[0]}"
        place(record.media, out / video)
        timelines.append(
            segments_export.video_segments(
                video,
                kept,
                categories=names,
                fps=_fps(record),
                annotator=record.provenance.get("annotator"),
            )
        )
    return timelines


def write_segments_json(version: VersionView, out: Path) -> None:
    """``segments.json``: every video's timeline, ms and inclusive frames."""
    text = segments_export.segments_json(_timelines(version, out))
    (out / "segments.json").write_text(text, encoding="utf-8")


def write_segments_csv(version: VersionView, out: Path) -> None:
    """``segments.csv``: one row per segment of every video."""
    text = segments_export.segments_csv(_timelines(version, out))
    with (out / "segments.csv").open("w", encoding="utf-8", newline="") as file:
        file.write(text)


FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat(
        name="cvat-video",
        title="CVAT for video 1.1 (object tracks)",
        write=write_cvat_video,
        annotation_types=("track",),
    ),
    ExportFormat(
        name="mot",
        title="MOT challenge ground truth (object tracks)",
        write=write_mot,
        annotation_types=("track",),
    ),
    ExportFormat(
        name="segments-json",
        title="Action segments JSON",
        write=write_segments_json,
        annotation_types=("segments",),
    ),
    ExportFormat(
        name="segments-csv",
        title="Action segments CSV",
        write=write_segments_csv,
        annotation_types=("segments",),
    ),
)
"""What ``register_export_formats`` registers, one ``register(f)`` each."""
