"""What both importers need: the JSON file to read, read into a typed shape, and item names.

Errors say which file, what is wrong and where in it (``$.images[3].file_name``), as msgspec
reports the path of the bad field.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import TypeVar

import msgspec

from scholia.core.errors import InvalidInput, invalid_from_msgspec

T = TypeVar("T")


def json_file(path: Path, file_name: str) -> Path:
    """``path`` itself, or ``file_name`` in it when it is a folder."""
    if not path.is_dir():
        return path
    file = path / file_name
    if not file.is_file():
        raise InvalidInput(
            f"No {file_name} in {path.name!r}: give the export's folder, its {file_name}, "
            "or a .zip of the folder"
        )
    return file


def load(file: Path, shape: type[T], form: str) -> T:
    """``file`` decoded as ``shape``; malformed JSON and a wrong shape say where."""
    try:
        data = json.loads(file.read_bytes())
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"{file.name} is not valid JSON: {error.msg} at line {error.lineno}, column "
            f"{error.colno}; nothing was imported"
        ) from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{file.name} is not UTF-8 text; nothing was imported") from None
    try:
        return msgspec.convert(data, shape)
    except msgspec.ValidationError as error:
        found = invalid_from_msgspec(error, "$")
        raise InvalidInput(
            f"{file.name} is not {form}: {found.reason}; nothing was imported", found.path
        ) from None


def item_name(file_name: str, source_id: int | None) -> str:
    """The file's name, without the ``<id>-`` a Scholia export puts before it (the image's or
    task's own id), so a round trip keeps the item's name."""
    name = PurePosixPath(file_name).name
    prefix = f"{source_id}-"
    if source_id is not None and name.startswith(prefix) and len(name) > len(prefix):
        return name[len(prefix) :]
    return name
