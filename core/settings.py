"""Where Scholia keeps its data and how it reaches its database, read from the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PRIVATE_UMASK", "Settings", "private_folder"]

DEFAULT_DATA_DIR = Path("~/.local/share/scholia")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    """Folder for the SQLite database, the media store and the secret key."""
    database_url: str
    """SQLAlchemy URL; SQLite in ``data_dir`` unless ``SCHOLIA_DATABASE_URL`` names another."""
    secret_key: str = field(repr=False)
    """Signs CSRF tokens and media URLs; generated once per data directory."""
    session_max_age_s: int = 12 * 3600
    """How long a sign-in lasts without activity."""
    max_upload_bytes: int = 512 * 1024 * 1024
    """Largest single upload accepted."""
    trust_proxy: bool = False
    """Believe ``X-Forwarded-Proto`` and ``X-Forwarded-For`` (``SCHOLIA_TRUST_PROXY=1``): only
    behind a reverse proxy that sets them, since a client could send them itself."""
    sign_in_window_s: int = 15 * 60
    """Failed sign-ins are counted over this window (``SCHOLIA_SIGN_IN_WINDOW_S``)."""
    sign_in_account_limit: int = 5
    """Failures on one username within the window before it is locked until the window passes
    (``SCHOLIA_SIGN_IN_ACCOUNT_LIMIT``)."""
    sign_in_address_limit: int = 20
    """Failures from one client address within the window before it is locked
    (``SCHOLIA_SIGN_IN_ADDRESS_LIMIT``)."""
    max_json_bytes: int = 1024 * 1024
    """Largest JSON request body accepted (413 above it); uploads have ``max_upload_bytes``."""
    max_json_depth: int = 64
    """How deeply a JSON request body may nest (400 deeper): no request needs more."""

    @classmethod
    def from_env(cls, data_dir: Path | str | None = None) -> Settings:
        """Read ``SCHOLIA_DATA_DIR``, ``SCHOLIA_DATABASE_URL``, ``SCHOLIA_SECRET_KEY`` and the
        ``SCHOLIA_TRUST_PROXY`` and ``SCHOLIA_SIGN_IN_*`` settings above."""
        folder = Path(data_dir or os.environ.get("SCHOLIA_DATA_DIR") or DEFAULT_DATA_DIR)
        folder = folder.expanduser().resolve()
        private_folder(folder)
        url = os.environ.get("SCHOLIA_DATABASE_URL") or f"sqlite:///{folder / 'scholia.db'}"
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        secret = os.environ.get("SCHOLIA_SECRET_KEY") or _stored_secret(folder)
        return cls(
            data_dir=folder,
            database_url=url,
            secret_key=secret,
            trust_proxy=os.environ.get("SCHOLIA_TRUST_PROXY", "").lower() in ("1", "true", "yes"),
            sign_in_window_s=_int_env("SCHOLIA_SIGN_IN_WINDOW_S", cls.sign_in_window_s),
            sign_in_account_limit=_int_env(
                "SCHOLIA_SIGN_IN_ACCOUNT_LIMIT", cls.sign_in_account_limit
            ),
            sign_in_address_limit=_int_env(
                "SCHOLIA_SIGN_IN_ADDRESS_LIMIT", cls.sign_in_address_limit
            ),
        )

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"


def _int_env(name: str, default: int) -> int:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {text!r}") from None
    if number < 1:
        raise ValueError(f"{name} must be at least 1, not {number}")
    return number


PRIVATE_UMASK = 0o077
"""Files and folders Scholia creates are its own: the database, the secret key, the media."""


def private_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) readable by its owner only, and tighten it if it
    was made by an older version; a shared machine's other users cannot read the data."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        folder.chmod(0o700)


def _stored_secret(folder: Path) -> str:
    path = folder / "secret_key"
    if not path.exists():
        # O_EXCL with 0600: the key is never readable by others, not even for a moment.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
    path.chmod(0o600)
    return path.read_text().strip()
