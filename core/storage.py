"""The media store: files kept once, named by their sha256, in the data directory."""

from __future__ import annotations

import errno
import filecmp
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

__all__ = ["MediaStore", "Placer", "Staged", "place"]

CHUNK = 1024 * 1024


FULL_DISK = (errno.ENOSPC, errno.EDQUOT)
"""The errors that mean the disk (or the user's quota) is full, and nothing else does."""


def place(source: Path | str, target: Path | str) -> None:
    """Put a stored file at ``target`` in an export: a hard link where the filesystem allows,
    else a copy. Placing the same file at the same name again is a no-op (an item with several
    annotation types is one record per type); a different file already there is refused.

    The target's folder is made only when the link finds it missing: an export places tens of
    thousands of files in a few folders, and asking for the folder each time cost more than the
    link itself."""
    try:
        _link(source, target)
    except FileExistsError:
        if not filecmp.cmp(source, target, shallow=False):
            raise
    except OSError as error:
        if error.errno in FULL_DISK:
            raise
        shutil.copyfile(source, target)  # another filesystem, or one without hard links


def _link(source: Path | str, target: Path | str) -> None:
    try:
        os.link(source, target)
    except FileNotFoundError:
        if not os.path.exists(source):
            raise
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.link(source, target)


class Placer:
    """``place`` for many files, done on a worker thread in batches while the caller goes on.

    A link is a system call that releases the GIL: on a second core it runs beside the
    caller's Python work (an export writing its records) instead of after it. A file that
    cannot be placed fails the next ``place`` or the ``close``, with the error ``place``
    raises. Use it as a context manager; leaving by an exception still waits for the worker."""

    BATCH = 1024
    AHEAD = 4
    """Batches the caller may be ahead of the worker: memory stays flat when links are slow."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="place")
        self._batch: list[tuple[Path | str, Path | str]] = []
        self._pending: list[Future[None]] = []

    def place(self, source: Path | str, target: Path | str) -> None:
        self._batch.append((source, target))
        if len(self._batch) >= self.BATCH:
            self._submit()

    def _submit(self) -> None:
        if self._batch:
            self._pending.append(self._pool.submit(_place_all, self._batch))
            self._batch = []
        while self._pending and (self._pending[0].done() or len(self._pending) > self.AHEAD):
            self._pending.pop(0).result()  # raises the worker's error here; waits when far behind

    def close(self) -> None:
        """Place what is left and wait for all of it; raises the first error."""
        try:
            self._submit()
            for pending in self._pending:
                pending.result()
        finally:
            self._pending = []
            self._pool.shutdown(wait=True)

    def __enter__(self) -> Placer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abandon()

    def abandon(self) -> None:
        """Stop placing (the caller failed and throws the folder away); waits for the worker."""
        self._batch = []
        self._pending = []
        self._pool.shutdown(wait=True, cancel_futures=True)


def _place_all(pairs: list[tuple[Path | str, Path | str]]) -> None:
    for source, target in pairs:
        place(source, target)


@dataclass
class Staged:
    """Bytes received into the store's folder but not yet kept: their hash and size are known,
    so a caller can decide (is it new? is it readable?) before paying for ``fsync``."""

    path: Path
    sha256: str
    size: int
    kept: bool = False


class MediaStore:
    """Content-addressed files: ``put`` returns the sha256; the same bytes are stored once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # Readable by the owner only: media can be people's faces and voices.
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return Path(self.location(sha256))

    def location(self, sha256: str) -> str:
        """``path`` as a string: an export asks for every item's, and a ``Path`` costs more."""
        return f"{self.root}/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def has(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    @contextmanager
    def staging(self, source: BinaryIO) -> Iterator[Staged]:
        """Receive ``source`` once, hashing as it is written; the file is removed on exit
        unless ``keep`` moved it into the store."""
        digest = hashlib.sha256()
        size = 0
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".incoming-", delete=False) as tmp:
            staged = Staged(path=Path(tmp.name), sha256="", size=0)
            try:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    tmp.write(chunk)
                    size += len(chunk)
            except BaseException:
                os.unlink(tmp.name)
                raise
        staged.sha256, staged.size = digest.hexdigest(), size
        try:
            yield staged
        finally:
            if not staged.kept:
                staged.path.unlink(missing_ok=True)

    def keep(self, staged: Staged) -> None:
        """Make staged bytes durable under their hash (fsync, then an atomic rename)."""
        target = self.path(staged.sha256)
        if target.exists():
            staged.path.unlink(missing_ok=True)
        else:
            with staged.path.open("rb+") as file:
                os.fsync(file.fileno())
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(staged.path, 0o600)  # mkstemp's mode already; said here so it stays so
            os.replace(staged.path, target)
        staged.kept = True

    def put(self, source: BinaryIO) -> tuple[str, int]:
        """Copy ``source`` into the store; returns (sha256, size)."""
        with self.staging(source) as staged:
            self.keep(staged)
        return staged.sha256, staged.size

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        return self.put(io.BytesIO(data))
