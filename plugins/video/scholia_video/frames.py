"""Extracting a video's frames as images, each with the timestamp its stream gives it.

A frame's ``timestamp_ms`` is its presentation timestamp (``pts * time_base``) measured from the
stream's start, never ``index / fps``, so variable-frame-rate videos get true times. Sampling
picks frames by timestamp: ``fps`` takes the first frame at or after each instant ``k / fps``;
``count`` takes the first frame at or after each of ``count`` instants spread evenly over the
duration (``i * duration / count``). A frame that reaches several instants is taken once, so a
sparse video can yield fewer frames than asked. Every frame is decoded (later frames depend on
earlier ones); only the chosen ones are converted to images.

Images are JPEG at quality 92 by default (small, and what an image item usually is); PNG is
lossless for those who need exact pixels, at several times the size and time.

A truncated or damaged file yields the frames decoded before the damage, then raises
:class:`TruncatedVideo` saying how far it got, so a caller keeps what it has and can retry.
"""

from __future__ import annotations

import dataclasses
import io
import math
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import av.error
from PIL import Image

from .probe import UnreadableVideo, open_video_stream, probe

__all__ = ["Frame", "ImageFormat", "TruncatedVideo", "extract"]

ImageFormat = Literal["jpeg", "png"]
MEDIA_TYPES: dict[str, str] = {"jpeg": "image/jpeg", "png": "image/png"}
JPEG_QUALITY = 92
ENCODERS = 2
"""Threads making images of decoded frames, beside the decoder's own."""
AHEAD = 4
"""Frames decoded ahead of the one yielded, at most (each a 720p frame is 2.7 MB as RGB)."""


class TruncatedVideo(UnreadableVideo):
    """Decoding stopped early; ``frames_decoded`` and ``reached_ms`` say how far it got."""

    def __init__(self, message: str, frames_decoded: int, reached_ms: float | None) -> None:
        super().__init__(message)
        self.frames_decoded = frames_decoded
        self.reached_ms = reached_ms


@dataclass(frozen=True, slots=True)
class Frame:
    """One extracted frame: where it is in the stream, when it is shown, and its image."""

    frame_index: int
    """Position in the decoded stream, counting from 0, in presentation order."""
    timestamp_ms: float
    """``(pts - start) * time_base`` in milliseconds, rounded to the microsecond."""
    pts: int
    """The frame's own presentation timestamp, in units of ``time_base``."""
    time_base: Fraction
    image: bytes
    media_type: str
    """``image/jpeg`` or ``image/png``."""
    width: int
    height: int

    def provenance(self, video_id: str, video: dict[str, Any]) -> dict[str, Any]:
        """The frame item's provenance: which video (``video_id``, e.g. its sha256), which frame,
        when, and the video's own metadata as :func:`~scholia_video.probe.probe` read it."""
        return {
            "video_id": video_id,
            "frame_index": self.frame_index,
            "timestamp_ms": self.timestamp_ms,
            "pts": self.pts,
            "time_base": str(self.time_base),
            "video": {
                key: video.get(key)
                for key in (
                    "duration_ms",
                    "fps",
                    "variable_frame_rate",
                    "codec",
                    "width",
                    "height",
                    "frame_count",
                    "format",
                )
            },
        }


def _ready(entry: tuple[Frame, Future[bytes]]) -> Frame:
    frame, image = entry
    return dataclasses.replace(frame, image=image.result())


def _encode(frame: av.VideoFrame, image_format: ImageFormat) -> bytes:
    picture = Image.fromarray(frame.to_ndarray(format="rgb24"))
    out = io.BytesIO()
    if image_format == "jpeg":
        picture.save(out, format="JPEG", quality=JPEG_QUALITY)
    else:
        picture.save(out, format="PNG", compress_level=1)
    return out.getvalue()


class _Sampler:
    """Decides, frame by frame in timestamp order, whether a frame is taken."""

    def __init__(self, fps: float | None, count: int | None, duration_ms: float) -> None:
        if fps is not None and count is not None:
            raise ValueError("Give a sampling rate (fps) or a number of frames (count), not both.")
        if fps is not None and not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be a positive number of frames per second, not {fps}.")
        if count is not None and count < 1:
            raise ValueError(f"count must be at least 1 frame, not {count}.")
        self.fps, self.count, self.duration_ms = fps, count, duration_ms
        self.step = 0  # the next sampling instant's number

    def instant_ms(self, step: int) -> float:
        if self.fps is not None:
            return 1000 * step / self.fps
        assert self.count is not None
        return step * self.duration_ms / self.count if step < self.count else math.inf

    def take(self, timestamp_ms: float) -> bool:
        if self.fps is None and self.count is None:
            return True
        if timestamp_ms < self.instant_ms(self.step):
            return False
        while self.instant_ms(self.step) <= timestamp_ms:
            self.step += 1  # one frame answers every instant it reaches
        return True


def extract(
    path: Path,
    *,
    fps: float | None = None,
    count: int | None = None,
    image_format: ImageFormat = "jpeg",
) -> Iterator[Frame]:
    """The video's frames (all, or sampled by ``fps`` or ``count``) in presentation order.

    Raises :class:`~scholia_video.probe.UnreadableVideo` before the first frame for a file
    that is no readable video, and :class:`TruncatedVideo` after the last good frame when
    decoding stops early. ``ValueError`` for sampling arguments that make no sense.
    """
    path = Path(path)
    if image_format not in MEDIA_TYPES:
        raise ValueError(f"image_format must be 'jpeg' or 'png', not {image_format!r}.")
    video = probe(path)
    sampler = _Sampler(fps, count, video["duration_ms"])
    media_type = MEDIA_TYPES[image_format]
    container, stream = open_video_stream(path)
    with container:
        stream.thread_type = "AUTO"
        time_base = stream.time_base or Fraction(1, 1000)
        start = video["start_pts"]
        index, reached = 0, None
        # Frames are made images (RGB, then JPEG) on worker threads while decoding goes on:
        # both release the GIL, and on a few cores the two overlap. At most AHEAD frames wait,
        # and they are yielded in order.
        pending: deque[tuple[Frame, Future[bytes]]] = deque()
        with ThreadPoolExecutor(max_workers=ENCODERS, thread_name_prefix="frame-encode") as pool:
            try:
                try:
                    for frame in container.decode(stream):
                        if frame.pts is None:
                            raise UnreadableVideo(
                                f"the video's frame {index} has no presentation timestamp, so "
                                "its time is unknown; remux the file (ffmpeg -i IN -c copy "
                                "OUT.mp4)."
                            )
                        timestamp = round(float((frame.pts - start) * time_base * 1000), 3)
                        reached = timestamp
                        if sampler.take(timestamp):
                            taken = Frame(
                                frame_index=index,
                                timestamp_ms=timestamp,
                                pts=frame.pts,
                                time_base=time_base,
                                image=b"",
                                media_type=media_type,
                                width=frame.width,
                                height=frame.height,
                            )
                            pending.append((taken, pool.submit(_encode, frame, image_format)))
                            if len(pending) >= AHEAD:
                                yield _ready(pending.popleft())
                        index += 1
                except av.error.FFmpegError as error:
                    while pending:  # the frames before the damage are good
                        yield _ready(pending.popleft())
                    raise _truncated(
                        path, index, reached, f"decoding failed: {error.strerror}"
                    ) from None
                while pending:
                    yield _ready(pending.popleft())
            finally:
                for _, waiting in pending:  # the consumer stopped early
                    waiting.cancel()
        expected = video["frame_count"] if stream.frames else None
        gap = video["median_frame_gap_ms"] or 0.0
        slack = max(3 * gap, 100.0)  # the last frame shows for a gap, the header rounds
        if (expected is not None and index < expected) or (
            reached is None or reached < video["duration_ms"] - slack
        ):
            raise _truncated(path, index, reached, "the file ends before its declared duration")


def _truncated(path: Path, frames: int, reached_ms: float | None, why: str) -> TruncatedVideo:
    if reached_ms is None:
        where = "before its first frame; no frame could be extracted"
    else:
        where = f"at {reached_ms:.0f} ms after {frames} frame(s); the frames extracted are good"
    return TruncatedVideo(
        f"the video is truncated or damaged: {why}. Decoding stopped {where}. "
        "Copy the file again and retry.",
        frames,
        reached_ms,
    )
