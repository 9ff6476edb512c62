"""REST resources for API tokens: list, create (the secret is shown once) and delete."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints

from kenkogo_master.api import openapi_shapes as shapes
from kenkogo_master.api.answers import answers
from kenkogo_master.api.auth import token_of
from kenkogo_master.api.json import body_model
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.keys import TOKENS
from kenkogo_master.store.tokens import Scope

routes = web.RouteTableDef()


class TokenCreate(BaseModel):
    """Body of POST /api/v1/tokens."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    scope: Scope = Scope.READ


def require_admin(request: web.Request) -> None:
    """Refuse callers whose token lacks the admin scope, even for reads."""
    if token_of(request).scope is not Scope.ADMIN:
        raise HubError(ErrorCode.FORBIDDEN, scope=Scope.ADMIN.value)


@routes.get("/api/v1/tokens")
@answers(shapes.ApiTokenList)
async def list_tokens(request: web.Request) -> shapes.ApiTokenList:
    """List stored tokens with their scope and last use; never their secrets."""
    require_admin(request)
    items = [shapes.ApiToken(**row) for row in await request.app[TOKENS].listing()]
    return shapes.ApiTokenList(items=items, count=len(items))


@routes.post("/api/v1/tokens")
@answers(shapes.NewApiToken, status=201)
async def create_token(request: web.Request) -> shapes.NewApiToken:
    """Create a token; the answer is the only time its secret is shown."""
    require_admin(request)
    body = await body_model(request, TokenCreate)
    tokens = request.app[TOKENS]
    info, secret = await tokens.create(body.name, body.scope)
    item = next(row for row in await tokens.listing() if row["id"] == info.id)
    return shapes.NewApiToken(**item, token=secret)


@routes.delete("/api/v1/tokens/{id}")
@answers(shapes.Deleted)
async def delete_token(request: web.Request) -> shapes.Deleted:
    """Delete a stored token; it stops working at once."""
    require_admin(request)
    token_id = request.match_info["id"]
    if not await request.app[TOKENS].delete(token_id):
        raise HubError(ErrorCode.NOT_FOUND, what="token", id=token_id)
    return shapes.Deleted(id=token_id, deleted=True)
