"""Frame extraction: indices and timestamps as PyAV's own pts give them, sampling, bad input."""

from __future__ import annotations

import io
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from scholia_video.frames import Frame, TruncatedVideo, extract
from scholia_video.probe import UnreadableVideo, probe

from . import clips


def pyav_stamps(path: Path) -> list[tuple[int, Fraction]]:
    """Every frame's (pts, time_base) as a plain PyAV decode gives them."""
    with av.open(str(path)) as container:
        return [(f.pts, f.time_base) for f in container.decode(video=0)]


@pytest.fixture
def constant(tmp_path: Path) -> Path:
    return clips.constant_rate(tmp_path / "constant.mp4")


@pytest.fixture
def variable(tmp_path: Path) -> Path:
    return clips.variable_rate(tmp_path / "variable.mkv")


def test_probe_reads_the_videos_own_metadata(constant: Path, variable: Path) -> None:
    info = probe(constant)
    assert info["duration_ms"] == 2000.0 and info["fps"] == 25.0
    assert info["codec"] == "h264" and (info["width"], info["height"]) == (64, 48)
    assert info["frame_count"] == 50 and info["variable_frame_rate"] is False
    assert info["format"].startswith("mov,mp4")
    vfr = probe(variable)
    assert vfr["variable_frame_rate"] is True and vfr["frame_count"] == 40
    assert vfr["format"].startswith("matroska")


@pytest.mark.parametrize("clip", ["constant", "variable"])
def test_every_frame_has_pyavs_index_and_timestamp(
    clip: str, request: pytest.FixtureRequest
) -> None:
    path: Path = request.getfixturevalue(clip)
    stamps = pyav_stamps(path)
    frames = list(extract(path))
    assert [f.frame_index for f in frames] == list(range(len(stamps)))
    assert [(f.pts, f.time_base) for f in frames] == stamps
    assert [f.timestamp_ms for f in frames] == [float(p * tb * 1000) for p, tb in stamps]


def test_all_frames_count_equals_the_encoded_count(constant: Path, variable: Path) -> None:
    assert len(list(extract(constant))) == 50
    assert len(list(extract(variable))) == 40


def test_variable_frame_rate_timestamps_are_the_uneven_pts(variable: Path) -> None:
    assert [f.timestamp_ms for f in extract(variable)] == clips.vfr_pts_ms(40)


def test_images_are_the_decoded_frames(constant: Path) -> None:
    frames = list(extract(constant, count=3))
    for frame in frames:
        image = Image.open(io.BytesIO(frame.image))
        assert image.format == "JPEG" and image.size == (frame.width, frame.height) == (64, 48)
        # the background colour says which encoded frame this is (JPEG and H.264 are lossy)
        pixel = image.convert("RGB").getpixel((63, 47))
        expected = clips.colour(frame.frame_index)
        assert all(abs(a - b) <= 12 for a, b in zip(pixel, expected, strict=True))
    png = next(extract(constant, count=1, image_format="png"))
    assert Image.open(io.BytesIO(png.image)).format == "PNG" and png.media_type == "image/png"


def test_fps_sampling_takes_the_first_frame_at_each_instant(constant: Path, variable: Path) -> None:
    # 25 fps, 40 ms apart: at 3 fps the instants 0, 333.3, 666.7, ... ms fall on frames
    # 0, 9 (360 ms), 17 (680 ms), 25, 34 (1360), 42 (1680)
    assert [f.frame_index for f in extract(constant, fps=3)] == [0, 9, 17, 25, 34, 42]
    # variable: pts 0 20 60 140 173 193 233 313 346 366 406 486 519 539 579 659 692 712 752;
    # at 4 fps the
    # instants 0, 250, 500, 750 ms reach frames 0 (0), 7 (313), 12 (519), 18 (752)
    picked = [(f.frame_index, f.timestamp_ms) for f in extract(variable, fps=4)]
    assert picked[:4] == [(0, 0), (7, 313), (12, 519), (18, 752)]
    # one frame answering several instants is taken once: 80 ms gaps at 50 fps
    at_50 = [f.frame_index for f in extract(variable, fps=50)]
    assert len(at_50) == len(set(at_50)) and at_50[:4] == [0, 1, 2, 3]


def test_count_sampling_spreads_frames_evenly_by_timestamp(constant: Path, variable: Path) -> None:
    # 2000 ms / 4: instants 0, 500, 1000, 1500 ms -> frames 0, 13 (520 ms), 25, 38 (1520 ms)
    assert [f.frame_index for f in extract(constant, count=4)] == [0, 13, 25, 38]
    assert len(list(extract(constant, count=500))) == 50
    # variable, duration as the container declares it; instants every duration / 3
    duration = probe(variable)["duration_ms"]
    stamps = clips.vfr_pts_ms(40)
    expected = [next(i for i, t in enumerate(stamps) if t >= k * duration / 3) for k in range(3)]
    assert [f.frame_index for f in extract(variable, count=3)] == expected


def test_sampling_arguments_that_make_no_sense_are_refused(constant: Path) -> None:
    for kwargs in ({"fps": 0}, {"fps": -1.0}, {"count": 0}, {"fps": 1.0, "count": 2}):
        with pytest.raises(ValueError):
            list(extract(constant, **kwargs))  # type: ignore[arg-type]


def test_provenance_names_the_video_the_frame_and_its_metadata(constant: Path) -> None:
    info = probe(constant)
    frame: Frame = list(extract(constant, count=2))[1]
    record = frame.provenance("ab" * 32, info)
    assert record["video_id"] == "ab" * 32
    assert (record["frame_index"], record["timestamp_ms"]) == (25, 1000.0)
    assert record["video"]["duration_ms"] == 2000.0 and record["video"]["codec"] == "h264"
    assert (record["video"]["width"], record["video"]["height"]) == (64, 48)
    assert record["video"]["fps"] == 25.0


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (clips.audio_only, "only audio"),
        (clips.zero_length, r"no frames \(zero length\)"),
        (clips.unknown_codec, "cannot decode"),
        (clips.garbage, "is not a video"),
        (clips.empty, r"empty \(0 bytes\)"),
    ],
)
def test_bad_input_gets_a_clear_error(
    tmp_path: Path, make: Callable[[Path], Path], words: str
) -> None:
    path = make(tmp_path / "bad.avi")
    with pytest.raises(UnreadableVideo, match=words) as caught:
        probe(path)
    assert isinstance(caught.value, ValueError)  # the modality contract: the core names the file
    assert str(caught.value).startswith("the file ")
    with pytest.raises(UnreadableVideo, match=words):
        list(extract(path))


def test_an_mp4_cut_before_its_index_is_refused_as_damaged(constant: Path, tmp_path: Path) -> None:
    path = clips.truncated(constant, tmp_path / "cut.mp4")
    with pytest.raises(UnreadableVideo, match="damaged or truncated"):
        probe(path)


def test_a_truncated_video_yields_its_good_frames_then_says_how_far_it_got(
    variable: Path, tmp_path: Path
) -> None:
    path = clips.truncated(variable, tmp_path / "cut.mkv")
    good = pyav_stamps(path)  # what PyAV itself can still decode
    assert 0 < len(good) < 40
    got: list[Frame] = []
    with pytest.raises(TruncatedVideo, match="truncated") as caught:
        for frame in extract(path):
            got.append(frame)
    assert [(f.pts, f.time_base) for f in got] == good
    assert caught.value.frames_decoded == len(good)
    assert caught.value.reached_ms == got[-1].timestamp_ms
    assert f"at {got[-1].timestamp_ms:.0f} ms after {len(good)} frame(s)" in str(caught.value)
