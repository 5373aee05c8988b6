"""API: who am I, and my API tokens."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.params import FromPath, JSONBody
from sqlmodel import col, select

from scholia.core import identity
from scholia.core.models import ApiToken

from ..routing import delete, get, post, runtime_of, user_of
from .schemas import MeOut, TokenCreated, TokenIn, TokenOut

__all__ = ["account_api"]


@get("/me")
def me(request: Request[Any, Any, Any]) -> MeOut:
    return MeOut.of(user_of(request))


@get("/tokens")
def list_tokens(request: Request[Any, Any, Any]) -> list[TokenOut]:
    with runtime_of(request).session() as session:
        found = session.exec(
            select(ApiToken)
            .where(col(ApiToken.user_id) == user_of(request).id)
            .order_by(col(ApiToken.id))
        )
        return [TokenOut.of(t) for t in found]


@post("/tokens")
def create_token(request: Request[Any, Any, Any], data: JSONBody[TokenIn]) -> TokenCreated:
    with runtime_of(request).session() as session:
        token, raw = identity.create_api_token(session, user_of(request), data.name)
        return TokenCreated(token=raw, details=TokenOut.of(token))


@delete("/tokens/{token_id:int}", status_code=200)
def revoke_token(request: Request[Any, Any, Any], token_id: FromPath[int]) -> TokenOut:
    with runtime_of(request).session() as session:
        return TokenOut.of(identity.revoke_api_token(session, user_of(request), token_id))


account_api = [me, list_tokens, create_token, revoke_token]
