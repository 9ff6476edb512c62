"""REST resources for drivers and their tokens (admin scope throughout)."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints

from kenkogo_master.api.auth import token_of
from kenkogo_master.api.json import body_model, json_response
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
async def list_driver_tokens(request: web.Request) -> web.Response:
    """List the stored driver tokens, never their secrets (configured ones are not listed)."""
    _require_admin(request)
    items = request.app[DRIVER_TOKENS].listing()
    return json_response({"items": items, "count": len(items)})


@routes.post("/api/v1/driver-tokens")
async def create_driver_token(request: web.Request) -> web.Response:
    """Create a driver token; the answer is the only time its secret is shown."""
    _require_admin(request)
    body = await body_model(request, DriverTokenCreate)
    info, secret = await request.app[DRIVER_TOKENS].create(body.name)
    return json_response({**info.describe(), "token": secret}, status=201)


@routes.delete("/api/v1/driver-tokens/{id}")
async def delete_driver_token(request: web.Request) -> web.Response:
    """Delete a driver token; drivers connected with it are disconnected."""
    _require_admin(request)
    token_id = request.match_info["id"]
    if not await request.app[DRIVER_TOKENS].delete(token_id):
        raise HubError(ErrorCode.NOT_FOUND, what="driver token", id=token_id)
    return json_response({"id": token_id, "deleted": True})


@routes.get("/api/v1/drivers")
async def list_drivers(request: web.Request) -> web.Response:
    """List every driver ever attached; live ones carry their connection."""
    items = await request.app[HUB].drivers.listing()
    return json_response({"items": items, "count": len(items)})
