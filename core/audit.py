"""Writing the audit log: every state change goes through ``record``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from .models import AuditEvent
from .models.types import utcnow

__all__ = ["record"]

_INSERT = insert(AuditEvent)


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
    values: dict[str, Any] = {
        "at": utcnow(),
        "actor_id": actor_id,
        "project_id": project_id,
        "entity": entity,
        "entity_id": str(entity_id),
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "reason": reason,
        "data": data or {},
    }
    result = session.connection().execute(_INSERT, values)
    (event_id,) = result.inserted_primary_key or (None,)
    return AuditEvent.model_construct(id=event_id, **values)
