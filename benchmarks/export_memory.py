"""Does the server keep memory after exports? Ten rounds of building a version and downloading
it (as is and as COCO) against one server process, its resident memory printed after each.

    .venv/bin/python benchmarks/export_memory.py [--items 10000] [--rounds 10] [--trace]

The data is ``export_dataset.py``'s: a fresh SQLite data directory (Alembic-migrated) with one
image project, classification, ``--items`` approved, reviewed items. The app then runs as
``scholia serve`` runs it (uvicorn, its own process, two malloc arenas: ``server/heap.py``)
with two extra paths for the benchmark:
``/__bench/rss`` answers the process's ``VmRSS`` (after a ``gc.collect()``), and, with
``--trace``, ``/__bench/grown`` answers the 12 source lines whose allocations grew most since
the previous call (``tracemalloc``, 25 frames; slower, so its RSS figures are not the ones to
quote).

Each round, through the API with an admin's token: create a version (``POST
/projects/{id}/datasets``), poll until it is released, download its zip and its COCO zip
(streamed, bytes counted and thrown away), then read the RSS. With ``--env NAME=VALUE`` a
second server runs with that setting (e.g. ``MALLOC_ARENA_MAX=16``, glibc's default on 2 cores,
as before ``server/heap.py``), its rounds alternating with the first's so both see the same
load.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import platform
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
from export_dataset import build, runtime_for
from serving import served

SNAPSHOT: list[Any] = []


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def grown() -> str:
    """The lines whose allocations grew most since the last call (the first call says all)."""
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    previous = SNAPSHOT[0] if SNAPSHOT else None
    SNAPSHOT[:] = [snapshot]
    if previous is None:
        return "first snapshot"
    lines = []
    for stat in snapshot.compare_to(previous, "traceback")[:12]:
        lines.append(f"{stat.size_diff / 1024:+.0f} KiB in {stat.count_diff:+d} blocks")
        lines.extend(f"    {frame}" for frame in stat.traceback.format()[-12:])
    return "\n".join(lines)


def detail(app: Any) -> str:
    """Where the memory is: Python's blocks, SQLAlchemy's statement cache, and the RSS once
    glibc has handed freed heap back (``malloc_trim``)."""
    import ctypes
    import sys

    gc.collect()
    engine = app.state["runtime"].engine
    cache = engine._compiled_cache
    before = rss_mib()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return (
        f"blocks {sys.getallocatedblocks()}, statement cache {len(cache) if cache else 0}, "
        f"pool {engine.pool.status()}, threads {threading.active_count()}, "
        f"RSS {before:.1f} -> {rss_mib():.1f} MiB after malloc_trim"
    )


def bench_app(app: Any) -> Any:
    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/__bench/"):
            if scope["path"] == "/__bench/rss":
                gc.collect()
                body = f"{rss_mib():.1f}".encode()
            elif scope["path"] == "/__bench/detail":
                body = detail(app).encode()
            else:
                body = grown().encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            return await send({"type": "http.response.body", "body": body})
        return await app(scope, receive, send)

    return wrapper


def serve(data_dir: Path, port: int) -> None:
    import uvicorn

    from scholia.server.app import create_app
    from scholia.server.heap import limit_arenas

    limit_arenas()  # as ``scholia serve`` does (unless MALLOC_ARENA_MAX is set)
    app = create_app(runtime_for(data_dir))
    if os.environ.get("BENCH_TRACE"):  # after start-up, which it would slow past the wait
        tracemalloc.start(25)
    uvicorn.run(bench_app(app), host="127.0.0.1", port=port, log_level="warning")


def admin_token(data_dir: Path) -> str:
    from sqlmodel import select

    from scholia.core import identity
    from scholia.core.models import User

    runtime = runtime_for(data_dir)
    with runtime.session() as session:
        admin = session.exec(select(User).where(User.username == "bench-admin")).one()
        token: str = identity.create_api_token(session, admin, "bench")[1]
    runtime.close()
    return token


def one_round(client: httpx.Client, project_id: int) -> tuple[float, int]:
    """Build a version and download it twice; (seconds, bytes downloaded)."""
    started = time.perf_counter()
    created = client.post(f"/api/v1/projects/{project_id}/datasets", json={"selection": {}})
    assert created.status_code == 202, created.text
    url = created.json()["url"]
    while (version := client.get(url).json())["status"] == "building":
        time.sleep(0.2)
    assert version["status"] == "released", version
    size = 0
    for query in ("", "?format=coco"):
        with client.stream("GET", f"{version['download_url']}{query}") as response:
            assert response.status_code == 200, response.read()
            size += sum(len(piece) for piece in response.iter_raw(1 << 20))
    return time.perf_counter() - started, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--trace", action="store_true", help="tracemalloc: what grew per round")
    parser.add_argument(
        "--detail", action="store_true", help="also blocks, statement cache, RSS after malloc_trim"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="also a server with this environment setting, its rounds alternating with the "
        "plain one's (MALLOC_ARENA_MAX=16 is glibc's default on 2 cores, before server/heap.py)",
    )
    parser.add_argument("--serve", nargs=2, metavar=("DATA_DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(Path(args.serve[0]), int(args.serve[1]))
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, {platform.platform()}")
    with tempfile.TemporaryDirectory(prefix="scholia-memory-") as folder:
        data_dir = Path(folder) / "data"
        env = {**os.environ, "SCHOLIA_DATABASE_URL": ""}
        os.environ.update(env)
        project_id, _ = build(data_dir, args.items)
        token = admin_token(data_dir)
        if args.trace:
            env["BENCH_TRACE"] = "1"
        variants = [("scholia serve", env)] + [
            (setting, {**env, setting.split("=", 1)[0]: setting.split("=", 1)[1]})
            for setting in args.env
        ]
        with contextlib.ExitStack() as stack:
            clients = []
            for title, variant_env in variants:
                base = stack.enter_context(
                    served([__file__, "--serve", str(data_dir)], env=variant_env)
                )
                headers = {"Authorization": f"Bearer {token}"}
                client = httpx.Client(base_url=base, headers=headers, timeout=600)
                stack.enter_context(client)
                clients.append((title, client))
                print(f"{title}: RSS after start {client.get('/__bench/rss').text} MiB")
                if args.trace:
                    client.get("/__bench/grown")
            for round_ in range(1, args.rounds + 1):
                for title, client in clients:
                    seconds, size = one_round(client, project_id)
                    rss = client.get("/__bench/rss").text
                    print(
                        f"round {round_:2} {title}: {seconds:5.1f} s, {size / 1e6:6.1f} MB "
                        f"downloaded, RSS {rss} MiB (load {os.getloadavg()[0]:.2f})",
                        flush=True,
                    )
                    if args.trace:
                        print(client.get("/__bench/grown").text, flush=True)
                    if args.detail:
                        print(f"    {client.get('/__bench/detail').text}", flush=True)

if __name__ == "__main__":
    main()
