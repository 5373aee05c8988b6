"""Key to next item: how long an annotator waits, in Chromium, between the key that labels an
item and the next item fully shown.

    .venv/bin/python benchmarks/next_item.py [--items 500] [--labels 100] [--size 1024x768]
        [--think-ms 400]

A fresh SQLite data directory (Alembic-migrated like production) holds one image project,
classification (single-label, 3 categories), with ``--items`` JPEG images made with Pillow
(noise over a gradient, so they weigh what photos do: ~150-250 KB at 1024x768) ingested through
``uploads.ingest_files``, the path a user's files take; an annotator is its member. The app
runs as ``scholia serve`` runs it (``create_app`` in uvicorn, its own process).

Debian's Chromium (headless, through Playwright) signs the annotator in through the form,
opens ``/projects/{id}/label``, labels 10 items to warm up, then ``--labels`` items, each by
pressing ``1`` ``--think-ms`` after it was shown (a person looks at the image first: 400 ms
is a fast one; 0 presses at once, before the page had time to fetch anything ahead). The time
taken for each is measured inside the browser: an init script, run in every document the tab
loads, polls on every animation frame once a key was pressed, and stops the clock when the
page shows an item other than the one labeled (its id in the path), its image decoded
(``img[data-image]`` complete, with a width) and its editor mounted (``[data-editor-mounted]``).
The key's moment is ``Date.now()`` taken in the page just before the key is pressed; so the
figure holds the save, the page change (the next item opened in place, or a full page load
where it cannot be) and the image, and not Playwright's own round trips.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from export_dataset import runtime_for
from label_latency import percentile
from serving import served

PASSWORD = "bench password 123"
CLOCK = """
(() => {
  // Runs in every document of the tab (a full page load starts it again): once a key was
  // pressed (its time and the item it labeled are in sessionStorage), wait for another
  // item, drawn, with its editor ready.
  const itemOf = () => (location.pathname.match(/\\/label\\/(\\d+)$/) || [])[1] || null;
  function poll() {
    const pressed = sessionStorage.getItem("bench-pressed");
    if (pressed === null) return requestAnimationFrame(poll);
    const [at, from] = JSON.parse(pressed);
    const image = document.querySelector("img[data-image]");
    const shown = itemOf() !== null && itemOf() !== from && image && image.complete &&
      image.naturalWidth > 0 && document.querySelector("[data-editor-mounted]");
    if (!shown) return requestAnimationFrame(poll);
    sessionStorage.removeItem("bench-pressed");
    sessionStorage.setItem("bench-shown", JSON.stringify([Date.now() - at, itemOf()]));
    requestAnimationFrame(poll); // the page opens the next items in place: keep watching
  }
  requestAnimationFrame(poll);
})();
"""


def serve(data_dir: Path, port: int) -> None:
    import uvicorn

    from scholia.server.app import create_app

    uvicorn.run(create_app(runtime_for(data_dir)), host="127.0.0.1", port=port, log_level="warning")


def photo(index: int, width: int, height: int) -> bytes:
    """A JPEG that weighs what a photo does: a gradient under noise."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(index)
    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    base = np.stack([x + 0 * y, y + 0 * x, (x + y + index * 7) % 256], axis=-1)
    pixels = np.clip(base + rng.normal(0, 24, base.shape), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=85)
    return out.getvalue()


def build(data_dir: Path, items: int, width: int, height: int) -> tuple[int, int]:
    """The project and its images; returns (project id, bytes of images)."""
    from scholia.core import identity, membership, projects, uploads

    runtime = runtime_for(data_dir)
    with runtime.session() as session:
        admin = identity.create_user(
            session, username="bench-admin", password=PASSWORD, roles=("admin",)
        )
        annotator = identity.create_user(
            session, username="annotator", password=PASSWORD, roles=("annotator",)
        )
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=admin.id,  # type: ignore[arg-type]
            name="Next item benchmark",
            modality="image",
            annotation_types=["classification"],
            categories=("cat", "dog", "bird"),
        )
        project_id, admin_id = project.id, admin.id
        membership.add_member(session, project_id, annotator.id, "annotator", admin_id)  # type: ignore[arg-type]
    files = [(f"photo-{i:04d}.jpg", photo(i, width, height)) for i in range(items)]
    result = uploads.ingest_files(
        runtime,
        project_id,  # type: ignore[arg-type]
        [(name, io.BytesIO(data)) for name, data in files],
        actor_id=admin_id,  # type: ignore[arg-type]
    )
    assert len(result.created) == items, result.problems
    runtime.close()
    return project_id, sum(len(data) for _, data in files)  # type: ignore[return-value]


def label(page: Any, count: int, think_ms: int = 0) -> list[float]:
    """Press ``1`` on ``count`` items, ``think_ms`` after each is shown; the key-to-next-item
    time of each (ms)."""
    seen: list[float] = []
    for _ in range(count):
        time.sleep(think_ms / 1000)
        page.evaluate(
            """() => {
              sessionStorage.removeItem("bench-shown");
              const item = (location.pathname.match(/\\/label\\/(\\d+)$/) || [])[1] || null;
              sessionStorage.setItem("bench-pressed", JSON.stringify([Date.now(), item]));
            }"""
        )
        page.keyboard.press("1")
        deadline = time.monotonic() + 30
        while True:
            try:
                shown = page.evaluate("() => sessionStorage.getItem('bench-shown')")
            except Exception:  # the document changed under the call: ask the new one
                shown = None
            if shown:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"no next item shown after 30 s (at {page.url})")
            time.sleep(0.002)
        seen.append(float(json.loads(shown)[0]))
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--size", default="1024x768", help="image width x height")
    parser.add_argument(
        "--think-ms",
        type=int,
        default=400,
        help="how long the annotator looks at an item before the key (0: at once)",
    )
    parser.add_argument("--serve", nargs=2, metavar=("DATA_DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(Path(args.serve[0]), int(args.serve[1]))
    from playwright.sync_api import sync_playwright

    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="scholia-next-item-") as tmp:
        data_dir = Path(tmp)
        os.environ["SCHOLIA_DATABASE_URL"] = ""  # SQLite in the data directory
        started = time.perf_counter()
        project_id, weight = build(data_dir, args.items, width, height)
        print(
            f"{args.items} JPEGs of {width}x{height}, {weight / 1e6:.1f} MB, ingested in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        with (
            served([__file__, "--serve", str(data_dir)], env={**os.environ}) as base,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu"],
            )
            page = browser.new_page(base_url=base, viewport={"width": 1920, "height": 1080})
            page.add_init_script(CLOCK)
            page.goto("/sign-in")
            page.get_by_label("Username").fill("annotator")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/projects")
            page.goto(f"/projects/{project_id}/label")
            page.wait_for_selector("[data-editor-mounted]")
            load = os.getloadavg()[0]
            label(page, 10, args.think_ms)  # warm-up
            times = label(page, args.labels, args.think_ms)
            browser.close()
    print(
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()}; load average (1 min) at the start: {load:.2f}"
    )
    print("\n| labels | think ms | p50 ms | p95 ms | max ms | mean ms |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {len(times)} | {args.think_ms} | {statistics.median(times):.0f} "
        f"| {percentile(times, 0.95):.0f} "
        f"| {max(times):.0f} | {statistics.mean(times):.0f} |"
    )


if __name__ == "__main__":
    sys.exit(main())
