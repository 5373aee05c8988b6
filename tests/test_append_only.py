"""Annotations and audit events are append-only, enforced by the database itself: no UPDATE,
DELETE, REPLACE or upsert changes or removes a row, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from scholia.core.runtime import Runtime

STATEMENTS = [
    "UPDATE annotation SET payload = '{\"value\": 1}'",
    "DELETE FROM annotation",
    "UPDATE audit_event SET reason = 'rewritten history'",
    "DELETE FROM audit_event",
]


@pytest.mark.parametrize("statement", STATEMENTS)
def test_raw_sql_cannot_change_or_remove_history(
    runtime: Runtime, project: dict[str, Any], item: dict[str, Any], statement: str
) -> None:
    response = project["manager"].post(
        f"/api/v1/items/{item['id']}/annotations",
        json={"annotation_type": "rating", "payload": {"value": 5}},
    )
    assert response.status_code == 201
    table = (
        "annotation"
        if "annotation " in statement or statement.endswith("annotation")
        else "audit_event"
    )
    with runtime.engine.connect() as connection:
        before = connection.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
    assert before

    with pytest.raises(DatabaseError, match="append-only"), runtime.engine.begin() as connection:
        connection.execute(text(statement))

    with runtime.engine.connect() as connection:
        assert connection.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all() == before


def test_truncate_is_refused_on_postgresql(runtime: Runtime, item: dict[str, Any]) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    with pytest.raises(DatabaseError, match="append-only"), runtime.engine.begin() as connection:
        connection.execute(text("TRUNCATE audit_event CASCADE"))


def test_a_correction_is_a_new_revision_and_the_old_one_stays(
    runtime: Runtime, project: dict[str, Any], item: dict[str, Any]
) -> None:
    manager = project["manager"]
    url = f"/api/v1/items/{item['id']}/annotations"
    first = manager.post(url, json={"annotation_type": "rating", "payload": {"value": 2}}).json()
    second = manager.post(
        url,
        json={"annotation_type": "rating", "payload": {"value": 4}, "supersedes_id": first["id"]},
    ).json()
    assert second["supersedes_id"] == first["id"]
    with runtime.engine.connect() as connection:
        rows = connection.execute(text("SELECT payload FROM annotation")).all()
    assert len(rows) == 2
    assert [a["id"] for a in manager.get(url).json()] == [second["id"]]


REWRITES = {"annotation": ("payload", "'{\"value\": 1}'"), "audit_event": ("action", "'rewritten'")}
"""Per append-only table, a column and the forged value each rewrite tries to store."""


def _forged_copy(runtime: Runtime, table: str, **replaced: str) -> tuple[str, str]:
    """The column list and a SELECT that copies every row of ``table`` with ``replaced``
    columns (name -> SQL expression) and the table's forged value."""
    column, forged = REWRITES[table]
    columns = [c["name"] for c in inspect(runtime.engine).get_columns(table)]
    values = {name: name for name in columns} | {column: forged} | replaced
    if runtime.engine.dialect.name == "postgresql" and table == "annotation":
        values[column] = f"CAST({values[column]} AS JSONB)"
    # ``WHERE true`` lets SQLite tell the SELECT from the upsert clause that follows.
    select = f"SELECT {', '.join(values[name] for name in columns)} FROM {table} WHERE true"
    return ", ".join(columns), select


def _sqlite_only(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("REPLACE exists only on SQLite")


def _replace(runtime: Runtime, table: str) -> str:
    _sqlite_only(runtime)
    columns, select = _forged_copy(runtime, table)
    return f"INSERT OR REPLACE INTO {table} ({columns}) {select}"


def _replace_into(runtime: Runtime, table: str) -> str:
    _sqlite_only(runtime)
    columns, select = _forged_copy(runtime, table)
    return f"REPLACE INTO {table} ({columns}) {select}"


def _replace_by_client_op(runtime: Runtime, table: str) -> str:
    """A new id, but the (annotator, client_op_id) of the existing row: REPLACE would remove
    the old row through the unique key rather than the primary key."""
    _sqlite_only(runtime)
    if table != "annotation":
        pytest.skip("only annotations have a unique key besides the primary key")
    columns, select = _forged_copy(runtime, table, id="lower(hex(randomblob(16)))")
    return f"INSERT OR REPLACE INTO {table} ({columns}) {select}"


def _upsert(runtime: Runtime, table: str) -> str:
    column, _ = REWRITES[table]
    columns, select = _forged_copy(runtime, table)
    return (
        f"INSERT INTO {table} ({columns}) {select} "
        f"ON CONFLICT (id) DO UPDATE SET {column} = excluded.{column}"
    )


REFUSED = {
    "insert or replace": _replace,
    "replace into": _replace_into,
    "replace through a unique key": _replace_by_client_op,
    "insert on conflict do update": _upsert,
}


def _history(runtime: Runtime, table: str) -> list[Any]:
    with runtime.engine.connect() as connection:
        return list(connection.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all())


@pytest.fixture
def annotated(project: dict[str, Any], item: dict[str, Any]) -> None:
    """One annotation (with a client op id) and its audit events."""
    response = project["manager"].post(
        f"/api/v1/items/{item['id']}/annotations",
        json={"annotation_type": "rating", "payload": {"value": 5}, "client_op_id": "op-1"},
    )
    assert response.status_code == 201


@pytest.mark.usefixtures("annotated")
@pytest.mark.parametrize("table", ["annotation", "audit_event"])
@pytest.mark.parametrize("way", REFUSED)
def test_replace_and_upsert_cannot_rewrite_history(runtime: Runtime, table: str, way: str) -> None:
    statement = REFUSED[way](runtime, table)
    before = _history(runtime, table)
    assert before

    with pytest.raises(DatabaseError, match="append-only"), runtime.engine.begin() as connection:
        connection.execute(text(statement))

    assert _history(runtime, table) == before


@pytest.mark.usefixtures("annotated")
@pytest.mark.parametrize("table", ["annotation", "audit_event"])
def test_insert_on_conflict_do_nothing_leaves_the_row_as_it_was(
    runtime: Runtime, table: str
) -> None:
    """PostgreSQL ignores the forged row; SQLite refuses it outright. Either way nothing
    changes."""
    columns, select = _forged_copy(runtime, table)
    before = _history(runtime, table)
    try:
        with runtime.engine.begin() as connection:
            connection.execute(
                text(f"INSERT INTO {table} ({columns}) {select} ON CONFLICT DO NOTHING")
            )
    except DatabaseError as refused:
        assert "append-only" in str(refused)
    assert _history(runtime, table) == before


def test_new_rows_and_the_label_path_still_work_after_the_replace_guard(
    runtime: Runtime, project: dict[str, Any], item: dict[str, Any]
) -> None:
    """The guard refuses only taken keys: a replayed op is still answered with its original."""
    url = f"/api/v1/items/{item['id']}/annotations"
    body = {"annotation_type": "rating", "payload": {"value": 3}, "client_op_id": "op-2"}
    first = project["manager"].post(url, json=body)
    replay = project["manager"].post(url, json=body)
    assert first.status_code == 201
    assert replay.status_code == 200 and replay.json()["id"] == first.json()["id"]
    assert len(_history(runtime, "annotation")) == 1
