"""Placing a version's media in an export: the core's ``place`` (hard links where the filesystem
allows, else copies; the same file placed twice is placed once), and its ``Placer`` for a
whole version's files (the links made on a worker thread while the format writes its files)."""

from __future__ import annotations

from scholia.core.storage import Placer, place

__all__ = ["Placer", "place"]
