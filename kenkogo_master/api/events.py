"""The live event stream: Server-Sent Events from the event bus at GET /api/v1/events."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Annotated, Any

from aiohttp import web
from pydantic import ConfigDict, Field

from kenkogo_master.api.auth import SESSION, token_of
from kenkogo_master.api.json import query_model
from kenkogo_master.api.log_params import Level, LogMatch
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.events import Event
from kenkogo_master.keys import LIVE_STREAMS, SESSIONS, SETTINGS
from kenkogo_master.observability.live import LiveStreams
from kenkogo_master.observability.log_context import FIELDS
from kenkogo_master.observability.log_records import LogEntry
from kenkogo_master.observability.log_search import LogFilter
from kenkogo_master.observability.logs import LOG_TOPIC
from kenkogo_master.protocol import codec
from kenkogo_master.store.tokens import Scope

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

_TOPIC = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*")
RETRY_MS = 3000  # how long a browser's EventSource waits before reconnecting

EVENT_ID = r"[0-9a-z]{1,16}\.[0-9]{1,18}"


class EventsQuery(LogMatch):
    """Query of GET /api/v1/events; the log filters apply to the `log` topics."""

    model_config = ConfigDict(extra="forbid")

    # Comma-separated topics or topic prefixes, e.g. `app,message.received,log`; all when absent.
    topics: str | None = Field(
        None,
        max_length=1000,
        json_schema_extra={"pattern": rf"^ *({_TOPIC.pattern})?( *, *({_TOPIC.pattern})?)* *$"},
    )
    # Log lines at or above this level (when `log` topics are streamed).
    level: Level = "INFO"
    # Resume after this event id (as the `Last-Event-ID` header does; the header wins): the
    # events since are sent first, or a `reset` event when they are no longer all kept.
    last_event_id: Annotated[str, Field(max_length=40, pattern=f"^{EVENT_ID}$")] | None = None
    # false: every event is sent with the SSE type `message` (the topic is in its data), so a
    # browser's EventSource sees them all through `onmessage` without naming each topic.
    typed: bool = True

    def topic_set(self) -> frozenset[str] | None:
        """Return the topics asked for; raise a clear error for a malformed one."""
        if self.topics is None:
            return None
        topics = frozenset(part.strip() for part in self.topics.split(",") if part.strip())
        for topic in topics:
            if not _TOPIC.fullmatch(topic):
                detail = f"topics: {topic!r} is not a topic (lower-case words joined by dots)"
                raise HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)
        return topics or None


def _wants_logs(topics: frozenset[str] | None) -> bool:
    """Tell whether a reader named a `log` topic."""
    return topics is not None and any(t.split(".", 1)[0] == LOG_TOPIC for t in topics)


def _log_passes(wanted: LogFilter, data: dict[str, Any]) -> bool:
    """Tell whether a published log record passes a reader's filter."""
    entry = LogEntry(
        time_ms=data.get("time_ms", 0),
        level=data.get("level", ""),
        logger=data.get("logger", ""),
        message=data.get("message", ""),
        exception=data.get("exception"),
        context={name: data[name] for name in FIELDS if data.get(name) is not None},
    )
    return wanted.matches(entry)


def event_id(boot: str, seq: int) -> str:
    """Return the SSE id of an event: this run of the Master and the event's number."""
    return f"{boot}.{seq}"


def frame(boot: str, event: Event, typed: bool = True) -> bytes:
    """Return one SSE frame: the topic as the event type, the event as JSON data."""
    body = codec.dumpb({"topic": event.topic, "at_ms": event.at_ms, "data": event.data})
    kind = b"event: %s\n" % event.topic.encode() if typed else b""
    return b"id: %s\n%sdata: %s\n\n" % (event_id(boot, event.seq).encode(), kind, body)


def missed_events(streams: LiveStreams, last_id: str | None) -> tuple[list[Event], str | None]:
    """Return the events after `last_id` still kept, or why the reader must start over."""
    if last_id is None:
        return [], None
    boot, _, number = last_id.partition(".")
    if boot != streams.boot:
        return [], "restarted"  # or an id of another Master, or none at all
    if not number.isdigit() or len(number) > 18:
        return [], "unknown"
    missed = streams.bus.since(int(number))
    if missed is None:
        return [], "too_old"
    return missed, None


@routes.get("/api/v1/events")
async def events(request: web.Request) -> web.StreamResponse:
    """Stream events as they happen; keep-alive comments while idle; a slow reader is cut off."""
    query = query_model(request, EventsQuery)
    topics = query.topic_set()
    streams = request.app[LIVE_STREAMS]
    if streams.ending:
        raise HubError(ErrorCode.OVERLOADED)
    # Log records tell addresses and names: like the files, they are for the admin scope.
    logs_allowed = token_of(request).scope is Scope.ADMIN
    if not logs_allowed and _wants_logs(topics):
        raise HubError(ErrorCode.FORBIDDEN, scope=Scope.ADMIN.value)
    log_filter = query.log_filter(query.level)
    settings = request.app[SETTINGS].events
    context = request.get(SESSION)
    owner = context.session.id if context is not None else None
    sessions = request.app[SESSIONS]
    # Subscribe before answering, so that nothing that happens after the headers is missed,
    # and look back at once (no await between): the ring ends where the queue begins.
    subscription = streams.open(topics, owner)
    opened_at = streams.bus.last_seq
    last_id = request.headers.get("Last-Event-ID") or query.last_event_id
    missed, reset = missed_events(streams, last_id)

    def wanted(event: Event) -> bool:
        if event.topic.startswith(LOG_TOPIC + ".") and (
            not logs_allowed or not _log_passes(log_filter, event.data)
        ):
            return False
        return subscription.wants(event.topic)

    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # nginx: do not buffer the stream
        }
    )
    try:
        await response.prepare(request)
        await response.write(b"retry: %d\n: connected\n\n" % RETRY_MS)
        if reset is not None:
            reason = codec.dumpb({"reason": reset})
            await response.write(b"event: reset\ndata: %s\n\n" % reason)
        for old in missed:
            if wanted(old):
                await response.write(frame(streams.boot, old, query.typed))
        # Where this reader stands, for its next Last-Event-ID even before its first event.
        ready = event_id(streams.boot, opened_at).encode()
        await response.write(b"id: %s\nevent: ready\ndata: {}\n\n" % ready)
        while True:
            try:
                # Read each time: events.keepalive may change while the stream is open.
                event = await asyncio.wait_for(subscription.queue.get(), settings.keepalive)
            except TimeoutError:
                # A session may also end in another process (a command, another Master).
                if owner is not None and await sessions.lookup(owner) is None:
                    subscription.end_reason = "session_ended"
                    event = None
                else:
                    await response.write(b": keep-alive\n\n")
                    continue
            if event is None:
                if not streams.ending:
                    reason = codec.dumpb({"reason": subscription.end_reason})
                    await response.write(b"event: dropped\ndata: %s\n\n" % reason)
                break
            if not wanted(event):
                continue  # a log record the reader did not ask for
            await response.write(frame(streams.boot, event, query.typed))
    except ConnectionError:
        pass  # the reader went away
    finally:
        streams.close(subscription)
    return response
