"""The Litestar application factory."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from scholia.core import __version__
from scholia.core.contributions import Route
from scholia.core.runtime import Runtime
from scholia.core.settings import Settings

from .access import AccessTable, access_guard
from .api import api_router
from .api_docs import OfflineSwagger
from .auth import AuthMiddleware, BearerAwareCSRFMiddleware
from .background import StallWatch, jobs_of
from .errors import exception_handlers
from .favicon import favicon
from .followups import after_response
from .health import health_handlers
from .input_limits import InputLimitsMiddleware
from .openapi import TruthfulJsonRenderPlugin, allow_every_method
from .pages import page_router
from .security_headers import add_security_headers
from .templating import build_environment

__all__ = ["DEFAULT_PLUGINS", "create_app"]

STATIC = Path(__file__).parent / "static"
DEFAULT_PLUGINS = ("scholia.server.defaults",)


def create_app(
    runtime: Runtime | None = None,
    *,
    link_sign_in: bool = False,
    watch_stalled: float | None = None,
) -> Litestar:
    """Build the app around ``runtime`` (by default: settings from the environment, installed
    plugins as ``SCHOLIA_LOAD_PLUGINS`` selects, schema migrated). With ``watch_stalled`` (a
    period in seconds, as ``scholia serve`` gives), stalled jobs are resumed from startup on."""
    if runtime is None:
        runtime = Runtime.open(Settings.from_env(), default_plugins=DEFAULT_PLUGINS)
    plugins = runtime.plugins
    static_routers: list[Any] = [
        create_static_files_router(
            path="/static", directories=[STATIC], name="static", send_as_attachment=False
        )
    ]
    for info in plugins.loaded:
        if info.static_dir is not None and info.static_dir != STATIC:
            static_routers.append(
                create_static_files_router(
                    path=f"/static/plugins/{info.name}",
                    directories=[info.static_dir],
                    name=f"static-{info.name}",
                )
            )
    plugin_routes = [route.handler for route in plugins.all(Route)]
    access = AccessTable(
        {
            (method, path): route.access
            for route in plugins.all(Route)
            if route.access is not None
            for path in _path_formats(route.handler)
            for method in route.handler.http_methods
        }
    )
    csrf = CSRFConfig(
        secret=runtime.settings.secret_key,
        cookie_name="scholia_csrf",
        header_name="x-csrftoken",
        cookie_samesite="lax",
    )
    app = Litestar(
        route_handlers=[
            *health_handlers,
            favicon,
            page_router,
            api_router,
            *static_routers,
            *plugin_routes,
        ],
        middleware=[
            after_response(runtime),
            AuthMiddleware,
            DefineMiddleware(BearerAwareCSRFMiddleware, config=csrf),
            InputLimitsMiddleware(),
        ],
        guards=[access_guard],
        template_config=TemplateConfig(
            engine=JinjaTemplateEngine.from_environment(build_environment(plugins))
        ),
        plugins=[HTMXPlugin()],
        exception_handlers=exception_handlers,
        openapi_config=OpenAPIConfig(
            title="Scholia",
            version=__version__,
            path="/api/v1/schema",
            render_plugins=[OfflineSwagger(), TruthfulJsonRenderPlugin()],
        ),
        request_max_body_size=runtime.settings.max_upload_bytes,
        state={"runtime": runtime, "link_sign_in": link_sign_in, "access": access},
        before_send=[add_security_headers, allow_every_method],
        on_shutdown=[runtime.close],
    )
    if watch_stalled is not None:
        watch = StallWatch(jobs_of(app.state, runtime), every=watch_stalled)
        app.on_startup.append(watch.start)
        app.on_shutdown.insert(0, watch.stop)  # before the runtime closes under it
    return app


def _path_formats(handler: Any) -> list[str]:
    """A handler's paths as the router's templates name them (``{name}``, without types)."""
    return [re.sub(r"{(\w+):[^}]*}", r"{\1}", path) for path in handler.paths]
