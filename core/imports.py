"""Importing a dataset another tool (or another Scholia) exported, through an import-format plugin.

A format plugin only reads: ``read(path)`` returns an ``ImportedDataset`` (categories, items
with their media file and annotations) and never touches the database. The core applies it:

* **categories** first, all or nothing: each is matched by name to a live category of the
  project, or created. An id the file gives is kept (a new project gets exactly the file's
  ids); when it cannot be kept (the project uses that id for another name, or has the name
  under another id) nothing at all is imported and the message lists every clash;
* then one **record** per item, each in its own transaction: the media is ingested (stored
  once by sha256) and its annotations are submitted (``source`` imported, by the importing
  user, the source's annotator kept in ``reasoning``), moving the item to ``labeled`` as any
  submission does. A record that cannot go in whole is reported with where it is in the file,
  and the rest goes in.

Running the same import again adds only what is missing: items are found by content, and
each annotation's ``client_op_id`` is derived from the project, the item's content and the
payload. A zip is unpacked into a scratch folder first, after every member was checked: one
whose path would leave that folder (absolute, ``..``, a symbolic link) refuses the whole zip.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from . import audit, items, labels, projects
from .annotations import submit
from .contributions import (
    CategoryRef,
    ImportedAnnotation,
    ImportedCategory,
    ImportedDataset,
    ImportedItem,
    ImportFormat,
    ImportProblem,
)
from .errors import Conflict, InvalidInput, ScholiaError
from .models import AnnotationSource, Project
from .plugins import Plugins
from .runtime import Runtime

__all__ = [
    "ImportResult",
    "apply",
    "import_format",
    "read",
]


# --- reading ----------------------------------------------------------------------------------


def import_format(plugins: Plugins, name: str) -> ImportFormat:
    chosen = plugins.get(ImportFormat, name)
    if chosen is None:
        installed = ", ".join(sorted(f.name for f in plugins.all(ImportFormat))) or "none"
        raise InvalidInput(f"Unknown import format {name!r} (installed: {installed})", "$.format")
    return chosen


@contextmanager
def read(runtime: Runtime, format_name: str, source: Path) -> Iterator[ImportedDataset]:
    """What ``source`` (a folder, a file the format reads, or a .zip of either) holds.

    The media paths stay valid inside the ``with`` block only (a zip is unpacked into a
    scratch folder that is removed after). Items whose media is missing or lies outside the
    folder are moved to the problems; a bad file raises ``InvalidInput`` and nothing is read.
    """
    chosen = import_format(runtime.plugins, format_name)
    if not source.exists():
        raise InvalidInput(f"{str(source)!r}: no such file or folder", "$.source")
    with ExitStack() as stack:
        if source.is_dir():
            root = given = source
        elif source.suffix.lower() == ".zip" or zipfile.is_zipfile(source):
            scratch = runtime.settings.data_dir / "imports"
            scratch.mkdir(parents=True, exist_ok=True)
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=scratch)))
            root = given = _unpack(source, folder)
        elif chosen.extensions and source.suffix.lower() not in chosen.extensions:
            raise InvalidInput(
                f"{source.name!r}: the {chosen.title} format reads "
                f"{', '.join(chosen.extensions)} files, a folder of them, or a .zip",
                "$.source",
            )
        else:
            root, given = source.parent, source
        try:
            dataset = chosen.read(given)
        except ScholiaError:
            raise
        except (ValueError, OSError) as error:  # a reader that let a plain error through
            raise InvalidInput(f"{chosen.title} could not read {source.name!r}: {error}") from None
        if not isinstance(dataset, ImportedDataset):
            raise TypeError(
                f"import format {chosen.name!r} returned {type(dataset).__name__}, "
                "not an ImportedDataset"
            )
        yield _present(dataset, root)


def _present(dataset: ImportedDataset, root: Path) -> ImportedDataset:
    """The dataset without items whose media is missing or outside ``root``."""
    inside = root.resolve()
    kept: list[ImportedItem] = []
    problems = list(dataset.problems)
    for item in dataset.items:
        media = item.media.resolve()
        if not media.is_relative_to(inside):
            problems.append(
                ImportProblem(
                    item.where or item.name,
                    "the media file lies outside the folder being imported; only files "
                    "inside it are read",
                )
            )
        elif not media.is_file():
            problems.append(
                ImportProblem(
                    item.where or item.name,
                    f"no media file {_shown(item.media, root)!r} beside the file; add it and "
                    "import again",
                )
            )
        else:
            kept.append(item)
    return replace(dataset, items=kept, problems=problems)


def _shown(media: Path, root: Path) -> str:
    """``media`` as the file names it: relative to the folder being imported."""
    try:
        return media.relative_to(root).as_posix()
    except ValueError:
        return str(media)


def _unpack(archive: Path, into: Path) -> Path:
    """Unpack ``archive`` into ``into`` after checking every member; returns the export's
    folder (the zip's only folder when it holds one)."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            for member in members:
                _check_member(archive, member)
            needed = sum(m.file_size for m in members)
            free = shutil.disk_usage(into).free
            if needed > free:
                raise InvalidInput(
                    f"{archive.name!r} unpacks to {needed // 2**20} MB but only "
                    f"{free // 2**20} MB are free; nothing was imported"
                )
            for member in members:
                target = into.joinpath(*PurePosixPath(member.filename).parts)
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(member) as packed, target.open("wb") as out:
                    shutil.copyfileobj(packed, out, 1024 * 1024)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as error:
        raise InvalidInput(
            f"{archive.name!r} is not a zip file that can be read ({error}); nothing was imported"
        ) from None
    entries = [p for p in into.iterdir() if p.name != "__MACOSX"]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else into


def _check_member(archive: Path, member: zipfile.ZipInfo) -> None:
    name = member.filename
    parts = re.split(r"[/\\]", name)
    why = None
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        why = "has an absolute path"
    elif ".." in parts:
        why = "has '..' in its path"
    elif stat.S_ISLNK(member.external_attr >> 16):
        why = "is a symbolic link"
    if why is not None:
        raise InvalidInput(
            f"{archive.name!r}: member {name!r} {why}, which could write outside the folder "
            "it is unpacked into; nothing was imported. Zip the export's folder again with "
            "relative paths and no links"
        )


# --- applying ---------------------------------------------------------------------------------


@dataclass
class ImportResult:
    categories_created: list[int] = field(default_factory=list)
    categories_matched: list[int] = field(default_factory=list)
    """Ids of the project's categories the file's categories matched by name."""
    items_created: int = 0
    items_existing: int = 0
    """Items whose bytes were already in the project (nothing was duplicated)."""
    annotations_created: int = 0
    annotations_existing: int = 0
    """Annotations an earlier run of the same import had already brought in."""
    problems: list[ImportProblem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "categories_created": len(self.categories_created),
            "categories_matched": len(self.categories_matched),
            "items_created": self.items_created,
            "items_existing": self.items_existing,
            "annotations_created": self.annotations_created,
            "annotations_existing": self.annotations_existing,
            "problems": len(self.problems),
        }


def apply(
    runtime: Runtime,
    project_id: int,
    dataset: ImportedDataset,
    *,
    actor_id: int,
    origin: str,
    on_item: Callable[[str, str], None] | None = None,
) -> ImportResult:
    """Bring ``dataset`` into project ``project_id``: categories, then item by item.

    ``origin`` says what was imported (e.g. ``"coco export.zip"``); it is kept in the audit
    log and in each annotation's reasoning. ``on_item(name, outcome)`` is called after each
    item with ``"created"`` (something new was written), ``"existing"`` or ``"refused"``.
    Raises ``InvalidInput`` or ``Conflict`` (nothing written) when the categories or the
    annotation types do not fit the project.
    """
    result = ImportResult(problems=list(dataset.problems))
    with runtime.session() as session:
        project = projects.get_project(session, project_id)
        _check_types(runtime.plugins, project, dataset)
        ids = _categories(session, project_id, dataset.categories, actor_id, origin, result)
    for item in dataset.items:
        outcome = _record(runtime, project, item, ids, actor_id, origin, result)
        if on_item is not None:
            on_item(item.name, outcome)
    with runtime.session() as session:
        audit.record(
            session,
            actor_id=actor_id,
            project_id=project_id,
            entity="project",
            entity_id=project_id,
            action="import",
            reason=origin,
            data=result.counts(),
        )
    return result


def _check_types(plugins: Plugins, project: Project, dataset: ImportedDataset) -> None:
    used = sorted({a.annotation_type for i in dataset.items for a in i.annotations})
    missing = [t for t in used if t not in project.annotation_types]
    if missing:
        enabled = ", ".join(project.annotation_types) or "none"
        raise InvalidInput(
            f"The file holds {', '.join(missing)} annotations, which project {project.id} does "
            f"not enable (enabled: {enabled}); nothing was imported. Import into a project "
            "that enables them",
            "$.annotation_type",
        )
    if project.modality not in plugins.modalities:
        raise InvalidInput(
            f"Project {project.id} labels {project.modality!r} media, but no loaded plugin "
            "provides that modality; install it and restart",
            "$.modality",
        )


def _categories(
    session: Any,
    project_id: int,
    imported: Sequence[ImportedCategory],
    actor_id: int,
    origin: str,
    result: ImportResult,
) -> dict[str, int]:
    """The project's id for each category name (casefolded); creates what is missing."""
    seen_names: set[str] = set()
    seen_ids: set[int] = set()
    for index, category in enumerate(imported):
        key = category.name.strip().casefold()
        if not key or key in seen_names or (category.id is not None and category.id in seen_ids):
            what = "has no name" if not key else "repeats a name or id listed before it"
            raise InvalidInput(
                f"The file's category {category.id} {category.name!r} {what}; nothing was imported",
                f"$.categories[{index}]",
            )
        seen_names.add(key)
        if category.id is not None:
            seen_ids.add(category.id)
    existing = labels.all_categories(session, project_id)
    # A live category wins over a deleted one of the same name.
    by_name = {c.name.casefold(): c for c in sorted(existing, key=lambda c: c.deleted_at is None)}
    by_id = {c.id: c for c in existing}
    ids: dict[str, int] = {}
    wanted: list[tuple[str, int | None]] = []
    clashes: list[str] = []
    for category in imported:
        name = category.name.strip()
        same = by_name.get(name.casefold())
        if same is not None and same.deleted_at is not None:
            clashes.append(f"{name!r} is category {same.id} here, which is deleted")
        elif same is not None and category.id not in (None, same.id):
            clashes.append(f"{name!r} is category {category.id} in the file but {same.id} here")
        elif same is not None:
            ids[name.casefold()] = same.id
            result.categories_matched.append(same.id)
        elif category.id is not None and category.id in by_id:
            other = by_id[category.id]
            clashes.append(f"the file's category {category.id} is {name!r}, here {other.name!r}")
        else:
            wanted.append((name, category.id))
    if clashes:
        here = ", ".join(f"{c.id} {c.name!r}" for c in existing)
        raise Conflict(
            f"The file's categories do not fit project {project_id} ({'; '.join(clashes)}), "
            "and category ids never change, so nothing was imported. Import into a new "
            f"project, or make the file's categories match this project's: {here}."
        )
    if wanted:
        change = f"imported {len(wanted)} categories ({origin})"
        for created in labels.add_categories(session, project_id, wanted, actor_id, change):
            ids[created.name.casefold()] = created.id
            result.categories_created.append(created.id)
    return ids


def _resolved(value: Any, ids: Mapping[str, int]) -> Any:
    """``value`` with each ``CategoryRef`` replaced by the project's category id."""
    if isinstance(value, CategoryRef):
        found = ids.get(value.name.strip().casefold())
        if found is None:
            raise InvalidInput(
                f"the annotation refers to category {value.name!r}, which the file's "
                "categories do not list"
            )
        return found
    if isinstance(value, Mapping):
        return {key: _resolved(inner, ids) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_resolved(inner, ids) for inner in value]
    return value


def _op_id(project_id: int, content_hash: str, annotation_type: str, payload: Any) -> str:
    """The same annotation of the same item imported again is recognised, not duplicated."""
    key = json.dumps([project_id, content_hash, annotation_type, payload], sort_keys=True)
    return "import-" + hashlib.sha256(key.encode()).hexdigest()


def _record(
    runtime: Runtime,
    project: Project,
    item: ImportedItem,
    ids: Mapping[str, int],
    actor_id: int,
    origin: str,
    result: ImportResult,
) -> str:
    """One item with its annotations, in one transaction: in whole, or reported."""
    where = item.where or item.name
    kept: list[tuple[ImportedAnnotation, Any]] = []
    try:
        for annotation in item.annotations:
            where = annotation.where or item.where or item.name
            if any(k.annotation_type == annotation.annotation_type for k, _ in kept):
                result.problems.append(
                    ImportProblem(
                        where,
                        f"a second {annotation.annotation_type} annotation on {item.name!r} "
                        "was left out: an import brings one per item and type (the first)",
                    )
                )
                continue
            kept.append((annotation, _resolved(annotation.payload, ids)))
        created = existing = 0
        where = item.where or item.name
        with item.media.open("rb") as media, runtime.session() as session:
            ingested = items.ingest(
                session,
                runtime.store,
                runtime.plugins,
                project,
                name=item.name,
                source=media,
                actor_id=actor_id,
            )
            assert ingested.item.id is not None and project.id is not None
            for annotation, payload in kept:
                where = annotation.where or item.where or item.name
                reasoning = f"Imported from {origin}" + (
                    f"; annotated by {annotation.annotator} in the source"
                    if annotation.annotator
                    else ""
                )
                submitted = submit(
                    session,
                    runtime.plugins,
                    item_id=ingested.item.id,
                    annotator_id=actor_id,
                    annotation_type=annotation.annotation_type,
                    payload=payload,
                    client_op_id=_op_id(
                        project.id, ingested.item.content_hash, annotation.annotation_type, payload
                    ),
                    reasoning=reasoning,
                    source=AnnotationSource.imported,
                )
                created += submitted.created
                existing += not submitted.created
    except ScholiaError as error:
        result.problems.append(
            ImportProblem(where, f"{error.message}; the item and its labels were not imported")
        )
        return "refused"
    except OSError as error:
        result.problems.append(
            ImportProblem(where, f"the media file cannot be read: {error.strerror or error}")
        )
        return "refused"
    result.items_created += ingested.created
    result.items_existing += not ingested.created
    result.annotations_created += created
    result.annotations_existing += existing
    return "created" if ingested.created or created else "existing"
