"""scholia-video: videos as items, and object tracks on them.

Registers the ``video`` modality (``probe``: metadata from the container and the packets'
timestamps, nothing decoded; a thumbnail from the first frame) and two annotation types:
``track`` (``tracks``: boxes on keyframes, interpolated as CVAT does) and ``segments``
(``segments``: labeled time spans on rows, an action timeline). ``frames`` extracts frames by
their presentation timestamps; ``cvat_video`` and ``mot`` write tracks as CVAT for video 1.1
XML and MOT ground truth, ``segments_export`` writes segments as JSON and CSV.

Still to come (issue 7): the core's job that turns an uploaded video into frame items with
``frames.extract``, the timeline and track editors, and the export formats that call the
writers.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from scholia.core.contributions import AnnotationType, Modality
from scholia.core.hookspecs import hookimpl

from . import expand, frames, segments, tracks
from .probe import probe

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
        )
    )
