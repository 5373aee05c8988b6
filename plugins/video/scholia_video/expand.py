"""A video uploaded to an image project becomes its frames: one image item per sampled frame.

The core keeps the video and runs this in a background job (see ``scholia.core.expansions``);
each frame is a JPEG item labeled like any image, with its provenance: which video
(``video_id``, the video's sha256), which frame (``frame_index``), when (``timestamp_ms``, from
the stream's presentation timestamps, so variable frame rates are right), and the video's own
metadata. The same frame is the same bytes every time, so a retry makes no duplicates.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from scholia.core.contributions import ContainerFile, ExpandedItem

from . import frames

__all__ = ["FrameSampling", "Frames", "expand"]


class FrameSampling(msgspec.Struct, forbid_unknown_fields=True):
    """Which frames become items: ``fps`` frames a second (by timestamp), ``count`` frames
    evenly spaced over the video, or every frame. The titles and choices are what the upload
    form shows (``extra["when"]``: the mode a number belongs to)."""

    mode: Annotated[
        Literal["fps", "count", "all"],
        msgspec.Meta(
            title="Video frames",
            extra={
                "choices": {
                    "fps": "A number per second",
                    "count": "A number per video, evenly spaced",
                    "all": "Every frame",
                }
            },
        ),
    ] = "fps"
    fps: Annotated[
        float, msgspec.Meta(gt=0, le=240, title="Frames per second", extra={"when": "fps"})
    ] = 1.0
    count: Annotated[
        int, msgspec.Meta(ge=1, le=100_000, title="Frames per video", extra={"when": "count"})
    ] = 10


class Frames:
    """The frame items of one video, with how many to expect (``operator.length_hint``), so
    the job's progress bar has an end."""

    def __init__(self, container: ContainerFile, sampling: FrameSampling) -> None:
        self.container, self.sampling = container, sampling

    def __length_hint__(self) -> int:
        meta: Any = self.container.meta
        frame_count = int(meta.get("frame_count") or 0)
        if self.sampling.mode == "all":
            return frame_count
        if self.sampling.mode == "count":
            return min(self.sampling.count, frame_count) if frame_count else self.sampling.count
        wanted = math.ceil(float(meta.get("duration_ms") or 0) / 1000 * self.sampling.fps)
        return min(wanted, frame_count) if frame_count else wanted

    def __iter__(self) -> Iterator[ExpandedItem]:
        sampling = self.sampling
        stem = Path(self.container.name).stem
        meta = dict(self.container.meta)
        for frame in frames.extract(
            self.container.path,
            fps=sampling.fps if sampling.mode == "fps" else None,
            count=sampling.count if sampling.mode == "count" else None,
        ):
            yield ExpandedItem(
                name=f"{stem}-f{frame.frame_index:06d}.jpg",
                data=frame.image,
                media_type=frame.media_type,
                provenance=frame.provenance(self.container.sha256, meta),
            )


def expand(container: ContainerFile, sampling: FrameSampling) -> Frames:
    return Frames(container, sampling)
