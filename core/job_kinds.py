"""The kinds of background job the core runs, by name: what the runner, the jobs API and
stall detection serve. A new kind is a ``jobs.JobKind`` next to the code that runs it, added
to ``KINDS`` here (see ``scholia.core.jobs``)."""

from __future__ import annotations

import logging
from datetime import timedelta

from . import datasets, expansions, jobs, suggestion_jobs
from .errors import ScholiaError
from .models import DatasetVersion, DatasetVersionStatus
from .runtime import Runtime

__all__ = ["BUILD", "KINDS", "key_of"]

log = logging.getLogger(__name__)


def _build(runtime: Runtime, version_id: int) -> None:
    try:
        datasets.build(runtime, version_id)
    except ScholiaError as error:  # the version is failed, its row says why
        log.info("dataset version %s failed: %s", version_id, error)


BUILD = jobs.JobKind(
    name="build",
    table=DatasetVersion,
    run=_build,
    describe=lambda version: f"Dataset version {version.version}",
    title="dataset version",
    noun="build",
    audit_entity="dataset_version",
    running=DatasetVersionStatus.building,
    doing="being built",
    retryable=(DatasetVersionStatus.failed,),
    cancelled=None,  # a build is short and leaves nothing half-done to keep
    reset={"progress_items": 0},
    done_column="progress_items",
    total_column="total_items",
    error_of=lambda version: (
        version.gate_report.get("error") if version.status == DatasetVersionStatus.failed else None
    ),
    # A live build writes progress a few times a second while it writes items; its last
    # steps (hashing the files, the gate) write none, hence the margin.
    stalled_after=timedelta(seconds=60),
    url=lambda version: f"/api/v1/datasets/{version.id}",
)
"""Dataset versions, built in the background (``datasets.build``); a retry builds afresh."""

KINDS: dict[str, jobs.JobKind] = {
    kind.name: kind for kind in (expansions.JOB, suggestion_jobs.JOB, BUILD)
}


def key_of(key: str) -> tuple[jobs.JobKind, int]:
    """The kind and id of a job key such as ``expansion-3``."""
    return jobs.key_of(KINDS, key)
