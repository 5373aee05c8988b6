"""scholia-video: videos as frames to label like images, and as items with tracks and actions.

Registers the ``video`` modality: ``probe`` reads the container and the packets' timestamps
(nothing decoded), ``thumbnail`` the first frame, and ``expand`` (see ``expand``) makes a video
uploaded to an image project into its frames, sampled by ``FrameSampling``, each with its
``video_id``, ``frame_index`` and ``timestamp_ms``. On video items, two annotation types with
their editors: ``track`` (``tracks``: boxes on keyframes, interpolated as CVAT does; the editor
is ``templates/track/editor.html`` and ``static/tracks.js``) and ``segments`` (``segments``:
labeled time spans on rows, an action timeline under a player; ``templates/segments/`` and
``static/segments.js``). Each editor module's ``view()`` draws a saved annotation read-only on
the item page, where reviewers see what annotators drew. ``exports`` registers the formats:
CVAT for video 1.1 XML and MOT for tracks (``cvat_video``, ``mot``), JSON and CSV for
segments (``segments_export``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from scholia.core.contributions import AnnotationType, Editor, ExportFormat, Modality
from scholia.core.hookspecs import hookimpl

from . import expand, frames, segments, tracks
from .exports import FORMATS
from .probe import probe

SEGMENT_KEYS = {
    "Space": "Play / pause",
    ", .": "Previous / next frame",
    "< >": "Ten frames back / forward",
    "Home End": "First / last frame",
    "[": "Start a segment at the frame shown",
    "]": "End it with the frame shown (that frame is in it)",
    "1 … 9": "Pick the category (relabels the selected segment)",
    "↑ ↓": "Row above / below (Shift: move the selected segment)",
    "N": "Add a row",
    "Delete": "Delete the selected segment (click a segment to select it)",
    "Esc": "Drop the pending segment, or the selection",
}
"""The timeline editor's keys, as CVAT and Label Studio users expect them."""

EXTENSIONS = (".mp4", ".m4v", ".mkv", ".mov", ".avi", ".webm")
MEDIA_TYPES = ("video/mp4", "video/x-matroska", "video/quicktime", "video/x-msvideo", "video/webm")


def thumbnail(path: Path, size: int) -> bytes:
    """The first frame, at most ``size`` pixels on its long side, as WebP."""
    first = next(frames.extract(path, count=1))
    with Image.open(io.BytesIO(first.image)) as image:
        image.thumbnail((size, size))
        out = io.BytesIO()
        image.save(out, format="WEBP", quality=80)
    return out.getvalue()


@hookimpl
def register_modalities(register: Callable[[Modality], None]) -> None:
    register(
        Modality(
            name="video",
            title="Video",
            media_types=MEDIA_TYPES,
            extensions=EXTENSIONS,
            probe=probe,
            thumbnail=thumbnail,
            expand=expand.expand,
            yields="image",
            expand_options=expand.FrameSampling,
        )
    )


@hookimpl
def register_annotation_types(register: Callable[[AnnotationType], None]) -> None:
    register(
        AnnotationType(
            name="track",
            title="Object tracks",
            payload=tracks.Tracks,
            validate=tracks.validate,
            modalities=("video",),
            agreement=tracks.agreement,
            categories=tracks.categories,
            editor=Editor(
                template="track/editor.html",
                module="tracks.js",
                hotkeys={
                    ",": "Previous frame (< goes 10 back)",
                    ".": "Next frame (> goes 10 on)",
                    "Space": "Play / pause",
                    "N": "New track: the next box drawn starts one",
                    "O": "Outside: the object leaves the frame here (or comes back)",
                    "H": "Occluded from this frame on, or visible again (C too)",
                    "1–9": "Category of the selected track (or of the next new one)",
                    "K": "Next keyframe (Shift+K: the one before)",
                    "Delete": "Delete the keyframe at this frame (Shift+Delete: the track)",
                    "Esc": "Deselect: the next box starts a new track",
                },
            ),
        )
    )
    register(
        AnnotationType(
            name="segments",
            title="Action segments",
            payload=segments.Segments,
            validate=segments.validate,
            modalities=("video",),
            agreement=segments.agreement,
            categories=segments.categories,
            editor=Editor(
                template="segments/editor.html",
                module="segments.js",
                hotkeys=SEGMENT_KEYS,
            ),
        )
    )


@hookimpl
def register_export_formats(register: Callable[[ExportFormat], None]) -> None:
    for export_format in FORMATS:
        register(export_format)
