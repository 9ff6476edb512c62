"""The group-commit writer: few transactions, waits that mean committed, no lost neighbours."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.settings import StorageSettings
from kenkogo_master.store.db import create_engine
from kenkogo_master.store.writer import Writer

METADATA = MetaData()
ITEMS = Table(
    "items",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=False),
)
INSERT = insert(ITEMS)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A SQLite engine with one small table."""
    engine = create_engine(StorageSettings(data_dir=tmp_path))
    async with engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
async def writers(engine: AsyncEngine) -> AsyncIterator[list[Writer]]:
    """Writers made by a test, stopped at its end."""
    made: list[Writer] = []
    yield made
    for writer in made:
        await writer.stop()


def make_writer(
    engine: AsyncEngine,
    made: list[Writer],
    *,
    interval: float = 0.01,
    max_rows: int = 100,
    queue_limit: int = 10_000,
) -> Writer:
    """Create a writer that the `writers` fixture stops."""
    writer = Writer(engine, interval=interval, max_rows=max_rows, queue_limit=queue_limit)
    made.append(writer)
    return writer


async def stored_ids(engine: AsyncEngine) -> set[int]:
    """Return the ids committed so far, read on a connection of its own."""
    async with engine.connect() as connection:
        return {row[0] for row in await connection.execute(select(ITEMS.c.id))}


async def test_many_submits_commit_in_few_transactions(
    engine: AsyncEngine, writers: list[Writer]
) -> None:
    writer = make_writer(engine, writers, interval=0.02, max_rows=100)
    await writer.start()

    for index in range(500):
        await writer.submit(INSERT, {"id": index, "name": f"n{index}"})
    await writer.flush()

    assert await stored_ids(engine) == set(range(500))
    assert 5 <= writer.committed_groups <= 10


async def test_a_group_never_exceeds_max_rows(engine: AsyncEngine, writers: list[Writer]) -> None:
    writer = make_writer(engine, writers, interval=0.05, max_rows=10)
    await writer.start()

    for index in range(35):
        await writer.submit(INSERT, {"id": index, "name": "x"})
    await writer.flush()

    assert len(await stored_ids(engine)) == 35
    assert writer.committed_groups >= 4


async def test_submit_returns_before_the_commit_and_write_after_it(
    engine: AsyncEngine, writers: list[Writer]
) -> None:
    writer = make_writer(engine, writers, interval=0.3)
    await writer.start()

    await writer.submit(INSERT, {"id": 1, "name": "queued"})
    right_after_submit = await stored_ids(engine)
    await writer.write(INSERT, {"id": 2, "name": "waited"})
    right_after_write = await stored_ids(engine)

    assert right_after_submit == set()
    assert right_after_write == {1, 2}


async def test_a_bad_row_does_not_lose_the_others_in_its_group(
    engine: AsyncEngine, writers: list[Writer], caplog: pytest.LogCaptureFixture
) -> None:
    writer = make_writer(engine, writers, interval=0.05)
    await writer.start()
    await writer.write(INSERT, {"id": 0, "name": "existing"})
    groups_before = writer.committed_groups

    for index in range(1, 6):
        await writer.submit(INSERT, {"id": index, "name": "good"})
    duplicate = asyncio.create_task(writer.write(INSERT, {"id": 0, "name": "duplicate"}))
    await writer.submit(INSERT, {"id": 6, "name": None})  # NOT NULL, nobody waits for it
    for index in range(7, 12):
        await writer.submit(INSERT, {"id": index, "name": "good"})
    with caplog.at_level(logging.ERROR, logger="kenkogo_master.store.writer"):
        with pytest.raises(IntegrityError):
            await duplicate
        await writer.flush()

    assert await stored_ids(engine) == {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11}
    assert writer.committed_groups > groups_before
    assert any("write lost" in record.getMessage() for record in caplog.records)


async def test_write_many_reports_each_rows_fate(
    engine: AsyncEngine, writers: list[Writer]
) -> None:
    writer = make_writer(engine, writers)
    await writer.start()

    results = await writer.write_many(
        INSERT,
        [{"id": 1, "name": "a"}, {"id": 1, "name": "again"}, {"id": 2, "name": "b"}],
    )

    assert results[0] is None
    assert isinstance(results[1], IntegrityError)
    assert results[2] is None
    assert await stored_ids(engine) == {1, 2}


async def test_the_queue_is_bounded_and_submit_waits_for_room(
    engine: AsyncEngine, writers: list[Writer]
) -> None:
    writer = make_writer(engine, writers, queue_limit=3)
    for index in range(3):
        await asyncio.wait_for(writer.submit(INSERT, {"id": index, "name": "x"}), 1)

    blocked = asyncio.create_task(writer.submit(INSERT, {"id": 3, "name": "x"}))
    await asyncio.sleep(0.1)
    waited = not blocked.done()
    await writer.start()
    await asyncio.wait_for(blocked, 2)
    await writer.flush()

    assert waited
    assert await stored_ids(engine) == {0, 1, 2, 3}


async def test_stop_commits_everything_queued(engine: AsyncEngine, writers: list[Writer]) -> None:
    writer = make_writer(engine, writers, interval=0.05)
    await writer.start()
    for index in range(20):
        await writer.submit(INSERT, {"id": index, "name": "x"})

    await writer.stop()

    async with engine.connect() as connection:
        count = (await connection.execute(select(func.count()).select_from(ITEMS))).scalar()
    assert count == 20
