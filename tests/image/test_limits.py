"""scholia-image against hostile files: decompression bombs are refused by name before they
are decoded (the rest of the batch goes on), truncated images are refused at upload, and a
thumbnail that cannot be made is a clear 4xx, never a 500."""

from __future__ import annotations

import importlib
import io
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlmodel import select

from scholia.core.models import Blob
from scholia.core.runtime import Runtime
from scholia.server.media import media_url

from ..conftest import bomb_png, png_bytes, truncated_jpeg

probe = importlib.import_module("scholia_image.probe")  # the module, not the function


def upload(project: dict[str, Any], *files: tuple[str, bytes, str]) -> Any:
    return project["manager"].post(
        f"/api/v1/projects/{project['id']}/items",
        files=[("files", file) for file in files],
    )


def test_a_batch_with_bombs_keeps_the_good_files_and_names_each_bomb(
    project: dict[str, Any], runtime: Runtime
) -> None:
    response = upload(
        project,
        ("good-1.png", png_bytes(colour=(1, 2, 3)), "image/png"),
        ("bomb-30k.png", bomb_png(30000, 30000), "image/png"),
        ("good-2.png", png_bytes(colour=(4, 5, 6)), "image/png"),
        ("bomb-20k.png", bomb_png(20000, 20000), "image/png"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert sorted(i["name"] for i in body["created"]) == ["good-1.png", "good-2.png"]
    problems = {p["file"]: p["message"] for p in body["errors"]}
    assert set(problems) == {"bomb-30k.png", "bomb-20k.png"}
    assert "too large" in problems["bomb-30k.png"]
    assert "900.0 megapixels" in problems["bomb-30k.png"]
    assert "400.0 megapixels" in problems["bomb-20k.png"]
    assert "limit of 100 megapixels" in problems["bomb-20k.png"]
    with runtime.session() as session:
        assert len(session.exec(select(Blob)).all()) == 2


def test_a_bomb_is_refused_from_its_header_without_decoding(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(bomb_png(30000, 30000))
    started = time.perf_counter()
    with pytest.raises(ValueError, match="too large"):
        probe.probe(bomb)
    assert time.perf_counter() - started < 1.0, "refused before decoding 900 megapixels"


def test_the_pixel_limit_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = tmp_path / "wide.png"
    image.write_bytes(bomb_png(3000, 1000))
    assert probe.probe(image)["width"] == 3000
    monkeypatch.setattr(probe, "MAX_PIXELS", 2_000_000)
    with pytest.raises(ValueError, match=r"3000×1000 pixels, 3.0 megapixels, over the limit of 2"):
        probe.probe(image)


def test_a_truncated_jpeg_is_refused_at_upload(project: dict[str, Any], runtime: Runtime) -> None:
    response = upload(
        project,
        ("cut.jpg", truncated_jpeg(), "image/jpeg"),
        ("whole.png", png_bytes(), "image/png"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert [i["name"] for i in body["created"]] == ["whole.png"]
    (problem,) = body["errors"]
    assert problem["file"] == "cut.jpg"
    assert "damaged or truncated JPEG" in problem["message"]


def test_a_whole_jpeg_is_still_accepted(project: dict[str, Any]) -> None:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (9, 90, 200)).save(out, format="JPEG")
    response = upload(project, ("whole.jpg", out.getvalue(), "image/jpeg"))
    assert response.status_code == 201, response.text
    assert response.json()["created"][0]["meta"]["width"] == 64


def test_a_thumbnail_that_cannot_be_made_is_a_clear_4xx(
    project: dict[str, Any], item: dict[str, Any], runtime: Runtime
) -> None:
    # The stored file was damaged after it was accepted (or kept before the checks existed).
    stored = runtime.store.path(item["content_hash"])
    stored.chmod(0o644)
    stored.write_bytes(truncated_jpeg())
    url = media_url(runtime.settings.secret_key, item["content_hash"], "thumb")
    response = project["manager"].get(url)
    assert 400 <= response.status_code < 500, response.text
    assert "thumbnail" in response.text and "damaged or truncated" in response.text
