"""The writer survives an error nobody planned for: its waiters hear of it and the loop goes on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.store.writer import Writer
from tests.store.rows_table import INSERT, stored

# A writer whose loop died would leave every wait hanging: fail in seconds instead.
pytestmark = pytest.mark.timeout(20)
HANG = 3.0


class Fault:
    """Make the writer's execution step raise RuntimeError, an error type it does not expect."""

    def __init__(self, writer: Writer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.on = False
        self.raised = 0
        execute = writer._execute

        async def faulty(group: Sequence[Any]) -> int:
            if self.on:
                self.raised += 1
                raise RuntimeError("the database driver failed in a way nobody planned for")
            return await execute(group)

        monkeypatch.setattr(writer, "_execute", faulty)


@pytest.fixture
async def writer(rows_engine: AsyncEngine) -> AsyncIterator[Writer]:
    """A started eager writer on the ROWS table."""
    writer = Writer(rows_engine, interval=0.01, max_rows=100, queue_limit=1000, eager=True)
    await writer.start()
    yield writer
    # test_stop_returns_after_a_fault is the test of this; here a hang only must not stall.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(writer.stop(), HANG)


@pytest.fixture
def fault(writer: Writer, monkeypatch: pytest.MonkeyPatch) -> Fault:
    """The switchable fault of `writer`."""
    return Fault(writer, monkeypatch)


async def outcome(awaitable: Awaitable[Any]) -> BaseException | None:
    """Await a write: None when it was committed, its exception when refused; fail on a hang."""
    try:
        await asyncio.wait_for(awaitable, HANG)
    except TimeoutError:
        pytest.fail(f"no answer within {HANG} s: the writer's loop is gone")
    except Exception as exc:
        return exc
    return None


async def test_an_unexpected_error_is_refused_to_the_waiter_and_the_next_write_succeeds(
    writer: Writer, fault: Fault, rows_engine: AsyncEngine
) -> None:
    """A write that met the error fails (it is never reported committed); the next one works."""
    await writer.write(INSERT, {"id": 1, "name": "before"})
    fault.on = True

    failed = await outcome(writer.write(INSERT, {"id": 2, "name": "during"}))
    fault.on = False
    after = await outcome(writer.write(INSERT, {"id": 3, "name": "after"}))

    assert fault.raised >= 1
    assert failed is not None, "a write that met the error was reported committed"
    assert after is None, after
    assert [row[0] for row in await stored(rows_engine)] == [1, 3]


async def test_every_waiter_of_a_failing_group_hears_of_it(
    writer: Writer, fault: Fault, rows_engine: AsyncEngine
) -> None:
    """Writes gathered into one group all fail together; none is reported committed."""
    fault.on = True

    try:
        results = await asyncio.wait_for(
            asyncio.gather(
                *(writer.write(INSERT, {"id": n, "name": f"n{n}"}) for n in range(5)),
                return_exceptions=True,
            ),
            HANG,
        )
    except TimeoutError:
        pytest.fail(f"no answer within {HANG} s: the writer's loop is gone")
    fault.on = False
    after = await outcome(writer.write(INSERT, {"id": 5, "name": "after"}))

    assert all(isinstance(result, Exception) for result in results), results
    assert after is None, after
    assert [row[0] for row in await stored(rows_engine)] == [5]


async def test_write_many_reports_each_row_of_a_failing_group_as_failed(
    writer: Writer, fault: Fault
) -> None:
    """write_many answers every row of a group that met the error with that error."""
    fault.on = True

    try:
        rows = await asyncio.wait_for(
            writer.write_many(INSERT, [{"id": n, "name": f"n{n}"} for n in range(5)]), HANG
        )
    except TimeoutError:
        pytest.fail(f"no answer within {HANG} s: the writer's loop is gone")

    assert len(rows) == 5
    assert all(isinstance(row, Exception) for row in rows), rows


async def test_healthy_is_false_while_writes_fail_and_true_after_a_success(
    writer: Writer, fault: Fault
) -> None:
    """`healthy` turns False with a failed group and True again with the next committed one."""
    at_start = writer.healthy
    await writer.write(INSERT, {"id": 1, "name": "first"})
    after_success = writer.healthy
    fault.on = True
    await outcome(writer.write(INSERT, {"id": 2, "name": "fails"}))
    while_failing = writer.healthy
    await outcome(writer.write(INSERT, {"id": 3, "name": "fails too"}))
    still_failing = writer.healthy
    fault.on = False
    await outcome(writer.write(INSERT, {"id": 4, "name": "works"}))
    recovered = writer.healthy

    assert isinstance(at_start, bool)
    assert (at_start, after_success) == (True, True)
    assert (while_failing, still_failing) == (False, False)
    assert recovered is True


async def test_stop_returns_after_a_fault(
    writer: Writer, fault: Fault, rows_engine: AsyncEngine
) -> None:
    """A writer that met the error still flushes and stops when the Master stops."""
    fault.on = True
    await outcome(writer.write(INSERT, {"id": 1, "name": "fails"}))
    fault.on = False
    await writer.submit(INSERT, {"id": 2, "name": "queued"})

    try:
        await asyncio.wait_for(writer.stop(), HANG)
    except TimeoutError:
        pytest.fail(f"stop() did not return within {HANG} s")
    assert [row[0] for row in await stored(rows_engine)] == [2]
