"""Uploads: files arriving at a project, each judged alone.

A file of the project's own modality becomes an item (``items.ingest``); a container file that
expands into the project's items (a video into an image project's frames) is kept and queued as
an expansion (``expansions.start``), which the caller runs: the server in the background, the
CLI in the foreground with a progress bar. A bad file is reported by name with the reason, and
the rest of the batch goes in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from . import expansions
from .errors import InvalidInput, NotFound
from .items import container_for, ingest
from .models import Expansion, Item, Project
from .runtime import Runtime

__all__ = ["BatchResult", "ingest_files"]


@dataclass
class BatchResult:
    created: list[Item] = field(default_factory=list)
    existing: list[Item] = field(default_factory=list)
    """Files whose bytes were already in the project: nothing was duplicated."""
    expansions: list[Expansion] = field(default_factory=list)
    """Container files kept, each with its expansion (new or the one made before)."""
    queued: list[int] = field(default_factory=list)
    """The ids of the expansions this batch created: the caller runs them."""
    problems: list[tuple[str, str]] = field(default_factory=list)
    """(file name, reason) for each file that was refused."""


def ingest_files(
    runtime: Runtime,
    project_id: int,
    files: Iterable[tuple[str, BinaryIO]],
    *,
    actor_id: int,
    expand_options: Mapping[str, Any] | None = None,
    on_file: Callable[[str, str], None] | None = None,
) -> BatchResult:
    """Ingest several files, each in its own transaction.

    ``expand_options`` are the options of the expansions a container file starts (how many
    frames of a video). ``on_file(name, outcome)``, if given, is called after each file with
    ``"created"``, ``"existing"``, ``"expanding"`` or ``"refused"`` (the reason is in the
    result's ``problems``)."""
    result = BatchResult()
    with runtime.session() as session:  # read once; each file below is its own transaction
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound("project", project_id)
    for name, source in files:
        try:
            with runtime.session() as session:
                if container_for(runtime.plugins, project, name) is not None:
                    started = expansions.start(
                        session,
                        runtime.store,
                        runtime.plugins,
                        project,
                        name=name,
                        source=source,
                        options=expand_options,
                        actor_id=actor_id,
                    )
                    result.expansions.append(started.expansion)
                    if started.created:
                        result.queued.append(started.expansion.id)  # type: ignore[arg-type]
                    outcome = "expanding"
                else:
                    ingested = ingest(
                        session,
                        runtime.store,
                        runtime.plugins,
                        project,
                        name=name,
                        source=source,
                        actor_id=actor_id,
                    )
                    (result.created if ingested.created else result.existing).append(ingested.item)
                    outcome = "created" if ingested.created else "existing"
        except InvalidInput as error:
            result.problems.append((name, error.reason))
            outcome = "refused"
        if on_file is not None:
            on_file(name, outcome)
    return result
