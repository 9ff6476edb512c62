"""REST resources for traces: one trace as a waterfall, a message's trace, and trace lists."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kenkogo_master.api import openapi_shapes_stats as shapes
from kenkogo_master.api.answers import answers
from kenkogo_master.api.json import query_model
from kenkogo_master.api.stats_params import EpochMs
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.keys import MESSAGES, TELEMETRY
from kenkogo_master.observability.service import TelemetryService
from kenkogo_master.observability.tail import KEPT
from kenkogo_master.observability.timeline import timeline
from kenkogo_master.observability.trace_export import MESSAGE_ID

routes = web.RouteTableDef()

_TRACE_ID = re.compile(r"[0-9a-f]{32}")


class TraceListQuery(BaseModel):
    """Filters of GET /api/v1/traces."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    min_duration_ms: float | None = Field(None, ge=0, le=86_400_000)
    status: Literal["error", "ok", "any"] = "any"
    message_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    root: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    start: EpochMs | None = Field(None, alias="from")
    to: EpochMs | None = None
    limit: int = Field(50, ge=1, le=1000)


async def _service(request: web.Request) -> TelemetryService:
    """Return the telemetry service with every finished span exported and committed."""
    service = request.app[TELEMETRY]
    await service.flush_traces()
    return service


@routes.get("/api/v1/traces")
@answers(shapes.TraceList)
async def list_traces(request: web.Request) -> shapes.TraceList:
    """List traces, newest first: slower than a duration, failed, of a message..."""
    query = query_model(request, TraceListQuery)
    if query.start is not None and query.to is not None and query.start > query.to:
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail="from: must not be after to")
    service = await _service(request)
    items = await service.traces.list(
        min_duration_ms=query.min_duration_ms,
        status=None if query.status == "any" else query.status,
        message_id=query.message_id,
        root=query.root,
        start_ms=query.start,
        end_ms=query.to,
        limit=query.limit,
    )
    return shapes.TraceList(items=items, count=len(items))


@routes.get("/api/v1/traces/{trace_id}")
@answers(shapes.Trace)
async def get_trace(request: web.Request) -> shapes.Trace:
    """Return one trace's spans in waterfall order, with parents, times and attributes."""
    trace_id = request.match_info["trace_id"].lower()
    if not _TRACE_ID.fullmatch(trace_id):
        detail = "trace_id: expected 32 hexadecimal digits"
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)
    service = await _service(request)
    body = await service.traces.trace(trace_id)
    if body is None:
        raise HubError(ErrorCode.NOT_FOUND, what="trace", id=trace_id)
    return shapes.Trace(**body)


@routes.get("/api/v1/messages/{id}/trace")
@answers(shapes.MessageTrace)
async def message_trace(request: web.Request) -> shapes.MessageTrace:
    """Return a message's trace, or its timeline from its rows when it kept none (404: unknown)."""
    message_id = request.match_info["id"]
    service = await _service(request)
    trace_id = await service.traces.trace_of_message(message_id)
    body = await service.traces.trace(trace_id) if trace_id is not None else None
    if body is not None:
        kept = _kept(body["spans"], message_id)
        return shapes.MessageTrace(**(body | {"message_id": message_id}), source="trace", kept=kept)
    detail = await request.app[MESSAGES].detail(message_id)
    if detail is None:
        raise HubError(ErrorCode.NOT_FOUND, what="message", id=message_id)
    return shapes.MessageTrace(**timeline(detail), source="timeline", kept=[])


def _kept(spans: list[dict[str, Any]], message_id: str) -> list[str]:
    """Return why a trace was kept at the tail (from its ingest span); [] when head-sampled."""
    for span in spans:
        attributes = span["attributes"] or {}
        if span["name"] == "ingest" and attributes.get(MESSAGE_ID) == message_id:
            kept = attributes.get(KEPT)
            return [str(reason) for reason in kept] if isinstance(kept, list) else []
    return []
