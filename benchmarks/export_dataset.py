"""Exporting 10k to 100k labeled items: a dataset version, then YOLO and COCO from it; wall time
and peak memory, to show memory stays flat as the item count grows.

    .venv/bin/python benchmarks/export_dataset.py [--sizes 10000,50000,100000] [--append]

For each size, a fresh SQLite data directory (Alembic-migrated like production) holds one image
project, classification (single-label, 5 categories), with N ``approved`` items. Rows are
bulk-inserted with SQLAlchemy core: per item a blob, the item, one current classification
annotation with its provenance (annotator, guideline version, schema version and labels hash,
time spent, confidence, source ``human``), an approving review by a reviewer, and its
``item_category`` row. Every item has its own content hash; its path in the media store is a
symbolic link to one of 16 real tiny PNGs (made with Pillow), so the export's hard links are
real while the hashes do not match the bytes (the export does not check them).

Each step then runs in a fresh process of its own, so its peak resident memory is that step's
alone:

* ``version``: ``datasets.create`` and ``datasets.build`` (records.jsonl, checksums.sha256,
  manifest.json and ``media/`` hard links);
* ``yolo`` and ``coco``: ``exports.write`` of that version into a new folder.

Memory is read from ``/proc/self/status``: the baseline is ``VmRSS`` right before the step
starts (after imports, plugin loading and the migration check), and the peak is ``VmHWM``,
reset to the baseline first (writing 5 to ``/proc/self/clear_refs``) because opening the runtime
peaks above where it settles. ``ru_maxrss`` cannot say it: Linux carries a parent's peak across
fork and exec into it. Peak minus baseline is what the step itself needed. Each result is
checked (N items and labels in the version, N files in the YOLO folder, N images in the COCO
annotations.json) so the benchmark cannot time an empty export.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = ("cat", "dog", "bird", "fish", "horse")
PNGS = 16
CHUNK = 20_000
STEPS = ("version", "yolo", "coco")


def runtime_for(data_dir: Path) -> Any:
    from scholia.core.runtime import Runtime
    from scholia.core.settings import Settings
    from scholia.server.app import DEFAULT_PLUGINS

    return Runtime.open(Settings.from_env(data_dir), default_plugins=DEFAULT_PLUGINS)


# --- the data --------------------------------------------------------------------------------


def build(data_dir: Path, n: int) -> tuple[int, int]:
    """The project with ``n`` approved, labeled, reviewed items; returns (project, admin)."""
    from PIL import Image

    from scholia.core import identity, labels, projects
    from scholia.core.models import Annotation, Blob, Item, ItemCategory, Review

    runtime = runtime_for(data_dir)
    with runtime.session() as session:
        admin = identity.create_user(
            session, username="bench-admin", password="bench password 123", roles=("admin",)
        )
        annotator = identity.create_user(
            session, username="annotator", password="bench password 123", roles=("annotator",)
        )
        reviewer = identity.create_user(
            session, username="reviewer", password="bench password 123", roles=("reviewer",)
        )
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=admin.id,  # type: ignore[arg-type]
            name="Export benchmark",
            modality="image",
            annotation_types=["classification"],
            categories=CATEGORIES,
        )
        project_id = project.id
        guideline_id = projects.current_guideline(session, project_id).id  # type: ignore[arg-type]
        schema = labels.current_schema(session, project_id)  # type: ignore[arg-type]
        category_ids = [c.id for c in labels.live_categories(session, project_id)]  # type: ignore[arg-type]
        admin_id, annotator_id, reviewer_id = admin.id, annotator.id, reviewer.id
    sources, sizes = [], []
    for k in range(PNGS):
        png = io.BytesIO()
        Image.new("RGB", (32, 24), (k * 15, 140, 255 - k * 15)).save(png, format="PNG")
        sha, size = runtime.store.put_bytes(png.getvalue())
        sources.append(runtime.store.path(sha))
        sizes.append(size)
    labeled_at = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    with runtime.engine.begin() as connection:
        for start in range(1, n + 1, CHUNK):
            numbers = range(start, min(start + CHUNK, n + 1))
            hashes = {i: hashlib.sha256(f"export-item-{i}".encode()).hexdigest() for i in numbers}
            at = {i: labeled_at + timedelta(seconds=i) for i in numbers}
            connection.execute(
                insert(Blob),
                [
                    {
                        "sha256": h,
                        "size": sizes[i % PNGS],
                        "media_type": "image/png",
                        "created_at": at[i],
                    }
                    for i, h in hashes.items()
                ],
            )
            connection.execute(
                insert(Item),
                [
                    {
                        "id": i,
                        "project_id": project_id,
                        "content_hash": hashes[i],
                        "name": f"img_{i:06}.png",
                        "media_type": "image/png",
                        "meta": {"size": sizes[i % PNGS], "width": 32, "height": 24},
                        "provenance": {},
                        "status": "approved",
                        "is_gold": False,
                        "created_at": at[i],
                        "updated_at": at[i],
                    }
                    for i in numbers
                ],
            )
            connection.execute(
                insert(Annotation),
                [
                    {
                        "id": uuid.UUID(int=i),
                        "item_id": i,
                        "project_id": project_id,
                        "annotator_id": annotator_id,
                        "annotation_type": "classification",
                        "payload": {"category_ids": [category_ids[i % len(category_ids)]]},
                        "guideline_version_id": guideline_id,
                        "schema_version": schema.schema_version,
                        "labels_hash": schema.labels_hash,
                        "annotator_confidence": "certain",
                        "time_spent_ms": 800 + i % 1000,
                        "source": "human",
                        "quality_flags": [],
                        "created_at": at[i] + timedelta(minutes=1),
                    }
                    for i in numbers
                ],
            )
            connection.execute(
                insert(Review),
                [
                    {
                        "item_id": i,
                        "reviewer_id": reviewer_id,
                        "decision": "approved",
                        "created_at": at[i] + timedelta(minutes=2),
                    }
                    for i in numbers
                ],
            )
            connection.execute(
                insert(ItemCategory),
                [
                    {
                        "item_id": i,
                        "category_id": category_ids[i % len(category_ids)],
                        "project_id": project_id,
                    }
                    for i in numbers
                ],
            )
            for i, h in hashes.items():
                target = runtime.store.path(h)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(sources[i % PNGS], target)
        connection.execute(text("ANALYZE"))
    runtime.close()
    return project_id, admin_id  # type: ignore[return-value]


# --- one step, in its own process ------------------------------------------------------------


def memory_kib(field: str) -> int:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of this process, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def step(name: str, data_dir: Path, project_id: int, actor_or_version: int, out: Path) -> None:
    """Run one step and print its figures as one JSON line (the parent reads the last line)."""
    from scholia.core import datasets, exports

    runtime = runtime_for(data_dir)
    # Opening the runtime (plugin loading, Alembic's look at the schema) peaks above where it
    # settles; reset the peak so VmHWM below is the step's own (Linux 4.0 and later).
    Path("/proc/self/clear_refs").write_text("5")
    baseline = memory_kib("VmRSS")
    started = time.perf_counter()
    if name == "version":
        with runtime.session() as session:
            version = datasets.create(
                session, project_id, datasets.Selection(), actor_id=actor_or_version
            )
            version_id = version.id
        built = datasets.build(runtime, version_id)  # type: ignore[arg-type]
        result: dict[str, Any] = {
            "version_id": version_id,
            "status": built.status,
            "items": built.item_count,
            "annotations": built.annotation_count,
        }
    else:
        exports.write(runtime, actor_or_version, name, out)
        result = {}
    seconds = time.perf_counter() - started
    peak = memory_kib("VmHWM")
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # beside it, see above
    runtime.close()
    print(
        json.dumps(
            {
                **result,
                "seconds": seconds,
                "baseline_kib": baseline,
                "peak_kib": peak,
                "ru_maxrss_kib": maxrss,
            }
        )
    )


def run_step(name: str, data_dir: Path, project_id: int, number: int, out: Path) -> dict[str, Any]:
    env = {**os.environ, "SCHOLIA_DATABASE_URL": ""}
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--step",
            name,
            str(data_dir),
            str(project_id),
            str(number),
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the {name} step failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


def measure(n: int) -> dict[str, Any]:
    """Build the data for ``n`` items, run the three steps, check what they wrote."""
    with tempfile.TemporaryDirectory(prefix="scholia-export-") as folder:
        data_dir = Path(folder) / "data"
        started = time.perf_counter()
        project_id, admin_id = build(data_dir, n)
        build_s = time.perf_counter() - started
        figures = {"build_s": build_s}
        version = run_step("version", data_dir, project_id, admin_id, Path(folder) / "unused")
        assert version["status"] == "released", version
        assert version["items"] == n and version["annotations"] == n, version
        released = data_dir / "datasets" / f"project-{project_id}" / "v1"
        assert count_files(released / "media") == n
        with (released / "records.jsonl").open() as lines:
            assert sum(len(json.loads(line)["labels"]) for line in lines) == n
        figures["version"] = version
        for name in ("yolo", "coco"):
            out = Path(folder) / name
            figures[name] = run_step(name, data_dir, project_id, version["version_id"], out)
            if name == "yolo":
                assert count_files(out / "train") == n, "the YOLO folder lacks images"
            else:
                written = json.loads((out / "annotations.json").read_text())
                assert len(written["images"]) == n, "annotations.json lacks images"
                assert count_files(out / "images") == n, "the COCO folder lacks images"
            shutil.rmtree(out)
        print(
            f"{n} items: " + ", ".join(f"{s} {figures[s]['seconds']:.1f} s" for s in STEPS),
            flush=True,
        )
    return figures


def table(results: dict[int, dict[str, Any]]) -> list[str]:
    titles = {
        "version": "version (create + build)",
        "yolo": "YOLO from the version",
        "coco": "COCO from the version",
    }
    lines = [
        "| Step | items | seconds | items/s | RSS before MiB | peak RSS MiB | growth MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in STEPS:
        for n, figures in results.items():
            f = figures[name]
            lines.append(
                f"| {titles[name]} | {n:,} | {f['seconds']:.1f} | {n / f['seconds']:,.0f} "
                f"| {f['baseline_kib'] / 1024:.0f} | {f['peak_kib'] / 1024:.0f} "
                f"| {(f['peak_kib'] - f['baseline_kib']) / 1024:.0f} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,50000,100000", help="item counts, by commas")
    parser.add_argument("--append", action="store_true", help="append to benchmarks/RESULTS.md")
    parser.add_argument("--step", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        name, data_dir, project_id, number, out = args.step
        return step(name, Path(data_dir), int(project_id), int(number), Path(out))

    sizes = [int(s) for s in args.sizes.split(",")]
    load_before = os.getloadavg()
    results = {n: measure(n) for n in sizes}
    load_after = os.getloadavg()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    machine = (
        f"{os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {platform.system()}"
    )
    builds = ", ".join(f"{n:,}: {r['build_s']:.0f} s" for n, r in results.items())
    report = "\n".join(
        [
            f"Command: `.venv/bin/python benchmarks/export_dataset.py --sizes {args.sizes}`",
            "",
            f"Data: for each size a fresh SQLite data directory (Alembic-migrated) with one image "
            f"classification project ({len(CATEGORIES)} categories) of N `approved` items, each "
            "with one current classification annotation (annotator, guideline version, schema "
            "version and labels hash, time spent, confidence, source human), an approving "
            "review and its item_category row, bulk-inserted with SQLAlchemy core. Each item "
            f"has its own content hash; its store path is a symbolic link to one of {PNGS} real "
            "32x24 PNGs (hashes do not match the bytes; the export does not check them). "
            f"Data build (not timed below): {builds}.",
            "",
            f"Machine: {machine}; its cores are shared with other work. Load average (1 min) "
            f"before / after: {load_before[0]:.1f} / {load_after[0]:.1f}.",
            "",
            "Each step runs in a fresh process. RSS before: its VmRSS right before the step "
            "(after imports, plugin loading, the migration check); peak: its VmHWM, reset to "
            "that baseline first through /proc/self/clear_refs (opening the runtime peaks "
            "higher; `ru_maxrss` would also carry the parent's peak across fork and exec).",
            "",
            *table(results),
        ]
    )
    print(report)
    if args.append:
        with (ROOT / "benchmarks" / "RESULTS.md").open("a") as results_file:
            results_file.write(
                "\n## Dataset export at 10k–100k items (issue 4)\n\n" + report + "\n"
            )


if __name__ == "__main__":
    main()
