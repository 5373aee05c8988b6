"""`scholia import` of videos into an image project: each video split into frames here, with
the options given; the same command again adds nothing; a truncated video keeps its frames,
is reported, and is retried by the next run."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import col, select

from scholia.core.models import Expansion, Item
from scholia.core.runtime import Runtime

from ..test_import_cli import make_project, run
from . import clips


def frames(runtime: Runtime, project_id: int) -> list[int]:
    with runtime.session() as session:
        found = session.exec(select(Item).where(col(Item.project_id) == project_id)).all()
        return sorted(i.provenance["frame_index"] for i in found)


def test_videos_are_split_into_frames_by_the_options_given(
    runtime: Runtime, tmp_path: Path
) -> None:
    _, project_id = make_project(runtime)
    folder = tmp_path / "clips"
    folder.mkdir()
    clips.constant_rate(folder / "street.mp4", seconds=1, rate=25)
    (folder / "notes.txt").write_text("not a video")
    result = run(
        runtime, str(project_id), str(folder), "--option", "mode=count", "--option", "count=5"
    )
    assert result.exit_code == 0, result.output
    assert "skipped: 1 not image files" in result.output
    assert "street.mp4: 5 items · 5 new · 0 already in the project" in result.output
    assert frames(runtime, project_id) == [0, 5, 10, 15, 20]
    again = run(
        runtime, str(project_id), str(folder), "--option", "mode=count", "--option", "count=5"
    )
    assert again.exit_code == 0, again.output
    assert "street.mp4: split already (5 items)" in again.output
    assert frames(runtime, project_id) == [0, 5, 10, 15, 20]


def test_a_truncated_video_is_reported_keeps_its_frames_and_is_retried(
    runtime: Runtime, tmp_path: Path
) -> None:
    _, project_id = make_project(runtime)
    whole = clips.variable_rate(tmp_path / "whole.mkv", frames=40)
    cut = clips.truncated(whole, tmp_path / "cut.mkv", keep=0.6)
    result = run(runtime, str(project_id), str(cut), "--option", "mode=all")
    assert result.exit_code == 1, result.output
    assert "Refused 1 file" in result.output and "truncated" in result.output
    kept = frames(runtime, project_id)
    assert kept == list(range(len(kept))) and 0 < len(kept) < 40
    again = run(runtime, str(project_id), str(cut), "--option", "mode=all")
    assert again.exit_code == 1
    assert "already in the project" in again.output
    assert frames(runtime, project_id) == kept
    with runtime.session() as session:
        (expansion,) = session.exec(select(Expansion)).all()
        assert expansion.status == "failed" and expansion.existing == len(kept)


def test_a_bad_option_is_a_usage_error_or_a_refusal(runtime: Runtime, tmp_path: Path) -> None:
    _, project_id = make_project(runtime)
    clip = clips.constant_rate(tmp_path / "street.mp4", seconds=0.4, rate=25)
    usage = run(runtime, str(project_id), str(clip), "--option", "count")
    assert usage.exit_code == 2 and "--option takes KEY=VALUE" in usage.output
    refused = run(
        runtime, str(project_id), str(clip), "--option", "count=0", "--option", "mode=count"
    )
    assert refused.exit_code == 1
    assert "Expected `int` >= 1" in refused.output
    assert frames(runtime, project_id) == []
