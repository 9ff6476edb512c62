"""The single writer: commits queued statements in groups, so no message costs a transaction."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Executable
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.store.db import sqlite_file_twin
from kenkogo_master.store.prepared import PreparedCache

log = logging.getLogger(__name__)

# Under load a group keeps gathering, up to this many intervals, while rows still stream in
# (at least STREAMING_ROWS per interval): a SQLite commit costs about as much for 10 rows as
# for 100, so fewer, larger groups leave the event loop more time. An eager writer commits a
# trickle at once: rows that come after it sat idle for more than an interval, or while fewer
# than STREAMING_ROWS rows went in the last interval. Gathering would only add an interval to
# every wait, a message's delivery among them.
GATHER_INTERVALS = 5
STREAMING_ROWS = 8
# Seconds between WAL checkpoints, which run on a pooled connection's thread, off the loop.
CHECKPOINT_EVERY = 1.0
# While another connection holds SQLite's write lock, a group is retried this long, with pauses
# growing to BUSY_PAUSE_MAX: waiting inside SQLite would freeze the loop that the holder of the
# lock may need in order to finish.
BUSY_TIMEOUT = 5.0
BUSY_PAUSE_MAX = 0.02
# While the database refuses writes, the writer probes it again after a pause growing to this.
FAULT_PAUSE_MAX = 1.0


class StorageUnavailable(Exception):
    """The database refused a group for reasons of its own (locked, I/O, gone): not committed."""


def _rows_at_fault(exc: BaseException) -> bool:
    """Tell whether a failure lies in the rows themselves: a key stored before, a bad value."""
    if isinstance(exc, IntegrityError | ArithmeticError | ValueError | TypeError):
        return True
    return isinstance(exc, SQLAlchemyError) and isinstance(
        getattr(exc, "orig", None), ArithmeticError | ValueError | TypeError
    )


@dataclass(frozen=True, slots=True)
class Step:
    """One executemany of a group: driver SQL with tuples, or a statement SQLAlchemy runs."""

    statement: Executable
    sql: str | None  # None: run `statement` through SQLAlchemy
    params: list[Any]


def _run_steps(connection: Connection, steps: Sequence[Step]) -> None:
    """Run a group's steps in the connection's transaction."""
    cursor: Any = None
    for step in steps:
        if step.sql is None:
            rows = step.params
            connection.execute(step.statement, rows if len(rows) > 1 else rows[0])
            continue
        if cursor is None:
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(step.sql, step.params)
        except connection.dialect.loaded_dbapi.Error as exc:
            # Raised as SQLAlchemy would (IntegrityError and the like), for the callers.
            raise DBAPIError.instance(
                step.sql, step.params[0], exc, connection.dialect.loaded_dbapi.Error
            ) from exc
    if cursor is not None:
        cursor.close()


def _locked(exc: OperationalError) -> bool:
    """Tell whether SQLite refused because another connection holds the write lock."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


@dataclass(slots=True)
class _Write:
    statement: Executable
    params: dict[str, Any]
    done: asyncio.Future[None] | None = field(default=None)


class Writer:
    """Queue writes and commit them in groups, gathered for `interval` seconds under load.

    An `eager` writer commits a trickle at once instead of after an interval.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        interval: float,
        max_rows: int,
        queue_limit: int,
        eager: bool = False,
        synchronous: str = "normal",
    ) -> None:
        self._engine = engine
        self._interval = interval
        self._eager = eager
        self._max_rows = max_rows
        self._queue_limit = queue_limit
        self._pending: deque[_Write] = deque()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        # Held while a group commits, and by `paused()`: maintenance that needs SQLite's write
        # lock (VACUUM, a prune batch) takes it, so that the writer waits for it here instead
        # of retrying against a locked file and failing its group after BUSY_TIMEOUT.
        self._gate = asyncio.Lock()
        self._prepared = PreparedCache(engine.dialect)
        # A SQLite file is written synchronously, a group at a time (see sqlite_file_twin).
        self._sync: Engine | None = sqlite_file_twin(engine, synchronous)
        self._checkpoint: asyncio.Task[None] | None = None
        self._checkpointed_at = 0.0
        # The recent pace, which tells a trickle from a stream: (loop time, rows) of the commits
        # of the last interval, at least the last one (rows, not entries: an entry may carry
        # many), and whether the rows now queued came after an idle spell of over an interval.
        self._recent: deque[tuple[float, int]] = deque()
        self._recent_rows = 0
        self._committed_at = float("-inf")
        self._after_idle = False
        self.committed_groups = 0
        # The last failure not caused by the rows themselves, until a commit succeeds again.
        self.fault: str | None = None
        # Set while a probe, too, finds the database refusing writes; and the pause before the
        # next probe. Writes someone waits for are refused at once meanwhile.
        self._refusing = False
        self._fault_pause = 0.0

    @property
    def healthy(self) -> bool:
        """Tell whether writes work (False from a failed group to the next commit or probe)."""
        return self.fault is None

    async def start(self) -> None:
        """Start the commit loop."""
        self._task = asyncio.create_task(self._run(), name="store-writer")

    async def stop(self) -> None:
        """Commit everything queued, then stop (what the database still refuses is logged lost)."""
        await self.flush()
        if self._pending:
            log.error("stopping with %d writes the database refused: lost", len(self._pending))
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)
            self._checkpoint = None
        if self._sync is not None:
            self._sync.dispose()

    @asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """Hold the commits back (after the group under way) until the block ends.

        Writes keep queueing meanwhile, up to the queue limit, and are committed afterwards.
        """
        async with self._gate:
            yield

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
        """Wait until everything queued so far is committed, or the database refuses writes."""
        while self._pending or not self._idle.is_set():
            self._wake.set()
            await self._idle.wait()
            if self._refusing:
                return  # the writes kept for later would make a reader wait for the fault's end
            if self._pending:
                await asyncio.sleep(0)

    async def _enqueue(self, item: _Write) -> None:
        if self._refusing and item.done is not None:
            # Refused at once while the database refuses writes: the caller can say so now.
            item.done.set_exception(StorageUnavailable(self.fault or "the database refuses writes"))
            return
        while len(self._pending) >= self._queue_limit:
            self._room.clear()
            await self._room.wait()
        self._pending.append(item)
        if self._idle.is_set():
            self._idle.clear()
            # Measured at the first row, not when the writer runs: a busy loop is no idle spell.
            now = asyncio.get_running_loop().time()
            self._after_idle = now - self._committed_at > self._interval
        self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._refusing:
                await self._wake.wait()
            elif not await self._pause_in_fault():
                continue
            self._wake.clear()
            after_idle, self._after_idle = self._after_idle, False
            if self._eager and (after_idle or not self._streaming(loop.time())):
                # Commit now, once the rows queued in this loop iteration are in.
                await asyncio.sleep(0)
            else:
                await self._gather()
            while self._pending:
                count = min(len(self._pending), self._max_rows)
                group = [self._pending.popleft() for _ in range(count)]
                self._room.set()
                async with self._gate:
                    committed = await self._commit(group)
                if not committed:
                    break  # the database refuses writes: wait, then probe it again
                self._committed_at = loop.time()
            self._idle.set()

    async def _pause_in_fault(self) -> bool:
        """Wait a growing pause, then probe; return whether the database takes writes again."""
        await asyncio.sleep(self._fault_pause)
        self._fault_pause = min(self._fault_pause * 2, FAULT_PAUSE_MAX)
        try:
            await self._execute_probe()
        except Exception as exc:
            self._failed(exc)
            return False
        self._refusing = False
        self._recovered()
        return True

    def _streaming(self, now: float) -> bool:
        """Tell whether rows stream in: STREAMING_ROWS or more lately, counting the queued ones."""
        self._forget(now)
        return self._recent_rows + len(self._pending) >= STREAMING_ROWS

    def _count(self, rows: int) -> None:
        """Count a commit's rows towards the recent pace (which only an eager writer needs)."""
        if not self._eager:
            return
        now = asyncio.get_running_loop().time()
        self._recent.append((now, rows))
        self._recent_rows += rows
        self._forget(now)

    def _forget(self, now: float) -> None:
        """Drop the commits older than an interval from the pace, all but the last one."""
        recent = self._recent
        while len(recent) > 1 and now - recent[0][0] > self._interval:
            self._recent_rows -= recent.popleft()[1]

    async def _gather(self) -> None:
        """Let a group gather: one interval, longer while rows keep streaming in."""
        for _ in range(GATHER_INTERVALS):
            before = len(self._pending)
            if before >= self._max_rows:
                return
            await asyncio.sleep(self._interval)
            if len(self._pending) - before < STREAMING_ROWS:
                return

    async def _commit(self, group: list[_Write]) -> bool:
        """Commit a group; return False when the database refused it (it is then kept or refused).

        Any error is caught here, so the loop never dies: rows at fault fail alone; when the
        database itself refuses (locked, I/O, gone, or anything unforeseen while a probe fails
        too), the waiters are refused, never acked, and the writes nobody waits for are kept
        to be retried once it takes writes again.
        """
        try:
            rows = await self._execute(group)
        except asyncio.CancelledError:
            self._settle(group, StorageUnavailable("the writer stopped"))
            raise
        except Exception as exc:
            if not _rows_at_fault(exc):
                self._failed(exc)
                if not await self._takes_writes():
                    self._refusing = True
                    self._keep_or_refuse(group, exc)
                    return False
            if len(group) == 1:
                self._settle(group, exc)
                return True
            log.warning(
                "group commit of %d writes failed (%s); retrying one by one", len(group), exc
            )
            for item in group:
                if not await self._commit([item]):
                    return False
            return True
        self._recovered()
        self.committed_groups += 1
        self._count(rows)
        self._settle(group, None)
        return True

    async def _takes_writes(self) -> bool:
        """Probe whether the database accepts a write now."""
        try:
            await self._execute_probe()
        except Exception:
            return False
        return True

    async def _execute_probe(self) -> None:
        """Raise unless the database is reachable and, for a SQLite file, its write lock free."""
        if self._sync is None:
            async with self._engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")
            return
        with self._sync.connect() as connection:
            raw: Any = connection.connection.dbapi_connection
            raw.execute("BEGIN IMMEDIATE")  # takes the write lock, or fails while another holds it
            raw.execute("ROLLBACK")

    def _failed(self, exc: BaseException) -> None:
        """Note that writes fail for a reason outside the rows; say so once, with the cause."""
        if self.fault is None:
            log.error("writes to the database fail: %s", exc, exc_info=exc)
            self._fault_pause = 0.05
        self.fault = f"{type(exc).__name__}: {exc}"[:500]

    def _recovered(self) -> None:
        if self.fault is not None:
            log.warning("the database takes writes again")
            self.fault = None

    def _keep_or_refuse(self, group: list[_Write], exc: BaseException) -> None:
        """Refuse the writes someone waits for; put the others back, in order, for a retry.

        The writes queued while the failed group was retrying are sorted the same way: they
        came before `_refusing` was set, and would otherwise wait out the whole fault.
        """
        refusal = StorageUnavailable(str(exc))
        refusal.__cause__ = exc
        kept = []
        for item in (*group, *self._pending):
            if item.done is None:
                kept.append(item)
            elif not item.done.done():
                item.done.set_exception(refusal)
        self._pending.clear()
        self._pending.extend(kept)
        self._room.set()

    async def _execute(self, group: Sequence[_Write]) -> int:
        """Write and commit a group; return how many rows it wrote."""
        steps = self._plan(group)
        rows = sum(len(step.params) for step in steps)
        if self._sync is None:
            # One hop into SQLAlchemy's sync layer for the whole group, not one per statement.
            async with self._engine.begin() as connection:
                await connection.run_sync(_run_steps, steps)
            return rows
        # On the loop itself: a group's commit takes about half a millisecond (without fsync in
        # WAL mode), less than handing it to a thread and waking the loop back costs.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BUSY_TIMEOUT
        pause = 0.001
        while True:
            try:
                with self._sync.begin() as connection:
                    _run_steps(connection, steps)
                break
            except OperationalError as exc:
                if not _locked(exc) or loop.time() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, BUSY_PAUSE_MAX)
        self._schedule_checkpoint()
        return rows

    def _schedule_checkpoint(self) -> None:
        """Copy the WAL into the database now and then, on a pooled connection's own thread."""
        loop = asyncio.get_running_loop()
        if self._checkpoint is not None or loop.time() - self._checkpointed_at < CHECKPOINT_EVERY:
            return
        self._checkpointed_at = loop.time()
        self._checkpoint = asyncio.create_task(self._run_checkpoint(), name="wal-checkpoint")

    async def _run_checkpoint(self) -> None:
        try:
            async with self._engine.connect() as connection:
                await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except (SQLAlchemyError, OSError) as exc:
            log.warning("WAL checkpoint failed: %s", exc)
        finally:
            self._checkpoint = None

    def _plan(self, group: Sequence[_Write]) -> list[Step]:
        """Cut a group into runs of one statement and row shape, each one executemany.

        The driver parameters are built here, on the event loop, so that the writer's thread
        runs almost no Python and seldom holds the GIL the loop is waiting for.
        """
        steps: list[Step] = []
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
                steps.append(Step(first.statement, prepared.sql, prepared.tuples(rows)))
            else:
                steps.append(Step(first.statement, None, rows))
            start = end
        return steps

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
