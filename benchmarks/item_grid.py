"""Item grid at N items: first and last page of the grid (HTML) and of the API list, with and
without a category filter, and the counts endpoint, timed through the real app.

    .venv/bin/python benchmarks/item_grid.py --items 100000 [--requests 30] [--append]

Builds a fresh SQLite database in a temporary folder, migrated by Alembic like production,
with one image project of N items. Rows are bulk-inserted with SQLAlchemy core (ingesting
100k images one by one is the import benchmark's job, not this one's):

* every item has its own ``content_hash`` (the sha256 of ``"bench-item-<n>"``) and its own
  ``blob`` row, and every blob path in the media store is a symbolic link to ONE real tiny PNG,
  so the data is shaped like the real thing while the hashes do not match the bytes;
* about 2/3 of the items are past labeling (labeled, approved, needs_review, rejected,
  skipped), 1/3 unlabeled or in progress; every labeled item has ``item_category`` rows
  (1 category, every 7th item 2), inserted directly: there are no annotation rows, which the
  grid and the counters never read.

Requests go through Litestar's TestClient (in process: ASGI, middleware, auth by API token,
guards, the handler's database work, template rendering), after 3 warm-up requests each.
Prints median and p95 in milliseconds; ``--append`` adds them to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from litestar.testing import TestClient
from PIL import Image
from sqlalchemy import insert, text

from scholia.core import identity, labels, projects
from scholia.core.models import Blob, Item, ItemCategory
from scholia.core.plugins import load_plugins
from scholia.core.runtime import Runtime
from scholia.core.settings import Settings
from scholia.server.app import DEFAULT_PLUGINS, create_app

CATEGORIES = ("cat", "dog", "bird", "fish", "horse")
# Per 12 items: 4 unlabeled / in progress, 8 past labeling.
STATES = [
    "unlabeled",
    "unlabeled",
    "unlabeled",
    "in_progress",
    "labeled",
    "labeled",
    "labeled",
    "approved",
    "approved",
    "needs_review",
    "rejected",
    "skipped",
]
CHUNK = 20_000


def build(runtime: Runtime, n: int) -> tuple[int, str, dict[str, int]]:
    """The project with ``n`` items; returns (project id, an API token, category ids)."""
    with runtime.session() as session:
        admin = identity.create_user(
            session, username="bench", password="bench password 123", roles=("admin",)
        )
        assert admin.id is not None
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=admin.id,
            name="Grid benchmark",
            modality="image",
            annotation_types=["classification"],
            categories=CATEGORIES,
        )
        assert project.id is not None
        project_id = project.id
        _, token = identity.create_api_token(session, admin, "bench")
        category_ids = {c.name: c.id for c in labels.live_categories(session, project_id)}
    png = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 140, 160)).save(png, format="PNG")
    real, size = runtime.store.put_bytes(png.getvalue())
    source = runtime.store.path(real)
    now = datetime.now(UTC)
    ids = list(category_ids.values())
    with runtime.engine.begin() as connection:
        for start in range(1, n + 1, CHUNK):
            numbers = range(start, min(start + CHUNK, n + 1))
            hashes = {i: hashlib.sha256(f"bench-item-{i}".encode()).hexdigest() for i in numbers}
            connection.execute(
                insert(Blob),
                [
                    {"sha256": h, "size": size, "media_type": "image/png", "created_at": now}
                    for h in hashes.values()
                ],
            )
            item_rows: list[dict[str, Any]] = []
            category_rows: list[dict[str, Any]] = []
            for i in numbers:
                status = STATES[i % len(STATES)]
                item_rows.append(
                    {
                        "id": i,
                        "project_id": project_id,
                        "content_hash": hashes[i],
                        "name": f"img_{i:06}.png",
                        "media_type": "image/png",
                        "meta": {"size": size, "width": 32, "height": 24},
                        "provenance": {},
                        "status": status,
                        "is_gold": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                if status not in ("unlabeled", "in_progress", "skipped"):
                    used = {ids[i % len(ids)]}
                    if i % 7 == 0:
                        used.add(ids[(i + 2) % len(ids)])
                    category_rows += [
                        {"item_id": i, "category_id": c, "project_id": project_id} for c in used
                    ]
            connection.execute(insert(Item), item_rows)
            connection.execute(insert(ItemCategory), category_rows)
            for h in hashes.values():
                target = runtime.store.path(h)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(source, target)
        connection.execute(text("ANALYZE"))
    return project_id, token, category_ids


def timed(client: TestClient[Any], url: str, requests: int) -> dict[str, float]:
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    return {"median": statistics.median(times), "p95": p95, "bytes": len(response.content)}


def plans(runtime: Runtime, project_id: int, category_id: int) -> list[str]:
    """SQLite's plan for the grid's queries at this size (evidence they read an index)."""
    from sqlalchemy import event

    from scholia.core import items

    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    queries: list[tuple[str, str, Any]] = []
    event.listen(runtime.engine, "before_cursor_execute", record)
    try:
        with runtime.session() as session:
            for kwargs in (
                {},
                {"last": True},
                {"category_id": category_id, "last": True},
                {"group": "in_review", "last": True},
            ):
                seen.clear()
                items.list_items(session, project_id, limit=49, **kwargs)  # type: ignore[arg-type]
                label = ", ".join(f"{k}={v}" for k, v in kwargs.items()) or "no filter"
                queries += [(label, *q) for q in seen if q[0].lstrip().startswith("SELECT")]
    finally:
        event.remove(runtime.engine, "before_cursor_execute", record)
    found: list[str] = []
    with runtime.engine.connect() as connection:
        for label, statement, params in queries:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            found.append(f"{label}: " + "; ".join(row[-1] for row in rows))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--append", action="store_true", help="append to benchmarks/RESULTS.md")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="scholia-grid-") as folder:
        data = Path(folder) / "data"
        data.mkdir()
        settings = Settings(
            data_dir=data,
            database_url=f"sqlite:///{folder}/bench.db",
            secret_key="bench-secret-" + "x" * 32,
        )
        plugins = load_plugins(default_plugins=DEFAULT_PLUGINS, select={"scholia-image"})
        runtime = Runtime.open(settings, plugins=plugins)
        started = time.perf_counter()
        project_id, token, cats = build(runtime, args.items)
        build_s = time.perf_counter() - started
        with runtime.engine.connect() as connection:
            n_items = connection.execute(text("SELECT count(*) FROM item")).scalar_one()
            n_cats = connection.execute(text("SELECT count(*) FROM item_category")).scalar_one()
        print(
            f"built {n_items} items ({n_cats} item_category rows) in {build_s:.1f} s; "
            "distinct content_hash per item, all blobs symbolic links to one real 32x24 PNG",
            flush=True,
        )
        dog = cats["dog"]
        for line in plans(runtime, project_id, dog):
            print("plan:", line)
        app = create_app(runtime)
        p = f"/projects/{project_id}"
        a = f"/api/v1/projects/{project_id}"
        cases = [
            ("Grid page (HTML), first page", p),
            ("Grid page (HTML), last page", f"{p}?last=1"),
            ("Grid page (HTML), category filter, first page", f"{p}?category={dog}"),
            ("Grid page (HTML), category filter, last page", f"{p}?category={dog}&last=1"),
            (
                "Grid page (HTML), In review + category, last page",
                f"{p}?group=in_review&category={dog}&last=1",
            ),
            ("Review page (HTML), first page", f"{p}/review"),
            ("API items, first page (limit 50)", f"{a}/items"),
            ("API items, last page", f"{a}/items?last=true"),
            ("API items, category filter, first page", f"{a}/items?category={dog}"),
            ("API items, category filter, last page", f"{a}/items?category={dog}&last=true"),
            ("API items, group=done, last page", f"{a}/items?group=done&last=true"),
            ("API counts", f"{a}/counts"),
        ]
        rows = []
        load_before = os.getloadavg()[0]
        with TestClient(app) as client:
            client.headers["Authorization"] = f"Bearer {token}"
            for title, url in cases:
                result = timed(client, url, args.requests)
                rows.append((title, url, result))
                print(
                    f"{title:55} median {result['median']:7.1f} ms   p95 {result['p95']:7.1f} ms"
                    f"   ({result['bytes'] / 1024:.0f} KiB)",
                    flush=True,
                )
        runtime.close()
        args.load = (load_before, os.getloadavg()[0])
        print(f"load average (1 min) before / after: {args.load[0]:.1f} / {args.load[1]:.1f}")

    if args.append:
        append(args, n_items, n_cats, build_s, rows)


def append(
    args: argparse.Namespace,
    n_items: int,
    n_cats: int,
    build_s: float,
    rows: list[tuple[str, str, dict[str, float]]],
) -> None:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lines = [
        "",
        "## Item grid at 100k items (issue 3)",
        "",
        f"Command: `.venv/bin/python benchmarks/item_grid.py --items {args.items} "
        f"--requests {args.requests}`",
        "",
        f"Data: {n_items:,} items in one image project (fresh SQLite file, Alembic-migrated, "
        f"ANALYZEd), {n_cats:,} item_category rows over 5 categories; 2/3 of the items past "
        "labeling. Rows bulk-inserted with SQLAlchemy core: each item has a distinct "
        "content_hash and blob row, all blob files symbolic links to one real 32x24 PNG (hashes "
        f"do not match the bytes); no annotation rows (the grid and counters never read "
        f"them). Build: {build_s:.0f} s.",
        "",
        f"Machine: {os.cpu_count()} cores, {memory:.0f} GiB, Python "
        f"{platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}, "
        f"{platform.system()}. Requests through Litestar's TestClient in process (ASGI, auth "
        f"by API token, guards, database, templates), 3 warm-ups then {args.requests} timed "
        "requests each, one at a time. Page size 48 (HTML), 50 (API).",
        "",
        f"Load average (1 min) before / after the timed requests: {args.load[0]:.1f} / "
        f"{args.load[1]:.1f} (other work ran on the machine; figures include that noise).",
        "",
        "| Request | median ms | p95 ms |",
        "|---|---:|---:|",
        *(f"| {title} | {r['median']:.1f} | {r['p95']:.1f} |" for title, _, r in rows),
        "",
        "Keyset pagination: the last page is read backwards from the end of the index "
        "(descending id), so it costs what the first does; the counts are exact COUNTs "
        "(GROUP BY status over the (project_id, status, id) index, GROUP BY category over "
        "item_category), not cached.",
        "",
    ]
    results = Path(__file__).with_name("RESULTS.md")
    with results.open("a") as out:
        out.write("\n".join(lines))
    print(f"appended to {results}", file=sys.stderr)


if __name__ == "__main__":
    main()
