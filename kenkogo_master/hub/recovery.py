"""Messages a stopped Master had acknowledged but not handled: scheduled again after a restart."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from kenkogo_master.hub.messages import InboundMessage

log = logging.getLogger(__name__)


def message_from_row(row: Any) -> InboundMessage:
    """Rebuild a hub message from its stored row."""
    chat = {"type": row.chat_type, "id": row.chat_id}
    if row.chat_name is not None:
        chat["name"] = row.chat_name
    sender = {"id": row.sender_id}
    if row.sender_name is not None:
        sender["name"] = row.sender_name
    return InboundMessage(
        id=row.id,
        driver_id=row.driver_id,
        platform=row.platform,
        platform_message_id=row.platform_message_id,
        chat=chat,
        sender=sender,
        content=row.content,
        segments=list(row.segments),
        locale=row.locale,
        traceparent=row.traceparent,
        time_ms=row.time_ms,
        received_ms=row.received_ms,
    )


async def redeliver_after(
    delay: float, messages: Sequence[InboundMessage], dispatch: Callable[[InboundMessage], None]
) -> None:
    """Wait for apps to reconnect, then schedule the messages again, oldest first."""
    await asyncio.sleep(delay)
    for message in messages:
        dispatch(message)
    log.info("scheduled %d messages left unhandled by the previous run again", len(messages))
