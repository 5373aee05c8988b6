"""``/favicon.ico``: browsers ask for it at the site's root whatever a page links."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.response import File

__all__ = ["favicon"]

ICON = Path(__file__).parent / "static" / "favicon.ico"


@get("/favicon.ico", include_in_schema=False, cache=False)
async def favicon() -> File:
    return File(
        ICON,
        media_type="image/vnd.microsoft.icon",
        content_disposition_type="inline",
        headers={"Cache-Control": "public, max-age=86400"},
    )
