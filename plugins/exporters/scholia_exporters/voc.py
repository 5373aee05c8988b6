"""Pascal VOC, the layout of the VOC devkit, for image classification.

    JPEGImages/<stem>.<ext>                  the images (VOC's folder name, whatever the format)
    Annotations/<stem>.xml                   one <annotation> per image: filename, size and one
                                             <object><name> per category it has (no <bndbox>:
                                             a classification label has no box)
    ImageSets/Main/trainval.txt              every image's stem
    ImageSets/Main/<class>_trainval.txt      "<stem>  1" where the image has the class,
                                             "<stem> -1" where it does not (the devkit's
                                             classification task lists)

A version has no split, so every image is in ``trainval``. The class order of the dataset is
the one in ``manifest.json`` (copied along), not the order of the ImageSets files. Multi-label
images simply have several objects. The devkit's lists are split on whitespace, so a stem has
none: spaces in an item's name become ``_`` (the item id in front keeps stems unique). Class
names become file names, so a name with a path separator is refused by name.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

from PIL import Image

from scholia.core.exports import ExportRecord, VersionView

from .media import Placer, place

__all__ = ["write"]


def _annotation(record: ExportRecord, image_name: str, names: dict[int, str]) -> bytes:
    with Image.open(record.media) as image:  # reads the header, not the pixels
        width, height = image.size
        depth = len(image.getbands())
    root = ElementTree.Element("annotation")
    ElementTree.SubElement(root, "folder").text = "JPEGImages"
    ElementTree.SubElement(root, "filename").text = image_name
    source = ElementTree.SubElement(root, "source")
    ElementTree.SubElement(source, "database").text = "Scholia"
    size = ElementTree.SubElement(root, "size")
    for tag, value in (("width", width), ("height", height), ("depth", depth)):
        ElementTree.SubElement(size, tag).text = str(value)
    ElementTree.SubElement(root, "segmented").text = "0"
    for category_id in record.category_ids:
        found = ElementTree.SubElement(root, "object")
        ElementTree.SubElement(found, "name").text = names[category_id]
        ElementTree.SubElement(found, "pose").text = "Unspecified"
        ElementTree.SubElement(found, "truncated").text = "0"
        ElementTree.SubElement(found, "difficult").text = "0"
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n"


def write(version: VersionView, out: Path) -> None:
    names = version.category_names
    for name in names.values():
        if "/" in name or "\\" in name or name in (".", ".."):
            raise ValueError(
                f"Category {name!r} cannot name a VOC ImageSets file; rename it, then export again"
            )
    sets = out / "ImageSets" / "Main"
    sets.mkdir(parents=True)
    (out / "Annotations").mkdir()
    with ExitStack() as files:
        placer = files.enter_context(Placer())
        trainval = files.enter_context((sets / "trainval.txt").open("w"))
        per_class: dict[int, IO[str]] = {
            c["id"]: files.enter_context((sets / f"{c['name']}_trainval.txt").open("w"))
            for c in version.categories
        }
        for record in version.records():
            if record.annotation_type != "classification":
                continue
            name = Path(record.file_name)
            stem = re.sub(r"\s+", "_", name.stem)
            image_name = stem + name.suffix
            placer.place(record.media, out / "JPEGImages" / image_name)
            (out / "Annotations" / f"{stem}.xml").write_bytes(
                _annotation(record, image_name, names)
            )
            trainval.write(f"{stem}\n")
            for category_id, lines in per_class.items():
                lines.write(f"{stem} {1 if category_id in record.category_ids else -1:2d}\n")
    place(version.folder / "manifest.json", out / "manifest.json")
