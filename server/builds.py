"""Dataset versions built in the background of the server process, one thread per version.

A request creates the version and answers at once; the build (``scholia.core.datasets.build``)
runs in a thread and writes its progress on the version's row, which the pages poll and the
API reports. A ``building`` row that no build is moving (the server or ``scholia export``
crashed) is *stalled*: its progress stopped, and a retry builds it again and completes it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from litestar.datastructures import State
from sqlalchemy import and_, func, or_, update
from sqlmodel import col

from scholia.core import audit, datasets
from scholia.core.errors import Conflict, ScholiaError
from scholia.core.models import DatasetVersion, DatasetVersionStatus
from scholia.core.models.types import utcnow
from scholia.core.runtime import Runtime

from .background import Threads, threads_of

__all__ = ["STALLED_AFTER", "Builds", "builds_of"]

log = logging.getLogger(__name__)

STALLED_AFTER = timedelta(seconds=60)
"""A ``building`` version whose progress has not moved for this long, and that no thread of
this process builds, was left by a crash. A live build writes progress a few times a second
while it writes items; its last steps (hashing the files, the gate) write none, hence the
margin."""


class Builds:
    """The builds running in this process, so none starts twice and a stalled one is known."""

    def __init__(self, runtime: Runtime, threads: Threads) -> None:
        self.runtime = runtime
        self.threads = threads

    def running(self, version_id: int) -> bool:
        return self.threads.running(version_id)

    def stalled(self, version: DatasetVersion) -> bool:
        """``building``, but no build moves it: not one of ours, and its progress stopped."""
        if version.status != DatasetVersionStatus.building or self.running(version.id or 0):
            return False
        last = version.progress_at or version.created_at
        return utcnow() - last > STALLED_AFTER

    def can_retry(self, version: DatasetVersion) -> bool:
        return version.status == DatasetVersionStatus.failed or self.stalled(version)

    def start(self, version_id: int) -> None:
        """Build ``version_id`` in a new thread (refused if this process already builds it)."""
        self.threads.start(version_id, lambda: self._build(version_id))

    def retry(self, version: DatasetVersion, actor_id: int) -> None:
        """Build a failed or stalled version again; refused while a build is moving it.

        The version is claimed first, in one conditional UPDATE: of two retries (two requests,
        or the server and ``scholia export``), only one finds it still failed or stalled."""
        assert version.id is not None
        building, failed = DatasetVersionStatus.building, DatasetVersionStatus.failed
        last_moved = func.coalesce(col(DatasetVersion.progress_at), col(DatasetVersion.created_at))
        claim = (
            update(DatasetVersion)
            .where(
                col(DatasetVersion.id) == version.id,
                or_(
                    col(DatasetVersion.status) == failed,
                    and_(
                        col(DatasetVersion.status) == building,
                        last_moved < utcnow() - STALLED_AFTER,
                    ),
                ),
            )
            .values(status=building, progress_items=0, progress_at=utcnow())
        )
        claimed = 0
        if not self.running(version.id):
            with self.runtime.session() as session:
                claimed = session.connection().execute(claim).rowcount
                if claimed == 1:
                    audit.record(
                        session,
                        actor_id=actor_id,
                        project_id=version.project_id,
                        entity="dataset_version",
                        entity_id=version.id,
                        action="retry",
                        from_state=version.status,
                        to_state=building,
                    )
        if claimed != 1:
            if version.status in (building, failed):
                raise Conflict(
                    f"Dataset version {version.version} is being built (it moved less than "
                    f"{int(STALLED_AFTER.total_seconds())} s ago); retry only once it has stopped."
                )
            raise Conflict(
                f"Dataset version {version.version} is {version.status}; only a failed or "
                "stalled build can be retried."
            )
        self.start(version.id)

    def _build(self, version_id: int) -> None:
        try:
            datasets.build(self.runtime, version_id)
        except ScholiaError as error:  # the version is failed, its row says why
            log.info("dataset version %s failed: %s", version_id, error)


def builds_of(state: State, runtime: Runtime) -> Builds:
    """The app's dataset builds, on the app's threads for them."""
    return Builds(runtime, threads_of(state, runtime, "dataset build"))
