"""The Pascal VOC format, read back the way the VOC devkit defines its files: one XML
<annotation> per image, and per class an ImageSets list of ``<stem> 1|-1``."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from PIL import Image

from scholia.core import annotations, exports, labels
from scholia.core.runtime import Runtime

from .conftest import export, png_bytes, relabel, seed
from .test_exports import write


def _image_set(path: Path) -> dict[str, int]:
    """A devkit ImageSets file: whitespace-separated stem and flag per line."""
    rows = [line.split() for line in path.read_text().splitlines()]
    return {stem: int(flag) for stem, flag in rows}


def test_voc_writes_the_devkit_layout_with_one_object_per_category(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    out = write(runtime, labeled, "voc", tmp_path / "voc")
    ids = labeled["ids"]
    stems = [f"{ids[0]}-seed", f"{ids[1]}-photo1", f"{ids[2]}-photo2", f"{ids[3]}-photo3"]
    assert (out / "ImageSets/Main/trainval.txt").read_text().split() == stems
    expected = {"cat": {0, 3}, "dog": {1}, "bird": {2}}
    for name, positives in expected.items():
        flags = _image_set(out / f"ImageSets/Main/{name}_trainval.txt")
        assert flags == {s: 1 if n in positives else -1 for n, s in enumerate(stems)}
    for n, stem in enumerate(stems):
        root = ElementTree.parse(out / "Annotations" / f"{stem}.xml").getroot()
        assert root.tag == "annotation"
        filename = root.findtext("filename")
        assert filename is not None and (out / "JPEGImages" / filename).is_file()
        with Image.open(out / "JPEGImages" / filename) as image:
            size = (int(root.findtext("size/width") or 0), int(root.findtext("size/height") or 0))
            assert size == image.size
            assert int(root.findtext("size/depth") or 0) == len(image.getbands())
        names = [o.findtext("name") for o in root.iter("object")]
        assert names == [c for c, members in expected.items() if n in members]
        assert all(o.find("bndbox") is None for o in root.iter("object"))
    assert (out / "manifest.json").is_file()


def test_a_multi_label_image_has_one_object_per_category(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    item_id = labeled["ids"][2]
    with runtime.session() as session:
        project = labeled["project"]
        stored = session.get(type(project), project.id)
        assert stored is not None
        stored.settings = {
            **stored.settings,
            "annotation_options": {"classification": {"mode": "multi"}},
        }
        session.add(stored)
    relabel(runtime, labeled, item_id, [1, 2])  # cat and dog
    out = write(runtime, labeled, "voc", tmp_path / "voc")
    stem = f"{item_id}-photo2"
    root = ElementTree.parse(out / "Annotations" / f"{stem}.xml").getroot()
    assert [o.findtext("name") for o in root.iter("object")] == ["cat", "dog"]
    assert _image_set(out / "ImageSets/Main/dog_trainval.txt")[stem] == 1
    assert _image_set(out / "ImageSets/Main/bird_trainval.txt")[stem] == -1


def test_a_class_name_that_cannot_be_a_file_name_is_refused_and_nothing_is_left(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    with runtime.session() as session:
        labels.update_category(
            session, labeled["project"].id, 1, labeled["annotator"].id, name="cats/kittens"
        )
    target = tmp_path / "exports"
    target.mkdir()
    with pytest.raises(ValueError, match="cannot name a VOC ImageSets file"):
        write(runtime, labeled, "voc", target / "voc")
    assert list(target.iterdir()) == []


def test_an_item_name_with_spaces_gives_a_stem_the_devkit_lists_can_split(
    runtime: Runtime, tmp_path: Path
) -> None:
    """The devkit reads ``<stem> <flag>`` split on whitespace: a stem must have none."""
    user, project, item = seed(
        runtime,
        annotation_types=("classification",),
        categories=("cat",),
        file=("my holiday photo.png", png_bytes()),
    )
    with runtime.session() as session:
        annotations.submit(
            session,
            runtime.plugins,
            item_id=item.id,  # type: ignore[arg-type]
            annotator_id=user.id,  # type: ignore[arg-type]
            annotation_type="classification",
            payload={"category_ids": [1]},
        )
    version = export(runtime, project.id, statuses=["labeled"])  # type: ignore[arg-type]
    out = exports.write(runtime, version.id, "voc", tmp_path / "voc")  # type: ignore[arg-type]
    stem = f"{item.id}-my_holiday_photo"
    assert _image_set(out / "ImageSets/Main/cat_trainval.txt") == {stem: 1}
    root = ElementTree.parse(out / "Annotations" / f"{stem}.xml").getroot()
    assert root.findtext("filename") == f"{stem}.png"
    assert (out / "JPEGImages" / f"{stem}.png").is_file()
