"""Why did an app (not) get a message: the routing explained name by name, for operators."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kenkogo_master.api.answers import answers
from kenkogo_master.api.json import body_model
from kenkogo_master.api.openapi_shapes_routing import DeliverySummary, RoutingExplanation
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.messages import InboundMessage
from kenkogo_master.ids import now_ms
from kenkogo_master.keys import HUB, MESSAGES
from kenkogo_master.protocol.drivers import MAX_CONTENT, ChatInfo, SenderInfo

routes = web.RouteTableDef()

NO_TRACE = "00-" + "0" * 32 + "-" + "0" * 16 + "-00"  # a typed-in message is never traced


class ExplainRequest(BaseModel):
    """Body of POST /api/v1/routing/explain: a message as a driver would send it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    content: str = Field(max_length=MAX_CONTENT)
    platform: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "simulator"
    chat: ChatInfo = ChatInfo(type="group", id="1")
    sender: SenderInfo = SenderInfo(id="1")


def _typed_in(body: ExplainRequest) -> InboundMessage:
    """Make the message an operator typed in, as ingest would have made it."""
    at = now_ms()
    chat = body.chat.model_dump(exclude_none=True)
    sender = body.sender.model_dump(exclude_none=True)
    return InboundMessage(
        id="explain",
        driver_id="",
        platform=body.platform,
        platform_message_id="explain",
        chat=chat,
        sender=sender,
        content=body.content,
        segments=[{"type": "text", "data": {"text": body.content}}],
        locale=None,
        traceparent=NO_TRACE,
        time_ms=at,
        received_ms=at,
    )


def _deliveries(rows: list[dict[str, Any]]) -> list[DeliverySummary]:
    """Sum a stored message's attempts up per app name: what really happened to it."""
    by_name: dict[str, dict[str, Any]] = {}
    for row in rows:
        name = row["app_name"]
        entry = by_name.setdefault(name, {"app": name, "attempts": 0, "blocked": False})
        entry["attempts"] += 1
        entry["status"] = row["status"]  # attempts come oldest first: the last one counts
        entry["instance_id"] = row["instance_id"]
        entry["error"] = row["error"]
        entry["blocked"] = entry["blocked"] or bool(row["blocked"])
    return [DeliverySummary(**entry) for entry in by_name.values()]


@routes.get("/api/v1/messages/{id}/routing")
@answers(RoutingExplanation)
async def message_routing(request: web.Request) -> RoutingExplanation:
    """Explain where a stored message goes now, name by name, beside where it went."""
    message_id = request.match_info["id"]
    detail = await request.app[MESSAGES].detail(message_id)
    if detail is None:
        raise HubError(ErrorCode.UNKNOWN_MESSAGE, message_id=message_id)
    row = await request.app[MESSAGES].message(message_id)
    assert row is not None
    explanation = request.app[HUB].scheduler.explain(InboundMessage.from_row(row))
    return RoutingExplanation(
        message_id=message_id,
        status=detail["status"],
        **explanation,
        deliveries=_deliveries(detail["deliveries"]),
    )


@routes.post("/api/v1/routing/explain")
@answers(RoutingExplanation)
async def explain_routing(request: web.Request) -> RoutingExplanation:
    """Explain where a message typed in would go now, name by name; nothing is sent."""
    body = await body_model(request, ExplainRequest)
    explanation = request.app[HUB].scheduler.explain(_typed_in(body))
    return RoutingExplanation(message_id=None, status=None, **explanation, deliveries=[])
