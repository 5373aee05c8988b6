"""What every background job of the core shares: its row's status, stalls and resumes.

A job's row (``SuggestionJob``, ``Expansion``) has ``status`` (``JobStatus``), ``error``,
``created_at``, ``progress_at`` and ``finished_at``. The process running it writes its progress
on the row, so the pages poll it whichever process runs it; a job whose progress stopped moving
was left by a crash, and is resumed like a cancelled or failed one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import and_, func, or_, update
from sqlmodel import Session, col

from .errors import Conflict
from .models import JobStatus
from .models.types import utcnow
from .runtime import Runtime

__all__ = ["STALLED_AFTER", "claim_again", "finish", "stalled"]

STALLED_AFTER = timedelta(minutes=5)
"""A running job whose progress has not moved for this long was left by a crash. A batch of a
remote backend can take a while (its timeout per request, several requests per batch), so
the margin is wide."""


class JobRow(Protocol):
    id: int | None
    status: str
    created_at: Any
    progress_at: Any


def stalled(job: JobRow) -> bool:
    last = job.progress_at or job.created_at
    return job.status == JobStatus.running and utcnow() - last > STALLED_AFTER


def claim_again(session: Session, job: JobRow, what: str, **reset: Any) -> None:
    """Mark a cancelled, failed or stalled job running again, in one conditional UPDATE (of
    two resumes at once, one wins), with the columns in ``reset`` set too; the caller then
    runs it. ``what`` names the job in the refusal ("Job 3", "The expansion of clip.mp4")."""
    table: Any = type(job)
    moved = func.coalesce(col(table.progress_at), col(table.created_at))
    claimed = (
        session.connection()
        .execute(
            update(table)
            .where(
                col(table.id) == job.id,
                or_(
                    col(table.status).in_([JobStatus.cancelled, JobStatus.failed]),
                    and_(col(table.status) == JobStatus.running, moved < utcnow() - STALLED_AFTER),
                ),
            )
            .values(
                status=JobStatus.running,
                error=None,
                progress_at=utcnow(),
                finished_at=None,
                **reset,
            )
        )
        .rowcount
    )
    if claimed != 1:
        raise Conflict(
            f"{what} is {job.status}"
            + (" and still moving" if job.status == JobStatus.running else "")
            + "; only a cancelled, failed or stalled job can be run again."
        )
    session.refresh(job)


def finish(
    runtime: Runtime, table: Any, job_id: int, status: JobStatus, error: str | None = None
) -> None:
    """End a running job (a cancelled one stays cancelled)."""
    with runtime.session() as session:
        session.connection().execute(
            update(table)
            .where(col(table.id) == job_id, col(table.status) == JobStatus.running)
            .values(status=status, error=error, finished_at=utcnow(), progress_at=utcnow())
        )
