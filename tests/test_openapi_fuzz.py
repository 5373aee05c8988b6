"""The API keeps to its own OpenAPI schema: schemathesis, run against the live app on this
test's database, finds no server error and no answer that contradicts the schema (status
codes, error bodies, response shapes, `Allow` on 405).

Bounded: a few examples per operation, so it fits the suite. Revoking tokens is left out (the
run would sign itself out halfway).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from tests.conftest import png_bytes

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("st")


def test_the_api_answers_as_its_openapi_schema_says(
    live_server: str, api_for: Callable[..., TestClient[Any]]
) -> None:
    admin = api_for("admin")
    created = admin.post(
        "/api/v1/projects",
        json={
            "name": "Fuzzed",
            "modality": "image",
            "annotation_types": ["rating"],
            "categories": ["cat", "dog"],
        },
    )
    assert created.status_code == 201, created.text
    uploaded = admin.post(
        f"/api/v1/projects/{created.json()['id']}/items",
        files=[("files", ("red.png", png_bytes(), "image/png"))],
    )
    assert uploaded.status_code == 201, uploaded.text

    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(CONFIG),
            "run",
            f"{live_server}/api/v1/schema/openapi.json",
            "--header",
            f"Authorization: {admin.headers['Authorization']}",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "3",
            "--workers",
            "1",
            "--seed",
            "20261207",
            "--exclude-operation-id-regex",
            "RevokeToken",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = run.stdout[-12_000:] + run.stderr[-2_000:]
    assert run.returncode == 0, report
