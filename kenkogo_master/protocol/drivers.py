"""Pydantic models of what drivers send on /driver (PROTOCOL.md section 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, TypeAdapter

from kenkogo_master.protocol.apps import WireModel
from kenkogo_master.protocol.codec import MAX_NESTING, deeper_than

Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Locale = Annotated[str, StringConstraints(max_length=35)]
# The largest message text accepted, in characters (the frame limit still applies on top).
MAX_CONTENT = 65_536
MAX_SEGMENTS = 1000
MAX_BATCH = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


class DriverRegister(WireModel):
    """The `register` event of a driver: which account of which platform it speaks for."""

    platform: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    self_id: Id
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    locale: Locale | None = None


class ChatInfo(WireModel):
    """The chat a message belongs to."""

    type: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    id: Id
    name: Annotated[str, StringConstraints(max_length=200)] | None = None


class SenderInfo(WireModel):
    """Who sent a message."""

    id: Id
    name: Annotated[str, StringConstraints(max_length=200)] | None = None


def _rfc3339(value: str) -> str:
    """Refuse a time that is not RFC 3339 (keeping the text; ingest turns it into ms)."""
    parse_time_ms(value)
    return value


# A plain function after the string checks: a validator method costs pydantic twice as much.
Rfc3339 = Annotated[str, StringConstraints(max_length=64), AfterValidator(_rfc3339)]


def _shallow(segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Refuse segments nested deeper than any platform's message needs (or JSON encoders go)."""
    if deeper_than(segments):
        raise ValueError(f"nested deeper than {MAX_NESTING} levels")
    return segments


class InboundEvent(WireModel):
    """One inbound chat message from a driver (the `event` event)."""

    platform_message_id: Id
    chat: ChatInfo
    sender: SenderInfo
    content: Annotated[str, StringConstraints(max_length=MAX_CONTENT)]
    segments: Annotated[
        list[dict[str, Any]], Field(max_length=MAX_SEGMENTS), AfterValidator(_shallow)
    ] = Field(default_factory=list)
    time: Rfc3339 | None = None
    locale: Locale | None = None
    traceparent: Annotated[str, StringConstraints(max_length=128)] | None = None

    def time_ms(self, default: int) -> int:
        """Return the message time as epoch milliseconds, or `default` when the driver gave none."""
        return default if self.time is None else parse_time_ms(self.time)


class EventsBatch(WireModel):
    """The `events` event: several messages committed together; each is answered on its own."""

    events: Annotated[list[Any], Field(min_length=1, max_length=MAX_BATCH)]


class BatchedEvent(InboundEvent):
    """An event of a batch, whose time `validate_batch` checks once per distinct text."""

    time: Annotated[str, StringConstraints(max_length=64)] | None = None


_BATCHED_EVENTS: TypeAdapter[list[BatchedEvent]] = TypeAdapter(list[BatchedEvent])


def validate_batch(items: list[Any]) -> list[BatchedEvent]:
    """Validate the events of a batch in one call; raise ValidationError or ValueError.

    The caller goes through a batch that fails again event by event (InboundEvent), so that
    each bad event gets its own answer: this only has to find out whether all are good.
    """
    events = _BATCHED_EVENTS.validate_python(items)
    # Without a validator called back for every event; the events of a batch often share
    # their time, too.
    for text in {event.time for event in events}:
        if text is not None:
            parse_time_ms(text)
    return events


def parse_time_ms(text: str) -> int:
    """Parse an RFC 3339 time (UTC when it names no offset) into epoch ms; raise ValueError."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            "time must be an RFC 3339 date-time such as 2026-11-22T08:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Whole milliseconds in integers: no float rounding, and a third faster than timestamp().
    return (moment - _EPOCH) // _MILLISECOND


def format_time(ms: int) -> str:
    """Format epoch milliseconds as an RFC 3339 UTC string (`Z`, milliseconds only when set)."""
    seconds, milliseconds = divmod(ms, 1000)
    m = datetime.fromtimestamp(seconds, tz=UTC)
    # Fields into an f-string: a third faster than strftime, and years below 1000 keep 4 digits.
    text = f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
    return f"{text}.{milliseconds:03d}Z" if milliseconds else f"{text}Z"
