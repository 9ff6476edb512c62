"""Messages a stopped Master had acknowledged but not handled: scheduled again after a restart."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from kenkogo_master.hub.messages import InboundMessage
from kenkogo_master.hub.scheduler import Scheduler
from kenkogo_master.store.message_records import MessageRecords

log = logging.getLogger(__name__)

# Messages read from SQL at a time; the next page waits until the queues have room for it.
PAGE = 500

# Schedules a recovered message, except for the names that acked it (and whether one blocked).
Redispatch = Callable[[InboundMessage, frozenset[str], bool], None]


async def redeliver_after(
    delay: float,
    records: MessageRecords,
    scheduler: Scheduler,
    dispatch: Redispatch,
    until_id: str,
) -> int:
    """Wait for apps to reconnect, then schedule every message left pending, oldest first.

    The messages are read a page at a time, each page once the queues can take it without
    pushing anything out: no cut at `queue_limit`, and memory bounded by the queues.
    """
    await asyncio.sleep(delay)
    page = max(1, min(PAGE, scheduler.backlog_limit))
    after: tuple[int, str] | None = None
    total = 0
    while True:
        await scheduler.wait_for_recovery_room(page)
        rows = await records.pending_page(until_id, after, page)
        if not rows:
            break
        done = await records.acked_names([row.id for row in rows])
        for row in rows:
            names, blocked = done.get(row.id, (set(), False))
            dispatch(InboundMessage.from_row(row), frozenset(names), blocked)
        total += len(rows)
        after = (rows[-1].received_ms, rows[-1].id)
    if total:
        log.info("scheduled %d messages left unhandled by the previous run again", total)
    return total
