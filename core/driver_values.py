"""Ids and times read as the database driver gives them, and written as text from there.

A dataset build reads every label's id and time and every review's time once, only to write
them as text. Through the columns' types each is first made a ``uuid.UUID`` or an aware
``datetime`` and then text again, which cost more than reading the row. ``raw`` reads a column
without its type's conversion: on SQLite the text SQLAlchemy stored (32 hex digits for a UUID,
``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC for a time), on PostgreSQL the driver's own ``UUID`` and
aware ``datetime``. ``DriverValues`` turns either into the same text the typed values give
(``str(uuid)``, ``datetime.isoformat()`` in UTC), so a version's bytes do not depend on the
database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, type_coerce
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["DriverValues", "raw"]


def raw(column: Any) -> ColumnElement[Any]:
    """``column`` under its own name, as the driver gives it (no result conversion)."""
    return type_coerce(column, String()).label(column.key)


def _sqlite_uuid(value: str) -> str:
    if len(value) == 32:  # what SQLAlchemy stores: uuid.hex
        value = value.lower()
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(uuid.UUID(value))


def _sqlite_time(value: str) -> str:
    # SQLAlchemy stores "YYYY-MM-DD HH:MM:SS.ffffff" (UTC here, see models.types.UTCDateTime);
    # isoformat leaves out a zero fraction. Anything else is parsed.
    if len(value) == 26 and value[10] == " " and value[19] == ".":
        fraction = "" if value[20:] == "000000" else value[19:]
        return f"{value[:10]}T{value[11:19]}{fraction}+00:00"
    return _sqlite_datetime(value).isoformat()


def _sqlite_datetime(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _native_uuid(value: uuid.UUID) -> str:
    return str(value)


def _native_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _native_datetime(value: datetime) -> datetime:
    return value.astimezone(UTC)


@dataclass(frozen=True)
class DriverValues:
    """How one database's driver gives ids and times, turned into text or an aware datetime."""

    uuid_text: Callable[[Any], str]
    """A ``raw`` UUID column's value → ``str(uuid)``."""
    time_text: Callable[[Any], str]
    """A ``raw`` time column's value → its UTC ``isoformat()``."""
    moment: Callable[[Any], datetime]
    """A ``raw`` time column's value → an aware UTC ``datetime`` (to compare)."""

    @classmethod
    def of(cls, dialect_name: str) -> DriverValues:
        if dialect_name == "sqlite":
            return cls(_sqlite_uuid, _sqlite_time, _sqlite_datetime)
        return cls(_native_uuid, _native_time, _native_datetime)
