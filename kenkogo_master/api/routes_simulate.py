"""POST /api/v1/simulate: hold a conversation with the apps through the built-in simulator."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from kenkogo_master.api.answers import answers
from kenkogo_master.api.json import body_model
from kenkogo_master.api.openapi_shapes import SimulatedReply, Simulation
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.protocol.drivers import EVENT_KIND, MAX_CONTENT, ChatInfo, Detail, SenderInfo
from kenkogo_master.transport.simulator import SIMULATOR

routes = web.RouteTableDef()

MAX_WAIT_MS = 30_000


class SimulateRequest(BaseModel):
    """The body of POST /api/v1/simulate."""

    model_config = ConfigDict(extra="forbid", strict=True)

    content: str = Field("", max_length=MAX_CONTENT)
    chat: ChatInfo | None = None
    sender: SenderInfo | None = None
    wait_ms: int = Field(2000, ge=0, le=MAX_WAIT_MS)
    locale: str | None = Field(None, min_length=1, max_length=35)
    # Another platform than the simulator's own: the simulator attaches as a driver of it.
    platform: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    # A notice or request instead of a chat message (docs/PROTOCOL-additions.md).
    kind: Annotated[str, StringConstraints(pattern=EVENT_KIND)] | None = None
    detail: Detail | None = None

    @model_validator(mode="after")
    def _content_or_kind(self) -> SimulateRequest:
        if self.kind is None and not self.content:
            raise ValueError("content: a chat message needs some text (or give a notice's kind)")
        if self.kind is None and self.detail is not None:
            raise ValueError("detail: only a notice or request (with kind) has one")
        if self.kind is not None and self.kind.startswith("request."):
            flag = (self.detail or {}).get("flag")
            if not isinstance(flag, str) or not 0 < len(flag) <= 100:
                raise ValueError("a request needs 'detail.flag', a string of 1 to 100 characters")
        return self

    def notice(self) -> dict[str, Any] | None:
        """Return the kind and detail of a simulated notice or request, None for a message."""
        if self.kind is None:
            return None
        return {"kind": self.kind, "detail": self.detail or {}}


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
        notice=body.notice(),
    )
    # The event bus shows replies the same way: one description for both.
    replies = [SimulatedReply(**reply.describe()) for reply in outcome.replies]
    return Simulation(
        id=outcome.message_id,
        platform_message_id=outcome.platform_message_id,
        replies=replies,
    )
