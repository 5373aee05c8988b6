"""Placing a version's media in an export: the core's ``place`` (hard links where the filesystem
allows, else copies; the same file placed twice is placed once)."""

from __future__ import annotations

from scholia.core.storage import place

__all__ = ["place"]
