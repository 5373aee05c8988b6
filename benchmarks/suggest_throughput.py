"""Batch suggestion throughput against a bare onnxruntime loop, and inline suggestion latency.

    .venv/bin/python benchmarks/suggest_throughput.py [--images 10000] [--size 320x240]

Setup (not timed): a fresh SQLite data directory (Alembic-migrated), the plugins the server
loads, an image classification project with categories red, green and blue, N generated JPEG
images (``colour_image`` at ``--size``, hues spread round the colour wheel, one seed each)
ingested through ``uploads.ingest_files``, and the colour classifier of ``scholia_image``
(``train_colour_classifier``, 32x32 input) registered through ``model_registry.register`` and
activated.

Then, alternating for ``--rounds`` rounds, both warm (the model loaded once before):

* bare: what a user's own script does with the same ``.onnx`` file and the same image files
  (the media store's paths): ``onnxruntime.InferenceSession``, batches of the predictor's batch
  size, Pillow open, RGB, bilinear resize to 32x32, float32 times the scale, NCHW, run,
  softmax, top-k. Written here on purpose, not the plugin's code.
* framework: a suggestion job over every unlabeled item, ``suggestion_jobs.start`` + ``run``,
  end to end: reading items, the predictor, validating every candidate against the schema,
  storing each suggestion with its uncertainty (superseding the previous round's), progress.

Each round times the two back to back; the median of the rounds' ratios framework / bare is
the framework's overhead (aim: under 1.2x), printed with the ratio of the medians and that of
the process's CPU time (which another process's load disturbs less than wall time). The
script checks that the stored suggestions name the same category as the bare loop for every
item. Last, the latency of one inline suggestion: ``prelabeling.suggest`` for one item, and
``POST /api/v1/items/{id}/suggest`` through Litestar's TestClient as a manager with an API
token, each on ``--inline`` different items.
"""

from __future__ import annotations

import argparse
import colorsys
import logging
import os
import platform
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped]
import PIL
from PIL import Image
from sqlmodel import col, select

from scholia.core import (
    identity,
    model_registry,
    prelabeling,
    projects,
    suggestion_jobs,
    uploads,
)
from scholia.core.models import Item, Suggestion, SuggestionStatus
from scholia.core.project_settings import settings_of
from scholia.core.runtime import Runtime
from scholia.core.settings import Settings
from scholia.server.app import DEFAULT_PLUGINS, create_app
from scholia_image.colour_model import colour_image, train_colour_classifier

CATEGORIES = ("red", "green", "blue")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


# --- setup (not timed) -----------------------------------------------------------------------


def generate(folder: Path, count: int, size: tuple[int, int], seed: int = 6) -> int:
    """``count`` distinct JPEGs of one colour each (any hue, strong or pale); total bytes."""
    rng = random.Random(seed)
    total = 0
    for index in range(count):
        red, green, blue = colorsys.hsv_to_rgb(
            rng.random(), rng.uniform(0.5, 1.0), rng.uniform(0.4, 1.0)
        )
        rgb = (round(red * 255), round(green * 255), round(blue * 255))
        path = folder / f"{index // 1000:03d}" / f"swatch{index:06d}.jpg"
        path.parent.mkdir(exist_ok=True)
        colour_image(rgb, size, seed=index).save(path, format="JPEG", quality=85)
        total += path.stat().st_size
    return total


def files(folder: Path) -> Iterator[tuple[str, BinaryIO]]:
    for path in sorted(folder.rglob("*.jpg")):
        with path.open("rb") as source:
            yield path.name, source


def build(scratch: Path, count: int, size: tuple[int, int]) -> dict[str, Any]:
    """The runtime, a project with ``count`` images, an active model, a manager's token."""
    images, data_dir = scratch / "images", scratch / "data"
    images.mkdir()
    started = time.perf_counter()
    megabytes = generate(images, count, size) / 1e6
    print(
        f"generated {count:,} JPEGs {size[1]}x{size[0]} ({megabytes:.1f} MB) "
        f"in {time.perf_counter() - started:.1f} s"
    )

    os.environ.pop("SCHOLIA_DATABASE_URL", None)  # a fresh SQLite file in data_dir
    runtime = Runtime.open(Settings.from_env(data_dir), default_plugins=DEFAULT_PLUGINS)
    with runtime.session() as session:
        manager = identity.create_user(
            session, username="bench-manager", password="bench password 123", roles=("manager",)
        )
        assert manager.id is not None
        token = identity.create_api_token(session, manager, "bench")[1]
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=manager.id,
            name="Suggestion benchmark",
            modality="image",
            annotation_types=["classification"],
            categories=CATEGORIES,
        )
        assert project.id is not None
        project_id = project.id
    started = time.perf_counter()
    result = uploads.ingest_files(runtime, project_id, files(images), actor_id=manager.id)
    if len(result.created) != count:
        raise SystemExit(f"ingested {len(result.created)} of {count}: {result.problems[:3]}")
    print(f"ingested {count:,} items in {time.perf_counter() - started:.1f} s")

    model_path = scratch / "colour.onnx"
    trained = train_colour_classifier(model_path, CATEGORIES, input_size=(32, 32))
    with runtime.session() as session:
        model = model_registry.register(
            session,
            runtime.plugins,
            runtime.predictors,
            project_id,
            name="colours",
            version="1",
            backend="onnx-classifier",
            source=str(model_path),
            annotation_type="classification",
            categories=list(CATEGORIES),
            config=trained["config"],
            actor_id=manager.id,
        )
        model_registry.activate(session, model, manager.id)
    assert model.id is not None
    print(
        f"model: {model_path.stat().st_size} bytes, accuracy {trained['accuracy']:.3f} "
        f"(held out {trained['held_out_accuracy']:.3f}), config {trained['config']}"
    )
    return {
        "runtime": runtime,
        "project_id": project_id,
        "manager_id": manager.id,
        "token": token,
        "model_id": model.id,
        "model_path": model_path,
        "config": trained["config"],
    }


# --- the bare loop ---------------------------------------------------------------------------


class Bare:
    """What a user's own script does: no database, no validation, nothing stored."""

    def __init__(self, model_path: Path, config: dict[str, Any], batch: int, top_k: int):
        options = ort.SessionOptions()
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name
        self.height, self.width = config["input_size"]
        self.scale = np.float32(config["scale"])
        self.batch = batch
        self.top_k = top_k
        blank = np.zeros((1, 3, self.height, self.width), np.float32)
        self.session.run(None, {self.input_name: blank})  # warm-up

    def run(self, paths: list[Path]) -> list[list[tuple[int, float]]]:
        """Top-k (category index, probability) per image."""
        answers: list[list[tuple[int, float]]] = []
        for start in range(0, len(paths), self.batch):
            pixels = []
            for path in paths[start : start + self.batch]:
                with Image.open(path) as image:
                    small = image.convert("RGB").resize(
                        (self.width, self.height), Image.Resampling.BILINEAR
                    )
                pixels.append(np.asarray(small, dtype=np.uint8))
            tensor = np.stack(pixels).astype(np.float32) * self.scale
            tensor = np.ascontiguousarray(tensor.transpose(0, 3, 1, 2))
            (logits,) = self.session.run(None, {self.input_name: tensor})
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            probabilities = shifted / shifted.sum(axis=1, keepdims=True)
            order = np.argsort(-probabilities, axis=1)[:, : self.top_k]
            answers.extend(
                [(int(i), float(row[i])) for i in ranked]
                for ranked, row in zip(order, probabilities, strict=True)
            )
        return answers


# --- the framework ---------------------------------------------------------------------------


def framework_round(runtime: Runtime, model_id: int, actor_id: int, count: int) -> float:
    """One suggestion job over the unlabeled items, start to done; seconds."""
    started = time.perf_counter()
    with runtime.session() as session:
        model = model_registry.get_model(session, model_id)
        job = suggestion_jobs.start(session, model, scope="unlabeled", actor_id=actor_id)
    assert job.id is not None
    done = suggestion_jobs.run(runtime, job.id)
    elapsed = time.perf_counter() - started
    if done.status != "done" or done.suggested != count or done.failed:
        raise SystemExit(
            f"job {done.id}: {done.status}, {done.suggested} suggested, "
            f"{done.failed} failed ({done.failures[:3]}, {done.error})"
        )
    return elapsed


def check_same(
    runtime: Runtime, ids: list[int], bare: list[list[tuple[int, float]]], category_ids: list[int]
) -> int:
    """Items whose stored suggestion names another category than the bare loop's top one."""
    with runtime.reading() as session:
        stored = {
            s.item_id: s.payload["category_ids"][0]
            for s in session.exec(
                select(Suggestion).where(col(Suggestion.status) != SuggestionStatus.superseded)
            )
        }
    return sum(
        1
        for item_id, top in zip(ids, bare, strict=True)
        if stored.get(item_id) != category_ids[top[0][0]]
    )


# --- inline latency --------------------------------------------------------------------------


def inline(setup: dict[str, Any], ids: list[int], calls: int) -> dict[str, list[float]]:
    from litestar.testing import TestClient

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request
    runtime: Runtime = setup["runtime"]
    chosen = random.Random(7).sample(ids, min(calls * 2, len(ids)))
    core_ids, http_ids = chosen[:calls], chosen[calls : 2 * calls] or chosen[:calls]
    prelabeling.suggest(runtime, setup["model_id"], [ids[0]])  # warm-up
    core_ms = []
    for item_id in core_ids:
        started = time.perf_counter()
        made = prelabeling.suggest(runtime, setup["model_id"], [item_id])
        core_ms.append((time.perf_counter() - started) * 1000)
        assert len(made.suggestions) == 1, made.failures
    http_ms = []
    with TestClient(create_app(runtime)) as client:
        client.headers["Authorization"] = f"Bearer {setup['token']}"
        for item_id in [ids[1], ids[2], *http_ids]:  # the first two warm up
            started = time.perf_counter()
            response = client.post(f"/api/v1/items/{item_id}/suggest")
            http_ms.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 or len(response.json()) != 1:
                raise SystemExit(f"POST suggest {item_id}: {response.status_code} {response.text}")
    return {"prelabeling.suggest": core_ms, "POST /api/v1/items/{id}/suggest": http_ms[2:]}


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10_000, help="images in the project")
    parser.add_argument("--size", default="320x240", help="image size, WIDTHxHEIGHT")
    parser.add_argument("--rounds", type=int, default=3, help="bare / framework alternations")
    parser.add_argument("--inline", type=int, default=200, help="inline calls timed, each way")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.lower().split("x"))
    count = args.images

    scratch = Path(tempfile.mkdtemp(prefix="scholia-suggest-bench-"))
    try:
        load_before = os.getloadavg()
        setup = build(scratch, count, (height, width))
        runtime: Runtime = setup["runtime"]
        with runtime.reading() as session:
            model = model_registry.get_model(session, setup["model_id"])
            project = projects.get_project(session, setup["project_id"])
            top_k = settings_of(project).suggestions.top_k
            rows = session.exec(
                select(Item.id, Item.content_hash)
                .where(col(Item.project_id) == setup["project_id"])
                .order_by(col(Item.id))
            ).all()
        ids = [int(i or 0) for i, _ in rows]
        paths = [runtime.store.path(h) for _, h in rows]
        predictor: Any = runtime.predictors.get(runtime.plugins, model)  # loaded, as a job finds it
        batch = int(predictor.batch_size)
        category_ids = [int(i) for i, _ in model.categories]
        bare = Bare(setup["model_path"], setup["config"], batch, top_k)
        print(
            f"database: {runtime.engine.dialect.name}; job batch {suggestion_jobs.BATCH} items "
            f"per transaction, inference batch {batch}, top-k {top_k}\n"
        )

        wall: dict[str, list[float]] = {"bare": [], "framework": []}
        cpu: dict[str, list[float]] = {"bare": [], "framework": []}
        mismatches = 0
        print(
            f"{'round':>5}  {'bare s':>7} {'img/s':>6} {'cpu s':>6}  "
            f"{'framework s':>11} {'img/s':>6} {'cpu s':>6}  ratio  cpu ratio"
        )
        for number in range(1, args.rounds + 1):
            started, cpu_started = time.perf_counter(), time.process_time()
            answers = bare.run(paths)
            wall["bare"].append(time.perf_counter() - started)
            cpu["bare"].append(time.process_time() - cpu_started)
            started, cpu_started = time.perf_counter(), time.process_time()
            framework_round(runtime, setup["model_id"], setup["manager_id"], count)
            wall["framework"].append(time.perf_counter() - started)
            cpu["framework"].append(time.process_time() - cpu_started)
            mismatches += check_same(runtime, ids, answers, category_ids)
            b, f = wall["bare"][-1], wall["framework"][-1]
            cb, cf = cpu["bare"][-1], cpu["framework"][-1]
            print(
                f"{number:>5}  {b:>7.2f} {count / b:>6.0f} {cb:>6.2f}  "
                f"{f:>11.2f} {count / f:>6.0f} {cf:>6.2f}  {f / b:>5.2f}  {cf / cb:>9.2f}"
            )
        bare_median = statistics.median(wall["bare"])
        framework_median = statistics.median(wall["framework"])
        paired = statistics.median(
            f / b for f, b in zip(wall["framework"], wall["bare"], strict=True)
        )
        cpu_ratio = statistics.median(cpu["framework"]) / statistics.median(cpu["bare"])
        print(
            f"\nmedian: bare {bare_median:.2f} s ({count / bare_median:.0f} img/s), framework "
            f"{framework_median:.2f} s ({count / framework_median:.0f} img/s)\n"
            f"framework/bare: ratio of the medians {framework_median / bare_median:.2f}x, "
            f"median of the rounds' ratios {paired:.2f}x, CPU time {cpu_ratio:.2f}x "
            f"(aim: under 1.2x: {'met' if paired < 1.2 else 'NOT met'})"
        )
        print(f"stored suggestions naming another category than the bare loop: {mismatches}")

        print(f"\ninline suggestion, {args.inline} calls each on different items:")
        for name, values in inline(setup, ids, args.inline).items():
            print(
                f"  {name:<34} p50 {percentile(values, 0.5):6.2f} ms  p95 "
                f"{percentile(values, 0.95):6.2f} ms  max {max(values):6.2f} ms"
            )
        load_after = os.getloadavg()
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        print(
            f"\nmachine: {os.cpu_count()} cores, {memory:.0f} GiB, Python "
            f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, onnxruntime "
            f"{ort.__version__}, Pillow {PIL.__version__}, {platform.system()}; load average "
            f"before {load_before[0]:.2f}, after {load_after[0]:.2f}"
        )
        runtime.close()
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
