"""The Quality Hub and the export gate on a project of 1,000,000 annotations.

    .venv/bin/python benchmarks/quality.py [--annotations 1000000] [--database-url URL]

One image project, classification (single-label, 20 categories), overlap 5: 200,000 items,
each labeled by all 5 annotators. Rows are bulk-inserted with SQLAlchemy core into the real
tables (a fresh SQLite file in a temporary data directory, Alembic-migrated like production;
or the new, empty PostgreSQL database ``--database-url`` names): per item
a blob, the item, 5 assignments (submitted), 5 current classification annotations (a true
category per item; each annotator agrees with it with probability 0.85, else picks uniformly;
annotator 5 drifts towards category 1 in the last four weeks; time spent log-normal, with a few
very slow ones), a first review (97% approved; 1% of items rejected then approved on a second
review), its ``item_category`` row and the audit events of its transitions. Items are spread
over 12 ISO weeks; 0.5% wait in ``adjudication``.

Then, timed (best of ``--repeat``):

* ``hub data``: ``quality.hub.compute`` from scratch (every signal, agreement per week and the
  active rules), with the time of each part;
* ``agreement``: Krippendorff's alpha per week alone (the agreement module on 5 × 200,000);
* ``gate``: ``datasets.run_gate`` with the export gate's rules (``gate=True``) on the approved
  items, as a dataset version's build runs it, and on the whole project;
* ``hub page``: ``GET /projects/{id}/quality`` through Litestar's test client, signed in as a
  manager: first with nothing kept (a project this size gets a "computing" page while the
  figures are computed in the background; the time until they are ready is printed), then
  with the figures kept, then right after new work arrived (the kept figures are served while
  a background refresh runs);
* ``hub api``: ``GET /api/v1/projects/{id}/quality`` with the figures kept.

Prints the figures, the machine (CPUs, load average before and after) and the database.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, text

ANNOTATORS = 5
CATEGORIES = 20
WEEKS = 12
CHUNK = 10_000
PASSWORD = "bench password 123"


def runtime_for(data_dir: Path, database_url: str | None) -> Any:
    from scholia.core.runtime import Runtime
    from scholia.core.settings import Settings
    from scholia.server.app import DEFAULT_PLUGINS

    settings = Settings.from_env(data_dir)
    if database_url:
        settings = Settings(
            data_dir=data_dir, database_url=database_url, secret_key="bench-" + "x" * 32
        )
    return Runtime.open(settings, default_plugins=DEFAULT_PLUGINS)


def require_empty(runtime: Any) -> None:
    """The tables of a PostgreSQL database cannot be emptied (audit events and annotations are
    append-only, down to the database), so the benchmark wants a new, empty database."""
    with runtime.engine.connect() as connection:
        if connection.execute(text("SELECT count(*) FROM project")).scalar_one():
            sys.exit(
                "--database-url: this database already holds projects; give the benchmark a new, "
                "empty database (CREATE DATABASE …)"
            )


def build(runtime: Any, n_annotations: int, seed: int = 5) -> dict[str, Any]:
    """The synthetic project; returns its id, the annotators' ids and the manager's name."""
    from scholia.core import identity, labels, projects
    from scholia.core.models import (
        Annotation,
        Assignment,
        AuditEvent,
        Blob,
        Item,
        ItemCategory,
        Review,
    )

    rng = np.random.default_rng(seed)
    with runtime.session() as session:
        manager = identity.create_user(
            session, username="bench-manager", password=PASSWORD, roles=("manager",)
        )
        annotators = [
            identity.create_user(
                session, username=f"annotator-{k + 1}", password=PASSWORD, roles=("annotator",)
            ).id
            for k in range(ANNOTATORS)
        ]
        reviewer = identity.create_user(
            session, username="reviewer", password=PASSWORD, roles=("reviewer",)
        )
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=manager.id,  # type: ignore[arg-type]
            name="Quality benchmark",
            modality="image",
            annotation_types=["classification"],
            categories=[f"class-{k + 1:02}" for k in range(CATEGORIES)],
            settings={"overlap": ANNOTATORS},
        )
        project_id = project.id
        guideline_id = projects.current_guideline(session, project_id).id  # type: ignore[arg-type]
        schema = labels.current_schema(session, project_id)  # type: ignore[arg-type]
        category_ids = np.array([c.id for c in labels.live_categories(session, project_id)])  # type: ignore[arg-type]
        reviewer_id = reviewer.id
    n_items = n_annotations // ANNOTATORS
    start = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)  # a Monday
    span = timedelta(weeks=WEEKS).total_seconds()
    with runtime.engine.begin() as connection:
        first_item = 1 + (
            connection.execute(text("SELECT coalesce(max(id), 0) FROM item")).scalar_one()
        )
        for chunk_start in range(0, n_items, CHUNK):
            count = min(CHUNK, n_items - chunk_start)
            numbers = np.arange(chunk_start, chunk_start + count)
            ids = first_item + numbers
            offsets = numbers / n_items * span
            at = [start + timedelta(seconds=float(s)) for s in offsets]
            week = (numbers * WEEKS) // n_items
            truth = rng.integers(0, CATEGORIES, count)
            agrees = rng.random((count, ANNOTATORS)) < 0.85
            chosen = np.where(
                agrees, truth[:, None], rng.integers(0, CATEGORIES, (count, ANNOTATORS))
            )
            drifting = (week >= WEEKS - 4) & (rng.random(count) < 0.3)
            chosen[drifting, ANNOTATORS - 1] = 0
            spent = np.exp(rng.normal(np.log(4000), 0.4, (count, ANNOTATORS))).astype(int)
            slow = rng.random((count, ANNOTATORS)) < 0.002
            spent[slow] *= 20
            rejected_first = rng.random(count) < 0.03
            reopened = rng.random(count) < 0.01
            waiting = rng.random(count) < 0.005
            hashes = [
                hashlib.sha256(f"quality-item-{project_id}-{i}".encode()).hexdigest() for i in ids
            ]
            status = np.where(
                waiting,
                "adjudication",
                np.where(rejected_first & ~reopened, "rejected", "approved"),
            )
            connection.execute(
                insert(Blob),
                [
                    {"sha256": h, "size": 100, "media_type": "image/png", "created_at": t}
                    for h, t in zip(hashes, at, strict=True)
                ],
            )
            connection.execute(
                insert(Item),
                [
                    {
                        "id": int(i),
                        "project_id": project_id,
                        "content_hash": h,
                        "name": f"img_{i:07}.png",
                        "media_type": "image/png",
                        "meta": {"size": 100, "width": 32, "height": 24},
                        "provenance": {},
                        "status": str(s),
                        "is_gold": False,
                        "created_at": t,
                        "updated_at": t,
                    }
                    for i, h, s, t in zip(ids, hashes, status, at, strict=True)
                ],
            )
            slots = []
            rows = []
            for k in range(count):
                item_id = int(ids[k])
                for a in range(ANNOTATORS):
                    done = at[k] + timedelta(minutes=a + 1)
                    slot_id = (item_id - 1) * ANNOTATORS + a + 1
                    slots.append(
                        {
                            "id": slot_id,
                            "item_id": item_id,
                            "slot": a,
                            "annotator_id": annotators[a],
                            "claimed_at": done - timedelta(milliseconds=int(spent[k, a])),
                            "submitted_at": done,
                        }
                    )
                    rows.append(
                        {
                            "id": uuid.uuid4(),
                            "item_id": item_id,
                            "project_id": project_id,
                            "assignment_id": slot_id,
                            "annotator_id": annotators[a],
                            "annotation_type": "classification",
                            "payload": {"category_ids": [int(category_ids[chosen[k, a]])]},
                            "guideline_version_id": guideline_id,
                            "schema_version": schema.schema_version,
                            "labels_hash": schema.labels_hash,
                            "annotator_confidence": "certain",
                            "time_spent_ms": int(spent[k, a]),
                            "source": "human",
                            "quality_flags": [],
                            "created_at": done,
                        }
                    )
            connection.execute(insert(Assignment), slots)
            connection.execute(insert(Annotation), rows)
            reviews, events, categories = [], [], []
            for k in range(count):
                item_id = int(ids[k])
                reviewed = at[k] + timedelta(minutes=10)
                categories.append(
                    {
                        "item_id": item_id,
                        "category_id": int(category_ids[truth[k]]),
                        "project_id": project_id,
                    }
                )
                if waiting[k]:
                    events.append(event(project_id, item_id, "labeled", "adjudication", reviewed))
                    continue
                first = "rejected" if rejected_first[k] else "approved"
                reviews.append(
                    {
                        "item_id": item_id,
                        "reviewer_id": reviewer_id,
                        "decision": first,
                        "created_at": reviewed,
                    }
                )
                events.append(event(project_id, item_id, "labeled", first, reviewed, reviewer_id))
                if rejected_first[k] and reopened[k]:
                    again = reviewed + timedelta(hours=1)
                    events.append(
                        event(project_id, item_id, "rejected", "in_progress", again, reviewer_id)
                    )
                    reviews.append(
                        {
                            "item_id": item_id,
                            "reviewer_id": reviewer_id,
                            "decision": "approved",
                            "created_at": again + timedelta(hours=1),
                        }
                    )
                    events.append(
                        event(
                            project_id,
                            item_id,
                            "in_progress",
                            "approved",
                            again + timedelta(hours=1),
                            reviewer_id,
                        )
                    )
            if reviews:
                connection.execute(insert(Review), reviews)
            connection.execute(insert(AuditEvent), events)
            connection.execute(insert(ItemCategory), categories)
        connection.execute(text("ANALYZE"))
    return {
        "project_id": project_id,
        "annotators": annotators,
        "manager": "bench-manager",
        "items": n_items,
    }


def event(
    project_id: int,
    item_id: int,
    from_state: str,
    to_state: str,
    at: datetime,
    actor: int | None = None,
) -> dict[str, Any]:
    return {
        "at": at,
        "actor_id": actor,
        "project_id": project_id,
        "entity": "item",
        "entity_id": str(item_id),
        "action": "transition",
        "from_state": from_state,
        "to_state": to_state,
        "reason": None,
        "data": {},
    }


def best(work: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotations", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("SCHOLIA_BENCH_DATABASE_URL"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import logging

    from litestar.testing import TestClient

    from scholia.core import audit, datasets, projects
    from scholia.core.contributions import QualityRule
    from scholia.core.project_settings import settings_of
    from scholia.core.quality import hub, signals
    from scholia.server.app import create_app

    logging.getLogger("httpx").setLevel(logging.WARNING)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="scholia-quality-") as folder:
        data_dir = Path(folder)
        runtime = runtime_for(data_dir, args.database_url)
        if args.database_url:
            require_empty(runtime)
        database = runtime.engine.dialect.name
        started = time.perf_counter()
        built = build(runtime, args.annotations)
        build_s = time.perf_counter() - started
        project_id = built["project_id"]
        print(
            f"built {built['items']:,} items, {built['items'] * ANNOTATORS:,} annotations "
            f"({ANNOTATORS} annotators, {CATEGORIES} categories, {WEEKS} weeks) on {database} "
            f"in {build_s:.1f} s"
        )

        parts: dict[str, Callable[[Any], Any]] = {
            "label counts (drift, bias)": lambda s: signals.label_counts(
                s, runtime.plugins.annotation_types, project_id
            ),
            "reopen rates": lambda s: signals.reopen_rates(s, project_id),
            "time outliers": lambda s: signals.time_outliers(s, project_id),
            "agreement per week": lambda s: signals.agreement_by_week(
                s, runtime.plugins, project_id
            ),
        }
        print(f"\nhub data, part by part (best of {args.repeat}):")
        for name, work in parts.items():
            with runtime.reading() as session:
                seconds, _ = best(lambda w=work, s=session: w(s), args.repeat)
            print(f"  {name:28} {seconds:7.3f} s")
        with runtime.reading() as session:
            seconds, data = best(
                lambda: hub.compute(session, runtime.plugins, project_id), args.repeat
            )
        print(f"  {'hub.compute (all of it)':28} {seconds:7.3f} s")
        weeks = [w for w in data.agreement if w.alpha is not None]
        print(
            f"    agreement: {len(weeks)} weeks, alpha {min(w.alpha for w in weeks):.3f}–"
            f"{max(w.alpha for w in weeks):.3f} over {sum(w.items for w in weeks):,} items"
        )
        print(
            f"    reopen rate (project): {data.reopen.project.value:.4f}; "
            f"reopened {data.reopen.reopened:,}"
        )
        drifted = [c for c in data.drift if c.divergence is not None and c.divergence > 0.05]
        print(f"    drift cells above 0.05: {len(drifted)} of {len(data.drift)}")
        print(f"    time outliers flagged: {data.times.flagged:,} of {data.times.timed:,}")
        for rule in data.rules["rules"]:
            value = "n/a" if rule["value"] is None else f"{rule['value']:.4f}"
            print(f"    rule {rule['rule']:24} value {value:>8}  passed {rule['passed']}")

        gate_rules = [r for r in runtime.plugins.all(QualityRule) if r.gate]
        with runtime.reading() as session:
            project = projects.get_project(session, project_id)
            thresholds = dict(settings_of(project).quality_thresholds)
            approved = [
                i
                for (i,) in session.execute(
                    text(
                        "SELECT id FROM item WHERE project_id = :p AND status = 'approved' "
                        "ORDER BY id"
                    ),
                    {"p": project_id},
                )
            ]
            for label, ids in (("approved items", approved), ("whole project", None)):
                context = datasets.GateContext(session, runtime.plugins, project, ids)
                seconds, report = best(
                    lambda c=context: datasets.run_gate(gate_rules, c, thresholds), args.repeat
                )
                print(
                    f"\ngate ({len(gate_rules)} rules) on {label}"
                    f"{'' if ids is None else f' ({len(ids):,})'}: {seconds:.3f} s, "
                    f"passed {report['passed']}"
                )

        app = create_app(runtime)
        with TestClient(app) as client:
            client.get("/sign-in")
            signed = client.post(
                "/sign-in",
                data={
                    "username": "bench-manager",
                    "password": PASSWORD,
                    "_csrf_token": client.cookies["scholia_csrf"],
                },
                follow_redirects=False,
            )
            assert signed.status_code in (302, 303), signed.text
            url = f"/projects/{project_id}/quality"
            started = time.perf_counter()
            cold = client.get(url)
            cold_s = time.perf_counter() - started
            assert cold.status_code == 200, cold.status_code
            computing = "Computing the figures" in cold.text
            started = time.perf_counter()
            for thread in threading.enumerate():
                if thread.name.startswith("quality-hub-"):
                    thread.join()
            ready_s = time.perf_counter() - started + cold_s
            first = client.get(url)
            assert first.status_code == 200 and "<svg" in first.text
            warm = []
            for _ in range(max(5, args.repeat)):
                started = time.perf_counter()
                response = client.get(url)
                warm.append(time.perf_counter() - started)
                assert response.status_code == 200
            with runtime.session() as session:
                audit.record(
                    session,
                    actor_id=None,
                    entity="project",
                    entity_id=project_id,
                    action="benchmark",
                    project_id=project_id,
                )
            started = time.perf_counter()
            stale = client.get(url)
            stale_s = time.perf_counter() - started
            assert stale.status_code == 200
            api = []
            for _ in range(max(5, args.repeat)):
                started = time.perf_counter()
                response = client.get(f"/api/v1/projects/{project_id}/quality")
                api.append(time.perf_counter() - started)
                assert response.status_code == 200
            how = "a computing page, figures computed behind" if computing else "computed in it"
            print(
                f"\nhub page, nothing kept:              {cold_s * 1000:.1f} ms ({how}"
                f", ready after {ready_s:.1f} s; the page is {len(first.content):,} bytes)"
            )
            print(
                "hub page, figures kept:              "
                f"median {statistics.median(warm) * 1000:.1f} ms, "
                f"max {max(warm) * 1000:.1f} ms ({len(warm)} requests)"
            )
            print(f"hub page, new work (refresh behind): {stale_s * 1000:.1f} ms")
            print(
                "hub api,  figures kept:              "
                f"median {statistics.median(api) * 1000:.1f} ms "
                f"({len(api)} requests)"
            )
        runtime.close()
    print(
        f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"python {platform.python_version()}, {database}; load average before "
        f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, after "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )


if __name__ == "__main__":
    sys.exit(main())
