"""How fast a released version downloads as a zip: 10k media files of 12 KB each, streamed by
the server, before and after the stream was cut into ~1 MiB pieces.

    .venv/bin/python benchmarks/zip_download.py [--files 10000] [--size 12288] [--rounds 3]

A version folder is made in a temporary directory: ``manifest.json``, ``records.jsonl`` (one
line per file), ``checksums.sha256`` and ``media/`` with ``--files`` files of random bytes
(written just before, so they are in the page cache). A Litestar app in its own uvicorn process
(as ``scholia serve`` runs) answers ``GET /zip/before`` and ``GET /zip/after`` with a
``Stream`` of the folder zipped, the way ``server.downloads.download`` answers once a version
is released (its refusals and format step are not on the path measured):

* ``before``: the chunking as it was (a piece yielded after every file write and after every
  file's data descriptor, so about two small pieces per file, each one a hand-off of the sync
  iterator to the thread pool);
* ``after``: ``server.downloads.zip_chunks``.

With ``--app``, a third figure goes through the whole app: a data directory (as
``export_dataset.py`` builds it, with each item's stored file replaced by ``--size`` random
bytes) gets a released version built by ``datasets.build``, and ``scholia serve``'s app (the
same ``create_app``, in its own uvicorn process) answers ``GET
/api/v1/datasets/{id}/download`` for an admin's API token: auth, access guard, CSRF and input
limits middleware, the download's refusals, then ``zip_chunks``.

``curl`` downloads each (to ``/dev/null``, so the client costs little), alternating before and
after for ``--rounds`` rounds so both see the same load; the load average is printed with each
figure. Each zip is then downloaded once more to a file and read back by ``zipfile`` (CRC of
every member checked, names and bytes matched against the folder) so no figure is of a broken
zip.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from export_dataset import build, runtime_for
from litestar import Litestar, get
from litestar.response import Stream
from serving import served
from sqlmodel import select

ROOT = Path(__file__).resolve().parent.parent


def before_zip_chunks(folder: Path) -> Iterator[bytes]:
    """``zip_chunks`` as it was before issue 15 (kept here only to measure against)."""
    from scholia.server.downloads import COMPRESSED_SUFFIXES, READ_CHUNK

    parts: list[bytes] = []

    class Sink:
        def write(self, data: bytes) -> int:
            parts.append(bytes(data))
            return len(data)

        def flush(self) -> None:
            pass

    def take() -> bytes:
        data = b"".join(parts)
        parts.clear()
        return data

    with zipfile.ZipFile(Sink(), "w", strict_timestamps=False) as archive:  # type: ignore[arg-type]
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            info = zipfile.ZipInfo.from_file(path, path.relative_to(folder).as_posix())
            compressed = path.suffix.lower() in COMPRESSED_SUFFIXES
            info.compress_type = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
            with path.open("rb") as source, archive.open(info, "w") as target:
                while chunk := source.read(READ_CHUNK):
                    target.write(chunk)
                    if data := take():
                        yield data
            if data := take():
                yield data
    yield take()


def serve_app(data_dir: Path, port: int) -> None:
    """``scholia serve``'s app over ``data_dir``."""
    import uvicorn

    from scholia.server.app import create_app

    uvicorn.run(create_app(runtime_for(data_dir)), host="127.0.0.1", port=port, log_level="warning")


def make_app_data(data_dir: Path, files: int, size: int) -> tuple[int, str]:
    """A released version of ``files`` items whose files are ``size`` random bytes each;
    returns (version id, an admin's API token)."""
    from scholia.core import datasets, identity
    from scholia.core.models import Item, User

    project_id, admin_id = build(data_dir, files)
    runtime = runtime_for(data_dir)
    with runtime.reading() as session:
        hashes = session.exec(select(Item.content_hash).where(Item.project_id == project_id)).all()
    for content_hash in hashes:  # the benchmark's items link to 16 tiny PNGs: make them real
        target = runtime.store.path(content_hash)
        target.unlink()
        target.write_bytes(os.urandom(size))
    with runtime.session() as session:
        version = datasets.create(session, project_id, datasets.Selection(), actor_id=admin_id)
        version_id = version.id
        admin = session.get(User, admin_id)
        token = identity.create_api_token(session, admin, "zip benchmark")[1]
    built = datasets.build(runtime, version_id)
    assert built.status == "released", built.status
    runtime.close()
    return version_id, token


def serve(folder: Path, port: int) -> None:
    import uvicorn

    from scholia.server.downloads import zip_chunks

    chunkers = {"before": before_zip_chunks, "after": zip_chunks}

    @get("/zip/{which:str}")
    async def download(which: str) -> Stream:
        return Stream(chunkers[which](folder), media_type="application/zip")

    @get("/healthz")
    async def healthz() -> str:
        return "ok"

    app = Litestar([download, healthz])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def make_folder(folder: Path, files: int, size: int) -> int:
    """The version folder; returns its total size in bytes."""
    media = folder / "media"
    media.mkdir(parents=True)
    sums, records = [], []
    for i in range(files):
        data = os.urandom(size)
        name = f"media/{i:06d}.jpg"
        (folder / name).write_bytes(data)
        sums.append(f"{hashlib.sha256(data).hexdigest()}  {name}")
        records.append(json.dumps({"item": i, "media": [name], "labels": [{"category": "cat"}]}))
    (folder / "records.jsonl").write_text("\n".join(records) + "\n")
    (folder / "checksums.sha256").write_text("\n".join(sums) + "\n")
    (folder / "manifest.json").write_text(json.dumps({"files": files, "content_hash": "bench"}))
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def fetch(url: str, out: str = "/dev/null", token: str = "") -> tuple[int, float]:
    """(bytes, seconds) of one download by curl (with a bearer token, if given)."""
    auth = ["-H", f"Authorization: Bearer {token}"] if token else []
    done = subprocess.run(
        ["curl", "-sS", "-f", *auth, "-o", out, "-w", "%{size_download} %{time_total}", url],
        check=True,
        capture_output=True,
        text=True,
    )
    size, seconds = done.stdout.split()
    return int(size), float(seconds)


def check(zip_path: Path, folder: Path) -> None:
    """The zip holds every file of the folder, byte for byte, and its checksums match."""
    with zipfile.ZipFile(zip_path) as archive:
        assert archive.testzip() is None
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        assert sorted(archive.namelist()) == files
        for line in archive.read("checksums.sha256").decode().splitlines():
            digest, name = line.split("  ", 1)
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=12 * 1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--app", action="store_true", help="also through the whole app")
    parser.add_argument("--serve", nargs=2, metavar=("FOLDER", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--serve-app", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(Path(args.serve[0]), int(args.serve[1]))
    if args.serve_app:
        return serve_app(Path(args.serve_app[0]), int(args.serve_app[1]))
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, {platform.platform()}")
    with tempfile.TemporaryDirectory(prefix="scholia-zip-") as tmp:
        folder = Path(tmp) / "v1"
        total = make_folder(folder, args.files, args.size)
        print(f"{args.files} files of {args.size} bytes, {total / 1e6:.1f} MB in the folder")
        env: dict[str, Any] = {**os.environ}
        with served([__file__, "--serve", str(folder)], env=env) as base:
            rows = []
            for round_ in range(1, args.rounds + 1):
                for which in ("before", "after"):
                    load = os.getloadavg()[0]
                    size, seconds = fetch(f"{base}/zip/{which}")
                    rows.append((round_, which, size, seconds, load))
                    print(
                        f"round {round_} {which:6}: {size / 1e6:.1f} MB in {seconds:.2f} s = "
                        f"{size / 1e6 / seconds:.1f} MB/s (load {load:.2f})",
                        flush=True,
                    )
            for which in ("before", "after"):
                out = Path(tmp) / f"{which}.zip"
                fetch(f"{base}/zip/{which}", str(out))
                check(out, folder)
                print(f"{which}: the zip reads back, every checksum matches")
        if args.app:
            data_dir = Path(tmp) / "data"
            os.environ["SCHOLIA_DATABASE_URL"] = ""  # SQLite in the data directory
            version_id, token = make_app_data(data_dir, args.files, args.size)
            url = f"/api/v1/datasets/{version_id}/download"
            with served([__file__, "--serve-app", str(data_dir)], env={**os.environ}) as base:
                fetch(f"{base}{url}", token=token)  # the version's files into the page cache
                for round_ in range(1, args.rounds + 1):
                    load = os.getloadavg()[0]
                    size, seconds = fetch(f"{base}{url}", token=token)
                    rows.append((round_, "whole app", size, seconds, load))
                    print(
                        f"round {round_} whole app: {size / 1e6:.1f} MB in {seconds:.2f} s = "
                        f"{size / 1e6 / seconds:.1f} MB/s (load {load:.2f})",
                        flush=True,
                    )
                out = Path(tmp) / "app.zip"
                fetch(f"{base}{url}", str(out), token=token)
            with zipfile.ZipFile(out) as archive:  # every member's CRC, and every item's file
                assert archive.testzip() is None
                media = [n for n in archive.namelist() if n.startswith("media/")]
                assert len(media) == args.files, len(media)
            print("whole app: the zip reads back, every member's CRC matches")
    print("\n| Round | Chunking | MB | seconds | MB/s | load (1 min) |")
    print("|---|---|---:|---:|---:|---:|")
    for round_, which, size, seconds, load in rows:
        print(
            f"| {round_} | {which} | {size / 1e6:.1f} | {seconds:.2f} | "
            f"{size / 1e6 / seconds:.1f} | {load:.2f} |"
        )


if __name__ == "__main__":
    main()
