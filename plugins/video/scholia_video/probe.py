"""Reading a video's own metadata with PyAV: what the container says, and its packets' timestamps.

Probing decodes nothing. It opens the container (which reads its header) and demuxes the video
stream's packets, which is cheap next to decoding: the packets' presentation timestamps give the
exact frame count when the header has none (Matroska) and show whether the frame rate is
variable. Every refusal is an :class:`UnreadableVideo` (a ``ValueError``, which the core
reports with the file's name) whose message says what is wrong with the file and what to do.
"""

from __future__ import annotations

import itertools
import statistics
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

__all__ = ["UnreadableVideo", "open_video_stream", "probe"]

REENCODE = "re-encode it (for example to H.264 in MP4) and import it again"


class UnreadableVideo(ValueError):
    """The file cannot be read as a video: not one, damaged, no video stream, or no decoder.

    A ``ValueError``, as the modality contract asks: the core adds the file's name."""


def open_video_stream(path: Path) -> tuple[av.container.InputContainer, av.VideoStream]:
    """The open container and its first video stream, or an :class:`UnreadableVideo`.

    The caller closes the container. A stream whose codec this build of FFmpeg cannot decode,
    a file with only audio, and a file that is not a video at all each get their own message.
    """
    name = "the file"  # the caller names it: what is on disk may be a staging copy
    if Path(path).stat().st_size == 0:
        raise UnreadableVideo(f"{name} is empty (0 bytes); it is not a video.")
    try:
        container = av.open(str(path))
    except (av.error.InvalidDataError, av.error.EOFError) as error:
        raise UnreadableVideo(
            f"{name} is not a video, or it is damaged or truncated (its header cannot be read: "
            f"{error.strerror}). If it is a video, the copy is incomplete: copy it again."
        ) from None
    except av.error.FFmpegError as error:
        raise UnreadableVideo(f"{name} cannot be opened as a video: {error.strerror}.") from None
    if not container.streams.video:
        kinds = sorted({stream.type for stream in container.streams})
        container.close()
        if "audio" in kinds:
            raise UnreadableVideo(
                f"{name} has no video stream, only audio; there are no frames to extract."
            )
        raise UnreadableVideo(f"{name} is not a video (it has no video stream).")
    stream = container.streams.video[0]
    if stream.codec_context is None:
        container.close()
        raise UnreadableVideo(
            f"{name} uses a video codec this installation cannot decode (FFmpeg, through PyAV, "
            f"has no decoder for it); {REENCODE}."
        )
    return container, stream


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    return None if value is None or time_base is None else float(value * time_base)


def probe(path: Path) -> dict[str, Any]:
    """The video's metadata: duration, frame rate, codec, size, frame count, container.

    ``fps`` is the stream's average rate; ``variable_frame_rate`` is true when the gaps between
    the packets' presentation timestamps differ by more than a millisecond (rounding to the time
    base is not variation). ``duration_ms`` runs from the first frame's timestamp to the end of
    the last frame. Raises :class:`UnreadableVideo`.
    """
    name = "the file"  # the caller names it: what is on disk may be a staging copy
    container, stream = open_video_stream(path)
    with container:
        time_base = stream.time_base or Fraction(1, 1000)
        stamps: list[int] = []
        last_end = None
        try:
            for packet in container.demux(stream):
                if packet.pts is None or packet.size == 0:
                    continue
                stamps.append(packet.pts)
                end = packet.pts + (packet.duration or 0)
                last_end = end if last_end is None else max(last_end, end)
        except av.error.FFmpegError:
            pass  # a damaged tail: what came before still describes the video
        if not stamps:
            raise UnreadableVideo(
                f"{name} has a video stream with no frames (zero length); there is nothing to "
                f"extract. If the file was cut short, copy it again; otherwise {REENCODE}."
            )
        stamps.sort()
        gaps = [b - a for a, b in itertools.pairwise(stamps)]
        start = stream.start_time if stream.start_time is not None else stamps[0]
        declared = _seconds(stream.duration, time_base)
        if declared is None and container.duration is not None:
            declared = container.duration / av.time_base
        scanned = _seconds((last_end or stamps[-1]) - start, time_base) or 0.0
        rate = stream.average_rate or stream.guessed_rate
        context = stream.codec_context
        return {
            "duration_ms": round(1000 * (declared or scanned), 3),
            "fps": float(rate) if rate else None,
            "variable_frame_rate": bool(gaps)
            and float((max(gaps) - min(gaps)) * time_base) > 0.001,
            "median_frame_gap_ms": round(1000 * float(statistics.median(gaps) * time_base), 3)
            if gaps
            else None,
            "frame_count": stream.frames or len(stamps),
            "codec": context.name,
            "codec_long_name": context.codec.long_name,
            "width": context.width,
            "height": context.height,
            "format": container.format.name,
            "time_base": str(time_base),
            "start_pts": start,
        }
