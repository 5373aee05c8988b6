"""Writing the audit log: every state change goes through ``record``."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from .models import AuditEvent

__all__ = ["record"]


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
    """Add an audit event to the session's transaction: saved with the change or not at all."""
    event = AuditEvent(
        actor_id=actor_id,
        project_id=project_id,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
    )
    session.add(event)
    return event
