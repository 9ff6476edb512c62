"""The single writer: commits queued statements in groups, so no message costs a transaction."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Executable
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.store.db import sqlite_file_twin
from kenkogo_master.store.prepared import PreparedCache

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Write:
    statement: Executable
    params: dict[str, Any]
    done: asyncio.Future[None] | None = field(default=None)


class Writer:
    """Queue writes and commit them together every `interval` seconds or `max_rows` rows."""

    def __init__(
        self, engine: AsyncEngine, *, interval: float, max_rows: int, queue_limit: int
    ) -> None:
        self._engine = engine
        self._interval = interval
        self._max_rows = max_rows
        self._queue_limit = queue_limit
        self._pending: deque[_Write] = deque()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._prepared = PreparedCache(engine.dialect)
        # SQLite files are written from one thread of our own, a whole group per hop.
        self._sync: Engine | None = sqlite_file_twin(engine)
        self._thread: ThreadPoolExecutor | None = None
        self.committed_groups = 0

    async def start(self) -> None:
        """Start the commit loop."""
        if self._sync is not None and self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._task = asyncio.create_task(self._run(), name="store-writer")

    async def stop(self) -> None:
        """Commit everything queued, then stop."""
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._thread is not None and self._sync is not None:
            # Its connection was opened on that thread; close it there.
            await asyncio.get_running_loop().run_in_executor(self._thread, self._sync.dispose)
            self._thread.shutdown(wait=True)
            self._thread = None

    async def submit(self, statement: Executable, params: dict[str, Any]) -> None:
        """Queue a write without waiting for its commit (waits only while the queue is full)."""
        await self._enqueue(_Write(statement, params))

    async def write(self, statement: Executable, params: dict[str, Any]) -> None:
        """Queue a write and wait until it is committed."""
        done = asyncio.get_running_loop().create_future()
        await self._enqueue(_Write(statement, params, done))
        await done

    async def write_many(
        self, statement: Executable, rows: Sequence[dict[str, Any]]
    ) -> list[BaseException | None]:
        """Queue several writes of one statement, wait for all; return each row's error or None."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[None]] = []
        for params in rows:
            done = loop.create_future()
            await self._enqueue(_Write(statement, params, done))
            futures.append(done)
        results = await asyncio.gather(*futures, return_exceptions=True)
        return [result if isinstance(result, BaseException) else None for result in results]

    async def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        while self._pending or not self._idle.is_set():
            self._wake.set()
            await self._idle.wait()
            if self._pending:
                await asyncio.sleep(0)

    async def _enqueue(self, item: _Write) -> None:
        while len(self._pending) >= self._queue_limit:
            self._room.clear()
            await self._room.wait()
        self._pending.append(item)
        self._idle.clear()
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if len(self._pending) < self._max_rows:
                await asyncio.sleep(self._interval)  # let a group gather
            while self._pending:
                count = min(len(self._pending), self._max_rows)
                group = [self._pending.popleft() for _ in range(count)]
                self._room.set()
                await self._commit(group)
            if not self._pending:
                self._idle.set()

    async def _commit(self, group: list[_Write]) -> None:
        try:
            await self._execute(group)
        except (SQLAlchemyError, OSError, ArithmeticError, ValueError, TypeError) as exc:
            # The others: a value the driver cannot bind (an integer past 64 bits, a dict);
            # that row fails alone instead of stopping the writer.
            if len(group) == 1:
                self._settle(group, exc)
                return
            log.warning(
                "group commit of %d writes failed (%s); retrying one by one", len(group), exc
            )
            for item in group:
                await self._commit([item])
            return
        self.committed_groups += 1
        self._settle(group, None)

    async def _execute(self, group: Sequence[_Write]) -> None:
        if self._thread is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._commit_sync, group)
            return
        # One hop into SQLAlchemy's sync layer for the whole group, not one per statement.
        async with self._engine.begin() as connection:
            await connection.run_sync(self._execute_group, group)

    def _commit_sync(self, group: Sequence[_Write]) -> None:
        assert self._sync is not None
        with self._sync.begin() as connection:
            self._execute_group(connection, group)

    def _execute_group(self, connection: Connection, group: Sequence[_Write]) -> None:
        # Consecutive writes of one statement and one row shape go as one executemany.
        start = 0
        while start < len(group):
            first = group[start]
            keys = first.params.keys()
            end = start + 1
            while (
                end < len(group)
                and group[end].statement is first.statement
                and group[end].params.keys() == keys
            ):
                end += 1
            rows = [item.params for item in group[start:end]]
            prepared = self._prepared.get(first.statement, first.params)
            if prepared is not None:
                prepared.run(connection, rows)
            else:
                connection.execute(first.statement, rows if len(rows) > 1 else rows[0])
            start = end

    @staticmethod
    def _settle(group: Sequence[_Write], error: BaseException | None) -> None:
        for item in group:
            if item.done is None:
                if error is not None:
                    log.error("write lost: %s (%s)", item.statement, error)
                continue
            if not item.done.done():
                if error is None:
                    item.done.set_result(None)
                else:
                    item.done.set_exception(error)
