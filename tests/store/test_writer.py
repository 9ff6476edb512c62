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
from kenkogo_master.store.writer import STREAMING_ROWS, Writer

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
    eager: bool = False,
) -> Writer:
    """Create a writer that the `writers` fixture stops."""
    writer = Writer(
        engine, interval=interval, max_rows=max_rows, queue_limit=queue_limit, eager=eager
    )
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


async def test_a_writer_that_is_not_eager_gathers_even_a_lone_write(
    engine: AsyncEngine, writers: list[Writer]
) -> None:
    writer = make_writer(engine, writers, interval=0.2)
    await writer.start()
    loop = asyncio.get_running_loop()

    started = loop.time()
    await writer.write(INSERT, {"id": 1, "name": "alone"})

    assert loop.time() - started >= 0.15


async def test_an_eager_writer_gathers_once_rows_stream_in(
    engine: AsyncEngine, writers: list[Writer]
) -> None:
    writer = make_writer(engine, writers, interval=0.3, eager=True)
    await writer.start()
    busy = [{"id": -index, "name": "earlier"} for index in range(1, STREAMING_ROWS + 1)]
    await writer.write_many(INSERT, busy)  # a stream's pace: the writer now gathers

    await writer.submit(INSERT, {"id": 1, "name": "queued"})
    right_after_submit = await stored_ids(engine)
    await writer.write(INSERT, {"id": 2, "name": "waited"})
    right_after_write = await stored_ids(engine)

    earlier = {row["id"] for row in busy}
    assert right_after_submit == earlier
    assert right_after_write == earlier | {1, 2}


async def test_an_eager_writer_commits_a_lone_write_without_waiting_the_interval(
    engine: AsyncEngine, writers: list[Writer]
) -> None:
    writer = make_writer(engine, writers, interval=1.0, eager=True)
    await writer.start()
    loop = asyncio.get_running_loop()

    started = loop.time()
    await writer.write(INSERT, {"id": 1, "name": "alone"})
    waited = loop.time() - started

    assert waited < 0.5
    assert await stored_ids(engine) == {1}


async def test_an_eager_writer_commits_writes_at_a_trickle_each_at_once(
    engine: AsyncEngine, writers: list[Writer]
) -> None:
    writer = make_writer(engine, writers, interval=1.0, eager=True)
    await writer.start()
    loop = asyncio.get_running_loop()

    started = loop.time()
    for index in range(3):  # one after the other, each waiting for its commit
        await writer.write(INSERT, {"id": index, "name": "trickle"})
    waited = loop.time() - started

    assert waited < 0.5
    assert writer.committed_groups == 3


async def test_an_eager_writer_commits_at_once_again_after_a_quiet_spell(
    engine: AsyncEngine, writers: list[Writer]
) -> None:
    writer = make_writer(engine, writers, interval=0.5, eager=True)
    await writer.start()
    loop = asyncio.get_running_loop()
    busy = [{"id": -index, "name": "earlier"} for index in range(1, STREAMING_ROWS + 1)]
    await writer.write_many(INSERT, busy)  # a stream's pace, then quiet
    await asyncio.sleep(0.6)

    started = loop.time()
    await writer.write(INSERT, {"id": 1, "name": "later"})
    waited = loop.time() - started

    assert waited < 0.3
    assert await stored_ids(engine) == {row["id"] for row in busy} | {1}


async def test_an_eager_writer_commits_rows_queued_together_in_one_group(
    engine: AsyncEngine, writers: list[Writer]
) -> None:
    writer = make_writer(engine, writers, interval=1.0, eager=True)
    await writer.start()

    results = await asyncio.wait_for(
        writer.write_many(INSERT, [{"id": index, "name": "x"} for index in range(10)]), 0.5
    )

    assert results == [None] * 10
    assert writer.committed_groups == 1


async def test_an_eager_writer_still_commits_a_stream_of_writes_in_groups(
    engine: AsyncEngine, writers: list[Writer]
) -> None:
    writer = make_writer(engine, writers, interval=0.02, eager=True)
    await writer.start()

    for index in range(100):
        await writer.submit(INSERT, {"id": index, "name": "streamed"})
        await asyncio.sleep(0.002)
    await writer.flush()

    assert await stored_ids(engine) == set(range(100))
    assert writer.committed_groups <= 20  # five rows or more per commit, not one


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


async def test_paused_holds_commits_back_until_the_block_ends(
    engine: AsyncEngine, writers: list[Writer]
) -> None:
    writer = make_writer(engine, writers, eager=True)
    await writer.start()
    await writer.write(INSERT, {"id": 1, "name": "before"})

    async with writer.paused():
        # The file is free for maintenance: this connection writes without meeting the writer.
        waiting = asyncio.create_task(writer.write(INSERT, {"id": 2, "name": "held"}))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        async with engine.begin() as connection:
            await connection.execute(INSERT, {"id": 3, "name": "maintenance"})
            names = set((await connection.execute(select(ITEMS.c.name))).scalars())
        assert names == {"before", "maintenance"}

    await asyncio.wait_for(waiting, 1)
    async with engine.connect() as connection:
        count = await connection.scalar(select(func.count()).select_from(ITEMS))
    assert count == 3
