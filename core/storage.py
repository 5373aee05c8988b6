"""The media store: files kept once, named by their sha256, in the data directory."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

__all__ = ["MediaStore"]

CHUNK = 1024 * 1024


class MediaStore:
    """Content-addressed files: ``put`` returns the sha256; the same bytes are stored once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def put(self, source: BinaryIO) -> tuple[str, int]:
        """Copy ``source`` into the store; returns (sha256, size). Written atomically via rename."""
        digest = hashlib.sha256()
        size = 0
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".incoming-", delete=False) as tmp:
            try:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    tmp.write(chunk)
                    size += len(chunk)
                tmp.flush()
                os.fsync(tmp.fileno())
            except BaseException:
                os.unlink(tmp.name)
                raise
        sha256 = digest.hexdigest()
        target = self.path(sha256)
        if target.exists():
            os.unlink(tmp.name)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp.name, target)
        return sha256, size

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        return self.put(io.BytesIO(data))
