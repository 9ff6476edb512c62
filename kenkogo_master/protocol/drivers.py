"""Pydantic models of what drivers send on /driver (PROTOCOL.md section 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, TypeAdapter, model_validator

from kenkogo_master.protocol.apps import WireModel
from kenkogo_master.protocol.codec import MAX_NESTING, deeper_than

Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Locale = Annotated[str, StringConstraints(max_length=35)]
# The largest message text accepted, in characters (the frame limit still applies on top).
MAX_CONTENT = 65_536
MAX_SEGMENTS = 1000
MAX_BATCH = 1000
MESSAGE_KIND = "message"
# "notice.<type>" / "request.<type>", optionally one more level ("notice.notify.poke").
EVENT_KIND = r"^(notice|request)\.[a-z0-9_]{1,48}(\.[a-z0-9_]{1,48})?$"
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


def _shallow_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """Refuse a notice's detail nested deeper than JSON encoders go."""
    if deeper_than(detail):
        raise ValueError(f"nested deeper than {MAX_NESTING} levels")
    return detail


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
    # This form carries chat messages only; notices and requests come as NoticeForm, which
    # makes its events with model_construct (their kind and detail set).
    kind: Annotated[str, StringConstraints(pattern=r"^message$")] = MESSAGE_KIND
    detail: dict[str, Any] | None = None

    def time_ms(self, default: int) -> int:
        """Return the message time as epoch milliseconds, or `default` when the driver gave none."""
        return default if self.time is None else parse_time_ms(self.time)


Detail = Annotated[dict[str, Any], AfterValidator(_shallow_detail)]


class NoticeForm(WireModel):
    """A notice or request from a driver: an `event` whose `kind` is not "message".

    `detail` holds the platform's fields (a OneBot driver's notice without `time`, `self_id`
    and `post_type`); `sender` is the user the event is about, `chat` where it happened (the
    private chat with the sender when left out). A request needs `detail.flag`, the token
    its answer is given with, which also de-duplicates it.
    """

    kind: Annotated[str, StringConstraints(pattern=EVENT_KIND)]
    platform_message_id: Id | None = None
    chat: ChatInfo | None = None
    sender: SenderInfo
    content: Annotated[str, StringConstraints(max_length=MAX_CONTENT)] = ""
    detail: Detail = Field(default_factory=dict)
    time: Rfc3339 | None = None
    locale: Locale | None = None
    traceparent: Annotated[str, StringConstraints(max_length=128)] | None = None

    @model_validator(mode="after")
    def _request_has_flag(self) -> NoticeForm:
        if self.kind.startswith("request."):
            flag = self.detail.get("flag")
            if not isinstance(flag, str) or not 0 < len(flag) <= 100:
                raise ValueError("a request needs 'detail.flag', a string of 1 to 100 characters")
        return self

    def event(self, unique: str) -> InboundEvent:
        """Return the event ingest stores; `unique` names a notice that gave no id of its own."""
        platform_id = self.platform_message_id
        if platform_id is None:
            flag = self.detail.get("flag")
            # A request is known by its flag (sent again, it is the same request); a notice
            # without an id is new each time.
            platform_id = f"request:{flag}" if self.kind.startswith("request.") else unique
        chat = self.chat or ChatInfo(type="private", id=self.sender.id, name=self.sender.name)
        return InboundEvent.model_construct(
            platform_message_id=platform_id,
            chat=chat,
            sender=self.sender,
            content=self.content,
            segments=[],
            time=self.time,
            locale=self.locale,
            traceparent=self.traceparent,
            kind=self.kind,
            detail=self.detail,
        )


def read_event(item: Any, unique: str) -> InboundEvent:
    """Validate one driver event of either form; raise ValidationError or ValueError."""
    if isinstance(item, dict) and item.get("kind", MESSAGE_KIND) != MESSAGE_KIND:
        return NoticeForm.model_validate(item).event(unique)
    return InboundEvent.model_validate(item)


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
