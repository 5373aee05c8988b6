"""Errors the core raises, written as messages to a person.

Each error says what was wrong, where, and what to do. The server maps them to HTTP statuses
(see ``scholia.server.errors``); the CLI prints them. Nothing here knows about HTTP.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence

__all__ = [
    "Conflict",
    "DiskFull",
    "IllegalTransition",
    "InvalidInput",
    "ModelFailed",
    "NotFound",
    "PermissionDenied",
    "ScholiaError",
    "SignInFailed",
    "StorageFailed",
    "invalid_from_msgspec",
]


class ScholiaError(Exception):
    """Base class: ``message`` is shown to people as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ScholiaError):
    """The thing asked for does not exist (or is not visible to the asker)."""

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"No {kind} with id {key!r}.")
        self.kind = kind
        self.key = key


class InvalidInput(ScholiaError):
    """Input failed validation; ``path`` names the bad field, e.g. ``$.payload.value``."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message if path is None else f"{message} (at {path})")
        self.reason = message
        self.path = path


def invalid_from_msgspec(error: Exception, prefix: str) -> InvalidInput:
    """msgspec's "Expected `int`, got `str` - at `$.value`" as an error at ``prefix.value``."""
    message, _, path = str(error).partition(" - at `")
    return InvalidInput(message, prefix + path.rstrip("`").removeprefix("$"))


class Conflict(ScholiaError):
    """The request is valid but clashes with what is stored (a stale revision, a duplicate)."""


class StorageFailed(ScholiaError):
    """Writing files failed (a read-only folder, a name taken); what was half-written is gone."""

    @classmethod
    def of(cls, error: OSError, what: str) -> StorageFailed:
        """The error as a person should read it: only a full disk asks for space."""
        where = f" ({error.filename})" if error.filename else ""
        said = f"Could not write {what}: {error.strerror or error}{where}. Nothing of it was kept"
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return DiskFull(f"{said}; free some space, then try again.")
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return cls(f"{said}; make the folder writable for Scholia, then try again.")
        return cls(f"{said}.")


class DiskFull(StorageFailed):
    """Writing files failed because the disk (or the quota) is full."""


class IllegalTransition(Conflict):
    """An item cannot move from its current state to the one requested."""

    def __init__(self, item_id: int, current: str, requested: str, allowed: Sequence[str]) -> None:
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"Item {item_id} is '{current}' and cannot move to '{requested}'. "
            f"From '{current}' it can move to: {allowed_text}."
        )
        self.item_id = item_id
        self.current = current
        self.requested = requested
        self.allowed = list(allowed)


class ModelFailed(ScholiaError):
    """A model cannot be loaded or asked (missing or corrupt file, an input shape that does not
    match its registration, a service that does not answer, a schema it was not trained on)."""


class PermissionDenied(ScholiaError):
    """The signed-in user lacks the role this action needs."""


class SignInFailed(ScholiaError):
    """Wrong username or password; deliberately does not say which."""

    def __init__(self) -> None:
        super().__init__("Wrong username or password.")
