"""``storage.Placer``: an export's links made on a worker thread still fail as ``place`` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from scholia.core.storage import Placer


def _sources(folder: Path, count: int) -> list[Path]:
    folder.mkdir()
    made = []
    for n in range(count):
        path = folder / f"{n}.bin"
        path.write_bytes(f"file {n}".encode())
        made.append(path)
    return made


def test_places_every_file_making_folders_as_needed(tmp_path: Path) -> None:
    sources = _sources(tmp_path / "store", 3 * Placer.BATCH + 7)
    with Placer() as placer:
        for n, source in enumerate(sources):
            placer.place(source, f"{tmp_path}/out/{n % 3}/{source.name}")
        placer.place(sources[0], tmp_path / "out" / "0" / sources[0].name)  # again: a no-op
    placed = sorted((tmp_path / "out").rglob("*.bin"))
    assert len(placed) == len(sources)
    assert all(p.read_bytes() == (tmp_path / "store" / p.name).read_bytes() for p in placed)
    assert (tmp_path / "out" / "1" / "1.bin").stat().st_ino == sources[1].stat().st_ino


def test_a_different_file_at_a_target_fails_the_export(tmp_path: Path) -> None:
    sources = _sources(tmp_path / "store", Placer.BATCH * 2)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "5.bin").write_bytes(b"someone else's file")
    with pytest.raises(FileExistsError), Placer() as placer:
        for source in sources:
            placer.place(source, tmp_path / "out" / source.name)
    assert (tmp_path / "out" / "5.bin").read_bytes() == b"someone else's file"


def test_a_missing_source_fails_the_export(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), Placer() as placer:
        placer.place(tmp_path / "not-there", tmp_path / "out" / "x")


def test_leaving_by_an_error_stops_the_worker_and_keeps_the_error(tmp_path: Path) -> None:
    sources = _sources(tmp_path / "store", Placer.BATCH + 1)
    with pytest.raises(RuntimeError, match="the format failed"), Placer() as placer:
        for source in sources:
            placer.place(source, tmp_path / "out" / source.name)
        raise RuntimeError("the format failed")
    assert not (tmp_path / "out" / sources[-1].name).exists()  # the last batch was dropped
