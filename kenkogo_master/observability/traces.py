"""Message traces: the spans of one message from its driver through every app and back.

The hot path pays nothing for untraced messages: whether a message is traced is decided once,
when it arrives, and every later hook is a dictionary miss. Traced messages get OpenTelemetry
spans with explicit start and end times, kept open here (by message and reply id) until done.
"""

from __future__ import annotations

import random
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Link, NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.status import Status, StatusCode

from kenkogo_master.observability.trace_export import MESSAGE_ID, span_hex, trace_hex

if TYPE_CHECKING:
    from kenkogo_master.hub.messages import InboundMessage

_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
SAMPLED = TraceFlags(TraceFlags.SAMPLED)

Attributes = dict[str, str | int | float | bool | list[str]]


def parse_traceparent(value: str | None) -> SpanContext | None:
    """Return the remote span context of a W3C traceparent, or None when it is not valid."""
    if not value:
        return None
    match = _TRACEPARENT.fullmatch(value.strip().lower())
    if match is None:
        return None
    trace_id, span_id = int(match[1], 16), int(match[2], 16)
    if trace_id == 0 or span_id == 0:
        return None
    return SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(int(match[3], 16)))


def traceparent_of(context: SpanContext) -> str:
    """Return the W3C traceparent of a span context."""
    return f"00-{trace_hex(context.trace_id)}-{span_hex(context.span_id)}-{context.trace_flags:02x}"


def _parent(context: SpanContext) -> Context:
    return trace.set_span_in_context(NonRecordingSpan(context))


@dataclass(eq=False, slots=True)
class _Delivery:
    """One app name's part of a traced message."""

    span: Span
    attempt: Span | None = None
    attempt_number: int = 0
    acked: SpanContext | None = None  # the attempt that was acknowledged: replies hang under it


@dataclass(eq=False, slots=True)
class _MessageTrace:
    """The open spans of one traced message."""

    ingest: Span
    deliveries: dict[str, _Delivery] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Settled:
    """What a traced message whose scheduling is over keeps, to parent late replies."""

    ingest: SpanContext
    acked: dict[str, SpanContext]


@dataclass(eq=False, slots=True)
class _ReplyTrace:
    """The open spans of one traced reply (or send)."""

    span: Span
    action: Span | None = None


class MessageTracer:
    """Create and finish the spans of traced messages; every hook ignores untraced ids."""

    def __init__(
        self,
        provider: TracerProvider | None,
        sample_ratio: float,
        open_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tracer = provider.get_tracer("kenkogo_master") if provider is not None else None
        self.sample_ratio = sample_ratio
        self._open_seconds = open_seconds
        self._clock = clock
        self._messages: dict[str, _MessageTrace] = {}
        self._settled: dict[str, _Settled] = {}
        self._replies: dict[str, _ReplyTrace] = {}
        # (deadline, table, key) in the order entries were made, so deadlines come in order too
        self._expiry: deque[tuple[float, dict[str, Any], str]] = deque()
        self.traced = 0

    @property
    def enabled(self) -> bool:
        """Tell whether spans are recorded at all."""
        return self._tracer is not None

    def _decide(self, remote: SpanContext | None) -> bool:
        """Follow a caller's sampling decision; make our own, by ratio, when there is none."""
        if self._tracer is None:
            return False
        if remote is not None:
            return remote.trace_flags.sampled
        return self.sample_ratio > 0 and random.random() < self.sample_ratio

    def start(
        self,
        name: str,
        parent: Span | SpanContext | None,
        attributes: Attributes,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        links: list[Link] | None = None,
        start_ns: int | None = None,
    ) -> Span:
        """Start a span (now, or at `start_ns`) under a span or span context (tracing is on)."""
        assert self._tracer is not None
        if isinstance(parent, SpanContext):
            context: Context | None = _parent(parent)
        elif parent is not None:
            context = trace.set_span_in_context(parent)
        else:
            context = None
        return self._tracer.start_span(
            name,
            context=context,
            kind=kind,
            attributes=attributes,
            links=links or (),
            start_time=start_ns or time.time_ns(),
        )

    # -- inbound ----------------------------------------------------------------------------------

    def sampled(self, driver_traceparent: str | None) -> bool:
        """Tell whether a new message with this traceparent from its driver is to be traced."""
        if self._tracer is None:
            return False
        return self._decide(parse_traceparent(driver_traceparent))

    def received(
        self,
        message_id: str,
        driver_traceparent: str | None,
        attributes: Attributes,
        *,
        start_ns: int | None = None,
    ) -> str:
        """Start tracing a new message (one `sampled` chose); return its traceparent."""
        remote = parse_traceparent(driver_traceparent)
        span = self.start(
            "ingest",
            remote,
            {MESSAGE_ID: message_id, **attributes},
            kind=SpanKind.SERVER,
            start_ns=start_ns,
        )
        self._messages[message_id] = _MessageTrace(span)
        self._expiry.append((self._clock() + self._open_seconds, self._messages, message_id))
        self.traced += 1
        return traceparent_of(span.get_span_context())

    def traces(self, message_id: str) -> bool:
        """Tell whether a message is being traced."""
        return message_id in self._messages

    def committed(self, message_id: str) -> None:
        """End the ingest span: the message is stored."""
        entry = self._messages.get(message_id)
        if entry is not None:
            _end(entry.ingest)

    def routed(
        self,
        message_id: str,
        levels: list[list[str]],
        start_ns: int | None = None,
        missed: tuple[str, ...] = (),
    ) -> None:
        """Record the routing decision: the app names matched, by priority level (`missed`: the
        paused or held apps that would have taken an unrouted message)."""
        entry = self._messages.get(message_id)
        if entry is None:
            return
        attributes = route_attributes(message_id, levels, missed)
        self.start("route", entry.ingest, attributes, start_ns=start_ns).end()
        if attributes["kenkogo.route.unrouted"]:
            self._finish_message(message_id, entry)

    # -- deliveries -------------------------------------------------------------------------------

    def attempt(
        self, message_id: str, app: str, number: int, instance_id: str, transport: str = ""
    ) -> str | None:
        """Start a delivery attempt; return the traceparent to send with it (None if untraced)."""
        entry = self._messages.get(message_id)
        if entry is None:
            return None
        delivery = entry.deliveries.get(app)
        if delivery is None:
            delivery = entry.deliveries[app] = _Delivery(
                self.start(
                    f"deliver {app}",
                    entry.ingest,
                    {MESSAGE_ID: message_id, "kenkogo.app.name": app},
                    kind=SpanKind.PRODUCER,
                )
            )
        if delivery.attempt is not None:  # an attempt nobody closed: it was superseded
            _end(delivery.attempt)
        delivery.attempt = self.start(
            "attempt",
            delivery.span,
            {
                MESSAGE_ID: message_id,
                "kenkogo.app.name": app,
                "kenkogo.app.instance": instance_id,
                "kenkogo.delivery.attempt": number,
                "kenkogo.transport": transport,
            },
            kind=SpanKind.CLIENT,
        )
        delivery.attempt_number = number
        return traceparent_of(delivery.attempt.get_span_context())

    def acked(self, message_id: str, app: str, blocked: bool = False) -> None:
        """End the current attempt with an `ack` span under it; the delivery is done."""
        entry = self._messages.get(message_id)
        delivery = entry.deliveries.get(app) if entry is not None else None
        if delivery is None or delivery.attempt is None:
            return
        attempt, delivery.attempt = delivery.attempt, None
        ack = self.start("ack", attempt, {MESSAGE_ID: message_id, "kenkogo.ack.block": blocked})
        ack.end()
        attempt.set_status(Status(StatusCode.OK))
        attempt.end()
        delivery.acked = attempt.get_span_context()
        delivery.span.set_attribute("kenkogo.delivery.attempts", delivery.attempt_number)
        delivery.span.set_status(Status(StatusCode.OK))
        delivery.span.end()

    def attempt_failed(self, message_id: str, app: str, reason: str, final: bool) -> None:
        """End the current attempt as failed (`final`: no attempt follows, the delivery failed)."""
        entry = self._messages.get(message_id)
        delivery = entry.deliveries.get(app) if entry is not None else None
        if delivery is None:
            return
        if delivery.attempt is not None:
            delivery.attempt.set_status(Status(StatusCode.ERROR, reason))
            delivery.attempt.end()
            delivery.attempt = None
        if final:
            delivery.span.set_attribute("kenkogo.delivery.attempts", delivery.attempt_number)
            delivery.span.set_status(Status(StatusCode.ERROR, reason))
            delivery.span.end()

    def not_delivered(self, message_id: str, app: str, reason: str) -> None:
        """Record an app name the message never reached (dropped from a full queue, no instance)."""
        entry = self._messages.get(message_id)
        if entry is None:
            return
        delivery = entry.deliveries.get(app)
        if delivery is not None:
            self.attempt_failed(message_id, app, reason, final=True)
            return
        span = self.start(
            f"deliver {app}", entry.ingest, {MESSAGE_ID: message_id, "kenkogo.app.name": app}
        )
        span.set_status(Status(StatusCode.ERROR, reason))
        span.end()

    def adopt_message(
        self, message_id: str, ingest: SpanContext, acked: dict[str, SpanContext]
    ) -> None:
        """Parent later replies of a message whose spans were made after the fact, as if traced."""
        self._settled[message_id] = _Settled(ingest, acked)
        self._expiry.append((self._clock() + self._open_seconds, self._settled, message_id))

    def adopt_reply(self, reply_id: str, span: Span, action: Span | None) -> None:
        """Carry on a reply (and its driver action) whose spans were started after the fact."""
        self._replies[reply_id] = _ReplyTrace(span, action)
        self._expiry.append((self._clock() + self._open_seconds, self._replies, reply_id))

    def message_done(self, message_id: str) -> None:
        """Note that scheduling is over; the trace stays open a while for replies."""
        entry = self._messages.get(message_id)
        if entry is not None:
            self._finish_message(message_id, entry)

    def _finish_message(self, message_id: str, entry: _MessageTrace) -> None:
        """Keep only what late replies need; the spans themselves are finished and exported."""
        del self._messages[message_id]
        _end(entry.ingest)
        acked = {}
        for app, delivery in entry.deliveries.items():
            for span in (delivery.attempt, delivery.span):
                if span is not None:
                    _end(span)
            if delivery.acked is not None:
                acked[app] = delivery.acked
        self._settled[message_id] = _Settled(entry.ingest.get_span_context(), acked)
        self._expiry.append((self._clock() + self._open_seconds, self._settled, message_id))

    # -- replies and driver actions ---------------------------------------------------------------

    def reply(
        self,
        reply_id: str,
        message_id: str | None,
        app: str,
        app_traceparent: str | None = None,
    ) -> str | None:
        """Start a reply (or send) span; return its traceparent, or None if untraced."""
        remote = parse_traceparent(app_traceparent)
        links = [Link(remote, {"kenkogo.link": "app"})] if remote is not None else []
        entry = self._messages.get(message_id) if message_id is not None else None
        settled = self._settled.get(message_id) if message_id is not None else None
        parent: Span | SpanContext | None
        if entry is not None:
            delivery = entry.deliveries.get(app)
            if delivery is not None and delivery.acked is not None:
                parent = delivery.acked
            elif delivery is not None:
                parent = delivery.attempt or delivery.span
            else:
                parent = entry.ingest
        elif settled is not None:
            parent = settled.acked.get(app, settled.ingest)
        elif remote is not None and remote.trace_flags.sampled and self._tracer is not None:
            parent = remote  # a message no longer open here, or a send the app traced itself
        elif message_id is None and self._decide(None):
            parent = None  # a send the app started, sampled by ratio
        else:
            return None
        attributes: Attributes = {"kenkogo.reply.id": reply_id, "kenkogo.app.name": app}
        if message_id is not None:
            attributes[MESSAGE_ID] = message_id
        span = self.start(
            "reply" if message_id is not None else "send",
            parent,
            attributes,
            kind=SpanKind.SERVER,
            links=links,
        )
        self._replies[reply_id] = _ReplyTrace(span)
        self._expiry.append((self._clock() + self._open_seconds, self._replies, reply_id))
        return traceparent_of(span.get_span_context())

    def action(self, reply_id: str, driver_id: str, action_type: str = "send_message") -> None:
        """Start the driver action that carries a reply out."""
        entry = self._replies.get(reply_id)
        if entry is None:
            return
        if entry.action is not None:
            _end(entry.action)
        entry.action = self.start(
            "driver action",
            entry.span,
            {
                "kenkogo.reply.id": reply_id,
                "kenkogo.driver.id": driver_id,
                "kenkogo.action.type": action_type,
            },
            kind=SpanKind.CLIENT,
        )

    def action_done(
        self, reply_id: str, success: bool, error: str | None = None, final: bool = True
    ) -> None:
        """End the driver action; when `final`, the reply is done as well."""
        entry = self._replies.get(reply_id)
        if entry is None:
            return
        status = Status(StatusCode.OK) if success else Status(StatusCode.ERROR, error)
        if entry.action is not None:
            entry.action.set_status(status)
            entry.action.end()
            entry.action = None
        if final:
            entry.span.set_status(status)
            entry.span.end()
            del self._replies[reply_id]

    # -- housekeeping -----------------------------------------------------------------------------

    def sweep(self) -> int:
        """End and forget traces kept open past their time; return how many."""
        now = self._clock()
        expired = 0
        while self._expiry and self._expiry[0][0] <= now:
            _, table, key = self._expiry.popleft()
            entry = table.pop(key, None)
            if entry is None:
                continue  # finished, or moved on to `settled` with a deadline of its own
            expired += 1
            for span in _open_spans(entry):
                span.set_status(Status(StatusCode.ERROR, "unfinished"))
                span.end()
        return expired

    def close_all(self) -> None:
        """End every open span (the Master is stopping)."""
        for table in (self._messages, self._replies):
            for entry in table.values():
                for span in _open_spans(entry):
                    span.end()
            table.clear()
        self._settled.clear()
        self._expiry.clear()

    def open_count(self) -> int:
        """Return how many traced messages and replies are open."""
        return len(self._messages) + len(self._replies)

    def describe(self) -> dict[str, Any]:
        """Return the tracer's figures, for operators."""
        return {
            "enabled": self.enabled,
            "sample_ratio": self.sample_ratio,
            "traced": self.traced,
            "open": self.open_count(),
        }


def message_attributes(message: InboundMessage) -> Attributes:
    """Return the attributes of a message's `ingest` span (besides its id)."""
    return {
        "kenkogo.platform": message.platform,
        "kenkogo.driver.id": message.driver_id,
        "kenkogo.chat.type": str(message.chat.get("type", "")),
        "kenkogo.chat.id": str(message.chat.get("id", "")),
        "kenkogo.sender.id": str(message.sender.get("id", "")),
        "kenkogo.platform_message_id": message.platform_message_id,
    }


def route_attributes(
    message_id: str, levels: list[list[str]], missed: tuple[str, ...] = ()
) -> Attributes:
    """Return the attributes of a `route` span."""
    names = [name for level in levels for name in level]
    attributes: Attributes = {
        MESSAGE_ID: message_id,
        "kenkogo.route.apps": names,
        "kenkogo.route.levels": len(levels),
        "kenkogo.route.unrouted": not names,
    }
    if missed:
        attributes["kenkogo.route.paused"] = list(missed)
    return attributes


def _end(span: Span) -> None:
    """End a span unless it has ended (OpenTelemetry warns about a second end)."""
    if span.is_recording():
        span.end()


def _open_spans(entry: Any) -> list[Span]:
    """Return the spans of an open entry that have not ended, children first."""
    spans: list[Span | None] = []
    if isinstance(entry, _MessageTrace):
        for delivery in entry.deliveries.values():
            spans += [delivery.attempt, delivery.span]
        spans.append(entry.ingest)
    elif isinstance(entry, _ReplyTrace):
        spans += [entry.action, entry.span]
    return [span for span in spans if span is not None and span.is_recording()]
