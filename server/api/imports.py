"""API: importing an export (a zip) in a named format into a project."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Request
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath

from scholia.core import imports, projects
from scholia.core.errors import InvalidInput

from ..routing import post, runtime_of, user_of

__all__ = ["ImportOut", "ImportProblemOut", "import_api"]


class ImportProblemOut(msgspec.Struct):
    where: str
    """Where in the file, e.g. ``annotations.json $.images[3] (images/cat.jpg)``."""
    message: str


class ImportOut(msgspec.Struct):
    format: str
    categories_created: list[int]
    categories_matched: list[int]
    counts: dict[str, int]
    """categories_created, categories_matched, items_created, items_existing,
    annotations_created, annotations_existing, problems."""
    problems: list[ImportProblemOut]


@post("/projects/{project_id:int}/imports")
def create_import(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> ImportOut:
    """Import an export sent as a .zip (multipart field ``file``) read in ``format`` (e.g.
    ``coco``, ``label-studio``). Categories go in all or nothing (409 when they clash with the
    project's, nothing imported); each item goes in whole or is listed in ``problems``."""
    runtime = runtime_of(request)
    format_name = data.get("format")
    upload = data.get("file")
    if not isinstance(format_name, str) or not format_name:
        raise InvalidInput("Name the export's format in the multipart field 'format'", "$.format")
    imports.import_format(runtime.plugins, format_name)
    if not isinstance(upload, UploadFile) or not upload.filename.lower().endswith(".zip"):
        raise InvalidInput("Send the export as a .zip in the multipart field 'file'", "$.file")
    with runtime.reading() as session:
        projects.get_project(session, project_id)
    scratch = runtime.settings.data_dir / "imports"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch) as folder:
        archive = Path(folder) / Path(upload.filename).name
        with archive.open("wb") as out:
            shutil.copyfileobj(upload.file, out, 1024 * 1024)
        with imports.read(runtime, format_name, archive) as dataset:
            result = imports.apply(
                runtime,
                project_id,
                dataset,
                actor_id=user_of(request).id,  # type: ignore[arg-type]
                origin=f"{format_name} {archive.name}",
            )
    return ImportOut(
        format=format_name,
        categories_created=result.categories_created,
        categories_matched=result.categories_matched,
        counts=result.counts(),
        problems=[ImportProblemOut(where=p.where, message=p.message) for p in result.problems],
    )


import_api = [create_import]
