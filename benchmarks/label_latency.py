"""Server-side latency of submitting one label, with 1 and with 20 concurrent annotators.

    .venv/bin/python benchmarks/label_latency.py [--labels 400] [--one] [--append]
        [--postgres postgresql://user@127.0.0.1:5432/db]

Builds a fresh SQLite data directory (or, with ``--postgres``, a fresh database beside the one
the URL names, dropped afterwards), Alembic-migrated like production, with one image
project, classification (single-label, 5 categories), enough unlabeled items with one
assignment slot each, and 20 annotators with API tokens. Items are bulk-inserted with
SQLAlchemy core (a submit never reads the media; ingestion is the import benchmark's job).

The app then runs as it does in production, ``uvicorn`` in its own process, wrapped in a thin
ASGI timer that measures each ``POST /api/v1/items/{id}/annotations`` from the moment the
request reaches the app to the last byte of its response: routing, bearer-token auth, CSRF
middleware, guards, body decoding, the transaction (slot, validation, annotation row, item
state, item_category, audit event, commit) and JSON encoding. Uvicorn's own HTTP parsing and
the client's time are outside it; the client-observed round trip is printed beside it.

Each annotator loops as the labeling page does: claim the next item (``POST
/queue/next``, not timed), then submit one label for it (timed). Four runs (``--one``: the
first two):

* 1 annotator, back to back, without claims: each label posted straight to an item (as a
  client without the queue does; the submit claims the slot itself); the warm-up is done so
  too, before any claim (the queue serves items shuffled, and might serve these);
* 1 annotator, back to back;
* 20 annotators at once, each submitting as fast as the server answers (a stress test: far
  more than 20 people produce, since a person needs about a second per image);
* 20 annotators at once, each pausing 0.5 to 1.5 s (uniformly, seeded) after a submit and
  starting at a random moment in the first second: a fast human's pace with keyboard
  classification, about 20 labels a second for the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from serving import served
from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
TIMED_SUFFIX = "/annotations"
CATEGORIES = ("cat", "dog", "bird", "fish", "horse")
ANNOTATORS = 20


# --- the server process ----------------------------------------------------------------------


def timed_app(app: Any) -> Any:
    """The app, with server-side timings of label submissions kept in memory and served (then
    cleared) at ``GET /__bench/timings``."""
    timings: list[tuple[float, int]] = []

    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await app(scope, receive, send)
        if scope["path"] == "/__bench/timings":
            body = json.dumps(timings).encode()
            timings.clear()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            return await send({"type": "http.response.body", "body": body})
        if scope["method"] != "POST" or not scope["path"].endswith(TIMED_SUFFIX):
            return await app(scope, receive, send)
        started = time.perf_counter()
        status = 0

        async def send_timed(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                timings.append(((time.perf_counter() - started) * 1000, status))

        await app(scope, receive, send_timed)

    return wrapper


def serve(data_dir: Path, port: int) -> None:
    import uvicorn

    from scholia.core.runtime import Runtime
    from scholia.core.settings import Settings
    from scholia.server.app import DEFAULT_PLUGINS, create_app

    runtime = Runtime.open(Settings.from_env(data_dir), default_plugins=DEFAULT_PLUGINS)
    uvicorn.run(timed_app(create_app(runtime)), host="127.0.0.1", port=port, log_level="warning")


# --- the data --------------------------------------------------------------------------------


def build(data_dir: Path, items: int) -> tuple[int, list[str], list[int]]:
    """Project, items with one open slot each, 20 annotators; returns (project, tokens,
    category ids)."""
    from scholia.core import identity, labels, membership, projects
    from scholia.core.models import Assignment, Blob, Item
    from scholia.core.runtime import Runtime
    from scholia.core.settings import Settings
    from scholia.server.app import DEFAULT_PLUGINS

    runtime = Runtime.open(Settings.from_env(data_dir), default_plugins=DEFAULT_PLUGINS)
    tokens: list[str] = []
    with runtime.session() as session:
        admin = identity.create_user(
            session, username="bench-admin", password="bench password 123", roles=("admin",)
        )
        assert admin.id is not None
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=admin.id,
            name="Latency benchmark",
            modality="image",
            annotation_types=["classification"],
            categories=CATEGORIES,
        )
        assert project.id is not None
        project_id = project.id
        for n in range(ANNOTATORS):
            annotator = identity.create_user(
                session,
                username=f"annotator-{n:02}",
                password="bench password 123",
                roles=("annotator",),
            )
            assert annotator.id is not None
            membership.add_member(session, project_id, annotator.id, "annotator", admin.id)
            tokens.append(identity.create_api_token(session, annotator, "bench")[1])
        category_ids = [c.id for c in labels.live_categories(session, project_id)]
    now = datetime.now(UTC)
    hashes = [hashlib.sha256(f"latency-item-{i}".encode()).hexdigest() for i in range(items)]
    with runtime.engine.begin() as connection:
        connection.execute(
            insert(Blob),
            [
                {"sha256": h, "size": 100, "media_type": "image/png", "created_at": now}
                for h in hashes
            ],
        )
        connection.execute(
            insert(Item),
            [
                {
                    "id": i + 1,
                    "project_id": project_id,
                    "content_hash": h,
                    "name": f"img_{i:05}.png",
                    "media_type": "image/png",
                    "meta": {"size": 100, "width": 32, "height": 24},
                    "provenance": {},
                    "status": "unlabeled",
                    "is_gold": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, h in enumerate(hashes)
            ],
        )
        connection.execute(
            insert(Assignment), [{"item_id": i + 1, "slot": 0} for i in range(items)]
        )
        connection.execute(text("ANALYZE"))
    runtime.close()
    return project_id, tokens, category_ids  # type: ignore[return-value]


# --- the annotators --------------------------------------------------------------------------


async def annotate(
    base: str,
    token: str,
    project_id: int,
    categories: list[int],
    labels: int,
    pause: float,
    unclaimed: list[int] | None = None,
) -> list[float]:
    """Claim and label ``labels`` items (or, given ``unclaimed`` item ids, label those without
    a claim, as a client posting straight to an item does); returns the client-observed
    submit times (ms)."""
    headers = {"Authorization": f"Bearer {token}"}
    seen: list[float] = []
    pace = random.Random(token)  # people do not start, or keep, in step with each other
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        if pause:
            await asyncio.sleep(pace.uniform(0, pause))
        for n in range(labels):
            if unclaimed is not None:
                item = {"id": unclaimed.pop()}
            else:
                claimed = await client.post(f"/api/v1/projects/{project_id}/queue/next")
                assert claimed.status_code == 200, claimed.text
                item = claimed.json()["item"]
                assert item is not None, "the benchmark ran out of items"
            body = {
                "annotation_type": "classification",
                "payload": {"category_ids": [categories[n % len(categories)]]},
                "client_op_id": str(uuid.uuid4()),
                "time_spent_ms": 900,
            }
            started = time.perf_counter()
            response = await client.post(f"/api/v1/items/{item['id']}/annotations", json=body)
            seen.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 201, response.text
            if pause:
                await asyncio.sleep(pace.uniform(0.5 * pause, 1.5 * pause))
    return seen


async def run(
    base: str,
    tokens: list[str],
    project_id: int,
    categories: list[int],
    labels: int,
    pause: float,
    unclaimed: list[int] | None = None,
) -> tuple[list[float], list[float], float]:
    started = time.perf_counter()
    per_annotator = labels // len(tokens)
    client = await asyncio.gather(
        *(
            annotate(base, t, project_id, categories, per_annotator, pause, unclaimed)
            for t in tokens
        )
    )
    wall = time.perf_counter() - started
    async with httpx.AsyncClient(base_url=base) as plain:
        timings = (await plain.get("/__bench/timings")).json()
    statuses = {status for _, status in timings}
    assert statuses == {201}, f"unexpected statuses {statuses}"
    return [ms for ms, _ in timings], [ms for seen in client for ms in seen], wall


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=int, default=400, help="labels timed per run")
    parser.add_argument("--append", action="store_true", help="append to benchmarks/RESULTS.md")
    parser.add_argument("--postgres", metavar="URL", help="run on PostgreSQL (a server URL)")
    parser.add_argument(
        "--one", action="store_true", help="only one annotator: after a claim, and without one"
    )
    parser.add_argument("--serve", nargs=2, metavar=("DATA_DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(Path(args.serve[0]), int(args.serve[1]))

    runs = [  # the run without claims first: the queue serves items in a shuffled order
        ("1 annotator, back to back, no claim first", 1, 0.0, False),
        ("1 annotator, back to back", 1, 0.0, True),
        ("20 annotators, back to back", 20, 0.0, True),
        ("20 annotators, 0.5-1.5 s pause after each submit", 20, 1.0, True),
    ]
    if args.one:
        runs = runs[:2]
    warmup = 40
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scholia-latency-")))
        database = ""  # SQLite in the data directory
        if args.postgres:
            from concurrency import postgres_database  # this folder's other benchmark

            database = stack.enter_context(postgres_database(args.postgres))
        os.environ["SCHOLIA_DATABASE_URL"] = database  # read by build and the server
        items = warmup + args.labels * len(runs) + 100
        project_id, tokens, categories = build(data_dir, items)
        # The items the warm-up and the run without claims post to, before any claim.
        unclaimed = list(range(items - args.labels - warmup + 1, items + 1))
        with served([__file__, "--serve", str(data_dir)], env={**os.environ}) as base:
            load_before = os.getloadavg()[0]
            asyncio.run(run(base, tokens[:1], project_id, categories, warmup, 0.0, unclaimed))
            results = []
            for title, annotators, pause, claim in runs:
                server_ms, client_ms, wall = asyncio.run(
                    run(
                        base,
                        tokens[:annotators],
                        project_id,
                        categories,
                        args.labels,
                        pause,
                        None if claim else unclaimed,
                    )
                )
                results.append((title, server_ms, client_ms, wall))
            load_after = os.getloadavg()[0]

    lines = [
        "| Run | labels | server p50 ms | server p95 ms | server max ms | client p50 ms "
        "| client p95 ms | labels/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for title, server_ms, client_ms, wall in results:
        lines.append(
            f"| {title} | {len(server_ms)} | {statistics.median(server_ms):.2f} "
            f"| {percentile(server_ms, 0.95):.2f} | {max(server_ms):.2f} "
            f"| {statistics.median(client_ms):.2f} | {percentile(client_ms, 0.95):.2f} "
            f"| {len(server_ms) / wall:.0f} |"
        )
    machine = (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {platform.system()}"
    )
    postgres = " --postgres <url>" if args.postgres else ""
    report = "\n".join(
        [
            f"Command: `.venv/bin/python benchmarks/label_latency.py --labels {args.labels}"
            f"{postgres}`",
            "",
            f"Data: {items} unlabeled items (one slot each) in one single-label classification "
            f"project with {len(CATEGORIES)} categories, {ANNOTATORS} annotators with API tokens;"
            f" {warmup} warm-up submits first (not counted). Machine: {machine}. Load average "
            f"(1 min) before / after: {load_before:.1f} / {load_after:.1f}.",
            "",
            *lines,
        ]
    )
    print(report)
    if args.append:
        with (ROOT / "benchmarks" / "RESULTS.md").open("a") as results_file:
            results_file.write("\n## Label submission latency (issue 3)\n\n" + report + "\n")


if __name__ == "__main__":
    main()
