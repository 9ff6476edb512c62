"""Delivery rows and message statuses, gathered in memory and handed to the writer in runs."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kenkogo_master.store.message_records import (
    DELIVERY_CHANGES,
    DELIVERY_COLUMNS,
    STATUS_COLUMNS,
    MessageRecords,
)

log = logging.getLogger(__name__)


class DeliveryStatus(StrEnum):
    """Where one delivery attempt stands."""

    PENDING = "pending"  # waiting in its app name's queue
    SENT = "sent"  # sent to an instance, waiting for the ack
    ACKED = "acked"  # acknowledged
    FAILED = "failed"  # the name's last attempt: the message never got through to it
    EXPIRED = "expired"  # unanswered in time, or the instance left; another attempt follows


@dataclass(eq=False, slots=True)
class Attempt:
    """One delivery attempt, which is one `deliveries` row."""

    id: str
    message_id: str
    app_name: str
    number: int
    created_ms: int
    status: DeliveryStatus = DeliveryStatus.PENDING
    instance_id: str | None = None
    sent_ms: int | None = None
    sent_at: float = 0.0  # monotonic, for the latency
    answered_ms: int | None = None
    latency_ms: float | None = None
    blocked: bool = False
    error: str | None = None
    written: bool = field(default=False)
    transport: str = ""  # the instance's, for a trace built after the fact (not a column)

    def values(self) -> tuple[Any, ...]:
        """Return the full row, for its first write, in DELIVERY_COLUMNS order."""
        return (
            self.id,
            self.message_id,
            self.app_name,
            self.instance_id,
            self.number,
            self.status.value,
            self.created_ms,
            self.sent_ms,
            self.answered_ms,
            self.latency_ms,
            self.blocked,
            self.error,
        )

    def changes(self) -> tuple[Any, ...]:
        """Return the parameters of the row's update, in DELIVERY_CHANGES order."""
        return (
            self.instance_id,
            self.number,
            self.status.value,
            self.sent_ms,
            self.answered_ms,
            self.latency_ms,
            self.blocked,
            self.error,
            self.id,
        )


# A new attempt's row waits this long for the attempt to end, so that most attempts cost one
# INSERT instead of an INSERT and an UPDATE; one still open by then is written as it stands.
SETTLE_WINDOW = 0.5
FINAL = frozenset({DeliveryStatus.ACKED, DeliveryStatus.FAILED, DeliveryStatus.EXPIRED})


class Recorder:
    """Collect changed rows during a burst of work; one background task writes them in order."""

    def __init__(self, records: MessageRecords, settle_window: float = SETTLE_WINDOW) -> None:
        self._records = records
        self._settle_window = settle_window
        self._attempts: dict[Attempt, None] = {}  # changed since the last flush (an ordered set)
        self._open: dict[Attempt, float] = {}  # unwritten and still open -> when to write anyway
        self._statuses: list[tuple[str, str]] = []  # (status, message id)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        """Start the background writer of rows."""
        self._task = asyncio.create_task(self._run(), name="delivery-recorder")

    async def stop(self) -> None:
        """Write what is left, open attempts included, then stop."""
        # Not cancelled: a flush cut short would lose the rows it had taken.
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.flush(everything=True)

    def attempt(self, attempt: Attempt) -> None:
        """Note that an attempt's row must be written."""
        self._attempts[attempt] = None
        self._wake.set()

    def message_status(self, message_id: str, status: str) -> None:
        """Note a message's new status."""
        self._statuses.append((status, message_id))
        self._wake.set()

    async def flush(self, everything: bool = False) -> None:
        """Hand the noted changes to the writer: new rows first, then updates, then statuses."""
        now = time.monotonic()
        attempts, self._attempts = self._attempts, {}
        statuses, self._statuses = self._statuses, []
        fresh: list[Attempt] = []
        changed: list[Attempt] = []
        for attempt in attempts:
            if attempt.written:
                changed.append(attempt)
            elif everything or attempt.status in FINAL:
                self._open.pop(attempt, None)
                fresh.append(attempt)
            else:
                self._open.setdefault(attempt, now + self._settle_window)
        # Deadlines grow in insertion order, so the overdue ones come first.
        for attempt, deadline in list(self._open.items()):
            if deadline > now and not everything:
                break
            del self._open[attempt]
            fresh.append(attempt)
        for attempt in fresh:
            attempt.written = True
        records = self._records
        # Each kind of row goes to the writer as one entry: one executemany per flush.
        await records.submit_rows(
            records.insert_delivery, DELIVERY_COLUMNS, [attempt.values() for attempt in fresh]
        )
        await records.submit_rows(
            records.update_delivery, DELIVERY_CHANGES, [attempt.changes() for attempt in changed]
        )
        await records.submit_rows(records.set_message_status, STATUS_COLUMNS, statuses)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                async with asyncio.timeout(self._until_next_deadline()):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("recording deliveries failed")

    def _until_next_deadline(self) -> float | None:
        """Return the seconds until the oldest open attempt must be written, if there is one."""
        for deadline in self._open.values():
            return max(0.0, deadline - time.monotonic())
        return None
