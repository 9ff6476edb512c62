"""The writer's fast path: statements prepared once, SQLite groups written on one thread."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import (
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kenkogo_master.settings import StorageSettings
from kenkogo_master.store.db import create_engine, sqlite_file_twin
from kenkogo_master.store.prepared import PreparedCache, prepare
from kenkogo_master.store.writer import Writer
from tests.store.rows_table import INSERT, RENAME, ROWS, stored


def test_an_insert_compiles_to_driver_sql_with_its_parameters_in_order() -> None:
    prepared = prepare(INSERT, ["id", "name", "data", "flag"], sqlite.dialect())

    assert prepared is not None
    assert prepared.sql == "INSERT INTO rows (id, name, data, flag) VALUES (?, ?, ?, ?)"
    assert prepared.tuples([{"flag": True, "data": {"a": [1]}, "name": "x", "id": 7}]) == [
        (7, "x", '{"a": [1]}', 1)
    ]


def test_postgres_gets_numbered_parameters() -> None:
    prepared = prepare(RENAME, ["row_id", "name"], postgresql.asyncpg.dialect())

    assert prepared is not None
    assert "$1" in prepared.sql and "$2" in prepared.sql
    assert prepared.tuples([{"row_id": 3, "name": "y"}]) == [("y", 3)]


def test_statements_only_sqlalchemy_can_run_are_not_prepared() -> None:
    dialect = sqlite.dialect()

    # a Python-side default to fill in, a value bound in the statement, an IN list
    assert prepare(INSERT, ["id", "name"], dialect) is None
    assert prepare(update(ROWS).values(name="fixed"), [], dialect) is None
    assert prepare(select(ROWS).where(ROWS.c.id.in_([1, 2])), [], dialect) is None


def test_the_cache_is_bounded() -> None:
    cache = PreparedCache(sqlite.dialect(), limit=3)
    statements = [update(ROWS).where(ROWS.c.id == bindparam("row_id")) for _ in range(10)]

    for statement in statements:
        cache.get(statement, {"row_id": 1, "name": "n"})

    assert len(cache._cache) == 3


async def test_only_sqlite_files_get_a_synchronous_twin(tmp_path: Path) -> None:
    file_engine = create_engine(StorageSettings(data_dir=tmp_path))
    memory_engine = create_async_engine("sqlite+aiosqlite:///:memory:")
    twin = sqlite_file_twin(file_engine)
    try:
        assert twin is not None
        assert twin.url.database == file_engine.url.database
        assert sqlite_file_twin(memory_engine) is None
    finally:
        if twin is not None:
            twin.dispose()
        await file_engine.dispose()
        await memory_engine.dispose()


async def test_mixed_statements_and_row_shapes_are_all_written_in_order(
    rows_engine: AsyncEngine,
) -> None:
    writer = Writer(rows_engine, interval=0.05, max_rows=100, queue_limit=1000)
    await writer.start()
    try:
        await writer.submit(INSERT, {"id": 1, "name": "a", "data": [1], "flag": True})
        await writer.submit(INSERT, {"id": 2, "name": "b"})  # default flag: through SQLAlchemy
        await writer.submit(INSERT, {"id": 3, "name": "c", "data": None, "flag": False})
        await writer.submit(RENAME, {"row_id": 1, "name": "renamed"})
        await writer.write(RENAME, {"row_id": 3, "name": "last"})
    finally:
        await writer.stop()

    assert await stored(rows_engine) == [
        (1, "renamed", [1], True),
        (2, "b", None, False),
        (3, "last", None, False),
    ]
    assert writer.committed_groups == 1


async def test_a_value_the_driver_cannot_bind_fails_its_row_only(rows_engine: AsyncEngine) -> None:
    writer = Writer(rows_engine, interval=0.05, max_rows=100, queue_limit=1000)
    await writer.start()
    try:
        await writer.submit(INSERT, {"id": 1, "name": "a", "data": None, "flag": False})
        too_big = asyncio.create_task(writer.write(RENAME, {"row_id": 2**70, "name": "never"}))
        await writer.submit(INSERT, {"id": 2, "name": "b", "data": None, "flag": False})
        with pytest.raises(OverflowError):
            await asyncio.wait_for(too_big, 5)
        await asyncio.wait_for(writer.write(RENAME, {"row_id": 2, "name": "after"}), 5)
    finally:
        await writer.stop()

    assert [row[:2] for row in await stored(rows_engine)] == [(1, "a"), (2, "after")]


async def test_a_group_waits_for_another_connections_lock_without_freezing_the_loop(
    rows_engine: AsyncEngine,
) -> None:
    writer = Writer(rows_engine, interval=0.001, max_rows=100, queue_limit=1000)
    await writer.start()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        async with rows_engine.begin() as connection:
            await connection.execute(insert(ROWS), {"id": 1, "name": "holder", "flag": False})
            queued = asyncio.create_task(
                writer.write(INSERT, {"id": 2, "name": "queued", "data": None, "flag": False})
            )
            await asyncio.sleep(0.3)  # the lock is held across awaits, as a REST write may
            assert not queued.done()
            ticks_while_locked = ticks
        await asyncio.wait_for(queued, 5)
    finally:
        ticker.cancel()
        await writer.stop()

    assert ticks_while_locked >= 10
    assert [row[:2] for row in await stored(rows_engine)] == [(1, "holder"), (2, "queued")]
