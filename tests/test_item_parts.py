"""Items made of several parts: files with roles and inline records, checked against the
modality's roles, probed part by part, identified by all their parts together."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient
from sqlmodel import select

from scholia.core import limits, parts
from scholia.core.contributions import InvalidContribution, Modality, PartRole
from scholia.core.hookspecs import hookimpl
from scholia.core.models import ItemPart
from scholia.core.plugins import Plugins, load_plugins
from scholia.core.runtime import Runtime

from .conftest import (
    DEFAULT_PLUGINS,
    EXAMPLE_PLUGINS,
    add_records,
    make_project,
    png_bytes,
    seed,
)
from .verse_plugin import VERSE


class Calibration(msgspec.Struct):
    sensor: str


def _points(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    if len(data) % 12:
        raise ValueError("points are three float32s each")
    return {"points": len(data) // 12}


def _thumbnail(path: Path, size: int) -> bytes:
    from PIL import Image

    with Image.open(path) as image:
        image.thumbnail((size, size))
        out = io.BytesIO()
        image.save(out, format="WEBP")
    return out.getvalue()


FRAME = Modality(
    name="frame",
    title="Sensor frame",
    media_types=(),
    extensions=(),
    probe=_points,
    thumbnail=_thumbnail,
    parts=(
        PartRole("points", media_types=("application/octet-stream",)),
        PartRole(
            "camera_front",
            required=False,
            media_types=("image/png",),
            probe=lambda p: {},
            preview=True,
        ),
        PartRole("calibration", kind="inline", schema=Calibration),
    ),
)


class FramePlugin:
    @hookimpl
    def register_modalities(self, register: Callable[[Modality], None]) -> None:
        register(FRAME)


@pytest.fixture
def plugins() -> Plugins:
    from . import verse_plugin

    return load_plugins(
        default_plugins=DEFAULT_PLUGINS,
        select=EXAMPLE_PLUGINS,
        extra=[verse_plugin, FramePlugin()],
    )


def _frame(api: TestClient[Any], project_id: int, **fields: Any) -> Any:
    return api.post(f"/api/v1/projects/{project_id}/items", files=list(fields.items()))


CAL = json.dumps({"sensor": "lidar"})
POINTS = ("cloud.bin", b"\0" * 24, "application/octet-stream")


def _full_frame(api: TestClient[Any], project_id: int) -> Any:
    """A frame with all three parts: points, the front camera's image, calibration."""
    return _frame(
        api,
        project_id,
        **{
            "parts.points": POINTS,
            "parts.camera_front": ("front.png", png_bytes(), "image/png"),
            "parts.calibration": (None, CAL),
        },
    )


def test_a_modality_declares_its_part_roles_and_they_are_checked() -> None:
    with pytest.raises(InvalidContribution, match="names a part role twice"):
        Modality(
            name="twice",
            title="Twice",
            media_types=(),
            extensions=(),
            probe=_points,
            parts=(PartRole("a"), PartRole("a", kind="inline")),
        ).check()
    with pytest.raises(InvalidContribution, match="'file' or 'inline'"):
        PartRole("a", kind="blob").check("m")  # type: ignore[arg-type]
    VERSE.check()


def test_an_item_of_files_and_inline_data_keeps_each_part_probed(
    api_for: Callable[..., TestClient[Any]], runtime: Runtime
) -> None:
    manager = api_for("manager")
    project = make_project(manager, modality="frame", annotation_types=["rating"])
    response = _full_frame(manager, project["id"])
    assert response.status_code == 201, response.text
    (item,) = response.json()["created"]
    assert [p["role"] for p in item["parts"]] == ["points", "camera_front", "calibration"]
    points, camera, calibration = item["parts"]
    assert points["meta"] == {"size": 24, "points": 2} and points["media_url"]
    assert camera["name"] == "front.png" and camera["media_type"] == "image/png"
    assert calibration["data"] == {"sensor": "lidar"} and calibration["media_url"] is None
    assert item["meta"]["parts"]["points"]["points"] == 2
    assert manager.get(points["media_url"]).content == b"\0" * 24
    assert manager.get(f"/api/v1/items/{item['id']}").json()["parts"] == item["parts"]


def test_the_same_parts_again_are_the_same_item_and_other_parts_another(
    api_for: Callable[..., TestClient[Any]],
) -> None:
    manager = api_for("manager")
    project = make_project(manager, modality="frame", annotation_types=["rating"])
    fields = {"parts.points": POINTS, "parts.calibration": (None, '{"sensor": "lidar"}')}
    first = _frame(manager, project["id"], **fields).json()["created"][0]
    again = _frame(manager, project["id"], **fields).json()
    assert (again["created"], again["existing"][0]["id"]) == ([], first["id"])
    other = {**fields, "parts.calibration": (None, '{"sensor": "radar"}')}
    assert _frame(manager, project["id"], **other).json()["created"][0]["id"] != first["id"]


@pytest.mark.parametrize(
    ("fields", "path", "says"),
    [
        ({"parts.calibration": (None, '{"sensor": "x"}')}, "$.parts.points", "required"),
        ({"parts.points": POINTS}, "$.parts.calibration", "required"),
        ({"parts.points": POINTS, "parts.radar": POINTS}, "$.parts.radar", "no part role"),
        (
            {"parts.points": ("a.png", png_bytes(), "image/png"), "parts.calibration": (None, CAL)},
            "$.parts.points",
            "takes application/octet-stream",
        ),
        (
            {"parts.points": POINTS, "parts.calibration": (None, '{"sensor": 3}')},
            "$.parts.calibration.sensor",
            "Expected `str`",
        ),
        (
            {"parts.points": ("p.bin", b"\0" * 5, None), "parts.calibration": (None, CAL)},
            "$.parts.points",
            "three float32s",
        ),
    ],
)
def test_a_bad_part_is_refused_by_its_path_and_nothing_is_kept(
    api_for: Callable[..., TestClient[Any]],
    runtime: Runtime,
    fields: dict[str, Any],
    path: str,
    says: str,
) -> None:
    manager = api_for("manager")
    project = make_project(manager, modality="frame", annotation_types=["rating"])
    response = _frame(manager, project["id"], **fields)
    assert response.status_code in (400, 422), response.text
    assert path in response.text and says in response.text
    with runtime.session() as session:
        assert session.exec(select(ItemPart)).all() == []


def test_records_are_added_as_json_all_or_none(
    api_for: Callable[..., TestClient[Any]],
) -> None:
    manager = api_for("manager")
    project = make_project(
        manager, modality="verse", annotation_types=["phrase"], categories=["name"]
    )
    created = add_records(
        manager, project["id"], {"name": "one", "parts": {"text": {"text": "Sing, O muse"}}}
    )
    assert created[0]["parts"][0]["data"] == {"text": "Sing, O muse", "source": ""}
    assert created[0]["meta"]["parts"]["text"]["length"] == 12
    url = f"/api/v1/projects/{project['id']}/records"
    too_big = "x" * (limits.INLINE_PART_MAX + 1)
    for records, path in [
        ([{"parts": {"text": {"text": "fine"}}}, {"parts": {}}], "$.records[1].parts.text"),
        ([{"parts": {"text": {"text": "a"}, "audio": 1}}], "$.records[0].parts.audio"),
        ([{"parts": {"text": {"text": too_big}}}], "$.records[0].parts.text"),
        ([{"parts": {"text": {"text": "   "}}}], "$.records[0].parts.text"),
    ]:
        response = manager.post(url, json={"records": records})
        assert response.status_code in (400, 422) and path in response.text, response.text
    again = manager.post(url, json={"records": [{"parts": {"text": {"text": "Sing, O muse"}}}]})
    assert again.json()["existing"][0]["id"] == created[0]["id"]
    listed = manager.get(f"/api/v1/projects/{project['id']}/items").json()["items"]
    assert [i["name"] for i in listed] == ["one"]


def test_files_to_a_project_of_parts_and_parts_to_one_of_files_are_refused(
    api_for: Callable[..., TestClient[Any]], runtime: Runtime
) -> None:
    manager = api_for("manager")
    verses = make_project(manager, modality="verse", annotation_types=["phrase"])
    response = manager.post(
        f"/api/v1/projects/{verses['id']}/items", files=[("files", ("a.png", png_bytes()))]
    )
    assert "not verse media" in response.text or response.json()["errors"], response.text
    _, images, _ = seed(runtime)
    with runtime.session() as session, pytest.raises(Exception, match="not of parts"):
        parts.ingest_parts(
            session,
            runtime.store,
            runtime.plugins,
            images,
            parts.NewItem(inline={"text": {"text": "a"}}),
            actor_id=1,
        )


def test_scholia_import_reads_records_of_parts_from_json_lines(
    api_for: Callable[..., TestClient[Any]],
    runtime: Runtime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``scholia import`` into a modality of parts: a JSON Lines record a line, file parts by
    path beside the file; a bad line is refused with its line and the part's path, the rest go
    in, and running it again finds them."""
    from click.testing import CliRunner

    from scholia.server import cli

    api_for("admin")  # the import acts as the first admin
    manager = api_for("manager")
    project = make_project(manager, modality="frame", annotation_types=["rating"])
    (tmp_path / "cloud.bin").write_bytes(b"\0" * 36)
    records = tmp_path / "frames.jsonl"
    good = {"name": "f1", "parts": {"points": "cloud.bin", "calibration": {"sensor": "lidar"}}}
    records.write_text(
        "\n".join(
            [
                json.dumps(good),
                json.dumps({"parts": {"calibration": {"sensor": "lidar"}}}),  # no points
                '{"parts": ',
                json.dumps({"parts": {"points": "missing.bin", "calibration": {"sensor": "x"}}}),
                "",
            ]
        )
    )
    monkeypatch.setattr(cli, "_runtime", lambda data_dir: runtime)

    def run(*args: str) -> Any:
        return CliRunner().invoke(cli.main, ["import", str(project["id"]), *args])

    first = run(str(records))
    assert first.exit_code == 1, first.output
    assert "added: 1 · already in the project: 0 · refused: 3" in first.output
    assert "frames.jsonl:2:" in first.output and "(at $.parts.points)" in first.output
    assert "frames.jsonl:3: not a JSON record" in first.output
    assert "frames.jsonl:4: 'missing.bin' cannot be opened" in first.output
    listed = manager.get(f"/api/v1/projects/{project['id']}/items").json()
    (item,) = listed["items"]
    made_of = manager.get(f"/api/v1/items/{item['id']}").json()["parts"]
    assert [(p["role"], p["meta"].get("points")) for p in made_of] == [
        ("points", 3),
        ("calibration", None),
    ]

    records.write_text(json.dumps(good) + "\n")
    again = run(str(records))
    assert again.exit_code == 0, again.output
    assert "added: 0 · already in the project: 1 · refused: 0" in again.output
    not_records = run(str(tmp_path / "cloud.bin"))
    assert not_records.exit_code == 2 and "give .jsonl files of records" in not_records.output


def test_lists_show_an_item_of_parts_by_its_preview_part_or_a_neutral_tile(
    api_for: Callable[..., TestClient[Any]], runtime: Runtime
) -> None:
    """The thumbnail of a frame is its modality's drawing of the ``preview`` role's file (the
    camera image), not of the parts list the item is stored as; without one, a neutral tile."""
    from PIL import Image

    from scholia.core.models import Item
    from scholia.server.media import media_url

    manager = api_for("manager")
    project = make_project(manager, modality="frame", annotation_types=["rating"])
    shown = _full_frame(manager, project["id"]).json()["created"][0]
    bare = _frame(
        manager,
        project["id"],
        **{"parts.points": ("other.bin", b"\1" * 12, "application/octet-stream")},
        **{"parts.calibration": (None, CAL)},
    ).json()["created"][0]
    with runtime.reading() as session:
        hashes = {i.id: i.content_hash for i in session.exec(select(Item))}
    secret = runtime.settings.secret_key
    drawn = manager.get(media_url(secret, hashes[shown["id"]], "thumb"))
    assert drawn.status_code == 200 and drawn.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(drawn.content)) as image:
        assert image.format == "WEBP" and max(image.size) <= 256
    tile = manager.get(media_url(secret, hashes[bare["id"]], "thumb"))
    assert tile.status_code == 200 and tile.headers["content-type"].startswith("image/svg+xml")
