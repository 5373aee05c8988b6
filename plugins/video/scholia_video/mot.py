"""One video's tracks in the MOT challenge ground-truth format (``gt/gt.txt``).

Each line is one visible box on one frame, the columns CVAT's "MOT 1.1" export writes (through
Datumaro's ``mot_seq_gt``)::

    frame, id, bb_left, bb_top, bb_width, bb_height, conf, class, visibility

- ``frame`` is 1-based (MOT's convention): video frame 0 is MOT frame 1.
- ``id`` is the track's ``track_id + 1``, since MOT ids start at 1 (0 and -1 mean "no track").
- ``conf`` is 1: the box is ground truth to evaluate, not ignored.
- ``class`` is the 1-based line of the category's name in ``gt/labels.txt``.
- ``visibility`` is 0 on occluded frames and 1 otherwise, as CVAT writes it (1 - occluded);
  Datumaro reads a visibility of 0 back as occluded.

Frames where the object is absent (outside) have no line; the interpolated frames between
keyframes do, from :func:`scholia_video.tracks.interpolate`. Lines are in frame order, then
track id order.

``seqinfo.ini`` describes the sequence as MOTChallenge's own do (TrackEval reads its
``seqLength``): all seven keys, since readers such as Datumaro require every one. ``imDir`` and
``imExt`` say where MOTChallenge keeps the frames (``img1/000001.jpg``); a labels-only sequence
(as MOTChallenge's ``*Labels.zip`` downloads) has no ``img1`` folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from scholia_video.tracks import Tracks, interpolate

__all__ = ["mot_labels", "mot_lines", "seqinfo_ini", "write_mot"]


def _number(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def mot_labels(categories: Mapping[int, str]) -> list[str]:
    """The lines of ``labels.txt``: category names in id order (class ``n`` is line ``n``)."""
    return [categories[category_id] for category_id in sorted(categories)]


def mot_lines(tracks: Tracks, *, categories: Mapping[int, str], frame_count: int) -> list[str]:
    """The lines of ``gt.txt`` (without line ends) for a video of ``frame_count`` frames."""
    classes = {category_id: n for n, category_id in enumerate(sorted(categories), start=1)}
    rows: list[tuple[int, int, str]] = []
    for track in tracks.tracks:
        if track.category_id not in classes:
            raise ValueError(
                f"track {track.track_id} uses category {track.category_id}, which is not among "
                f"the categories exported ({', '.join(map(str, sorted(categories))) or 'none'})"
            )
        for shape in interpolate(track, frame_count):
            if shape.outside:
                continue
            columns = (
                str(shape.frame + 1),
                str(track.track_id + 1),
                _number(shape.x),
                _number(shape.y),
                _number(shape.width),
                _number(shape.height),
                "1",
                str(classes[track.category_id]),
                "0" if shape.occluded else "1",
            )
            rows.append((shape.frame, track.track_id, ",".join(columns)))
    return [line for _, _, line in sorted(rows)]


def seqinfo_ini(name: str, *, fps: float, frame_count: int, width: int, height: int) -> str:
    """The ``seqinfo.ini`` of a sequence; ``frameRate`` is a whole number in MOTChallenge, so
    the video's rate is rounded (29.97 becomes 30)."""
    if "\n" in name or "\r" in name:
        raise ValueError(f"a sequence name cannot hold a line break: {name!r}")
    return (
        "[Sequence]\n"
        f"name={name}\n"
        "imDir=img1\n"
        f"frameRate={max(1, round(fps))}\n"
        f"seqLength={frame_count}\n"
        f"imWidth={width}\n"
        f"imHeight={height}\n"
        "imExt=.jpg\n"
    )


def write_mot(
    tracks: Tracks, folder: Path, *, categories: Mapping[int, str], frame_count: int
) -> None:
    """Write ``gt/gt.txt`` and ``gt/labels.txt`` under ``folder`` (one MOT sequence)."""
    gt = folder / "gt"
    gt.mkdir(parents=True, exist_ok=True)
    lines = mot_lines(tracks, categories=categories, frame_count=frame_count)
    (gt / "gt.txt").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    labels = mot_labels(categories)
    (gt / "labels.txt").write_text("".join(f"{n}\n" for n in labels), encoding="utf-8")
