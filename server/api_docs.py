"""The API docs page (Swagger UI) from vendored files, so it works offline and under the CSP.

Litestar's own Swagger page loads its assets from a CDN and starts Swagger UI with an inline
script holding the whole schema; here the assets are ``static/swagger/`` (see its
VENDORED.txt) and the start-up code is ``static/swagger-init.js``, which fetches the schema.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import SwaggerRenderPlugin

__all__ = ["OfflineSwagger"]

ASSETS = "/static/swagger"


class OfflineSwagger(SwaggerRenderPlugin):
    def __init__(self) -> None:
        super().__init__(
            js_url=f"{ASSETS}/swagger-ui-bundle.js",
            css_url=f"{ASSETS}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            favicon="<link rel='icon' href='/favicon.ico'>",
            style="<link rel='stylesheet' href='/static/swagger-page.css'>",
        )

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """A page with no inline script: the schema's URL and the CSRF cookie and header names
        travel as data attributes to ``swagger-init.js``."""
        config = request.app.openapi_config
        schema_path = config.path if config is not None else "/schema"
        csrf = request.app.csrf_config
        title = escape(str(openapi_schema["info"]["title"]))
        attributes = {
            "data-schema-url": f"{schema_path.rstrip('/')}/openapi.json",
            "data-csrf-cookie": csrf.cookie_name if csrf and not csrf.cookie_httponly else "",
            "data-csrf-header": csrf.header_name if csrf else "",
        }
        data = " ".join(f'{name}="{escape(value)}"' for name, value in attributes.items())
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} API</title>
  {self.favicon}
  <link rel="stylesheet" href="{self.css_url}">
  {self.style}
  <script src="{self.js_url}"></script>
  <script src="/static/swagger-init.js" defer></script>
</head>
<body>
  <div id="swagger-container" {data}></div>
</body>
</html>""".encode()
