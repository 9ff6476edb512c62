"""Tail-based keeping: the full trace of an unsampled message whose fate turned out to matter.

Head sampling decides when a message arrives; whether it mattered is known only once its
scheduling is over. A message that was retried, not delivered to an app (failed, expired,
dropped), unrouted although a paused or held app would have taken it, or slower than
`[traces] slow_ms` from receipt to settle gets its trace all the same: built from what the
scheduler still holds (the flight, its jobs and their attempts) and from notes of the replies
it got meanwhile, as spans with explicit times and the names, attributes and parents of a
head-sampled trace, through the same exporters.

The normal path reads the clock once per message, and notes a reply (a few fields) while its
message is being scheduled. Spans are built on the next turns of the event loop, a couple of
milliseconds at a time, so that a storm (an away window ending on thousands of queued
messages) does not stall the loop.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import Link, Span, SpanContext, SpanKind
from opentelemetry.trace.status import Status, StatusCode

from kenkogo_master.hub.recorder import Attempt, DeliveryStatus
from kenkogo_master.observability.trace_export import MESSAGE_ID
from kenkogo_master.observability.traces import (
    Attributes,
    MessageTracer,
    message_attributes,
    parse_traceparent,
    route_attributes,
)

if TYPE_CHECKING:
    from kenkogo_master.hub.messages import InboundMessage
    from kenkogo_master.hub.scheduler import Flight, Job

MS = 1_000_000  # nanoseconds
KEPT = "kenkogo.trace.kept"  # on the ingest span of a trace kept at the tail: why
# Building never takes more than this (seconds) of one turn of the event loop.
BUDGET = 0.002
# At most this many messages wait for their spans, and replies are noted; beyond, none are
# kept (and counted as lost): a storm must not grow memory without bound.
PENDING_LIMIT = 10_000
NOTE_LIMIT = 10_000


class Kept(StrEnum):
    """Why a message that head sampling passed over keeps its trace."""

    RETRIED = "retried"  # an attempt went unanswered (ack timeout, instance gone); another followed
    FAILED = "failed"  # an app never acknowledged it: its attempts ran out
    EXPIRED = "expired"  # an away app never came back for it
    DROPPED = "dropped"  # pushed out of a full queue
    UNROUTED = "unrouted"  # no app took it, but a paused or held one would have
    SLOW = "slow"  # slower than slow_ms from receipt until every app acked it


# The scheduler's reason for a delivery that never got through, as a reason for keeping.
_UNDELIVERED = {"queue_limit": Kept.DROPPED, "no_instance": Kept.EXPIRED}


@dataclass(eq=False, slots=True)
class _Action:
    """One driver action of a noted reply."""

    driver_id: str
    start_ns: int
    end_ns: int | None = None
    status: Status | None = None


@dataclass(eq=False, slots=True)
class _ReplyNote:
    """What a reply to an unsampled message leaves, in case the message's trace is kept."""

    reply_id: str
    message_id: str
    app: str
    link: SpanContext | None  # the app's own traceparent, linked like a traced reply's
    start_ns: int
    actions: list[_Action] = field(default_factory=list)
    end_ns: int | None = None
    status: Status | None = None


@dataclass(frozen=True, slots=True)
class _Pending:
    """A message whose trace is to be built."""

    message: InboundMessage
    flight: Flight | None  # None: it was unrouted
    jobs: tuple[Job, ...]  # the flight's (which forgets them once settled)
    slow: bool
    at_ns: int  # when its scheduling ended
    missed: tuple[str, ...] = ()  # unrouted: the paused or held apps that would have taken it


class TailKeeper:
    """Decide which unsampled messages keep their trace, and build it after the fact."""

    def __init__(self, tracer: MessageTracer, slow_ms: float) -> None:
        self._tracer = tracer
        self.slow_ms = slow_ms
        self._slow_ns = int(slow_ms * MS)
        self._pending: dict[str, _Pending] = {}  # by message id, oldest first
        self._notes: dict[str, _ReplyNote] = {}  # replies still under way, by reply id
        self._notes_of: dict[str, list[_ReplyNote]] = {}  # every note, by message id
        self._noted = 0
        self._scheduled = False
        self.kept = 0
        self.lost = 0

    # -- the scheduler's side ---------------------------------------------------------------------

    def settled(self, flight: Flight) -> None:
        """Keep the trace of an unsampled message whose scheduling is over, if it mattered."""
        message = flight.message
        now_ns = time.time_ns()
        slow = now_ns - message.received_ms * MS > self._slow_ns
        if flight.failed or flight.retried or slow:
            self._keep(_Pending(message, flight, tuple(flight.jobs), slow, now_ns))
        elif self._notes_of:
            self._forget(message.id)

    def unrouted(self, message: InboundMessage, missed: tuple[str, ...]) -> None:
        """Keep the trace of an unsampled message nobody took though `missed` would have."""
        self._keep(_Pending(message, None, (), False, time.time_ns(), missed))

    def _keep(self, pending: _Pending) -> None:
        if len(self._pending) >= PENDING_LIMIT:
            self.lost += 1
            self._forget(pending.message.id)
            return
        self._pending[pending.message.id] = pending
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a test driving the hub by hand): build it now
            self.build_all()
            return
        self._scheduled = True
        loop.call_soon(self._build_some)

    # -- replies ----------------------------------------------------------------------------------

    def reply(
        self, reply_id: str, message: InboundMessage, app: str, app_traceparent: str | None
    ) -> None:
        """Note a reply to an unsampled message that may yet keep its trace."""
        if message.settled and message.id not in self._pending:
            return  # its fate is known, and it keeps no trace
        if self._noted >= NOTE_LIMIT:
            return
        note = _ReplyNote(
            reply_id, message.id, app, parse_traceparent(app_traceparent), time.time_ns()
        )
        self._notes[reply_id] = note
        self._notes_of.setdefault(message.id, []).append(note)
        self._noted += 1

    def action(self, reply_id: str, driver_id: str) -> None:
        """Note a noted reply handed to its driver (again, after the driver dropped it)."""
        note = self._notes.get(reply_id)
        if note is None:
            return
        now_ns = time.time_ns()
        if note.actions and note.actions[-1].end_ns is None:
            note.actions[-1].end_ns = now_ns  # superseded, as a traced reply's is
        note.actions.append(_Action(driver_id, now_ns))

    def action_done(self, reply_id: str, success: bool, error: str | None) -> None:
        """Note the end of a noted reply."""
        note = self._notes.pop(reply_id, None)
        if note is None:
            return
        now_ns = time.time_ns()
        status = Status(StatusCode.OK) if success else Status(StatusCode.ERROR, error)
        if note.actions and note.actions[-1].end_ns is None:
            note.actions[-1].end_ns = now_ns
            note.actions[-1].status = status
        note.end_ns = now_ns
        note.status = status

    def _forget(self, message_id: str) -> None:
        notes = self._notes_of.pop(message_id, None)
        if notes is None:
            return
        for note in notes:
            self._notes.pop(note.reply_id, None)
        self._noted -= len(notes)

    # -- building ---------------------------------------------------------------------------------

    def _build_some(self) -> None:
        """Build waiting traces for at most BUDGET seconds; leave the rest to the next turn."""
        self._scheduled = False
        deadline = time.perf_counter() + BUDGET
        while self._pending:
            self._build(self._pending.pop(next(iter(self._pending))))
            if time.perf_counter() >= deadline:
                break
        if self._pending:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._build_some)

    def build_all(self) -> None:
        """Build every waiting trace now (before reading traces, and when stopping)."""
        while self._pending:
            self._build(self._pending.pop(next(iter(self._pending))))

    def _build(self, pending: _Pending) -> None:
        tracer = self._tracer
        message, flight = pending.message, pending.flight
        notes = self._notes_of.pop(message.id, [])
        self._noted -= len(notes)
        if flight is None:
            reasons = [Kept.UNROUTED.value]
            levels: list[list[str]] = []
            routed_ns = pending.at_ns
        else:
            reasons = _reasons(flight, pending.jobs, pending.slow)
            levels = [[name for name, *_ in level] for level in flight.levels]
            routed_ns = _routed_ns(pending.jobs, pending.at_ns)
        received_ns = message.received_ms * MS
        routed_ns = max(routed_ns, received_ns)
        # Under the context the driver and the apps were given: the trace id they know.
        ingest = tracer.start(
            "ingest",
            parse_traceparent(message.traceparent),
            {MESSAGE_ID: message.id, **message_attributes(message), KEPT: reasons},
            kind=SpanKind.SERVER,
            start_ns=received_ns,
        )
        ingest.end(end_time=routed_ns)
        attributes = route_attributes(message.id, levels, pending.missed)
        tracer.start("route", ingest, attributes, start_ns=routed_ns).end(end_time=routed_ns)
        ingest_context = ingest.get_span_context()
        acked: dict[str, SpanContext] = {}
        under: dict[str, SpanContext] = {}  # where each app's replies hang
        for job in pending.jobs:
            self._delivery(job, ingest, pending.at_ns, acked, under)
        for note in notes:
            self._notes.pop(note.reply_id, None)
            self._reply(note, acked.get(note.app) or under.get(note.app) or ingest_context)
        tracer.adopt_message(message.id, ingest_context, acked)
        self.kept += 1

    def _delivery(
        self,
        job: Job,
        ingest: Span,
        at_ns: int,
        acked: dict[str, SpanContext],
        under: dict[str, SpanContext],
    ) -> None:
        """Make one app name's spans: `deliver`, its attempts and the ack, as traced ones are."""
        tracer = self._tracer
        message_id, name = job.flight.message.id, job.name
        final = job.attempt
        assert final is not None
        attempts = [*(job.earlier or ()), final]
        sent = [attempt for attempt in attempts if attempt.sent_ms is not None]
        end_ns = _answered_ns(final) or at_ns
        app: Attributes = {MESSAGE_ID: message_id, "kenkogo.app.name": name}
        if not sent:  # it never reached an instance: dropped, or its away window ended
            span = tracer.start(f"deliver {name}", ingest, app, start_ns=end_ns)
            span.set_status(Status(StatusCode.ERROR, final.error))
            span.end(end_time=end_ns)
            return
        deliver = tracer.start(
            f"deliver {name}", ingest, app, kind=SpanKind.PRODUCER, start_ns=_sent_ns(sent[0])
        )
        for attempt in sent:
            span = tracer.start(
                "attempt",
                deliver,
                {
                    MESSAGE_ID: message_id,
                    "kenkogo.app.name": name,
                    "kenkogo.app.instance": attempt.instance_id or "",
                    "kenkogo.delivery.attempt": attempt.number,
                    "kenkogo.transport": attempt.transport,
                },
                kind=SpanKind.CLIENT,
                start_ns=_sent_ns(attempt),
            )
            answered_ns = _answered_ns(attempt) or end_ns
            if attempt.status is DeliveryStatus.ACKED:
                block = {MESSAGE_ID: message_id, "kenkogo.ack.block": attempt.blocked}
                tracer.start("ack", span, block, start_ns=answered_ns).end(end_time=answered_ns)
                span.set_status(Status(StatusCode.OK))
                acked[name] = span.get_span_context()
            elif attempt.status in (DeliveryStatus.EXPIRED, DeliveryStatus.FAILED):
                span.set_status(Status(StatusCode.ERROR, attempt.error))
            span.end(end_time=max(answered_ns, _sent_ns(attempt)))
            under[name] = span.get_span_context()
        deliver.set_attribute("kenkogo.delivery.attempts", sent[-1].number)
        if final.status is DeliveryStatus.ACKED:
            deliver.set_status(Status(StatusCode.OK))
        else:
            deliver.set_status(Status(StatusCode.ERROR, final.error))
        deliver.end(end_time=max(end_ns, _sent_ns(sent[0])))

    def _reply(self, note: _ReplyNote, parent: SpanContext) -> None:
        """Make a noted reply's spans; one still under way goes on as a traced reply would."""
        tracer = self._tracer
        links = [Link(note.link, {"kenkogo.link": "app"})] if note.link is not None else []
        span = tracer.start(
            "reply",
            parent,
            {
                "kenkogo.reply.id": note.reply_id,
                "kenkogo.app.name": note.app,
                MESSAGE_ID: note.message_id,
            },
            kind=SpanKind.SERVER,
            links=links,
            start_ns=note.start_ns,
        )
        current: Span | None = None
        for action in note.actions:
            child = tracer.start(
                "driver action",
                span,
                {
                    "kenkogo.reply.id": note.reply_id,
                    "kenkogo.driver.id": action.driver_id,
                    "kenkogo.action.type": "send_message",
                },
                kind=SpanKind.CLIENT,
                start_ns=action.start_ns,
            )
            if action.status is not None:
                child.set_status(action.status)
            if action.end_ns is None:
                current = child
            else:
                child.end(end_time=action.end_ns)
        if note.end_ns is None:
            tracer.adopt_reply(note.reply_id, span, current)
            return
        if note.status is not None:
            span.set_status(note.status)
        span.end(end_time=note.end_ns)

    def describe(self) -> dict[str, Any]:
        """Return the figures of tail-based keeping, for operators."""
        return {
            "slow_ms": self.slow_ms,
            "kept": self.kept,
            "waiting": len(self._pending),
            "lost": self.lost,
            "noted": self._noted,
        }


def _reasons(flight: Flight, jobs: tuple[Job, ...], slow: bool) -> list[str]:
    """Return why a settled message keeps its trace, in Kept's order."""
    found: set[Kept] = {Kept.RETRIED} if flight.retried else set()
    for job in jobs:
        attempt = job.attempt
        if attempt is not None and attempt.status is DeliveryStatus.FAILED:
            found.add(_UNDELIVERED.get(attempt.error or "", Kept.FAILED))
    if slow:
        found.add(Kept.SLOW)
    return [reason.value for reason in Kept if reason in found]


def _routed_ns(jobs: tuple[Job, ...], default: int) -> int:
    """Return when the message was routed: when its first attempts were made, right after."""
    created = [
        (job.earlier[0] if job.earlier else job.attempt).created_ms
        for job in jobs
        if job.attempt is not None
    ]
    return min(created) * MS if created else default


def _sent_ns(attempt: Attempt) -> int:
    assert attempt.sent_ms is not None
    return attempt.sent_ms * MS


def _answered_ns(attempt: Attempt) -> int | None:
    """Return when an attempt was answered; an ack to the microsecond, from its latency."""
    if attempt.answered_ms is None:
        return None
    if attempt.latency_ms is not None and attempt.sent_ms is not None:
        return attempt.sent_ms * MS + round(attempt.latency_ms * MS)
    return attempt.answered_ms * MS
