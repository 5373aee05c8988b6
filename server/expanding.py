"""Expansions (a video into frame items) run in the background of the server process.

An upload keeps the video and answers at once; ``expansions.run`` makes the items a batch at a
time and writes its progress on the expansion's row, which the project page polls and the API
reports. A failed, cancelled or stalled expansion is retried through its row.
"""

from __future__ import annotations

from collections.abc import Iterable

from litestar.datastructures import State

from scholia.core import expansions, jobs
from scholia.core.errors import Conflict
from scholia.core.models import Expansion, JobStatus
from scholia.core.runtime import Runtime

from .background import Threads, threads_of

__all__ = ["Expansions", "expansions_of"]


class Expansions:
    def __init__(self, runtime: Runtime, threads: Threads) -> None:
        self.runtime = runtime
        self.threads = threads

    def running(self, expansion_id: int) -> bool:
        return self.threads.running(expansion_id)

    def can_retry(self, expansion: Expansion) -> bool:
        if self.running(expansion.id or 0):
            return False
        return expansion.status in (JobStatus.cancelled, JobStatus.failed) or jobs.stalled(
            expansion
        )

    def start(self, ids: Iterable[int]) -> None:
        for expansion_id in ids:
            self.threads.start(expansion_id, lambda e=expansion_id: expansions.run(self.runtime, e))

    def retry(self, expansion: Expansion, actor_id: int) -> None:
        assert expansion.id is not None
        if self.running(expansion.id):
            raise Conflict(f"The expansion of {expansion.name!r} is running; cancel it first.")
        with self.runtime.session() as session:
            stored = expansions.get_expansion(session, expansion.id)
            expansions.retry(session, stored, actor_id)
        self.start([expansion.id])


def expansions_of(state: State, runtime: Runtime) -> Expansions:
    """The app's expansions, on the app's threads for them."""
    return Expansions(runtime, threads_of(state, runtime, "expansion"))
