"""The data directory is its owner's alone: the SQLite database (and its -wal/-shm), the secret
key and the media are 0600, the folders 0700, so other users of a shared machine read none."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from scholia.core.runtime import Runtime
from scholia.core.settings import Settings

from .conftest import png_bytes


def _loose(folder: Path) -> list[str]:
    """Everything under ``folder`` (and itself) that its group or others may read."""
    found = []
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(folder.parent)} {oct(mode)}")
    return found


@pytest.fixture
def sqlite_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings from the environment, as ``scholia serve`` reads them: SQLite in the folder."""
    for name in ("SCHOLIA_DATABASE_URL", "SCHOLIA_SECRET_KEY", "SCHOLIA_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    os.umask(0o022)  # a usual login umask, whatever an earlier test left


def test_a_new_data_directory_is_readable_by_its_owner_only(
    tmp_path: Path, sqlite_env: None
) -> None:
    folder = tmp_path / "scholia-data"
    runtime = Runtime.open(Settings.from_env(folder))
    try:
        runtime.store.put_bytes(png_bytes())
        with runtime.session() as session:
            session.execute(text("SELECT 1"))
        assert (folder / "scholia.db-wal").exists()
        assert (folder / "secret_key").exists()
        assert list((folder / "media").rglob("*.*")) == [] and any((folder / "media").rglob("*"))
        assert _loose(folder) == []
    finally:
        runtime.close()


def test_an_older_world_readable_data_directory_is_tightened(
    tmp_path: Path, sqlite_env: None
) -> None:
    folder = tmp_path / "old-data"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    database = folder / "scholia.db"
    database.touch()
    database.chmod(0o644)
    secret = folder / "secret_key"
    secret.write_text("an old key, world-readable by mistake")
    secret.chmod(0o644)
    runtime = Runtime.open(Settings.from_env(folder))
    try:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE(database.stat().st_mode) == 0o600
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        assert _loose(folder) == []
    finally:
        runtime.close()
