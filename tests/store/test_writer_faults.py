"""The writer under faults: it never dies, never acks a refused write, and recovers by itself."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.store.writer import StorageUnavailable, Writer
from tests.store.test_writer import INSERT, engine, make_writer, stored_ids, writers

__all__ = ["engine", "writers"]  # fixtures shared with the writer's other tests


@pytest.mark.timeout(20)
async def test_an_unexpected_error_refuses_its_group_and_the_writer_goes_on(
    engine: AsyncEngine, writers: list[Writer], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = make_writer(engine, writers)
    await writer.start()
    real = writer._execute
    faults = {"left": 1}
    probes = {"fail": True}

    async def broken_execute(group: Any) -> int:
        if faults["left"]:
            faults["left"] -= 1
            raise RuntimeError("a bug nobody foresaw")
        return await real(group)

    real_probe = writer._execute_probe

    async def probe() -> None:
        if probes["fail"]:
            raise RuntimeError("still broken")
        await real_probe()

    monkeypatch.setattr(writer, "_execute", broken_execute)
    monkeypatch.setattr(writer, "_execute_probe", probe)

    await writer.submit(INSERT, {"id": 1, "name": "kept for later"})
    with pytest.raises(StorageUnavailable):
        await writer.write(INSERT, {"id": 2, "name": "refused"})
    assert not writer.healthy
    assert writer.fault is not None and "a bug nobody foresaw" in writer.fault
    with pytest.raises(StorageUnavailable):  # refused at once while the fault lasts
        await writer.write(INSERT, {"id": 3, "name": "refused too"})

    probes["fail"] = False  # the fault is gone: the writer finds out by itself
    for _ in range(100):
        if writer.healthy:
            break
        await asyncio.sleep(0.05)
    assert writer.healthy
    await writer.write(INSERT, {"id": 4, "name": "after"})
    assert await stored_ids(engine) == {1, 4}


@pytest.mark.timeout(30)
async def test_a_held_write_lock_refuses_waiters_until_it_is_released(
    tmp_path: Path, engine: AsyncEngine, writers: list[Writer]
) -> None:
    writer = make_writer(engine, writers)
    await writer.start()
    await writer.write(INSERT, {"id": 1, "name": "before"})
    other = sqlite3.connect(tmp_path / "kenkogo.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds SQLite's write lock
    try:
        with pytest.raises(StorageUnavailable):
            await writer.write(INSERT, {"id": 2, "name": "while locked"})
        assert not writer.healthy
    finally:
        other.execute("ROLLBACK")
        other.close()
    for _ in range(100):
        if writer.healthy:
            break
        await asyncio.sleep(0.05)
    assert writer.healthy
    await writer.write(INSERT, {"id": 3, "name": "after"})
    assert await stored_ids(engine) == {1, 3}


@pytest.mark.timeout(20)
async def test_a_write_queued_while_a_failing_group_retries_is_refused_too(
    engine: AsyncEngine, writers: list[Writer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A waiter queued behind a group that then fails hears of the fault, not only after it."""
    writer = make_writer(engine, writers)
    await writer.start()
    real = writer._execute
    inside = asyncio.Event()
    release = asyncio.Event()
    broken = {"on": True}

    async def slow_failure(group: Any) -> int:
        if broken["on"]:
            inside.set()
            await release.wait()  # as a group retrying against a locked file for seconds
            raise RuntimeError("database is locked")
        return await real(group)

    async def probe() -> None:
        if broken["on"]:
            raise RuntimeError("still locked")

    monkeypatch.setattr(writer, "_execute", slow_failure)
    monkeypatch.setattr(writer, "_execute_probe", probe)

    first = asyncio.create_task(writer.write(INSERT, {"id": 1, "name": "in the failing group"}))
    await inside.wait()
    queued = asyncio.create_task(writer.write(INSERT, {"id": 2, "name": "queued meanwhile"}))
    await writer.submit(INSERT, {"id": 3, "name": "nobody waits: kept"})
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(StorageUnavailable):
        await first
    with pytest.raises(StorageUnavailable):
        await asyncio.wait_for(queued, 5)
    broken["on"] = False
    for _ in range(100):
        if writer.healthy and not writer._pending:
            break
        await asyncio.sleep(0.05)
    await writer.flush()
    assert await stored_ids(engine) == {3}
