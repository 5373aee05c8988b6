"""The account page: API tokens for scripts (created, listed, revoked)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath
from litestar.response import Redirect
from sqlmodel import col, select

from scholia.core import identity
from scholia.core.errors import InvalidInput
from scholia.core.models import ApiToken

from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page
from .forms import Form, value

__all__ = ["account_pages"]


def _tokens(request: Request[Any, Any, Any]) -> list[ApiToken]:
    with runtime_of(request).session() as session:
        return list(
            session.exec(
                select(ApiToken)
                .where(col(ApiToken.user_id) == user_of(request).id)
                .order_by(col(ApiToken.id).desc())
            )
        )


@get("/account")
def account(request: Request[Any, Any, Any]) -> Response[Any]:
    return page(request, "account.html", tokens=_tokens(request), new_token=None)


@post("/account/tokens")
def create_token(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    try:
        with runtime_of(request).session() as session:
            _, raw = identity.create_api_token(session, user_of(request), value(data, "name"))
    except InvalidInput as error:
        return page(
            request,
            "account.html",
            status_code=422,
            tokens=_tokens(request),
            new_token=None,
            error=error.reason,
        )
    return page(request, "account.html", tokens=_tokens(request), new_token=raw)


@post("/account/tokens/{token_id:int}/revoke")
def revoke_token(request: Request[Any, Any, Any], token_id: FromPath[int]) -> Response[Any]:
    with runtime_of(request).session() as session:
        token = identity.revoke_api_token(session, user_of(request), token_id)
    return flash(Redirect("/account"), f"Token “{token.name}” revoked.")


account_pages = [account, create_token, revoke_token]
