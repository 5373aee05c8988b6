"""Server-rendered pages: a module per area, each thin over the core services."""

from litestar import Router

from ..metrics import metrics_handlers
from .account import account_pages
from .adjudication import adjudication_pages
from .auth import auth_pages
from .calibration import calibration_pages
from .categories import category_pages
from .datasets import dataset_pages
from .expansions import expansion_pages
from .gold import gold_pages
from .items import item_pages
from .label import label_pages
from .members import member_pages
from .models import model_pages
from .plugins import plugin_pages
from .projects import project_pages
from .quality import quality_pages
from .review import review_pages
from .security import security_pages
from .settings import settings_pages
from .users import user_pages

__all__ = ["page_router"]

# One router, so handlers that share a path (GET and POST /sign-in) are registered together.
# Pages are HTML for people; the OpenAPI schema documents the JSON API only.
page_router = Router(
    path="/",
    include_in_schema=False,
    route_handlers=[
        *auth_pages,
        *project_pages,
        *expansion_pages,
        *category_pages,
        *dataset_pages,
        *review_pages,
        *quality_pages,
        *metrics_handlers,  # /metrics: Prometheus text, outside /api/v1 (see server/metrics.py)
        *adjudication_pages,
        *item_pages,
        *label_pages,
        *gold_pages,
        *calibration_pages,
        *plugin_pages,
        *account_pages,
        *settings_pages,
        *member_pages,
        *model_pages,
        *user_pages,
        *security_pages,
    ],
)
