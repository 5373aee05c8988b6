"""The JSON API under /api/v1: everything the pages do, for scripts and SDKs."""

from litestar import Router

from .account import account_api
from .adjudication import adjudication_api
from .datasets import dataset_api
from .expansions import expansion_api
from .gold import gold_api
from .imports import import_api
from .items import item_api
from .jobs import job_api
from .labeling import labeling_api
from .members import member_api
from .models import model_api
from .plugins import plugin_api
from .projects import project_api
from .quality import quality_api
from .review import review_api
from .suggestions import suggestion_api
from .users import users_api

__all__ = ["api_router"]

api_router = Router(
    path="/api/v1",
    route_handlers=[
        *account_api,
        *project_api,
        *member_api,
        *item_api,
        *expansion_api,
        *job_api,
        *labeling_api,
        *review_api,
        *gold_api,
        *quality_api,
        *adjudication_api,
        *plugin_api,
        *dataset_api,
        *import_api,
        *model_api,
        *suggestion_api,
        *users_api,
    ],
)
