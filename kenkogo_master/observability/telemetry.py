"""The hooks the message flow calls: statistics, trace spans and live events, all in memory.

Each hook is a few dictionary operations; what is slow (SQL, span export) happens elsewhere,
in batches (see observability/service.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kenkogo_master.hub.events import EventBus
from kenkogo_master.observability.stats import Metric, StatsRecorder, matched_command
from kenkogo_master.observability.tail import TailKeeper
from kenkogo_master.observability.traces import MessageTracer, message_attributes

if TYPE_CHECKING:
    from kenkogo_master.hub.messages import InboundMessage
    from kenkogo_master.hub.scheduler import Flight

# Why a delivery ended without an ack, as the scheduler says it, and what it counts as.
_FAILURE_METRICS = {
    "queue_limit": Metric.DROPPED,  # pushed out of a full queue
    "no_instance": Metric.EXPIRED,  # no instance of the name came back in time
}
PREVIEW = 200  # characters of content shown on the live event stream


class Telemetry:
    """Count, trace and publish what happens to messages; never blocks, never touches SQL."""

    def __init__(
        self,
        stats: StatsRecorder,
        tracer: MessageTracer,
        bus: EventBus,
        tail: TailKeeper | None = None,
    ) -> None:
        self.stats = stats
        self.tracer = tracer
        self.tail = tail  # None: only head-sampled messages are traced
        self._bus = bus

    @classmethod
    def standalone(cls, bus: EventBus) -> Telemetry:
        """Return telemetry that counts in memory only and traces nothing (for hubs in tests)."""
        return cls(StatsRecorder(), MessageTracer(None, 0.0, 60.0), bus)

    # -- inbound ----------------------------------------------------------------------------------

    def message_received(self, message: InboundMessage, driver_traceparent: str | None) -> None:
        """Decide whether a new message is traced, before it is stored (may set its traceparent)."""
        if not self.tracer.sampled(driver_traceparent):
            return
        message.traceparent = self.tracer.received(
            message.id,
            driver_traceparent,
            message_attributes(message),
            start_ns=message.received_ms * 1_000_000,
        )

    def message_stored(self, message: InboundMessage) -> None:
        """Count a message now committed (duplicates never get here)."""
        chat, sender = message.chat, message.sender
        self.stats.message(
            message.platform, chat["type"], chat["id"], sender["id"], sender.get("name")
        )
        self.tracer.committed(message.id)
        if self._bus.wanted("message.received"):
            self._bus.publish(
                "message.received",
                {
                    "id": message.id,
                    "platform": message.platform,
                    "driver": message.driver_id,
                    "chat": chat,
                    "sender": sender,
                    "content": message.content[:PREVIEW],
                },
            )

    def message_routed(
        self,
        message: InboundMessage,
        levels: Sequence[Sequence[tuple[str, bool, bool]]],
        missed: tuple[str, ...] = (),
    ) -> None:
        """Record where a message goes: (app name, block, away) by level, or unrouted (`missed`:
        the paused or held apps that would have taken it)."""
        if not levels:
            self.stats.count(Metric.UNROUTED, message.platform)
            if self._bus.wanted("message.unrouted"):
                self._bus.publish("message.unrouted", {"id": message.id})
        if self.tracer.traces(message.id):
            names = [[name for name, *_ in level] for level in levels]
            self.tracer.routed(message.id, names, missed=missed)
        elif missed and self.tail is not None:
            self.tail.unrouted(message, missed)

    # -- deliveries -------------------------------------------------------------------------------

    def attempt_sent(
        self,
        message: InboundMessage,
        app: str,
        number: int,
        instance_id: str,
        commands: Sequence[str] | None,
        transport: str = "",
    ) -> str | None:
        """Count an attempt; return the traceparent to send with it (None: the message's own)."""
        if number == 1:
            self.stats.delivered(app, matched_command(commands, message.content))
        else:
            self.stats.count(Metric.RETRIES, app)
        return self.tracer.attempt(message.id, app, number, instance_id, transport)

    def attempt_acked(self, message_id: str, app: str, number: int, blocked: bool) -> None:
        """Record an acknowledged attempt."""
        self.tracer.acked(message_id, app, blocked)
        if self._bus.wanted("delivery.acked"):
            self._bus.publish(
                "delivery.acked",
                {"message_id": message_id, "app": app, "attempt": number, "block": blocked},
            )

    def attempt_expired(self, message_id: str, app: str, reason: str) -> None:
        """Record an attempt that went unanswered (ack timeout, instance gone); another follows."""
        self.stats.count(Metric.TIMEOUTS, app)
        self.tracer.attempt_failed(message_id, app, reason, final=False)

    def delivery_failed(self, message_id: str, app: str, reason: str) -> None:
        """Record an app name the message never got through to."""
        self.stats.count(_FAILURE_METRICS.get(reason, Metric.FAILED), app)
        self.tracer.not_delivered(message_id, app, reason)
        if self._bus.wanted("delivery.failed"):
            self._bus.publish(
                "delivery.failed", {"message_id": message_id, "app": app, "reason": reason}
            )

    def messages_interrupted(self, by_platform: Mapping[str, int]) -> None:
        """Count messages a restart found too old to deliver again, by platform."""
        for platform, count in by_platform.items():
            self.stats.count(Metric.INTERRUPTED, platform, n=count)

    def message_settled(self, flight: Flight, status: str) -> None:
        """Record that scheduling of a message is over (handled or failed)."""
        message_id = flight.message.id
        if self.tracer.traces(message_id):
            self.tracer.message_done(message_id)
        elif self.tail is not None:
            self.tail.settled(flight)
        if self._bus.wanted("message.settled"):
            self._bus.publish("message.settled", {"id": message_id, "status": status})

    # -- replies ----------------------------------------------------------------------------------

    def reply_accepted(
        self,
        reply_id: str,
        message: InboundMessage | None,
        app: str,
        commands: Sequence[str] | None,
        app_traceparent: str | None = None,
    ) -> None:
        """Count a reply (message given) or a send (none) from an app and start its span."""
        command = matched_command(commands, message.content) if message else ""
        self.stats.replied(app, command)
        traced = self.tracer.reply(reply_id, message.id if message else None, app, app_traceparent)
        if traced is None and message is not None and self.tail is not None:
            self.tail.reply(reply_id, message, app, app_traceparent)

    def action_sent(self, reply_id: str, driver_id: str) -> None:
        """Record a reply handed to its driver."""
        self.tracer.action(reply_id, driver_id)
        if self.tail is not None:
            self.tail.action(reply_id, driver_id)

    def action_done(
        self, reply_id: str, app: str, driver_id: str, success: bool, error_code: str | None
    ) -> None:
        """Record a driver's answer to a reply; a failure counts by why."""
        if not success:
            if error_code == "driver_unavailable":
                self.stats.count(Metric.EXPIRED, app)
            else:
                self.stats.count(Metric.ACTIONS_FAILED, driver_id)
        self.tracer.action_done(reply_id, success, error_code)
        if self.tail is not None:
            self.tail.action_done(reply_id, success, error_code)

    def describe(self) -> dict[str, Any]:
        """Return live figures, for operators."""
        traces = self.tracer.describe()
        if self.tail is not None:
            traces["tail"] = self.tail.describe()
        return {"messages_total": self.stats.messages_total, "traces": traces}
