"""Who does the work: users with roles, their web sessions and their API tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow

__all__ = ["ApiToken", "Role", "SignInFailure", "User", "WebSession"]


class Role(StrEnum):
    """What a user may do. An admin has every role; a manager is also a reviewer and an
    annotator; an adjudicator is also a reviewer (see ``IMPLIED_ROLES``)."""

    annotator = "annotator"
    reviewer = "reviewer"
    adjudicator = "adjudicator"
    manager = "manager"
    admin = "admin"


IMPLIED_ROLES: dict[str, frozenset[str]] = {
    Role.admin: frozenset(Role),
    Role.manager: frozenset({Role.reviewer, Role.annotator}),
    Role.adjudicator: frozenset({Role.reviewer}),
}


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    display_name: str = Field(sa_column=Column(String(200), nullable=False))
    password_hash: str | None = Field(default=None, sa_column=Column(String(255)))
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    pseudonym: str = Field(sa_column=Column(String(32), unique=True, nullable=False))
    """The only identity exports carry, so datasets never name a person."""
    is_active: bool = True
    """False once an admin deactivates the account: it cannot sign in, and its sessions and
    tokens are refused; its past work keeps its name."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_sign_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When a browser session last started; None for accounts not signed in since 0015."""

    def has_role(self, role: Role) -> bool:
        return any(role == held or role in IMPLIED_ROLES.get(held, ()) for held in self.roles)


class WebSession(SQLModel, table=True):
    """A browser sign-in. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "web_session"

    token_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False, index=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ApiToken(SQLModel, table=True):
    """A token for scripts (``Authorization: Bearer …``). Only its hash is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False, index=True)
    )
    name: str = Field(sa_column=Column(String(200), nullable=False))
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    prefix: str = Field(sa_column=Column(String(16), nullable=False))
    """The first characters of the token, so a person can tell their tokens apart."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SignInFailure(SQLModel, table=True):
    """One refused password sign-in: the username typed (whether or not it exists) and the
    client address. Counted over a window to throttle guessing (see ``core/throttle.py``);
    kept in the database so the count holds across processes and restarts."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (
        Index("ix_sign_in_failure_username_failed_at", "username", "failed_at"),
        Index("ix_sign_in_failure_address_failed_at", "address", "failed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_column=Column(String(200), nullable=False))
    address: str = Field(sa_column=Column(String(64), nullable=False))
    failed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
