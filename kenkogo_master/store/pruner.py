"""Prune what outlived its retention: in small batches, on a schedule and on demand."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy import Connection, and_, delete, select, tuple_
from sqlalchemy.exc import OperationalError

from kenkogo_master.errors import HubError
from kenkogo_master.ids import now_ms
from kenkogo_master.store.maintenance import Maintenance
from kenkogo_master.store.retention import Policy, Retention, Target

log = logging.getLogger(__name__)

# Between two batches the writer commits what queued meanwhile; this pause lets a group gather.
BATCH_PAUSE = 0.005
PAUSE_SHARE = 1.0
# A scheduled prune that finds another operation running looks again this often.
BUSY_RETRY = 1.0
# The first scheduled prune waits this long after start-up (at most an interval): start-up is
# busy enough with apps reconnecting and messages delivered again.
FIRST_DELAY = 60.0
# A batch refused because the file is locked (by a write outside the writer) is tried again.
LOCKED_RETRIES = 5


def delete_batch(connection: Connection, target: Target, cutoff: int, limit: int) -> dict[str, int]:
    """Delete up to `limit` rows of `target` older than `cutoff`; return rows removed per table.

    Each statement picks its rows by a subquery, so that no key passes through Python: the
    batch costs the event loop a few statements, whatever its size. Where children go first,
    the rows are picked in a fixed order, so that every statement of the batch picks the same.
    """
    keys = list(target.table.primary_key.columns)
    condition = target.column < cutoff
    if target.where is not None:
        condition = and_(condition, target.where)
    chosen = select(*keys).where(condition).limit(limit)
    removed: dict[str, int] = {}
    if target.children:
        (key,) = keys  # children name their row by a one-column key
        chosen = chosen.order_by(target.column, key)
        for child, column in target.children:
            result = connection.execute(delete(child).where(column.in_(chosen)))
            removed[child.name] = int(result.rowcount or 0)
    match = keys[0].in_(chosen) if len(keys) == 1 else tuple_(*keys).in_(chosen)
    result = connection.execute(delete(target.table).where(match))
    removed[target.table.name] = int(result.rowcount or 0)
    return removed


class Pruner:
    """Delete rows past their retention, a batch per transaction, the writer going between."""

    def __init__(
        self,
        maintenance: Maintenance,
        retention: Retention,
        *,
        batch_rows: int,
        interval: float,
        pause: float = BATCH_PAUSE,
    ) -> None:
        self._maintenance = maintenance
        self._retention = retention
        self._batch_rows = batch_rows
        self._interval = interval
        self._pause = pause
        self._task: asyncio.Task[None] | None = None
        self.last: dict[str, Any] | None = None

    def start(self) -> None:
        """Prune in the background soon after start-up, then every interval."""
        self._task = asyncio.create_task(self._run(), name="retention-prune")

    async def stop(self) -> None:
        """Stop the schedule (a prune under way ends after its current batch)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        await asyncio.sleep(min(FIRST_DELAY, self._interval))
        while True:
            try:
                await self.prune("schedule")
            except HubError:  # another operation runs: look again shortly
                await asyncio.sleep(BUSY_RETRY)
                continue
            except Exception:
                log.exception("scheduled prune failed")
            await asyncio.sleep(self._interval)

    async def prune(self, trigger: str) -> dict[str, Any]:
        """Prune every policy now; refuse (409) while another operation runs. Return the report."""
        async with self._maintenance.hold("prune"):
            started_ms = now_ms()
            started = time.perf_counter()
            items = []
            for policy in self._retention.policies:
                cutoff = self._retention.cutoff_ms(policy.name, started_ms)
                items += await self._prune_policy(policy, cutoff)
            report = {
                "trigger": trigger,
                "started_ms": started_ms,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "removed": sum(item["removed"] for item in items),
                "items": items,
            }
        self.last = report
        if report["removed"]:
            log.info("pruned %d rows past their retention", report["removed"])
        return report

    async def _prune_policy(self, policy: Policy, cutoff_ms: int) -> list[dict[str, Any]]:
        """Prune one policy's tables; report each table once, zero included."""
        removed: dict[str, int] = {}
        for target in policy.targets:
            for child, _ in target.children:
                removed.setdefault(child.name, 0)
            removed.setdefault(target.table.name, 0)
            cutoff = cutoff_ms * target.scale
            while True:
                started = time.perf_counter()
                batch = await self._batch(target, cutoff)
                took = time.perf_counter() - started
                for name, count in batch.items():
                    removed[name] += count
                if batch.get(target.table.name, 0) < self._batch_rows:
                    break
                # At least as long as the batch held the writer back: pruning never takes more
                # than half the time writes may wait, however slow the disk.
                await asyncio.sleep(max(self._pause, took * PAUSE_SHARE))
        return [
            {"policy": policy.name, "table": name, "cutoff_ms": cutoff_ms, "removed": count}
            for name, count in removed.items()
        ]

    async def _batch(self, target: Target, cutoff: int) -> dict[str, int]:
        """Run one batch in its own transaction while the writer waits for it."""
        engine = self._maintenance.engine
        for attempt in range(LOCKED_RETRIES + 1):
            try:
                async with self._maintenance.exclusive(), engine.begin() as connection:
                    return await connection.run_sync(delete_batch, target, cutoff, self._batch_rows)
            except OperationalError as exc:
                if attempt == LOCKED_RETRIES or "locked" not in str(exc.orig):
                    raise
                await asyncio.sleep(self._pause * (attempt + 1))
        return {}
