"""Where Scholia keeps its data and how it reaches its database, read from the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings"]

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
    max_json_bytes: int = 1024 * 1024
    """Largest JSON request body accepted (413 above it); uploads have ``max_upload_bytes``."""
    max_json_depth: int = 64
    """How deeply a JSON request body may nest (400 deeper): no request needs more."""

    @classmethod
    def from_env(cls, data_dir: Path | str | None = None) -> Settings:
        """Read ``SCHOLIA_DATA_DIR``, ``SCHOLIA_DATABASE_URL`` and ``SCHOLIA_SECRET_KEY``."""
        folder = Path(data_dir or os.environ.get("SCHOLIA_DATA_DIR") or DEFAULT_DATA_DIR)
        folder = folder.expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
        url = os.environ.get("SCHOLIA_DATABASE_URL") or f"sqlite:///{folder / 'scholia.db'}"
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        secret = os.environ.get("SCHOLIA_SECRET_KEY") or _stored_secret(folder)
        return cls(data_dir=folder, database_url=url, secret_key=secret)

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"


def _stored_secret(folder: Path) -> str:
    path = folder / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
