"""One video's tracks as "CVAT for video 1.1" XML, the file CVAT itself exports and imports.

CVAT writes every frame of a track, not only its keyframes: ``keyframe="1"`` on the stored
boxes, ``keyframe="0"`` on the interpolated ones, an outside keyframe as a box with
``outside="1"``, and nothing on the frames where the object is absent. This writer does the
same from :func:`scholia_video.tracks.interpolate`, so CVAT, Datumaro's ``cvat`` importer or any
per-frame reader sees the boxes the annotator saw. Boxes are ``xtl, ytl, xbr, ybr`` with two
decimals, as CVAT writes them. A track keeps its ``track_id`` as the ``<track id>``.

Who drew the tracks goes where CVAT puts it: the task's ``<assignee>`` (the annotator's
pseudonym) and each track's ``source`` (CVAT's words: ``manual``, ``semi-auto`` for a model's
proposal a person accepted, ``file`` for an import).

No export time is written (CVAT's ``<dumped>``) so the same tracks give the same bytes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

from scholia_video.tracks import Tracks, interpolate

__all__ = ["VERSION", "cvat_video_xml", "write_cvat_video"]

VERSION = "1.1"


def cvat_video_xml(
    tracks: Tracks,
    *,
    categories: Mapping[int, str],
    frame_count: int,
    width: int,
    height: int,
    name: str = "video",
    assignee: str | None = None,
    source: str = "manual",
) -> bytes:
    """The XML document (UTF-8) for one video of ``frame_count`` frames of ``width`` ×
    ``height`` pixels; ``categories`` (id → name) become CVAT's labels, in id order."""
    if frame_count < 1:
        raise ValueError(f"a video needs at least one frame to export (got {frame_count})")
    for track in tracks.tracks:
        if track.category_id not in categories:
            raise ValueError(
                f"track {track.track_id} uses category {track.category_id}, which is not among "
                f"the categories exported ({', '.join(map(str, sorted(categories))) or 'none'})"
            )
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = VERSION
    task = ET.SubElement(ET.SubElement(root, "meta"), "task")
    for tag, text in (
        ("name", name),
        ("size", str(frame_count)),
        ("mode", "interpolation"),
        ("overlap", "0"),
        ("start_frame", "0"),
        ("stop_frame", str(frame_count - 1)),
        ("frame_filter", ""),
    ):
        ET.SubElement(task, tag).text = text
    if assignee is not None:
        ET.SubElement(ET.SubElement(task, "assignee"), "username").text = assignee
    labels = ET.SubElement(task, "labels")
    for category_id in sorted(categories):
        label = ET.SubElement(labels, "label")
        ET.SubElement(label, "name").text = categories[category_id]
        ET.SubElement(label, "type").text = "rectangle"
        ET.SubElement(label, "attributes")
    size = ET.SubElement(task, "original_size")
    ET.SubElement(size, "width").text = str(width)
    ET.SubElement(size, "height").text = str(height)
    for track in tracks.tracks:
        element = ET.SubElement(
            root,
            "track",
            {"id": str(track.track_id), "label": categories[track.category_id], "source": source},
        )
        for shape in interpolate(track, frame_count):
            ET.SubElement(
                element,
                "box",
                {
                    "frame": str(shape.frame),
                    "keyframe": str(int(shape.keyframe)),
                    "outside": str(int(shape.outside)),
                    "occluded": str(int(shape.occluded)),
                    "xtl": f"{shape.x:.2f}",
                    "ytl": f"{shape.y:.2f}",
                    "xbr": f"{shape.x + shape.width:.2f}",
                    "ybr": f"{shape.y + shape.height:.2f}",
                    "z_order": "0",
                },
            )
    ET.indent(root, space="  ")
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def write_cvat_video(
    tracks: Tracks,
    path: Path,
    *,
    categories: Mapping[int, str],
    frame_count: int,
    width: int,
    height: int,
    name: str = "video",
    assignee: str | None = None,
    source: str = "manual",
) -> None:
    """Write :func:`cvat_video_xml` to ``path`` (CVAT names it ``annotations.xml``)."""
    path.write_bytes(
        cvat_video_xml(
            tracks,
            categories=categories,
            frame_count=frame_count,
            width=width,
            height=height,
            name=name,
            assignee=assignee,
            source=source,
        )
    )
