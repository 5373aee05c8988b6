"""Reading images safely: size and format, a full decode to catch damage, thumbnails, clear
refusals.

Probing reads the header first (Pillow opens lazily), so an image over the pixel limit is
refused before a byte of it is decoded: a 30000×30000 PNG compresses to a few kilobytes and
would decode to gigabytes. An image within the limit is then decoded in full, because only a
decode finds a file cut short (a truncated JPEG's header is whole). A file that starts like an
image but cannot be read is reported as damaged or truncated; anything else as not an image.

The limit is ``SCHOLIA_MAX_IMAGE_PIXELS`` (default 100 megapixels), read when the plugin loads.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

__all__ = ["EXTENSIONS", "MAX_PIXELS", "MEDIA_TYPES", "TooLarge", "probe", "thumbnail"]

MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp", "image/tiff")
EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")
SIGNATURES = {
    b"\x89PNG": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF8": "GIF",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"RIFF": "WebP",
}
MAX_PIXELS = int(os.environ.get("SCHOLIA_MAX_IMAGE_PIXELS") or 100_000_000)
"""The most pixels (width × height) an image may have; larger ones are refused by name."""
BOMB_SIZE = re.compile(r"\((\d+) pixels\)")


def _looks_like(path: Path) -> str | None:
    """The format a file's first bytes announce, if any."""
    with path.open("rb") as file:
        head = file.read(8)
    return next((name for magic, name in SIGNATURES.items() if head.startswith(magic)), None)


class TooLarge(ValueError):
    """More pixels than ``MAX_PIXELS``: refused before decoding."""


def _too_large(pixels: int, size: str = "") -> TooLarge:
    return TooLarge(
        f"too large: {size}{pixels / 1e6:,.1f} megapixels, over the limit of "
        f"{MAX_PIXELS / 1e6:,.0f} megapixels; scale it down and upload it again"
    )


def _open(path: Path) -> Image.Image:
    """The image, header read; refused (ValueError) when it has more pixels than the limit."""
    try:
        image = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow's own guard (a warning raised as an error under strict warning filters).
        found = BOMB_SIZE.search(str(error))
        raise _too_large(int(found.group(1)) if found else MAX_PIXELS + 1) from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise _too_large(width * height, f"{width}×{height} pixels, ")
    return image


def probe(path: Path) -> dict[str, Any]:
    """Width, height and format; raises ValueError for a file too large, damaged, truncated or
    not an image."""
    try:
        with _open(path) as image:
            width, height = image.size
            image_format = image.format
            image.verify()  # checksums (a PNG's CRCs), without decoding
        with Image.open(path) as image:
            image.load()  # every pixel: a file cut short fails here
    except TooLarge:
        raise
    except Exception as error:  # Pillow reports damage in many ways (OSError, SyntaxError…)
        raise _damaged(path, error) from None
    return {"width": width, "height": height, "format": image_format}


def _damaged(path: Path, error: Exception) -> ValueError:
    announced = _looks_like(path)
    if announced is None:
        return ValueError("not an image (its first bytes match no image format)")
    detail = "" if isinstance(error, UnidentifiedImageError) else f" ({error})"
    return ValueError(f"damaged or truncated {announced} file{detail}")


def thumbnail(path: Path, size: int) -> bytes:
    """A WebP thumbnail at most ``size`` pixels on its long side; ValueError when the file
    cannot be drawn (kept before the checks above existed, or damaged since)."""
    try:
        with _open(path) as image:
            image.draft("RGB", (size, size))
            image = image.convert("RGB")
            image.thumbnail((size, size))
            out = io.BytesIO()
            image.save(out, format="WEBP", quality=80)
            return out.getvalue()
    except TooLarge:
        raise
    except Exception as error:
        raise _damaged(path, error) from None
