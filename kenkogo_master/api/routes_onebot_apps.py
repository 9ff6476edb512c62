"""REST resources for the OneBot bots the Master dials (PROTOCOL.md section 9), admin scope."""

from __future__ import annotations

from aiohttp import web

from kenkogo_master.api import openapi_shapes_onebot as shapes
from kenkogo_master.api.answers import answers
from kenkogo_master.api.auth import token_of
from kenkogo_master.api.json import body_model
from kenkogo_master.api.openapi_shapes import Deleted
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.settings import OneBotAppEntry
from kenkogo_master.store.tokens import Scope
from kenkogo_master.transport.onebot_apps import ONEBOT_APPS

routes = web.RouteTableDef()


class OneBotAppCreate(OneBotAppEntry):
    """Body of POST /api/v1/onebot-apps: the keys of a `[[onebot_apps]]` table."""


def _require_admin(request: web.Request) -> None:
    # The answers name the bots' URLs; the access tokens are never shown.
    if token_of(request).scope is not Scope.ADMIN:
        raise HubError(ErrorCode.FORBIDDEN, scope=Scope.ADMIN.value)


@routes.get("/api/v1/onebot-apps")
@answers(shapes.OneBotAppList)
async def list_onebot_apps(request: web.Request) -> shapes.OneBotAppList:
    """List the OneBot bots the Master dials, configured and added, with their connections."""
    _require_admin(request)
    service = request.app[ONEBOT_APPS]
    items = [
        shapes.OneBotApp.of(endpoint, service.connections(endpoint.id))
        for endpoint in service.endpoints.values()
    ]
    return shapes.OneBotAppList(items=items, count=len(items))


@routes.post("/api/v1/onebot-apps")
@answers(shapes.OneBotApp, status=201)
async def create_onebot_app(request: web.Request) -> shapes.OneBotApp:
    """Add a OneBot bot to dial; it is kept in SQL and dialed at once for every account."""
    _require_admin(request)
    body = await body_model(request, OneBotAppCreate)
    service = request.app[ONEBOT_APPS]
    endpoint = await service.add(OneBotAppEntry.model_validate(body.model_dump()))
    return shapes.OneBotApp.of(endpoint, service.connections(endpoint.id))


@routes.delete("/api/v1/onebot-apps/{id}")
@answers(Deleted)
async def delete_onebot_app(request: web.Request) -> Deleted:
    """Stop dialing a bot added over REST and close its connections."""
    _require_admin(request)
    endpoint_id = request.match_info["id"]
    await request.app[ONEBOT_APPS].remove(endpoint_id)
    return Deleted(id=endpoint_id, deleted=True)
