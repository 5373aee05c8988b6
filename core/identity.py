"""Users, password sign-in, web sessions and API tokens.

Passwords are hashed with Argon2 (argon2-cffi). Session cookies and API tokens are random
strings; only their sha256 is stored, so a copy of the database signs nobody in.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from . import audit, limits
from .errors import Conflict, InvalidInput, NotFound, SignInFailed
from .models import ApiToken, Role, User, WebSession
from .models.types import utcnow

__all__ = [
    "SessionLookup",
    "authenticate",
    "create_api_token",
    "create_user",
    "deactivate_user",
    "end_web_session",
    "generate_password",
    "get_user",
    "list_users",
    "reactivate_user",
    "resolve_api_token",
    "resolve_web_session",
    "revoke_api_token",
    "set_password",
    "start_web_session",
]

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "sch_"

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password; equalises timing for unknown users")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session,
    *,
    username: str,
    password: str | None,
    roles: Iterable[str],
    display_name: str | None = None,
    actor_id: int | None = None,
) -> User:
    """Create a user; ``password`` None makes an account that can only use API tokens."""
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput(
            "A username is 2-64 characters: letters, digits, '_', '.', '@' or '-'", "$.username"
        )
    if password is not None:
        _check_password(password)
    if display_name is not None:
        _check_display_name(display_name)
    role_list = sorted(set(roles))
    known = {r.value for r in Role}
    unknown = [r for r in role_list if r not in known]
    if unknown:
        raise InvalidInput(
            f"Unknown role {unknown[0]!r}; roles are {', '.join(sorted(known))}", "$.roles"
        )
    if session.exec(select(User).where(col(User.username) == username)).first() is not None:
        raise Conflict(f"A user named {username!r} already exists.")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=_hasher.hash(password) if password is not None else None,
        roles=role_list,
        pseudonym=f"ann-{secrets.token_hex(5)}",
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        entity="user",
        entity_id=user.id,
        action="create",
        data={"username": username, "roles": role_list},
    )
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The user with these credentials, or ``SignInFailed`` (which never says which was wrong)."""
    user = session.exec(select(User).where(col(User.username) == username)).first()
    if user is None or user.password_hash is None or not user.is_active:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        raise SignInFailed()
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise SignInFailed() from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.add(user)
    return user


def start_web_session(session: Session, user: User, max_age_s: int) -> str:
    """Open a browser session; returns the raw token for the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=_digest(token),
            user_id=user.id,  # type: ignore[arg-type]
            expires_at=utcnow() + timedelta(seconds=max_age_s),
        )
    )
    user.last_sign_in_at = utcnow()
    session.add(user)
    return token


@dataclass(frozen=True)
class SessionLookup:
    user: User | None
    expired: bool = False


def resolve_web_session(session: Session, token: str, max_age_s: int) -> SessionLookup:
    """The user behind a session cookie; an expired session is removed and reported as such.

    Activity slides the expiry forward, at most once a minute to keep reads cheap.
    """
    row = session.get(WebSession, _digest(token))
    if row is None:
        return SessionLookup(user=None)
    now = utcnow()
    if row.expires_at <= now:
        session.delete(row)
        return SessionLookup(user=None, expired=True)
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return SessionLookup(user=None)
    renewed = now + timedelta(seconds=max_age_s)
    if renewed - row.expires_at > timedelta(minutes=1):
        row.expires_at = renewed
        session.add(row)
    return SessionLookup(user=user)


def end_web_session(session: Session, token: str) -> None:
    row = session.get(WebSession, _digest(token))
    if row is not None:
        session.delete(row)


def create_api_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for scripts; the raw value is returned once and never stored."""
    name = name.strip()
    if not name:
        raise InvalidInput("Give the token a name, so you can tell it apart later", "$.name")
    limits.check(name, "$.name", limits.NAME_MAX)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,  # type: ignore[arg-type]
        name=name[:200],
        token_hash=_digest(raw),
        prefix=raw[: len(TOKEN_PREFIX) + 6],
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor_id=user.id,
        entity="api_token",
        entity_id=token.id,
        action="create",
        data={"name": token.name},
    )
    return token, raw


_TOKEN_USER = (
    select(ApiToken.id, ApiToken.revoked_at, ApiToken.last_used_at, User)
    .join(User, col(User.id) == col(ApiToken.user_id))
    .where(col(ApiToken.token_hash) == bindparam("token_hash"))
)
"""Built once: every request a script makes runs it (the token's columns, not an object)."""
_TOKEN_USED = (
    update(ApiToken)
    .where(col(ApiToken.id) == bindparam("token_id"))
    .values(last_used_at=bindparam("at"))
)


def resolve_api_token(session: Session, raw: str) -> User | None:
    found = session.exec(_TOKEN_USER, params={"token_hash": _digest(raw)}).first()
    if found is None:
        return None
    token_id, revoked_at, last_used_at, user = found
    if revoked_at is not None or not user.is_active:
        return None
    now = utcnow()
    if last_used_at is None or now - last_used_at > timedelta(minutes=1):
        session.connection().execute(_TOKEN_USED, {"token_id": token_id, "at": now})
    return user


def revoke_api_token(session: Session, user: User, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and not user.has_role(Role.admin)):
        raise NotFound("API token", token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        audit.record(
            session, actor_id=user.id, entity="api_token", entity_id=token_id, action="revoke"
        )
    return token


# --- user management (admins) ---------------------------------------------------------------

MAX_PASSWORD_LENGTH = 1024
"""Argon2 takes any length; a bound keeps one request from costing a lot of hashing."""


MAX_DISPLAY_NAME_LENGTH = 200
HIDDEN_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
"""Control characters (NUL among them) and bidi overrides: a name shown to others must read
as what it is."""


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters", "$.password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"A password has at most {MAX_PASSWORD_LENGTH} characters", "$.password")


def _check_display_name(display_name: str) -> None:
    if len(display_name) > MAX_DISPLAY_NAME_LENGTH:
        raise InvalidInput(
            f"A display name has at most {MAX_DISPLAY_NAME_LENGTH} characters", "$.display_name"
        )
    if HIDDEN_CHARACTERS.search(display_name):
        raise InvalidInput(
            "A display name cannot hold control characters or text-direction overrides",
            "$.display_name",
        )


def generate_password() -> str:
    """A password for an admin to hand over: 20 URL-safe characters (120 random bits)."""
    return secrets.token_urlsafe(15)


def list_users(session: Session) -> list[User]:
    """Every account, active or not, oldest first."""
    return list(session.exec(select(User).order_by(col(User.id))))


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def _end_web_sessions(session: Session, user_id: int) -> int:
    rows = list(session.exec(select(WebSession).where(col(WebSession.user_id) == user_id)))
    for row in rows:
        session.delete(row)
    return len(rows)


def _active_admins_locked(session: Session) -> list[User]:
    """The active admins, with every active account's row locked until the transaction ends.

    Two admins deactivating each other at the same moment would otherwise both see another
    admin left and leave none. On PostgreSQL the second waits for the first's row locks and
    then reads its change; SQLite runs one writer at a time anyway.
    """
    active = session.exec(
        select(User).where(col(User.is_active)).order_by(col(User.id)).with_for_update()
    )
    return [user for user in active if Role.admin in user.roles]


def deactivate_user(
    session: Session, user_id: int, *, actor_id: int | None, reason: str | None = None
) -> User:
    """Stop an account at once: it cannot sign in, its browser sessions end and its API tokens
    are revoked. Nothing it made is touched, so its work keeps its name (and pseudonym).

    An admin cannot deactivate themselves, and the last active admin stays, so there is
    always someone who can undo this.
    """
    if actor_id is not None and actor_id == user_id:
        raise Conflict(
            "You cannot deactivate your own account; another admin can, if it must be done."
        )
    admins = _active_admins_locked(session)
    user = get_user(session, user_id)
    session.refresh(user)
    if not user.is_active:
        return user
    if Role.admin in user.roles and not any(admin.id != user.id for admin in admins):
        raise Conflict(
            f"{user.username} is the last active admin; give another user the admin role "
            "before deactivating this one."
        )
    user.is_active = False
    session.add(user)
    ended = _end_web_sessions(session, user_id)
    revoked = 0
    now = utcnow()
    for token in session.exec(
        select(ApiToken).where(col(ApiToken.user_id) == user_id, col(ApiToken.revoked_at).is_(None))
    ):
        token.revoked_at = now
        session.add(token)
        revoked += 1
    audit.record(
        session,
        actor_id=actor_id,
        entity="user",
        entity_id=user_id,
        action="deactivate",
        reason=reason,
        data={"sessions_ended": ended, "tokens_revoked": revoked},
    )
    return user


def reactivate_user(session: Session, user_id: int, *, actor_id: int | None) -> User:
    """Let a deactivated account sign in again. Its old sessions and tokens stay ended: it
    signs in anew and makes new tokens."""
    user = get_user(session, user_id)
    if user.is_active:
        return user
    user.is_active = True
    session.add(user)
    audit.record(session, actor_id=actor_id, entity="user", entity_id=user_id, action="reactivate")
    return user


def set_password(
    session: Session, user_id: int, password: str, *, actor_id: int | None
) -> tuple[User, int]:
    """An admin sets a new password (typed or from ``generate_password``); every browser
    session of the account ends, so whoever knew the old one is signed out. API tokens are
    separate credentials and stay. Returns the user and how many sessions ended."""
    _check_password(password)
    user = get_user(session, user_id)
    user.password_hash = _hasher.hash(password)
    session.add(user)
    ended = _end_web_sessions(session, user_id)
    audit.record(
        session,
        actor_id=actor_id,
        entity="user",
        entity_id=user_id,
        action="set_password",
        data={"sessions_ended": ended},
    )
    return user, ended
