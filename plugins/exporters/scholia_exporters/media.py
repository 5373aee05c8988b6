"""Placing a version's media in an export: hard links where the filesystem allows, else copies."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
