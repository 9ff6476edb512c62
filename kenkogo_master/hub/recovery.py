"""Messages a stopped Master had acknowledged but not handled: scheduled again after a restart."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from kenkogo_master.hub.messages import InboundMessage

log = logging.getLogger(__name__)


async def redeliver_after(
    delay: float, messages: Sequence[InboundMessage], dispatch: Callable[[InboundMessage], None]
) -> None:
    """Wait for apps to reconnect, then schedule the messages again, oldest first."""
    await asyncio.sleep(delay)
    for message in messages:
        dispatch(message)
    log.info("scheduled %d messages left unhandled by the previous run again", len(messages))
