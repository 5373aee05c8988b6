"""COCO import: the ``annotations.json`` a COCO export holds, with its images beside it.

Classification is read as Scholia's export writes it: one annotation per category an image
has, with ``category_id`` and no box (``bbox`` empty or absent). ``file_name`` is relative to
the json's folder. Category ids are kept. Boxes are reported and left out until a box
annotation type arrives.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from scholia.core.contributions import (
    CategoryRef,
    ImportedAnnotation,
    ImportedCategory,
    ImportedDataset,
    ImportedItem,
    ImportProblem,
)
from scholia.core.errors import InvalidInput

from .import_files import item_name, json_file, load


class Image(msgspec.Struct):
    id: int
    file_name: str


class Annotation(msgspec.Struct):
    image_id: int
    category_id: int
    bbox: list[float] = []


class Category(msgspec.Struct):
    id: int
    name: str


class Coco(msgspec.Struct):
    images: list[Image]
    annotations: list[Annotation]
    categories: list[Category]


def read(path: Path) -> ImportedDataset:
    file = json_file(path, "annotations.json")
    coco = load(file, Coco, "in COCO form (images, annotations, categories)")
    at = file.name
    names: dict[int, str] = {}
    for index, category in enumerate(coco.categories):
        if category.id in names:
            raise InvalidInput(
                f"{at}: category id {category.id} is listed twice", f"$.categories[{index}].id"
            )
        names[category.id] = category.name
    images: dict[int, int] = {}
    for index, image in enumerate(coco.images):
        if image.id in images:
            raise InvalidInput(
                f"{at}: image id {image.id} is listed twice", f"$.images[{index}].id"
            )
        images[image.id] = index

    problems: list[ImportProblem] = []
    labels: dict[int, list[tuple[int, int]]] = {}
    broken: dict[int, str] = {}
    for index, annotation in enumerate(coco.annotations):
        where = f"{at} $.annotations[{index}]"
        if annotation.image_id not in images:
            problems.append(
                ImportProblem(
                    where, f"refers to image {annotation.image_id}, which $.images does not list"
                )
            )
        elif annotation.category_id not in names:
            broken[annotation.image_id] = (
                f"$.annotations[{index}] refers to category {annotation.category_id}, which "
                "$.categories does not list"
            )
        elif annotation.bbox:
            problems.append(
                ImportProblem(
                    where,
                    "a box is not imported yet (only classification: annotations without a "
                    "bbox); left out",
                )
            )
        else:
            labels.setdefault(annotation.image_id, []).append((index, annotation.category_id))

    items: list[ImportedItem] = []
    for image in coco.images:
        where = f"{at} $.images[{images[image.id]}] ({image.file_name})"
        if image.id in broken:
            problems.append(ImportProblem(where, f"left out: {broken[image.id]}"))
            continue
        found = labels.get(image.id, [])
        classification = ImportedAnnotation(
            annotation_type="classification",
            payload={
                "category_ids": [CategoryRef(names[c]) for c in sorted({c for _, c in found})]
            },
            where=f"{at} $.annotations[{found[0][0]}]" if found else where,
        )
        items.append(
            ImportedItem(
                name=item_name(image.file_name, image.id),
                media=file.parent / image.file_name,
                annotations=[classification] if found else [],
                where=where,
            )
        )
    return ImportedDataset(
        categories=[ImportedCategory(name=c.name, id=c.id) for c in coco.categories],
        items=items,
        problems=problems,
    )
