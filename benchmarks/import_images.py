"""Benchmark: import N generated images through the real ``scholia import`` command.

    .venv/bin/python benchmarks/import_images.py --count 10000

Generates N distinct images with Pillow (JPEG and PNG, 256x192, varying content) in a scratch
folder, creates a fresh data directory (SQLite unless SCHOLIA_DATABASE_URL is set) with an admin
and an image project, then runs ``scholia import PROJECT FOLDER`` as a subprocess, twice: the
first run adds every image, the second finds them all already in the project. Prints the wall
time and items per second of each run, and checks the database holds exactly N items.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import func
from sqlmodel import select

from scholia.core import identity, projects
from scholia.core.models import Item
from scholia.core.runtime import Runtime
from scholia.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SCHOLIA = ROOT / ".venv" / "bin" / "scholia"


def generate(folder: Path, count: int, seed: int = 3) -> int:
    """Write ``count`` distinct images; returns their total size in bytes."""
    rng = random.Random(seed)
    total = 0
    for index in range(count):
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        image = Image.new("RGB", (256, 192), colour)
        draw = ImageDraw.Draw(image)
        for _ in range(6):
            x, y = rng.randrange(256), rng.randrange(192)
            fill = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            draw.rectangle((x, y, x + rng.randrange(8, 80), y + rng.randrange(8, 60)), fill=fill)
        draw.text((8, 8), f"#{index}", fill=(255, 255, 255))  # makes every image distinct
        sub = folder / f"{index // 1000:03d}"
        sub.mkdir(exist_ok=True)
        if index % 2:
            path = sub / f"img{index:06d}.png"
            image.save(path, format="PNG")
        else:
            path = sub / f"img{index:06d}.jpg"
            image.save(path, format="JPEG", quality=85)
        total += path.stat().st_size
    return total


def run_import(data_dir: Path, project_id: int, folder: Path) -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(SCHOLIA), "import", str(project_id), str(folder), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    elapsed = time.perf_counter() - started
    summary = next(
        (line for line in done.stdout.splitlines() if line.startswith("added:")), done.stdout
    )
    if done.returncode != 0:
        sys.exit(f"scholia import exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.returncode, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="images to generate")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="scholia-import-bench-"))
    try:
        images, data_dir = scratch / "images", scratch / "data"
        images.mkdir()
        started = time.perf_counter()
        size = generate(images, args.count)
        print(
            f"generated {args.count} images ({size / 1e6:.1f} MB) "
            f"in {time.perf_counter() - started:.1f}s"
        )

        runtime = Runtime.open(Settings.from_env(data_dir))
        with runtime.session() as session:
            admin = identity.create_user(
                session, username="bench-admin", password="bench-password", roles=("admin",)
            )
            assert admin.id is not None
            project = projects.create_project(
                session,
                runtime.plugins,
                actor_id=admin.id,
                name="Import benchmark",
                modality="image",
                annotation_types=("classification",),
            )
            project_id = project.id
        assert project_id is not None
        print(f"database: {runtime.engine.dialect.name}, data dir {data_dir}")

        first, _, summary = run_import(data_dir, project_id, images)
        print(f"first import:  {first:.1f}s, {args.count / first:.1f} items/s  [{summary}]")
        again, _, summary = run_import(data_dir, project_id, images)
        print(f"re-run (dups): {again:.1f}s, {args.count / again:.1f} items/s  [{summary}]")

        with runtime.session() as session:
            stored = session.exec(
                select(func.count()).select_from(Item).where(Item.project_id == project_id)
            ).one()
        runtime.close()
        print(f"items in the project: {stored} (expected {args.count})")
        if stored != args.count:
            sys.exit("item count does not match")
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
