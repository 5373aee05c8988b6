"""Is a gold submission slower than a production one? Server-side and client-observed times of
interleaved gold and production label submissions, through a real server.

    .venv/bin/python benchmarks/gold_timing.py [--submits 200] [--append]

Builds a fresh SQLite data directory (Alembic-migrated like production) with one single-label
classification project (gold rate 0, so the benchmark decides which items are gold), half its
items marked gold with an answer, and one annotator with an API token who holds every item
the way the queue hands them out (production items claimed from their open slots, each gold
item on a slot of its own as a gold draw makes).

The app runs as in production, ``uvicorn`` in its own process, wrapped in the timer of
``label_latency.py`` (from the request reaching the app to the last byte of its response).
The annotator submits gold and production items alternately, answering gold items rightly
(so nobody is suspended), pausing ``--pause`` seconds between submits as a person would
(follow-up work, such as the rolling-accuracy check after a gold answer, runs after the
response and is done by the next submit). It reports medians and p95 for each kind and the
share of pairs in which the gold submit was the slower one (0.5 is a coin toss).
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from label_latency import percentile, serve
from serving import served

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = ("cat", "dog", "bird")


def build(data_dir: Path, pairs: int) -> tuple[str, list[int], list[int], int]:
    """The project; returns (token, production ids, gold ids, right category)."""
    import io

    from PIL import Image

    from scholia.core import gold, identity, items, labels, membership, projects, queue, slots
    from scholia.core.runtime import Runtime
    from scholia.core.settings import Settings
    from scholia.server.app import DEFAULT_PLUGINS

    runtime = Runtime.open(Settings.from_env(data_dir), default_plugins=DEFAULT_PLUGINS)
    with runtime.session() as session:
        admin = identity.create_user(
            session, username="bench-admin", password="bench password 123", roles=("admin",)
        )
        annotator = identity.create_user(
            session, username="annotator", password="bench password 123", roles=("annotator",)
        )
        token = identity.create_api_token(session, annotator, "bench")[1]
        assert admin.id is not None and annotator.id is not None
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=admin.id,
            name="Gold timing",
            modality="image",
            annotation_types=["classification"],
            categories=CATEGORIES,
            settings={"gold_rate": 0},
        )
        assert project.id is not None
        membership.add_member(session, project.id, annotator.id, "annotator", admin.id)
        right = labels.live_categories(session, project.id)[0].id
        made = []
        for n in range(2 * pairs):
            image = io.BytesIO()
            Image.new("RGB", (32, 24), (n % 256, n // 256, 99)).save(image, format="PNG")
            image.seek(0)
            made.append(
                items.ingest(
                    session,
                    runtime.store,
                    runtime.plugins,
                    project,
                    name=f"i{n}.png",
                    source=image,
                    actor_id=admin.id,
                ).item.id
            )
    production, golden = made[::2], made[1::2]
    with runtime.session() as session:
        for item_id in golden:
            gold.mark_gold(
                session,
                runtime.plugins,
                project.id,
                item_id,  # type: ignore[arg-type]
                annotation_type="classification",
                payload={"category_ids": [right]},
                actor_id=admin.id,
            )
    with runtime.session() as session:
        queue.reserve(session, project.id, annotator.id, pairs)
        for item_id in golden:
            slots.add_slot(session, item_id, annotator.id)  # type: ignore[arg-type]
    runtime.close()
    return token, production, golden, right  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submits", type=int, default=200, help="submits of each kind")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between submits")
    parser.add_argument("--append", action="store_true", help="append to benchmarks/RESULTS.md")
    parser.add_argument("--serve", nargs=2, metavar=("DATA_DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(Path(args.serve[0]), int(args.serve[1]))

    times: dict[str, list[float]] = {"gold": [], "production": []}
    seen: dict[str, list[float]] = {"gold": [], "production": []}
    with tempfile.TemporaryDirectory(prefix="scholia-gold-timing-") as folder:
        data_dir = Path(folder)
        token, production, golden, right = build(data_dir, args.submits)
        env = {**os.environ, "SCHOLIA_DATABASE_URL": ""}
        bench = str(Path(__file__).resolve().parent / "label_latency.py")
        with served([bench, "--serve", str(data_dir)], env=env) as base:
            load_before = os.getloadavg()[0]
            headers = {"Authorization": f"Bearer {token}"}
            order: list[str] = []
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                for gold_id, production_id in zip(golden, production, strict=True):
                    for kind, item_id in (("gold", gold_id), ("production", production_id)):
                        body = {
                            "annotation_type": "classification",
                            "payload": {"category_ids": [right]},
                            "client_op_id": str(uuid.uuid4()),
                        }
                        started = time.perf_counter()
                        response = client.post(f"/api/v1/items/{item_id}/annotations", json=body)
                        seen[kind].append((time.perf_counter() - started) * 1000)
                        assert response.status_code == 201, response.text
                        order.append(kind)
                        time.sleep(args.pause)
                timings = httpx.get(f"{base}/__bench/timings").json()
            load_after = os.getloadavg()[0]
    for kind, (ms, _status) in zip(order, timings, strict=True):
        times[kind].append(ms)

    def slower(values: dict[str, list[float]]) -> float:
        pairs = list(zip(values["gold"], values["production"], strict=True))
        return sum(1 for g, p in pairs if g > p) / len(pairs)

    lines = [
        "| Submits | n | server p50 ms | server p95 ms | client p50 ms | client p95 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind in ("gold", "production"):
        lines.append(
            f"| {kind} | {len(times[kind])} | {statistics.median(times[kind]):.2f} "
            f"| {percentile(times[kind], 0.95):.2f} | {statistics.median(seen[kind]):.2f} "
            f"| {percentile(seen[kind], 0.95):.2f} |"
        )
    machine = (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {platform.system()}"
    )
    report = "\n".join(
        [
            f"Command: `.venv/bin/python benchmarks/gold_timing.py --submits {args.submits} "
            f"--pause {args.pause}`",
            "",
            f"Data: {2 * args.submits} items in one single-label classification project, every "
            f"other one gold; one annotator holding them all, submitting gold and production "
            f"alternately with {args.pause} s between submits. Machine: {machine}. Load "
            f"average (1 min) before / after: {load_before:.1f} / {load_after:.1f}.",
            "",
            *lines,
            "",
            f"Gold submit slower than the production submit after it: server "
            f"{slower(times):.0%} of pairs, client {slower(seen):.0%} (50% is a coin toss).",
        ]
    )
    print(report)
    if args.append:
        with (ROOT / "benchmarks" / "RESULTS.md").open("a") as results_file:
            results_file.write("\n## Gold and production submits take as long (issue 14)\n\n")
            results_file.write(report + "\n")


if __name__ == "__main__":
    main()
