"""Delivery rows and message statuses, gathered in memory and handed to the writer in runs."""

from __future__ import annotations

import asyncio
import logging
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


class Recorder:
    """Collect changed rows during a burst of work; one background task writes them in order."""

    def __init__(self, records: MessageRecords) -> None:
        self._records = records
        self._attempts: dict[Attempt, None] = {}  # an ordered set
        self._statuses: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        """Start the background writer of rows."""
        self._task = asyncio.create_task(self._run(), name="delivery-recorder")

    async def stop(self) -> None:
        """Write what is left, then stop."""
        # Not cancelled: a flush cut short would lose the rows it had taken.
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.flush()

    def attempt(self, attempt: Attempt) -> None:
        """Note that an attempt's row must be written."""
        self._attempts[attempt] = None
        self._wake.set()

    def message_status(self, message_id: str, status: str) -> None:
        """Note a message's new status."""
        self._statuses.append({"row_id": message_id, "status": status})
        self._wake.set()

    async def flush(self) -> None:
        """Hand every noted change to the writer: new rows first, then updates, then statuses."""
        attempts, self._attempts = self._attempts, {}
        statuses, self._statuses = self._statuses, []
        writer = self._records.writer
        # Consecutive writes of one statement become a single executemany in the writer.
        fresh = [attempt for attempt in attempts if not attempt.written]
        changed = [attempt for attempt in attempts if attempt.written]
        for attempt in fresh:
            attempt.written = True
            await writer.submit(self._records.insert_delivery, attempt.row())
        for attempt in changed:
            await writer.submit(self._records.update_delivery, attempt.changes())
        for status in statuses:
            await writer.submit(self._records.set_message_status, status)

    async def _run(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("recording deliveries failed")
