"""Follow-up work: what a unit of work leaves to run after it has committed, outside it.

Some consequences of a change need not hold up the person who made it, and must not show in
how long they waited: after a gold answer, the check of the annotator's rolling accuracy
(which reads their recent answers and may suspend them) would make a gold submission slower
than any other, telling the annotator which items are gold. Such work is queued on the
session; ``Runtime.session`` runs it after the commit, each piece in its own unit of work (the
server, once the response is sent).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

__all__ = ["FollowUp", "defer", "pending"]

FollowUp = Callable[[Session], None]
_PENDING = "scholia.followups"


def defer(session: Session, work: FollowUp) -> None:
    """Run ``work`` in a unit of work of its own once this one has committed (never if it
    rolls back)."""
    session.info.setdefault(_PENDING, []).append(work)


def pending(session: Session) -> list[FollowUp]:
    """Take the queued follow-ups off the session."""
    work: list[FollowUp] = session.info.pop(_PENDING, [])
    return work
