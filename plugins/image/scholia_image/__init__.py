"""scholia-image: images as items — which files, how to probe them, thumbnails.

Probing reads only the header (Pillow opens lazily), so width and height cost no decode; a
truncated or corrupt file is caught by ``verify()`` and reported with the reason.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from scholia.core.contributions import Modality
from scholia.core.hookspecs import hookimpl

MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp", "image/tiff")
EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")


def probe(path: Path) -> dict[str, Any]:
    """Width, height and format from the header; raises ValueError for unreadable files."""
    try:
        with Image.open(path) as image:
            width, height = image.size
            image_format = image.format
            image.verify()
    except UnidentifiedImageError:
        raise ValueError("not an image Pillow can read") from None
    except (OSError, SyntaxError) as error:
        raise ValueError(f"damaged image ({error})") from None
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


@hookimpl
def register_modalities(register):  # type: ignore[no-untyped-def]
    register(
        Modality(
            name="image",
            title="Image",
            media_types=MEDIA_TYPES,
            extensions=EXTENSIONS,
            probe=probe,
            thumbnail=thumbnail,
        )
    )
