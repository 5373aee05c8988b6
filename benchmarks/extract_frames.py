"""Frame extraction against a bare PyAV decode loop over the same 720p clip.

    .venv/bin/python benchmarks/extract_frames.py [--seconds 60]

Setup (not timed): a clip of ``--seconds`` at 1280x720, 25 fps, encoded here with PyAV
(libx264 ``veryfast`` if this FFmpeg has it, else mpeg4): a moving gradient with moving squares
and grain, so frames differ and decoding is not trivial. Then, in one run, timed back to back:

(a) bare: ``av.open``, ``thread_type = "AUTO"``, decode every frame, nothing else;
(b) ``extract()`` of all frames (each converted to RGB and encoded as JPEG quality 92);
(c) ``extract(fps=1)``;
(d) the bare loop again;
(e) the whole job an upload starts, ``expansions.run`` into an image project on a fresh SQLite
    database, at 1 fps and for all frames: extraction plus storing every frame as an item
    (sha256, the image probe, its row, its audit event, progress every 16 items).

The ratios are against the mean of (a) and (d) (aim: under 1.3x). For all frames the ratio
includes making every frame an image; the script times that part alone to say what dominates.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from scholia.core import expansions, identity, projects, uploads
from scholia.core.runtime import Runtime
from scholia.core.settings import Settings
from scholia.server.app import DEFAULT_PLUGINS
from scholia_video.frames import _encode, extract


def make_clip(path: Path, seconds: int) -> str:
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    width, height, rate = 1280, 720, 25
    rng = np.random.default_rng(0)
    grain = rng.integers(0, 24, (height, width, 1), np.uint8)
    ys, xs = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as output:
        options = {"preset": "veryfast"} if codec == "libx264" else {}
        stream = output.add_stream(codec, rate=rate, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(seconds * rate):
            base = ((xs + 4 * index) % 256).astype(np.uint8)
            array = np.stack([base, ((ys + 2 * index) % 256).astype(np.uint8), 255 - base], -1)
            array += grain
            for k in range(4):
                x, y = (
                    (index * (7 + 3 * k)) % (width - 120),
                    (index * (5 + k) + 150 * k) % (height - 120),
                )
                array[y : y + 120, x : x + 120] = (40 * k, 255 - 50 * k, 90)
            output.mux(stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")))
        output.mux(stream.encode(None))
    return codec


def bare(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        count = sum(1 for _ in container.decode(stream))
    return time.perf_counter() - start, count


def timed_extract(path: Path, **kwargs: float) -> tuple[float, int, int]:
    start = time.perf_counter()
    count = size = 0
    for frame in extract(path, **kwargs):  # type: ignore[arg-type]
        count += 1
        size += len(frame.image)
    return time.perf_counter() - start, count, size


def conversion_alone(path: Path, frames: int = 100) -> float:
    """Seconds per frame to turn a decoded 720p frame into a JPEG (RGB, then Pillow)."""
    with av.open(str(path)) as container:
        decoded = [f for _, f in zip(range(frames), container.decode(video=0), strict=False)]
    start = time.perf_counter()
    for frame in decoded:
        _encode(frame, "jpeg")
    return (time.perf_counter() - start) / len(decoded)


def timed_job(clip: Path, scratch: Path, **options: str) -> tuple[float, int]:
    """Upload ``clip`` to a new image project and run its expansion here; (seconds, items)."""
    os.environ.pop("SCHOLIA_DATABASE_URL", None)  # a fresh SQLite file in the data folder
    runtime = Runtime.open(Settings.from_env(scratch), default_plugins=DEFAULT_PLUGINS)
    try:
        with runtime.session() as session:
            manager = identity.create_user(
                session, username="bench", password="bench password 123", roles=("manager",)
            )
            assert manager.id is not None
            project = projects.create_project(
                session,
                runtime.plugins,
                actor_id=manager.id,
                name="Frames",
                modality="image",
                annotation_types=["classification"],
                categories=("a", "b"),
            )
            assert project.id is not None
            project_id, manager_id = project.id, manager.id
        start = time.perf_counter()
        with clip.open("rb") as source:
            result = uploads.ingest_files(
                runtime,
                project_id,
                [(clip.name, source)],
                actor_id=manager_id,
                expand_options=options,
            )
        (queued,) = result.queued
        done = expansions.run(runtime, queued)
        elapsed = time.perf_counter() - start
        if done.status != "done":
            raise SystemExit(f"the expansion ended {done.status}: {done.error}")
        return elapsed, done.created
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        started = time.perf_counter()
        codec = make_clip(path, args.seconds)
        print(
            f"clip: {args.seconds} s 1280x720 25 fps {codec}, {path.stat().st_size / 1e6:.1f} MB "
            f"(encoded in {time.perf_counter() - started:.1f} s); {platform.processor() or ''} "
            f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
        )
        bare_a, frames = bare(path)
        all_s, all_n, all_bytes = timed_extract(path)
        one_s, one_n, _ = timed_extract(path, fps=1.0)
        bare_d, _ = bare(path)
        job_one_s, job_one_n = timed_job(path, Path(folder) / "job-1fps", mode="fps", fps="1")
        job_all_s, job_all_n = timed_job(path, Path(folder) / "job-all", mode="all")
        per_frame = conversion_alone(path)
        decode = (bare_a + bare_d) / 2
        print(f"(a) bare decode        {bare_a:7.2f} s  {frames} frames ({frames / bare_a:.0f}/s)")
        print(
            f"(b) extract all frames {all_s:7.2f} s  {all_n} JPEGs, {all_bytes / 1e6:.0f} MB  "
            f"ratio {all_s / decode:.2f}x"
        )
        print(f"(c) extract 1 fps      {one_s:7.2f} s  {one_n} JPEGs  ratio {one_s / decode:.2f}x")
        print(f"(d) bare decode again  {bare_d:7.2f} s")
        print(
            f"(e) job, 1 fps         {job_one_s:7.2f} s  {job_one_n} items  "
            f"ratio {job_one_s / decode:.2f}x"
        )
        print(
            f"(e) job, all frames    {job_all_s:7.2f} s  {job_all_n} items  "
            f"ratio {job_all_s / decode:.2f}x"
        )
        print(
            f"JPEG conversion alone: {1000 * per_frame:.2f} ms/frame, "
            f"{per_frame * frames / decode:.2f}x the decode; decode {1000 * decode / frames:.2f} "
            f"ms/frame; load after {os.getloadavg()[0]:.2f}"
        )
        for name, ratio in (("all frames", all_s / decode), ("1 fps", one_s / decode)):
            print(f"aim under 1.3x, {name}: {'met' if ratio < 1.3 else 'NOT met'} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
