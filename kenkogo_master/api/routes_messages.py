"""REST resources for messages: a filtered, paged list, and one message with its history."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kenkogo_master.api import openapi_shapes as shapes
from kenkogo_master.api.answers import answers
from kenkogo_master.api.json import query_model
from kenkogo_master.api.stats_params import EpochMs
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.messages import MessageStatus
from kenkogo_master.keys import MESSAGES
from kenkogo_master.store.message_records import MessageQuery

routes = web.RouteTableDef()

MAX_PAGE = 500


Key = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class MessageListQuery(BaseModel):
    """Query of GET /api/v1/messages."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_ms: EpochMs | None = Field(None, alias="from")
    to_ms: EpochMs | None = Field(None, alias="to")
    chat: Key | None = None
    sender: Key | None = None
    app: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    status: MessageStatus | None = None
    platform: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    driver: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    kind: (
        Annotated[
            str, StringConstraints(max_length=64, pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?$")
        ]
        | None
    ) = None
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None


@routes.get("/api/v1/messages")
@answers(shapes.MessageList)
async def list_messages(request: web.Request) -> shapes.MessageList:
    """List messages, newest first, by time range, chat, sender, app, status and kind."""
    query = query_model(request, MessageListQuery)
    rows = await request.app[MESSAGES].search(MessageQuery(**query.model_dump()))
    items = [shapes.Message.of(row) for row in rows]
    next_cursor = items[-1].id if len(items) == query.limit else None
    return shapes.MessageList(items=items, count=len(items), next_cursor=next_cursor)


@routes.get("/api/v1/messages/{id}")
@answers(shapes.MessageDetail)
async def get_message(request: web.Request) -> shapes.MessageDetail:
    """Show one message with every delivery attempt and every reply."""
    message_id = request.match_info["id"]
    row = await request.app[MESSAGES].detail(message_id)
    if row is None:
        raise HubError(ErrorCode.NOT_FOUND, what="message", id=message_id)
    return shapes.MessageDetail.of(
        row,
        deliveries=[shapes.Delivery.of(item) for item in row["deliveries"]],
        replies=[shapes.Reply.of(item) for item in row["replies"]],
    )
