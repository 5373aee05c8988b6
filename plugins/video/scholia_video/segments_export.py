"""Action timelines as JSON and CSV, with times in milliseconds and in frames.

Each segment is written with ``video, track, category, start_ms, end_ms, start_frame,
end_frame``: ``[start_ms, end_ms)`` excludes its end, ``start_frame .. end_frame`` includes
both (the frames the segment overlaps, see :mod:`scholia_video.segments`). Milliseconds are
rounded to the microsecond (three decimals); frames are computed from the unrounded times and
the video's nominal fps, and are empty (``null`` in JSON) when the fps is unknown. Segments are
in row order, then by start; videos in the order given.

The JSON keeps one entry per video, with its fps (and, when given, the ``annotator`` whose
timeline it is), so a video without segments still appears::

    {"videos": [{"video": "clip.mp4", "fps": 25.0, "segments": [{"track": 0, ...}]}]}

The CSV has a header row and one row per segment.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any, NotRequired, TypedDict

from scholia_video.segments import Segments, frame_span

__all__ = [
    "COLUMNS",
    "NamedSegment",
    "VideoSegments",
    "segments_csv",
    "segments_json",
    "video_segments",
]

COLUMNS = ("video", "track", "category", "start_ms", "end_ms", "start_frame", "end_frame")


class NamedSegment(TypedDict):
    """A segment with its category's name, as exported."""

    track: int
    category: str
    start_ms: float
    end_ms: float


class VideoSegments(TypedDict):
    """One video's timeline, ready to export: ``video`` names it (item name or video id)."""

    video: str
    fps: float | None
    segments: list[NamedSegment]
    annotator: NotRequired[str]
    """Who drew the timeline (a pseudonym), when the caller knows."""


def video_segments(
    video: str,
    payload: Segments,
    *,
    categories: Mapping[int, str],
    fps: float | None,
    annotator: str | None = None,
) -> VideoSegments:
    """The record for one video from its ``segments`` payload and the categories (id → name)."""
    exported = ", ".join(map(str, sorted(categories))) or "none"
    named: list[NamedSegment] = []
    for index, segment in enumerate(payload.segments):
        if segment.category_id not in categories:
            raise ValueError(
                f"segment {index} of {video!r} uses category {segment.category_id}, which is not "
                f"among the categories exported ({exported})"
            )
        named.append(
            NamedSegment(
                track=segment.track,
                category=categories[segment.category_id],
                start_ms=segment.start_ms,
                end_ms=segment.end_ms,
            )
        )
    record = VideoSegments(video=video, fps=fps, segments=named)
    if annotator is not None:
        record["annotator"] = annotator
    return record


def _rows(record: VideoSegments) -> list[dict[str, Any]]:
    fps = record["fps"]
    rows: list[dict[str, Any]] = []
    ordered = sorted(record["segments"], key=lambda s: (s["track"], s["start_ms"], s["end_ms"]))
    for segment in ordered:
        if fps is None:
            start_frame: int | None = None
            end_frame: int | None = None
        else:
            start_frame, end_frame = frame_span(segment["start_ms"], segment["end_ms"], fps)
        rows.append(
            {
                "track": segment["track"],
                "category": segment["category"],
                "start_ms": round(segment["start_ms"], 3),
                "end_ms": round(segment["end_ms"], 3),
                "start_frame": start_frame,
                "end_frame": end_frame,
            }
        )
    return rows


def segments_json(records: Iterable[VideoSegments]) -> str:
    """The JSON document (indented, ending in a newline) for the videos' timelines."""
    videos = [
        {
            "video": record["video"],
            "fps": record["fps"],
            **({"annotator": record["annotator"]} if "annotator" in record else {}),
            "segments": _rows(record),
        }
        for record in records
    ]
    return json.dumps({"videos": videos}, indent=2, ensure_ascii=False) + "\n"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


def segments_csv(records: Iterable[VideoSegments]) -> str:
    """The CSV text (header row, ``\\r\\n`` line ends as the csv module writes) for the videos'
    timelines."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for record in records:
        for row in _rows(record):
            writer.writerow([record["video"], *(_text(row[column]) for column in COLUMNS[1:])])
    return out.getvalue()
