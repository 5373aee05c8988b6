"""The server's background threads: one per job, never two for the same job in this process.

Jobs (batch suggestions, video expansions) keep their progress on their own rows, so this only
knows which of them this process runs: a request starts one and answers at once, and a job
another process left is resumed through its row, not from here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from litestar.datastructures import State

from scholia.core.errors import Conflict
from scholia.core.runtime import Runtime

__all__ = ["Threads", "threads_of"]

log = logging.getLogger(__name__)


class Threads:
    """Daemon threads by job key: cut short by shutdown, a job stalls and can be resumed."""

    def __init__(self, kind: str, runtime: Runtime) -> None:
        self.kind = kind
        self.runtime = runtime
        self._lock = threading.Lock()
        self._threads: dict[int, threading.Thread] = {}

    def running(self, key: int) -> bool:
        with self._lock:
            thread = self._threads.get(key)
            return thread is not None and thread.is_alive()

    def start(self, key: int, work: Callable[[], Any]) -> None:
        """Run ``work`` in a new thread; refused while this process runs ``key`` already."""
        with self._lock:
            thread = self._threads.get(key)
            if thread is not None and thread.is_alive():
                raise Conflict(f"This {self.kind} is running already.")
            self._threads[key] = self.runtime.spawn(
                lambda: self._run(key, work), f"{self.kind}-{key}"
            )

    def _run(self, key: int, work: Callable[[], Any]) -> None:
        with self._lock:  # wait until start() recorded this thread
            pass
        try:
            work()
        except Exception:
            log.exception("%s %s stopped unexpectedly", self.kind, key)
        finally:
            with self._lock:
                if self._threads.get(key) is threading.current_thread():
                    del self._threads[key]


_STATE_LOCK = threading.Lock()


def threads_of(state: State, runtime: Runtime, kind: str) -> Threads:
    """The app's ``Threads`` for one kind of job, made on first use (handlers run in several
    threads)."""
    with _STATE_LOCK:
        threads: Any = state.get(f"threads.{kind}")
        if threads is None:
            threads = state[f"threads.{kind}"] = Threads(kind, runtime)
        assert isinstance(threads, Threads)
        return threads
