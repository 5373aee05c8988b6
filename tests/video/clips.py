"""Test clips encoded here with PyAV, so no test downloads a video.

Each frame of a clip is a solid colour that changes from frame to frame (``colour(i)``), with a
white square moving across it, so every frame differs and a frame's index can be read back from
its pixels. Constant-rate clips are H.264 in MP4 (the common case); the variable-frame-rate clip
is H.264 in Matroska with a 1/1000 time base and uneven gaps between presentation timestamps.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

WIDTH, HEIGHT = 64, 48
VFR_GAPS_MS = (20, 40, 80, 33)
"""Gaps between consecutive frames of the variable-frame-rate clip, repeated."""


def colour(index: int) -> tuple[int, int, int]:
    """Frame ``index``'s background colour (distinct for the first hundred frames)."""
    return ((index * 37) % 256, (index * 91) % 256, (index * 53) % 256)


def picture(index: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """An RGB frame: frame ``index``'s colour with a white square that moves one step a frame."""
    array = np.empty((height, width, 3), np.uint8)
    array[:, :] = colour(index)
    side = max(4, height // 6)
    x = (index * 3) % max(1, width - side)
    y = (index * 2) % max(1, height - side)
    array[y : y + side, x : x + side] = 255
    return array


def encode(
    path: Path,
    frames: int,
    *,
    rate: int = 25,
    codec: str = "libx264",
    container: str | None = None,
    pts_ms: Sequence[int] | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
    options: dict[str, str] | None = None,
) -> Path:
    """Encode ``frames`` frames to ``path``; with ``pts_ms`` each frame's timestamp in ms."""
    with av.open(str(path), "w", format=container) as output:
        stream = output.add_stream(codec, rate=rate, options=options or {})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if pts_ms is not None:
            stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        output.start_encoding()
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(picture(index, width, height), format="rgb24")
            if pts_ms is not None:
                frame.pts, frame.time_base = pts_ms[index], Fraction(1, 1000)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return path


def constant_rate(path: Path, *, seconds: float = 2, rate: int = 25) -> Path:
    """H.264 MP4 at a constant ``rate`` (the default: 50 frames of 64x48)."""
    return encode(path, round(seconds * rate), rate=rate)


def vfr_pts_ms(frames: int) -> list[int]:
    """The presentation timestamps (ms) of the variable-frame-rate clip's frames."""
    stamps, now = [], 0
    for index in range(frames):
        stamps.append(now)
        now += VFR_GAPS_MS[index % len(VFR_GAPS_MS)]
    return stamps


def variable_rate(path: Path, frames: int = 40) -> Path:
    """H.264 Matroska whose frames are 20, 40, 80 and 33 ms apart, in turn."""
    return encode(path, frames, container="matroska", pts_ms=vfr_pts_ms(frames))


def audio_only(path: Path, seconds: float = 0.5) -> Path:
    """Matroska with one MP2 audio stream (silence) and no video stream."""
    rate, samples = 44100, 1152
    with av.open(str(path), "w", format="matroska") as output:
        stream = output.add_stream("mp2", rate=rate)
        for index in range(int(seconds * rate / samples)):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, samples), np.int16), format="s16", layout="mono"
            )
            frame.sample_rate, frame.pts = rate, index * samples
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return path


def zero_length(path: Path) -> Path:
    """An AVI whose header declares an MPEG-4 video stream that has no frames."""
    with av.open(str(path), "w", format="avi") as output:
        stream = output.add_stream("mpeg4", rate=25)
        stream.width, stream.height = WIDTH, HEIGHT
        output.start_encoding()
    return path


def unknown_codec(path: Path) -> Path:
    """An AVI whose codec tag (FourCC) names no codec FFmpeg knows, so nothing can decode it."""
    encode(path, 10, codec="mpeg4", container="avi")
    data = path.read_bytes()
    assert data.count(b"FMP4") == 2, "the AVI header should carry the FourCC twice"
    path.write_bytes(data.replace(b"FMP4", b"QQQQ"))
    return path


def truncated(source: Path, path: Path, keep: float = 0.5) -> Path:
    """The first ``keep`` of ``source``'s bytes, as an interrupted download leaves a file."""
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def garbage(path: Path, size: int = 4096, seed: int = 7) -> Path:
    """Random bytes with a video's file name."""
    path.write_bytes(np.random.default_rng(seed).bytes(size))
    return path


def empty(path: Path) -> Path:
    """A file of zero bytes."""
    path.write_bytes(b"")
    os.utime(path)
    return path
