"""Concurrent annotators on one server: nothing answered 5xx, lost, duplicated or stuck.

    .venv/bin/python benchmarks/concurrency.py [--annotators 100] [--items 150]
        [--postgres postgresql://user@127.0.0.1:5432/db] [--append]

For each database (a fresh SQLite file; with ``--postgres``, also a fresh database created
beside the one the URL names, dropped afterwards) the app runs as in production, ``uvicorn`` in
its own process on loopback, and the annotators are threads with their own HTTP client and
API token. Scenarios, each on its own project:

* ``queue``: overlap 1 and 2, every annotator giving the same label or each their own
  (differing): each annotator loops as the labeling page does, claim the next item then
  label it, until the queue is empty. Bounded: every loop ends when the items are done.
* ``first submits``: overlap 2, unlabeled items nobody claimed; two annotators submit on the
  same item at the same moment (a barrier), every item at once.
* ``replays``: one annotator sends the same submission (same ``client_op_id``) twice at the
  same moment, as a labeling page that retries a request it thinks lost.

Then the database is checked: every label answered 201 is stored and current, no annotator
has two current labels on an item, each item's derived categories match its labels, and no
item with as many annotators' labels as its overlap is still being labeled (differing labels
must be in adjudication). The test suite runs the same scenarios, smaller
(tests/test_concurrency.py).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import os
import platform
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from scholia.core import consensus, identity, labels, membership, projects
from scholia.core.item_state import ItemState
from scholia.core.models import Annotation, Assignment, Blob, Item, ItemCategory
from scholia.core.runtime import Runtime

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or imported
from serving import served  # this folder, found through the line above

ROOT = Path(__file__).resolve().parent.parent
SETTLED = {ItemState.labeled, ItemState.adjudication, ItemState.approved}
"""Where an item with its overlap's worth of labels may be (never still being labeled)."""


# --- the data --------------------------------------------------------------------------------


@dataclass
class Setup:
    """One project with its items and annotators (API tokens), ready to be labeled."""

    project_id: int
    overlap: int
    items: list[int]
    tokens: list[str]
    annotator_ids: list[int]
    categories: list[int]


def make_annotators(runtime: Runtime, count: int, prefix: str) -> list[tuple[int, str]]:
    """``count`` annotators (ids and API tokens; ``build`` makes them members). Token-only
    accounts: a password hash costs about a second of CPU on a loaded machine, and nobody
    signs in by password."""
    made = []
    with runtime.session() as session:
        for n in range(count):
            user = identity.create_user(
                session, username=f"{prefix}-{n:03}", password=None, roles=("annotator",)
            )
            assert user.id is not None
            made.append((user.id, identity.create_api_token(session, user, "concurrency")[1]))
    return made


def build(
    runtime: Runtime,
    annotators: list[tuple[int, str]],
    *,
    overlap: int,
    items: int,
    categories: int,
    name: str,
) -> Setup:
    """A classification project with ``items`` unlabeled items (``overlap`` open slots each,
    inserted in bulk: a submission never reads the media)."""
    with runtime.session() as session:
        owner = identity.create_user(
            session, username=f"owner-{uuid.uuid4().hex[:10]}", password=None, roles=("admin",)
        )
        assert owner.id is not None
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=owner.id,
            name=name,
            modality="image",
            annotation_types=["classification"],
            categories=[f"class {n}" for n in range(categories)],
            settings={"overlap": overlap},
        )
        assert project.id is not None
        project_id = project.id
        for annotator_id, _ in annotators:
            membership.add_member(session, project_id, annotator_id, "annotator", owner.id)
        category_ids = [c.id for c in labels.live_categories(session, project_id)]
    now = datetime.now(UTC)
    hashes = [hashlib.sha256(f"{name}-{uuid.uuid4()}".encode()).hexdigest() for _ in range(items)]
    with runtime.engine.begin() as connection:
        connection.execute(
            insert(Blob),
            [
                {"sha256": h, "size": 100, "media_type": "image/png", "created_at": now}
                for h in hashes
            ],
        )
        item_ids = [
            row[0]
            for row in connection.execute(
                insert(Item).returning(Item.id, sort_by_parameter_order=True),
                [
                    {
                        "project_id": project_id,
                        "content_hash": h,
                        "name": f"img_{n:05}.png",
                        "media_type": "image/png",
                        "meta": {"size": 100, "width": 32, "height": 24},
                        "provenance": {},
                        "status": ItemState.unlabeled.value,
                        "is_gold": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n, h in enumerate(hashes)
                ],
            )
        ]
        connection.execute(
            insert(Assignment),
            [{"item_id": i, "slot": s} for i in item_ids for s in range(overlap)],
        )
    return Setup(
        project_id=project_id,
        overlap=overlap,
        items=item_ids,
        tokens=[t for _, t in annotators],
        annotator_ids=[a for a, _ in annotators],
        categories=category_ids,  # type: ignore[arg-type]
    )


# --- the annotators --------------------------------------------------------------------------


@dataclass
class Sent:
    """One submission and its answer."""

    annotator: int
    item_id: int
    client_op_id: str
    status: int
    annotation_id: str | None
    body: str


@dataclass
class Outcome:
    sent: list[Sent] = field(default_factory=list)
    other_5xx: list[str] = field(default_factory=list)
    """5xx answers to anything but a submission (claims), and requests never answered."""
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, sent: Sent) -> None:
        with self.lock:
            self.sent.append(sent)

    def statuses(self) -> collections.Counter[int]:
        return collections.Counter(s.status for s in self.sent)


def _client(base: str, token: str) -> httpx.Client:
    # Plain HTTP on loopback: verify=False spares each client loading the CA bundle (slow
    # with a hundred clients on a loaded machine); nothing here speaks TLS.
    return httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60, verify=False
    )


def _submit(
    client: httpx.Client, outcome: Outcome, annotator: int, item_id: int, category: int, op: str
) -> None:
    body = {
        "annotation_type": "classification",
        "payload": {"category_ids": [category]},
        "client_op_id": op,
        "time_spent_ms": 900,
    }
    response = client.post(f"/api/v1/items/{item_id}/annotations", json=body)
    annotation = response.json().get("id") if response.status_code in (200, 201) else None
    outcome.add(Sent(annotator, item_id, op, response.status_code, annotation, response.text))


def _run(outcome: Outcome, workers: list[Callable[[], None]]) -> float:
    """Run every worker on its own thread at once; the wall time in seconds. A request that
    got no answer at all counts with the 5xx."""

    def guarded(work: Callable[[], None]) -> None:
        try:
            work()
        except (httpx.TransportError, threading.BrokenBarrierError) as error:
            with outcome.lock:
                outcome.other_5xx.append(f"no answer: {error!r}")

    started = time.perf_counter()
    threads = [threading.Thread(target=guarded, args=(w,), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
        if thread.is_alive():
            raise RuntimeError("an annotator did not finish within 10 minutes")
    return time.perf_counter() - started


def _at_once(client: httpx.Client, together: threading.Barrier) -> None:
    """Connect, then wait for the other of the pair: their requests leave together. (One
    barrier per pair, not one for all: an idle connection waiting on hundreds of threads to
    start would meet the server's keep-alive timeout.)"""
    client.get("/healthz")
    together.wait(timeout=120)


def label_queue(base: str, setup: Setup, *, differing: bool) -> Outcome:
    """Every annotator claims and labels items until the queue is empty (at most as many
    rounds as there are slots: the loop is bounded)."""
    outcome = Outcome()
    rounds = len(setup.items) * setup.overlap

    def annotate(n: int) -> None:
        category = setup.categories[n % len(setup.categories) if differing else 0]
        with _client(base, setup.tokens[n]) as client:
            for _ in range(rounds):
                claimed = client.post(f"/api/v1/projects/{setup.project_id}/queue/next")
                if claimed.status_code >= 500:
                    outcome.other_5xx.append(f"claim {claimed.status_code}: {claimed.text}")
                    return
                item = claimed.json().get("item")
                if item is None:
                    return
                _submit(client, outcome, n, item["id"], category, str(uuid.uuid4()))

    outcome.seconds = _run(outcome, [lambda n=n: annotate(n) for n in range(len(setup.tokens))])
    return outcome


def first_submits(base: str, setup: Setup) -> Outcome:
    """On every item, two annotators (different for each item) submit at the same moment,
    with different labels; nobody claimed the items first."""
    assert setup.overlap >= 2 and len(setup.tokens) >= 2
    outcome = Outcome()
    pairs = []
    for index, item_id in enumerate(setup.items):
        first = (2 * index) % len(setup.tokens)
        pairs.append((item_id, first, (first + 1) % len(setup.tokens)))

    def submit(item_id: int, annotator: int, category: int, together: threading.Barrier) -> None:
        with _client(base, setup.tokens[annotator]) as client:
            _at_once(client, together)
            _submit(client, outcome, annotator, item_id, category, str(uuid.uuid4()))

    workers: list[Callable[[], None]] = []
    for item_id, a, b in pairs:
        pair = threading.Barrier(2)
        workers.append(lambda i=item_id, a=a, p=pair: submit(i, a, setup.categories[0], p))
        workers.append(lambda i=item_id, b=b, p=pair: submit(i, b, setup.categories[1], p))
    outcome.seconds = _run(outcome, workers)
    return outcome


def replays(base: str, setup: Setup) -> Outcome:
    """On every item, one annotator sends the same submission twice at the same moment."""
    outcome = Outcome()

    def send(item_id: int, annotator: int, op: str, together: threading.Barrier) -> None:
        with _client(base, setup.tokens[annotator]) as client:
            _at_once(client, together)
            _submit(client, outcome, annotator, item_id, setup.categories[0], op)

    workers: list[Callable[[], None]] = []
    for index, item_id in enumerate(setup.items):
        annotator, op = index % len(setup.tokens), str(uuid.uuid4())
        pair = threading.Barrier(2)
        workers += [lambda i=item_id, a=annotator, o=op, p=pair: send(i, a, o, p)] * 2
    outcome.seconds = _run(outcome, workers)
    return outcome


# --- the checks ------------------------------------------------------------------------------


@dataclass
class Findings:
    """What went wrong; all empty when the run was correct."""

    server_errors: list[str]
    refused: list[str]
    lost: list[str]
    duplicates: list[str]
    stuck: list[str]
    categories: list[str]
    replays: list[str]

    def problems(self) -> dict[str, list[str]]:
        return {name: found for name, found in vars(self).items() if found}


def check(
    runtime: Runtime,
    setup: Setup,
    outcome: Outcome,
    *,
    differing: bool | None,
    replayed: bool = False,
) -> Findings:
    """Compare what the clients were told with what the database holds (see the module
    docstring). ``differing``: whether settled overlap items must be in adjudication (True),
    must not be (False), or either."""
    server_errors = [f"{s.status} on item {s.item_id}: {s.body[:200]}" for s in outcome.sent]
    server_errors = [e for e, s in zip(server_errors, outcome.sent, strict=True) if s.status >= 500]
    server_errors += outcome.other_5xx
    refused = [
        f"{s.status} on item {s.item_id}: {s.body[:200]}"
        for s in outcome.sent
        if 400 <= s.status < 500
    ]
    with runtime.reading() as session:
        stored = {
            str(a.id): a
            for a in session.execute(
                select(Annotation).where(Annotation.project_id == setup.project_id)
            ).scalars()
        }
        valid = consensus.valid_annotations(session, setup.items)
        states = dict(
            session.execute(
                select(Item.id, Item.status).where(Item.project_id == setup.project_id)
            ).all()
        )
        derived: dict[int, set[int]] = collections.defaultdict(set)
        for item_id, category_id in session.execute(
            select(ItemCategory.item_id, ItemCategory.category_id).where(
                ItemCategory.project_id == setup.project_id
            )
        ):
            derived[item_id].add(category_id)
    current_ids = {str(a.id) for found in valid.values() for a in found}
    accepted = [s for s in outcome.sent if s.status in (200, 201)]
    lost = [
        f"item {s.item_id}: {s.annotation_id} answered {s.status} but is not current"
        for s in accepted
        if s.annotation_id not in current_ids
    ]
    created = [s.annotation_id for s in outcome.sent if s.status == 201]
    if len(stored) != len(set(created)):
        lost.append(f"{len(stored)} annotations stored, {len(set(created))} answered 201")
    duplicates = []
    for item_id, found in valid.items():
        per_annotator = collections.Counter(a.annotator_id for a in found)
        duplicates += [
            f"item {item_id}: annotator {who} has {n} current labels"
            for who, n in per_annotator.items()
            if n > 1
        ]
    stuck = []
    categories = []
    for item_id in setup.items:
        found = valid.get(item_id, [])
        people = len({a.annotator_id for a in found})
        state = states[item_id]
        if people >= setup.overlap and state not in SETTLED:
            stuck.append(f"item {item_id}: {people} annotators' labels, still {state}")
        if people >= 2 and differing is not None:
            expected = ItemState.adjudication if differing else None
            if differing and state != expected:
                stuck.append(f"item {item_id}: differing labels, {state} (not adjudication)")
            if not differing and state == ItemState.adjudication:
                stuck.append(f"item {item_id}: same labels sent to adjudication")
        used = {c for a in found for c in a.payload.get("category_ids", [])}
        if used != derived.get(item_id, set()):
            categories.append(
                f"item {item_id}: labels use {used}, item_category {derived[item_id]}"
            )
    replay_problems = []
    if replayed:
        by_op: dict[str, list[Sent]] = collections.defaultdict(list)
        for s in outcome.sent:
            by_op[s.client_op_id].append(s)
        for op, answers in by_op.items():
            ids = {a.annotation_id for a in answers}
            codes = sorted(a.status for a in answers)
            if codes != [200, 201] or len(ids) != 1:
                replay_problems.append(f"op {op}: answers {codes}, annotations {ids}")
    return Findings(server_errors, refused, lost, duplicates, stuck, categories, replay_problems)


# --- the benchmark: servers and databases ------------------------------------------------------


def serve(database_url: str, data_dir: Path, port: int) -> None:
    import uvicorn

    from scholia.core.settings import Settings
    from scholia.server.app import DEFAULT_PLUGINS, create_app

    settings = Settings(
        data_dir=data_dir, database_url=database_url, secret_key="concurrency-" + "x" * 32
    )
    runtime = Runtime.open(settings, default_plugins=DEFAULT_PLUGINS)
    uvicorn.run(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")


@contextmanager
def server(database_url: str, data_dir: Path) -> Iterator[str]:
    """The app in its own uvicorn process; yields its base URL."""
    with served([__file__, "--serve", database_url, str(data_dir)]) as base:
        yield base


@contextmanager
def postgres_database(url: str) -> Iterator[str]:
    """A fresh database beside the one ``url`` names, dropped afterwards."""
    url = "postgresql+psycopg://" + url.split("://", 1)[1]
    name = f"scholia_concurrency_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


SCENARIOS = (
    ("queue, overlap 1, same label", 1, False),
    ("queue, overlap 1, differing labels", 1, True),
    ("queue, overlap 2, same label", 2, False),
    ("queue, overlap 2, differing labels", 2, True),
)


def bench(database_url: str, data_dir: Path, annotators: int, items: int) -> list[str]:
    """Every scenario on one database; one table row each."""
    from scholia.core.settings import Settings
    from scholia.server.app import DEFAULT_PLUGINS

    settings = Settings(
        data_dir=data_dir, database_url=database_url, secret_key="concurrency-" + "x" * 32
    )
    runtime = Runtime.open(settings, default_plugins=DEFAULT_PLUGINS)
    people = make_annotators(runtime, annotators, "annotator")
    rows = []
    try:
        with server(database_url, data_dir) as base:
            for title, overlap, differing in SCENARIOS:
                setup = build(
                    runtime,
                    people,
                    overlap=overlap,
                    items=items,
                    categories=annotators,
                    name=title,
                )
                outcome = label_queue(base, setup, differing=differing)
                rows.append(
                    row(title, outcome, check(runtime, setup, outcome, differing=differing))
                )
            setup = build(runtime, people, overlap=2, items=items, categories=2, name="first")
            outcome = first_submits(base, setup)
            rows.append(
                row(
                    "first submits, overlap 2, 2 at once per item",
                    outcome,
                    check(runtime, setup, outcome, differing=True),
                )
            )
            setup = build(runtime, people, overlap=1, items=items, categories=2, name="replay")
            outcome = replays(base, setup)
            rows.append(
                row(
                    "replays racing their original",
                    outcome,
                    check(runtime, setup, outcome, differing=None, replayed=True),
                )
            )
    finally:
        runtime.close()
    return rows


def row(title: str, outcome: Outcome, findings: Findings) -> str:
    codes = outcome.statuses()
    answered = ", ".join(f"{n}×{code}" for code, n in sorted(codes.items()))
    problems = findings.problems()
    for name, found in problems.items():
        print(f"  {title}: {name}: {len(found)}, e.g. {found[:3]}", file=sys.stderr)
    return (
        f"| {title} | {len(outcome.sent)} | {answered} | {len(findings.server_errors)} "
        f"| {len(findings.lost)} | {len(findings.duplicates)} | {len(findings.stuck)} "
        f"| {len(findings.categories) + len(findings.replays)} "
        f"| {len(outcome.sent) / outcome.seconds:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--annotators", type=int, default=100)
    parser.add_argument("--items", type=int, default=150, help="items per scenario")
    parser.add_argument("--postgres", metavar="URL", help="also run on PostgreSQL (a server URL)")
    parser.add_argument("--append", action="store_true", help="append to benchmarks/RESULTS.md")
    parser.add_argument("--serve", nargs=3, metavar=("URL", "DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve[0], Path(args.serve[1]), int(args.serve[2]))
    header = [
        "| Scenario | submits | answers | 5xx | lost | duplicates | stuck | other | submits/s |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    sections = []
    with tempfile.TemporaryDirectory(prefix="scholia-concurrency-") as folder:
        data_dir = Path(folder)
        load_before = os.getloadavg()[0]
        databases = [("SQLite", f"sqlite:///{data_dir / 'scholia.db'}")]
        for name, url in databases:
            sections.append((name, bench(url, data_dir, args.annotators, args.items)))
        if args.postgres:
            with postgres_database(args.postgres) as url:
                version = create_engine(url).connect().execute(text("SHOW server_version"))
                name = f"PostgreSQL {version.scalar()}"
                sections.append((name, bench(url, data_dir, args.annotators, args.items)))
        load_after = os.getloadavg()[0]
    machine = (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {platform.system()}"
    )
    command = "`.venv/bin/python benchmarks/concurrency.py"
    command += f" --annotators {args.annotators} --items {args.items}"
    command += " --postgres <url>`" if args.postgres else "`"
    lines = [
        f"Command: {command}",
        "",
        f"Data: per scenario a fresh single-label classification project of {args.items} "
        f"items, {args.annotators} annotators (threads, one HTTP client and API token each) "
        "against one uvicorn process on loopback. 'answers' counts the HTTP statuses of the "
        "submissions; 'other' counts item_category rows that disagree with the labels plus "
        "replays not answered with their original. Machine: "
        f"{machine}. Load average (1 min) before / after: {load_before:.1f} / {load_after:.1f}.",
    ]
    for name, rows in sections:
        lines += ["", f"{name}:", "", *header, *rows]
    report = "\n".join(lines)
    print(report)
    if args.append:
        with (ROOT / "benchmarks" / "RESULTS.md").open("a") as results_file:
            results_file.write("\n## Concurrent annotators (issue 14)\n\n" + report + "\n")


if __name__ == "__main__":
    main()
