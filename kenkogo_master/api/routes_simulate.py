"""POST /api/v1/simulate: hold a conversation with the apps through the built-in simulator."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kenkogo_master.api.answers import answers
from kenkogo_master.api.json import body_model
from kenkogo_master.api.openapi_shapes import SimulatedReply, Simulation
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.protocol.drivers import MAX_CONTENT, ChatInfo, SenderInfo
from kenkogo_master.transport.simulator import SIMULATOR

routes = web.RouteTableDef()

MAX_WAIT_MS = 30_000


class SimulateRequest(BaseModel):
    """The body of POST /api/v1/simulate."""

    model_config = ConfigDict(extra="forbid", strict=True)

    content: str = Field(min_length=1, max_length=MAX_CONTENT)
    chat: ChatInfo | None = None
    sender: SenderInfo | None = None
    wait_ms: int = Field(2000, ge=0, le=MAX_WAIT_MS)
    locale: str | None = Field(None, min_length=1, max_length=35)
    # Another platform than the simulator's own: the simulator attaches as a driver of it.
    platform: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


@routes.post("/api/v1/simulate")
@answers(Simulation)
async def simulate(request: web.Request) -> Simulation:
    """Inject a message from the simulator and return the replies that came within wait_ms."""
    body = await body_model(request, SimulateRequest)
    simulator = request.app.get(SIMULATOR)
    if simulator is None:
        raise HubError(ErrorCode.NOT_FOUND, what="simulator", id="simulator")
    outcome = await simulator.inject(
        body.content,
        body.chat,
        body.sender,
        body.wait_ms,
        locale=body.locale,
        platform=body.platform,
    )
    # The event bus shows replies the same way: one description for both.
    replies = [SimulatedReply(**reply.describe()) for reply in outcome.replies]
    return Simulation(
        id=outcome.message_id,
        platform_message_id=outcome.platform_message_id,
        replies=replies,
    )
