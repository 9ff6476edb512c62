"""REST resources for messages: a filtered, paged list, and one message with its history."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kenkogo_master.api.json import json_response, query_model
from kenkogo_master.api.stats_params import EpochMs
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.messages import MessageStatus
from kenkogo_master.keys import MESSAGES
from kenkogo_master.protocol.drivers import format_time
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
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None


def describe_message(row: dict[str, Any]) -> dict[str, Any]:
    """Return a `messages` row in the shape apps know from the `message` event."""
    chat = {"type": row["chat_type"], "id": row["chat_id"]}
    if row["chat_name"] is not None:
        chat["name"] = row["chat_name"]
    sender = {"id": row["sender_id"]}
    if row["sender_name"] is not None:
        sender["name"] = row["sender_name"]
    return {
        "id": row["id"],
        "driver": row["driver_id"],
        "platform": row["platform"],
        "platform_message_id": row["platform_message_id"],
        "chat": chat,
        "sender": sender,
        "content": row["content"],
        "segments": row["segments"],
        "locale": row["locale"],
        "traceparent": row["traceparent"],
        "time": format_time(row["time_ms"]),
        "time_ms": row["time_ms"],
        "received_ms": row["received_ms"],
        "status": row["status"],
    }


def describe_reply(row: dict[str, Any]) -> dict[str, Any]:
    """Return a `replies` row for the API."""
    error = None
    if row["error_code"] is not None:
        error = {"code": row["error_code"], "message": row["error_message"] or ""}
    return {
        "id": row["id"],
        "message_id": row["message_id"],
        "app": row["app_name"],
        "instance_id": row["instance_id"],
        "driver": row["driver_id"],
        "chat": {"type": row["chat_type"], "id": row["chat_id"]},
        "content": row["content"],
        "template": row["template"],
        "status": row["status"],
        "platform_message_id": row["platform_message_id"],
        "error": error,
        "created_ms": row["created_ms"],
        "done_ms": row["done_ms"],
    }


def describe_delivery(row: dict[str, Any]) -> dict[str, Any]:
    """Return a `deliveries` row for the API."""
    return {
        "id": row["id"],
        "app": row["app_name"],
        "instance_id": row["instance_id"],
        "attempt": row["attempt"],
        "status": row["status"],
        "created_ms": row["created_ms"],
        "sent_ms": row["sent_ms"],
        "answered_ms": row["answered_ms"],
        "latency_ms": row["latency_ms"],
        "blocked": row["blocked"],
        "error": row["error"],
    }


@routes.get("/api/v1/messages")
async def list_messages(request: web.Request) -> web.Response:
    """List messages, newest first, by time range, chat, sender, app and status."""
    query = query_model(request, MessageListQuery)
    rows = await request.app[MESSAGES].search(MessageQuery(**query.model_dump()))
    items = [describe_message(row) for row in rows]
    next_cursor = items[-1]["id"] if len(items) == query.limit else None
    return json_response({"items": items, "count": len(items), "next_cursor": next_cursor})


@routes.get("/api/v1/messages/{id}")
async def get_message(request: web.Request) -> web.Response:
    """Show one message with every delivery attempt and every reply."""
    message_id = request.match_info["id"]
    row = await request.app[MESSAGES].detail(message_id)
    if row is None:
        raise HubError(ErrorCode.NOT_FOUND, what="message", id=message_id)
    body = describe_message(row)
    body["deliveries"] = [describe_delivery(item) for item in row["deliveries"]]
    body["replies"] = [describe_reply(item) for item in row["replies"]]
    return json_response(body)
