"""Sign-in throttling: after too many refused passwords in a window, an account (the username
typed) or a client address is locked until the window has passed, even for the right password.

Each refused sign-in is a row (``SignInFailure``), so the count holds across server processes
and restarts. An attempt refused *because* of a lock is not recorded: the lock ends when the
window passes, however often a guesser keeps knocking. A successful sign-in forgets its
account's failures (not its address's: one valid account must not reset a guesser's address).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from .models import SignInFailure
from .models.types import utcnow
from .settings import Settings

__all__ = [
    "Limits",
    "Lockout",
    "forget_account",
    "lift",
    "lockout",
    "lockouts",
    "record_failure",
]

Kind = Literal["account", "address"]


@dataclass(frozen=True)
class Limits:
    window: timedelta
    account: int
    """Failures on one username within ``window`` that lock it."""
    address: int
    """Failures from one client address within ``window`` that lock it."""

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            window=timedelta(seconds=settings.sign_in_window_s),
            account=settings.sign_in_account_limit,
            address=settings.sign_in_address_limit,
        )


@dataclass(frozen=True)
class Lockout:
    kind: Kind
    key: str
    """The username (as counted: trimmed, lower case) or the client address."""
    failures: int
    """Failures within the window."""
    until: datetime

    def retry_after_s(self, now: datetime | None = None) -> int:
        return max(1, math.ceil((self.until - (now or utcnow())).total_seconds()))

    def wait_in_words(self, now: datetime | None = None) -> str:
        """ "14 minutes", "1 minute", "40 seconds": what a person reads on the page."""
        seconds = self.retry_after_s(now)
        if seconds < 60:
            return f"{seconds} second{'s' if seconds != 1 else ''}"
        minutes = math.ceil(seconds / 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"


def account_key(username: str) -> str:
    """Failures count per username as typed, trimmed and in lower case, whether or not such a
    user exists (so a lock says nothing about which usernames are real)."""
    return username.strip().lower()[:200]


def _column(kind: Kind) -> Mapped[str]:
    return col(SignInFailure.username) if kind == "account" else col(SignInFailure.address)


def _lock(
    session: Session, kind: Kind, key: str, limit: int, now: datetime, window: timedelta
) -> Lockout | None:
    column = _column(kind)
    recent = session.exec(
        select(SignInFailure.failed_at)
        .where(column == key, col(SignInFailure.failed_at) > now - window)
        .order_by(col(SignInFailure.failed_at).desc())
        .limit(limit)
    ).all()
    if len(recent) < limit:
        return None
    total = session.exec(
        select(func.count())
        .select_from(SignInFailure)
        .where(column == key, col(SignInFailure.failed_at) > now - window)
    ).one()
    # The lock lifts when the limit-th newest failure leaves the window.
    return Lockout(kind=kind, key=key, failures=total, until=recent[limit - 1] + window)


def lockout(
    session: Session, username: str, address: str, limits: Limits, now: datetime | None = None
) -> Lockout | None:
    """The lock that refuses this sign-in attempt, if any (the one that lasts longer)."""
    now = now or utcnow()
    found = [
        lock
        for lock in (
            _lock(session, "account", account_key(username), limits.account, now, limits.window),
            _lock(session, "address", address, limits.address, now, limits.window),
        )
        if lock is not None
    ]
    return max(found, key=lambda lock: lock.until) if found else None


def record_failure(
    session: Session, username: str, address: str, limits: Limits, now: datetime | None = None
) -> None:
    """Count a refused password; rows older than the window are no longer needed."""
    now = now or utcnow()
    session.execute(
        delete(SignInFailure).where(col(SignInFailure.failed_at) <= now - limits.window)
    )
    session.add(SignInFailure(username=account_key(username), address=address[:64], failed_at=now))


def forget_account(session: Session, username: str) -> None:
    """After a successful sign-in, that account's earlier failures no longer count."""
    session.execute(
        delete(SignInFailure).where(col(SignInFailure.username) == account_key(username))
    )


def lift(session: Session, kind: Kind, key: str) -> int:
    """An admin lifts a lock at once (someone locked themselves out); returns the failures
    forgotten."""
    result = session.execute(delete(SignInFailure).where(_column(kind) == key))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def lockouts(session: Session, limits: Limits, now: datetime | None = None) -> list[Lockout]:
    """Every account and address locked now, the longest-locked first: for admins."""
    now = now or utcnow()
    found: list[Lockout] = []
    kinds: tuple[tuple[Kind, int], ...] = (("account", limits.account), ("address", limits.address))
    for kind, limit in kinds:
        column = _column(kind)
        keys = session.exec(
            select(column)
            .where(col(SignInFailure.failed_at) > now - limits.window)
            .group_by(column)
            .having(func.count() >= limit)
        ).all()
        for key in keys:
            lock = _lock(session, kind, key, limit, now, limits.window)
            if lock is not None:
                found.append(lock)
    return sorted(found, key=lambda lock: (lock.until, lock.kind, lock.key), reverse=True)
