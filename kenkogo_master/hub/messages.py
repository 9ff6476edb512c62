"""An inbound message inside the hub, and the `message` payload apps receive (PROTOCOL.md 2.3)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kenkogo_master.protocol.drivers import MESSAGE_KIND, format_time

_TRACEPARENT = re.compile(r"00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")


class MessageStatus(StrEnum):
    """Where a message stands as a whole."""

    PENDING = "pending"  # stored, being scheduled
    UNROUTED = "unrouted"  # no app matched
    HANDLED = "handled"  # every app it went to acknowledged it
    FAILED = "failed"  # at least one app name never acknowledged it
    INTERRUPTED = "interrupted"  # the Master stopped before scheduling finished


def new_traceparent() -> str:
    """Return a fresh W3C traceparent (version 00, sampled)."""
    digits = os.urandom(24).hex()  # trace id and span id from one call
    return f"00-{digits[:32]}-{digits[32:]}-01"


def new_traceparents(count: int) -> Iterator[str]:
    """Yield `count` fresh traceparents, made from one call for random bytes."""
    digits = os.urandom(24 * count).hex()
    for start in range(0, 48 * count, 48):
        yield f"00-{digits[start : start + 32]}-{digits[start + 32 : start + 48]}-01"


def valid_traceparent(value: str | None, fresh: Callable[[], str] = new_traceparent) -> str:
    """Keep a well-formed W3C traceparent from a driver; take a `fresh` one otherwise."""
    if value is not None and _TRACEPARENT.fullmatch(value):
        return value
    return fresh()


@dataclass(eq=False, slots=True)
class InboundMessage:
    """A stored chat message on its way to apps."""

    id: str
    driver_id: str
    platform: str
    platform_message_id: str
    chat: dict[str, Any]  # {"type", "id", "name"?}
    sender: dict[str, Any]  # {"id", "name"?}
    content: str
    segments: list[dict[str, Any]]
    locale: str | None
    traceparent: str
    time_ms: int
    received_ms: int
    time_text: str = ""  # time_ms as RFC 3339, when the maker had it at hand (messages of a batch)
    # Scheduling is over (handled, failed or unrouted): replies to it no longer change its fate.
    settled: bool = False
    kind: str = MESSAGE_KIND  # or a notice's / request's dotted kind, e.g. "notice.group_increase"
    detail: dict[str, Any] | None = None  # a notice's or request's platform fields

    @property
    def is_chat_message(self) -> bool:
        """Tell whether this is a chat message (not a notice or a request)."""
        return self.kind == MESSAGE_KIND

    def payload(self) -> dict[str, Any]:
        """Return the `message` event data without `attempt` (added per delivery)."""
        return {
            "id": self.id,
            "content": self.content,
            "segments": self.segments,
            "platform": self.platform,
            "driver": self.driver_id,
            "chat": self.chat,
            "sender": self.sender,
            "time": self.time_text or format_time(self.time_ms),
            "locale": self.locale,
            "traceparent": self.traceparent,
        } | ({} if self.kind == MESSAGE_KIND else {"kind": self.kind, "detail": self.detail})

    def values(self) -> tuple[Any, ...]:
        """Return the new `messages` row of this message, in MESSAGE_COLUMNS order."""
        chat, sender = self.chat, self.sender
        return (
            self.id,
            self.driver_id,
            self.platform,
            self.platform_message_id,
            chat["type"],
            chat["id"],
            chat.get("name"),
            sender["id"],
            sender.get("name"),
            self.content,
            self.segments,
            self.locale,
            self.traceparent,
            self.time_ms,
            self.received_ms,
            MessageStatus.PENDING.value,
            self.kind,
            self.detail,
        )

    @classmethod
    def from_row(cls, row: Any) -> InboundMessage:
        """Rebuild a message from its `messages` row."""
        chat = {"type": row.chat_type, "id": row.chat_id}
        if row.chat_name is not None:
            chat["name"] = row.chat_name
        sender = {"id": row.sender_id}
        if row.sender_name is not None:
            sender["name"] = row.sender_name
        return cls(
            id=row.id,
            driver_id=row.driver_id,
            platform=row.platform,
            platform_message_id=row.platform_message_id,
            chat=chat,
            sender=sender,
            content=row.content,
            segments=row.segments,
            locale=row.locale,
            traceparent=row.traceparent,
            time_ms=row.time_ms,
            received_ms=row.received_ms,
            settled=row.status != MessageStatus.PENDING.value,
            kind=row.kind,
            detail=row.detail,
        )
