"""REST resources for drivers and their tokens (admin scope throughout)."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints

from kenkogo_master.api import openapi_shapes as shapes
from kenkogo_master.api.answers import answers
from kenkogo_master.api.auth import token_of
from kenkogo_master.api.json import body_model
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.keys import DRIVER_TOKENS, HUB
from kenkogo_master.store.tokens import Scope

routes = web.RouteTableDef()


class DriverTokenCreate(BaseModel):
    """Body of POST /api/v1/driver-tokens."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def _require_admin(request: web.Request) -> None:
    if token_of(request).scope is not Scope.ADMIN:
        raise HubError(ErrorCode.FORBIDDEN, scope=Scope.ADMIN.value)


@routes.get("/api/v1/driver-tokens")
@answers(shapes.DriverTokenList)
async def list_driver_tokens(request: web.Request) -> shapes.DriverTokenList:
    """List the stored driver tokens, never their secrets (configured ones are not listed)."""
    _require_admin(request)
    items = [shapes.DriverToken.of(info) for info in request.app[DRIVER_TOKENS].listing()]
    return shapes.DriverTokenList(items=items, count=len(items))


@routes.post("/api/v1/driver-tokens")
@answers(shapes.NewDriverToken, status=201)
async def create_driver_token(request: web.Request) -> shapes.NewDriverToken:
    """Create a driver token; the answer is the only time its secret is shown."""
    _require_admin(request)
    body = await body_model(request, DriverTokenCreate)
    info, secret = await request.app[DRIVER_TOKENS].create(body.name)
    return shapes.NewDriverToken.of(info, token=secret)


@routes.delete("/api/v1/driver-tokens/{id}")
@answers(shapes.Deleted)
async def delete_driver_token(request: web.Request) -> shapes.Deleted:
    """Delete a driver token; drivers connected with it are disconnected."""
    _require_admin(request)
    token_id = request.match_info["id"]
    if not await request.app[DRIVER_TOKENS].delete(token_id):
        raise HubError(ErrorCode.NOT_FOUND, what="driver token", id=token_id)
    return shapes.Deleted(id=token_id, deleted=True)


@routes.get("/api/v1/drivers")
@answers(shapes.DriverList)
async def list_drivers(request: web.Request) -> shapes.DriverList:
    """List every driver ever attached; live ones carry their connection."""
    items = [shapes.Driver(**item) for item in await request.app[HUB].drivers.listing()]
    return shapes.DriverList(items=items, count=len(items))
