"""Label Studio import: the JSON Label Studio exports (and our label-studio format writes).

A list of tasks: ``data.image`` names the image, ``annotations[].result[]`` holds results;
``choices`` results (``value.choices``: category names) become one classification per task.
Images are found relative to tasks.json; a Label Studio URL (``/data/upload/3/cat.jpg``,
``http://…/cat.jpg``) is looked up by file name beside it (or in ``images/``). Categories
come from ``label_config.xml`` beside tasks.json when there is one (its order is the display
order), else in the order the tasks use them; Label Studio has no category ids. Cancelled
annotations are skipped; a ground-truth annotation comes first; ``completed_by`` is kept as
the source's annotator.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

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


class Result(msgspec.Struct):
    type: str
    value: dict[str, Any] = {}


class Annotation(msgspec.Struct):
    result: list[Result] = []
    completed_by: int | str | dict[str, Any] | None = None
    was_cancelled: bool = False
    ground_truth: bool = False


class Task(msgspec.Struct):
    data: dict[str, Any]
    id: int | None = None
    annotations: list[Annotation] = []


def config_choices(folder: Path) -> list[str]:
    """The ``<Choice value>`` names of ``label_config.xml``, in order (none without one)."""
    config = folder / "label_config.xml"
    if not config.is_file():
        return []
    try:
        root = ElementTree.parse(config).getroot()
    except ElementTree.ParseError as error:
        raise InvalidInput(
            f"label_config.xml is not valid XML: {error}; nothing was imported"
        ) from None
    return [c.attrib["value"] for c in root.iter("Choice") if c.attrib.get("value")]


def media(folder: Path, reference: str) -> Path:
    """The image a task names: a path relative to tasks.json, or a Label Studio URL."""
    parsed = urlparse(reference)
    local = parse_qs(parsed.query).get("d")
    if local:  # Label Studio's local storage: /data/local-files/?d=images/cat.jpg
        return folder / local[0]
    if parsed.scheme or reference.startswith("/"):
        name = PurePosixPath(unquote(parsed.path)).name
        beside, in_images = folder / name, folder / "images" / name
        return in_images if in_images.is_file() and not beside.is_file() else beside
    return folder / reference


def annotator(completed_by: int | str | dict[str, Any] | None) -> str | None:
    if isinstance(completed_by, dict):
        found = completed_by.get("email") or completed_by.get("id")
        return None if found is None else f"Label Studio user {found}"
    if isinstance(completed_by, int):
        return f"Label Studio user {completed_by}"
    return completed_by


def read(path: Path) -> ImportedDataset:
    file = json_file(path, "tasks.json")
    tasks = load(file, list[Task], "a Label Studio export (a list of tasks)")
    at = file.name
    names = config_choices(file.parent)
    problems: list[ImportProblem] = []
    items: list[ImportedItem] = []
    for index, task in enumerate(tasks):
        image = task.data.get("image")
        if not isinstance(image, str) or not image:
            problems.append(
                ImportProblem(
                    f"{at} $[{index}].data", "the task has no data.image; only images are imported"
                )
            )
            continue
        where = f"{at} $[{index}] (task {task.id}, {image})"
        found: list[ImportedAnnotation] = []
        ordered = sorted(enumerate(task.annotations), key=lambda pair: not pair[1].ground_truth)
        for number, annotation in ordered:
            if annotation.was_cancelled:
                continue
            chosen: list[str] = []
            for part, result in enumerate(annotation.result):
                path = f"$[{index}].annotations[{number}].result[{part}]"
                if result.type != "choices":
                    problems.append(
                        ImportProblem(
                            f"{at} {path}",
                            f"a {result.type!r} result is not imported yet (only choices); "
                            "left out",
                        )
                    )
                    continue
                choices = result.value.get("choices")
                if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
                    raise InvalidInput(
                        f"{at}: value.choices must be a list of category names, not "
                        f"{choices!r}; nothing was imported",
                        f"{path}.value.choices",
                    )
                chosen += [c for c in choices if c not in chosen]
            names += [c for c in chosen if c not in names]
            if chosen:
                found.append(
                    ImportedAnnotation(
                        annotation_type="classification",
                        payload={"category_ids": [CategoryRef(c) for c in chosen]},
                        annotator=annotator(annotation.completed_by),
                        where=f"{at} $[{index}].annotations[{number}]",
                    )
                )
        found_media = media(file.parent, image)
        items.append(
            ImportedItem(
                name=item_name(found_media.name, task.id),
                media=found_media,
                annotations=found,
                where=where,
            )
        )
    return ImportedDataset(
        categories=[ImportedCategory(name=n) for n in names], items=items, problems=problems
    )
