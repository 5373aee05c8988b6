"""Reading images cheaply: size and format from the header, thumbnails, clear refusals.

Probing reads only the header (Pillow opens lazily), so width and height cost no decode.
A file that starts like an image but cannot be read is reported as damaged or truncated;
anything else as not an image.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

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


def _looks_like(path: Path) -> str | None:
    """The format a file's first bytes announce, if any."""
    with path.open("rb") as file:
        head = file.read(8)
    return next((name for magic, name in SIGNATURES.items() if head.startswith(magic)), None)


def probe(path: Path) -> dict[str, Any]:
    """Width, height and format from the header; raises ValueError for unreadable files."""
    try:
        with Image.open(path) as image:
            width, height = image.size
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        announced = _looks_like(path)
        if announced is None:
            raise ValueError("not an image (its first bytes match no image format)") from None
        detail = "" if isinstance(error, UnidentifiedImageError) else f" ({error})"
        raise ValueError(f"damaged or truncated {announced} file{detail}") from None
    return {"width": width, "height": height, "format": image_format}


def thumbnail(path: Path, size: int) -> bytes:
    """A WebP thumbnail at most ``size`` pixels on its long side."""
    with Image.open(path) as image:
        image.draft("RGB", (size, size))
        image = image.convert("RGB")
        image.thumbnail((size, size))
        out = io.BytesIO()
        image.save(out, format="WEBP", quality=80)
        return out.getvalue()
