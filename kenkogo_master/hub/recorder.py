"""Delivery rows and message statuses, gathered in memory and handed to the writer in runs."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kenkogo_master.store.message_records import DELIVERY_MUTABLE, MessageRecords

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

    def row(self) -> dict[str, Any]:
        """Return the full row, for its first write."""
        return {
            "id": self.id,
            "message_id": self.message_id,
            "app_name": self.app_name,
            "created_ms": self.created_ms,
            **self._mutable(),
        }

    def changes(self) -> dict[str, Any]:
        """Return the parameters of the row's update."""
        return {"row_id": self.id, **self._mutable()}

    def _mutable(self) -> dict[str, Any]:
        values = {
            "instance_id": self.instance_id,
            "attempt": self.number,
            "status": self.status.value,
            "sent_ms": self.sent_ms,
            "answered_ms": self.answered_ms,
            "latency_ms": self.latency_ms,
            "blocked": self.blocked,
            "error": self.error,
        }
        assert values.keys() == set(DELIVERY_MUTABLE)
        return values


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
        self._statuses: list[dict[str, Any]] = []
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
        self._statuses.append({"row_id": message_id, "status": status})
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
        writer = self._records.writer
        # Consecutive writes of one statement become a single executemany in the writer.
        for attempt in fresh:
            attempt.written = True
            await writer.submit(self._records.insert_delivery, attempt.row())
        for attempt in changed:
            await writer.submit(self._records.update_delivery, attempt.changes())
        for status in statuses:
            await writer.submit(self._records.set_message_status, status)

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
