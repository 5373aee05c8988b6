"""The database: engines for SQLite (WAL, in the data directory) and PostgreSQL, and migrations.

Migrations are Alembic's, shipped inside the package, so ``scholia db upgrade`` works from a
wheel as well as from a checkout.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import msgspec
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

__all__ = ["READING", "MigrationStatus", "create_db_engine", "migration_status", "upgrade"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout per connection."""
    kwargs.setdefault("json_deserializer", read_json)
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S}, **kwargs
        )
        writer = threading.Lock()
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", partial(_sqlite_begin, writer))
        event.listen(engine, "commit", partial(_sqlite_end, writer))
        event.listen(engine, "rollback", partial(_sqlite_end, writer))
        return engine
    if url.startswith("postgresql"):
        kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def read_json(text: str | bytes) -> Any:
    """A JSON column's value: msgspec reads it several times faster than ``json.loads`` (a
    dataset build reads every item's and label's JSON); what msgspec refuses and ``json.loads``
    takes (NaN, an out-of-range number, a lone surrogate) still reads as it always did."""
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError:
        return json.loads(text)


def _private_sqlite_file(url: str) -> None:
    """Create the database file readable by its owner only (and tighten an older one): SQLite
    gives its ``-wal`` and ``-shm`` files the main file's permissions, so they follow."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT (a RELEASE can commit the outer
    # transaction), so it is switched off and ``_sqlite_begin`` starts transactions instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


BUSY_TIMEOUT_S = 30
WRITE_TURN = "scholia_write_turn"
READING = "scholia_reading"
"""Execution option of a connection that mostly reads (see ``Runtime.read``)."""


def _sqlite_begin(writer: threading.Lock, connection: Any) -> None:
    # IMMEDIATE takes the write lock up front: concurrent writers wait (busy timeout) instead
    # of failing with "database is locked" when a read transaction tries to become a write.
    # Reading work begins DEFERRED: in WAL it reads beside a writer without waiting.
    if connection.get_execution_options().get(READING):
        connection.exec_driver_sql("BEGIN")
        return
    # Writers of this process queue on a lock first: SQLite's own busy wait polls with
    # growing sleeps (up to 100 ms), so under contention a writer can sleep long after the
    # lock is free. Other processes (a CLI import) still meet the busy timeout.
    if not writer.acquire(timeout=BUSY_TIMEOUT_S):
        raise sqlite3.OperationalError("database is locked (no write turn within the timeout)")
    connection.info[WRITE_TURN] = True
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        _sqlite_end(writer, connection)
        raise


def _sqlite_end(writer: threading.Lock, connection: Any) -> None:
    if connection.info.pop(WRITE_TURN, False):
        writer.release()


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (default: the newest)."""
    command.upgrade(_alembic_config(engine), revision)


@dataclass(frozen=True)
class MigrationStatus:
    current: str | None
    head: str

    @property
    def is_current(self) -> bool:
        return self.current == self.head


def migration_status(engine: Engine) -> MigrationStatus:
    """Which revision the database is at and which the code expects."""
    script = ScriptDirectory.from_config(_alembic_config(engine))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    head = script.get_current_head()
    assert head is not None
    return MigrationStatus(current=current, head=head)
