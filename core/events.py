"""Events for plugins: queued with the change, delivered only after it is committed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Literal

import msgspec
from sqlmodel import Session

from .contributions import EventHandler

__all__ = ["Event", "deliver", "emit", "pending"]

log = logging.getLogger(__name__)

EventKind = Literal["annotation.submitted", "item.transitioned", "dataset.exported"]
_PENDING = "scholia.pending_events"


class Event(msgspec.Struct, frozen=True):
    kind: EventKind
    project_id: int
    entity_id: str
    actor_id: int | None
    data: dict[str, Any] = {}


def emit(session: Session, event: Event) -> None:
    """Queue ``event`` on the session; ``Runtime.session`` delivers it after the commit."""
    session.info.setdefault(_PENDING, []).append(event)


def pending(session: Session) -> list[Event]:
    """Take the queued events off the session."""
    events: list[Event] = session.info.pop(_PENDING, [])
    return events


def deliver(events: Iterable[Event], handlers: Iterable[EventHandler]) -> None:
    """Call each handler for its events. A handler's error is logged, never raised."""
    handler_list = list(handlers)
    for event in events:
        for handler in handler_list:
            if handler.event != event.kind:
                continue
            try:
                handler.handle(event)
            except Exception:
                log.exception("event handler %r failed on %s", handler.name, event.kind)
