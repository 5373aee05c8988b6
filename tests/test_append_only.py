"""Annotations and audit events are append-only, enforced by the database itself."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
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
