"""Shaped rows: many rows of one statement handed to the writer as tuples, in one entry."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.store.prepared import PreparedCache, PreparedShaped, prepare_shaped, shaped
from kenkogo_master.store.writer import Writer
from tests.store.rows_table import INSERT, RENAME, stored


def test_shaped_rows_are_reordered_and_converted_like_dict_rows() -> None:
    prepared = prepare_shaped(RENAME, ("row_id", "name"), sqlite.dialect())
    assert prepared is not None
    assert prepared.sql == "UPDATE rows SET name=? WHERE rows.id = ?"
    entry = shaped(("row_id", "name"), [(1, "a"), (2, "b")])
    assert prepared.tuples([entry, entry]) == [("a", 1), ("b", 2), ("a", 1), ("b", 2)]

    columns = ("id", "name", "data", "flag")
    inserting = prepare_shaped(INSERT, columns, sqlite.dialect())
    assert inserting is not None and inserting.order is None
    ((key, name, data, flag),) = inserting.tuples([shaped(columns, [(7, "x", {"a": [1]}, True)])])
    assert (key, name, json.loads(data), flag) == (7, "x", {"a": [1]}, 1)


def test_postgres_takes_shaped_rows_too() -> None:
    assert prepare_shaped(RENAME, ("row_id", "name"), postgresql.asyncpg.dialect()) is not None


def test_a_statement_that_needs_more_than_the_columns_takes_no_shaped_rows() -> None:
    # `flag` has a Python-side default, which only SQLAlchemy fills in
    assert prepare_shaped(INSERT, ("id", "name", "data"), sqlite.dialect()) is None


def test_rows_of_other_columns_are_refused() -> None:
    prepared = prepare_shaped(RENAME, ("row_id", "name"), sqlite.dialect())
    assert prepared is not None
    with pytest.raises(ValueError, match="shaped rows"):
        prepared.tuples([shaped(("name", "row_id"), [("a", 1)])])


def test_the_cache_tells_shaped_entries_by_their_columns() -> None:
    cache = PreparedCache(sqlite.dialect())
    one = cache.get(RENAME, shaped(("row_id", "name"), []))
    other = cache.get(RENAME, shaped(("name", "row_id"), []))
    assert isinstance(one, PreparedShaped) and isinstance(other, PreparedShaped)
    assert one.order == (1, 0) and other.order is None
    assert cache.get(RENAME, {"row_id": 1, "name": "n"}) is not one


async def test_the_writer_stores_shaped_rows_in_order_with_dict_rows(
    rows_engine: AsyncEngine,
) -> None:
    writer = Writer(rows_engine, interval=0.05, max_rows=100, queue_limit=1000)
    await writer.start()
    columns = ("id", "name", "data", "flag")
    try:
        await writer.submit(INSERT, {"id": 1, "name": "a", "data": None, "flag": False})
        await writer.submit(INSERT, shaped(columns, [(2, "b", [1], True), (3, "c", None, False)]))
        await writer.submit(RENAME, shaped(("row_id", "name"), [(1, "renamed"), (3, "last")]))
        await writer.write(RENAME, {"row_id": 2, "name": "dict"})
    finally:
        await writer.stop()

    assert await stored(rows_engine) == [
        (1, "renamed", None, False),
        (2, "dict", [1], True),
        (3, "last", None, False),
    ]
    assert writer.committed_groups == 1


async def test_a_failing_shaped_entry_fails_as_a_whole(rows_engine: AsyncEngine) -> None:
    writer = Writer(rows_engine, interval=0.01, max_rows=100, queue_limit=1000)
    await writer.start()
    columns = ("id", "name", "data", "flag")
    try:
        await writer.write(INSERT, shaped(columns, [(1, "a", None, False)]))
        with pytest.raises(Exception, match="UNIQUE"):
            await writer.write(
                INSERT, shaped(columns, [(2, "b", None, False), (1, "again", None, False)])
            )
    finally:
        await writer.stop()

    assert [row[:2] for row in await stored(rows_engine)] == [(1, "a")]
