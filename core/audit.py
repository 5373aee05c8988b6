"""Writing the audit log: every state change goes through ``record`` (or ``record_many``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from .models import AuditEvent
from .models.types import utcnow

__all__ = ["Entry", "record", "record_many"]

_INSERT = insert(AuditEvent)


@dataclass(frozen=True)
class Entry:
    """One event to write: what happened to which entity, who did it and why."""

    actor_id: int | None
    entity: str
    entity_id: object
    action: str
    project_id: int | None = None
    from_state: str | None = None
    to_state: str | None = None
    reason: str | None = None
    data: dict[str, Any] | None = None


def record(
    session: Session,
    *,
    actor_id: int | None,
    entity: str,
    entity_id: object,
    action: str,
    project_id: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write an audit event in the session's transaction: saved with the change or not at all.

    A plain INSERT on the session's connection, not an ORM object: events are never changed
    after, and every label submission writes one or two (the ORM's unit of work would cost
    more than the rest of the insert)."""
    entry = Entry(
        actor_id, entity, entity_id, action, project_id, from_state, to_state, reason, data
    )
    return record_many(session, [entry])[0]


def record_many(session: Session, entries: Sequence[Entry]) -> list[AuditEvent]:
    """``record`` for several events of one change, in one statement. The events of more
    than one come back without their ids (nothing reads them; reading them back would cost
    the statement saved)."""
    at = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "at": at,
            "actor_id": entry.actor_id,
            "project_id": entry.project_id,
            "entity": entry.entity,
            "entity_id": str(entry.entity_id),
            "action": entry.action,
            "from_state": entry.from_state,
            "to_state": entry.to_state,
            "reason": entry.reason,
            "data": entry.data or {},
        }
        for entry in entries
    ]
    if len(rows) == 1:
        result = session.connection().execute(_INSERT, rows[0])
        (event_id,) = result.inserted_primary_key or (None,)
        return [AuditEvent.model_construct(id=event_id, **rows[0])]
    if rows:
        session.connection().execute(_INSERT, rows)
    return [AuditEvent.model_construct(id=None, **row) for row in rows]
