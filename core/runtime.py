"""One running Scholia: settings, database engine, loaded plugins and media store together.

The server and the CLI each build one ``Runtime`` and pass it to the services; the services
themselves only take a database session and what they need from here.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from . import events, followups
from .contributions import EventHandler
from .db import READING, create_db_engine, migration_status, upgrade
from .plugins import Plugins, load_plugins
from .predictors import Predictors
from .settings import PRIVATE_UMASK, Settings, private_folder
from .storage import MediaStore

__all__ = ["DEFAULT_PLUGINS", "Runtime"]

T = TypeVar("T")

log = logging.getLogger(__name__)

_frozen = False


def _freeze_startup_objects() -> None:
    """Once per process, when the first runtime is open: what is alive then (modules, the
    models' mappers, the plugins) stays for the process's life, so ``gc.freeze`` takes it out
    of the cyclic collector's full collections, which otherwise walk all of it again each
    time. Work that makes many objects gains: a dataset build of 100,000 items ran about 1 s
    of full collections. Collected first, so no garbage is frozen; a frozen object is still
    freed when nothing refers to it."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


_COLLECTING: ContextVar[list[Callable[[], None]] | None] = ContextVar(
    "scholia_followups", default=None
)
"""Where follow-ups go instead of running at once (see ``Runtime.deferring``)."""

CLOSE_WAIT_S = 10.0
"""How long ``close`` waits for background work still running (a job cut short stalls on its
row and is resumed; a cache refresh is simply lost)."""

DEFAULT_PLUGINS: tuple[str, ...] = ("scholia.core.quality.rules",)
"""Built-in behaviour of the core, registered as plugins so any of it can be overridden."""


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    plugins: Plugins
    store: MediaStore
    predictors: Predictors = field(default_factory=Predictors, repr=False)
    """Models loaded by this process, each once (see ``predictors``)."""
    reader: Engine = field(init=False, repr=False)
    """The engine for ``read``: same pool, transactions that begin DEFERRED on SQLite."""
    _threads: weakref.WeakSet[threading.Thread] = field(
        init=False, repr=False, default_factory=weakref.WeakSet
    )

    def __post_init__(self) -> None:
        self.reader = self.engine.execution_options(**{READING: True})

    def spawn(self, work: Callable[[], Any], name: str) -> threading.Thread:
        """Run ``work`` on a daemon thread of this runtime (a job, a cache refresh): ``close``
        waits a little for it before the database goes away."""
        thread = threading.Thread(target=work, name=name, daemon=True)
        self._threads.add(thread)
        thread.start()
        return thread

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        plugins: Plugins | None = None,
        default_plugins: Iterable[str] = (),
        migrate: bool = True,
    ) -> Runtime:
        """Connect, load plugins and (unless ``migrate`` is False) bring the schema up to date.

        The process's umask becomes 077: everything written in the data directory (database,
        media, dataset versions, imports, models) is readable by its owner only.
        """
        os.umask(PRIVATE_UMASK)
        private_folder(settings.data_dir)
        engine = create_db_engine(settings.database_url)
        if migrate and not migration_status(engine).is_current:
            upgrade(engine)
        if plugins is None:
            plugins = load_plugins(default_plugins=(*DEFAULT_PLUGINS, *default_plugins))
        _freeze_startup_objects()
        return cls(
            settings=settings, engine=engine, plugins=plugins, store=MediaStore(settings.media_dir)
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits at the end of the block, rolls back if it raises, and then
        delivers the events it queued to the plugins' handlers."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                followups.pending(session)
                raise
            queued = events.pending(session)
            later = followups.pending(session)
        if queued:
            events.deliver(queued, self.plugins.all(EventHandler))
        for work in later:
            collector = _COLLECTING.get()
            if collector is None:
                self.follow_up(work)
            else:
                collector.append(lambda work=work: self.follow_up(work))  # type: ignore[misc]

    def follow_up(self, work: followups.FollowUp) -> None:
        """Run one follow-up in its own unit of work; its failure is logged, not raised (what
        it followed up on is committed already)."""
        try:
            with self.session() as session:
                work(session)
        except Exception:
            log.exception("follow-up work failed")

    @contextmanager
    def deferring(self) -> Iterator[list[Callable[[], None]]]:
        """Collect the follow-ups of the units of work inside (in this context and the
        threads it starts) instead of running them at once: the server runs them after the
        response is sent."""
        collected: list[Callable[[], None]] = []
        token = _COLLECTING.set(collected)
        try:
            yield collected
        finally:
            _COLLECTING.reset(token)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A unit of work that only reads (pages, lists, counts): on SQLite it begins DEFERRED
        and reads beside writers. Nothing it changes is saved; changing anything is a bug and
        raises."""
        with Session(self.reader, expire_on_commit=False, autoflush=False) as session:
            yield session
            if session.new or session.dirty or session.deleted:
                raise RuntimeError("a reading unit of work changed data; use Runtime.session")
        # Closing returns the connection, whose transaction the pool rolls back; the objects
        # read stay loaded (a session rollback would expire them).

    def read(self, work: Callable[[Session], T]) -> T:
        """Run ``work``, which reads and seldom writes, without queueing behind writers.

        On SQLite the transaction begins DEFERRED, so it reads beside a writer (WAL). Should
        ``work`` write after another connection did, SQLite refuses at once ("database is
        locked"); it then runs again as a normal ``session``, which waits for the lock.
        """
        try:
            with Session(self.reader, expire_on_commit=False) as session:
                result = work(session)
                session.commit()
                return result
        except OperationalError as error:
            if "locked" not in str(error):
                raise
        with self.session() as session:
            return work(session)

    def close(self) -> None:
        """Wait (at most ``CLOSE_WAIT_S`` in all) for background work, then disconnect."""
        deadline = time.monotonic() + CLOSE_WAIT_S
        for thread in list(self._threads):
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        self.engine.dispose()
