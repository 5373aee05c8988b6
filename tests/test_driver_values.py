"""Ids and times read as the driver gives them are written as the same text as the typed values,
on SQLite and PostgreSQL alike (a dataset version's bytes must not depend on the database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy
from sqlalchemy import Column, MetaData, String, Table, Uuid

from scholia.core.driver_values import DriverValues, raw
from scholia.core.models.types import UTCDateTime
from scholia.core.runtime import Runtime

MOMENTS = [
    datetime(2025, 1, 6, 9, 0, tzinfo=UTC),
    datetime(2025, 1, 6, 9, 0, 1, 500, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 7, 1, 2, 3, 4, 10, tzinfo=timezone(timedelta(hours=5, minutes=30))),
]
IDS = [uuid.UUID(int=1), uuid.uuid4(), uuid.UUID("ABCDEF01-2345-6789-ABCD-EF0123456789")]


def test_raw_ids_and_times_are_written_as_their_typed_values_are(runtime: Runtime) -> None:
    table = Table(
        "driver_values_probe",
        MetaData(),
        Column("key", String(8), primary_key=True),
        Column("id", Uuid),
        Column("at", UTCDateTime),
    )
    rows = [
        {"key": str(n), "id": IDS[n % len(IDS)], "at": moment}
        for n, moment in enumerate(MOMENTS)
    ]
    with runtime.engine.begin() as connection:
        table.create(connection)
        try:
            connection.execute(table.insert(), rows)
            typed = connection.execute(sqlalchemy.select(table).order_by(table.c.key)).all()
            read = connection.execute(
                sqlalchemy.select(table.c.key, raw(table.c.id), raw(table.c.at)).order_by(
                    table.c.key
                )
            ).all()
            values = DriverValues.of(connection.dialect.name)
        finally:
            table.drop(connection)
    # SQLite gives the stored text, PostgreSQL its own UUID and datetime.
    assert isinstance(read[0].at, str) == (values == DriverValues.of("sqlite"))
    assert [values.uuid_text(r.id) for r in read] == [str(r.id) for r in typed]
    assert [values.time_text(r.at) for r in read] == [r.at.isoformat() for r in typed]
    assert [values.moment(r.at) for r in read] == [r.at for r in typed]
    assert [r.at for r in typed] == [m.astimezone(UTC) for m in MOMENTS]
