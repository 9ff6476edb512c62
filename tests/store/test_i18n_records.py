"""Texts, added locales and chat locales in SQL, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.settings import StorageSettings
from kenkogo_master.store import migrate
from kenkogo_master.store.db import create_engine
from kenkogo_master.store.i18n_models import TextEntry
from kenkogo_master.store.i18n_records import I18nRecords
from kenkogo_master.store.writer import Writer
from tests.support.postgres import PostgresServer


@pytest.fixture(params=["sqlite", "postgresql"])
async def records(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[I18nRecords, AsyncEngine]]:
    """Give a migrated database of each kind, with its records and engine."""
    url = None
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.new_database()
    engine = create_engine(StorageSettings(data_dir=tmp_path, database_url=url))
    await migrate.upgrade(engine)
    writer = Writer(engine, interval=0.001, max_rows=100, queue_limit=1000)
    await writer.start()
    yield I18nRecords(engine, writer), engine
    await writer.stop()
    await engine.dispose()


async def _rows(engine: AsyncEngine) -> dict[tuple[str, str], tuple[str, bool]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(TextEntry.locale, TextEntry.key, TextEntry.text, TextEntry.overridden)
        )
        return {(r.locale, r.key): (r.text, r.overridden) for r in rows}


async def test_seeding_follows_the_catalogs_but_keeps_overrides(
    records: tuple[I18nRecords, AsyncEngine],
) -> None:
    store, engine = records
    first = await store.seed(
        {"en": {"a.one": "One", "a.two": "Two", "a.gone": "Gone"}, "ja": {"a.one": "一"}}, 1
    )
    assert (first.inserted, first.updated, first.deleted) == (4, 0, 0)
    await store.set_override("en", "a.two", "Operator's two", 2)
    await store.set_override("en", "template.new", "New {x}", 2)

    second = await store.seed({"en": {"a.one": "One!", "a.two": "Two!"}, "ja": {"a.one": "一"}}, 3)

    assert (second.inserted, second.updated, second.deleted) == (0, 1, 1)
    assert await _rows(engine) == {
        ("en", "a.one"): ("One!", False),
        ("en", "a.two"): ("Operator's two", True),
        ("en", "template.new"): ("New {x}", True),
        ("ja", "a.one"): ("一", False),
    }
    assert [(o.locale, o.key, o.text) for o in await store.overrides()] == [
        ("en", "a.two", "Operator's two"),
        ("en", "template.new", "New {x}"),
    ]


async def test_clearing_an_override_restores_the_catalog_row_or_drops_a_new_one(
    records: tuple[I18nRecords, AsyncEngine],
) -> None:
    store, engine = records
    await store.seed({"en": {"a.one": "One"}}, 1)
    await store.set_override("en", "a.one", "Uno", 2)
    await store.set_override("en", "template.x", "X", 2)

    await store.clear_override("en", "a.one", "One", 3)
    await store.clear_override("en", "template.x", None, 3)

    assert await _rows(engine) == {("en", "a.one"): ("One", False)}
    assert await store.overrides() == []


async def test_added_locales_and_chat_locales_are_kept(
    records: tuple[I18nRecords, AsyncEngine],
) -> None:
    store, _ = records
    await store.add_locale("fr", 5)
    await store.add_locale("de", 6)
    await store.set_override("fr", "a.one", "Un", 7)
    await store.remove_locale("de")
    await store.set_chat_locale("qq", "123", "zh_Hans", 8)
    await store.set_chat_locale("qq", "123", "ja", 9)
    await store.set_chat_locale("tg", "123", "en", 9)
    await store.clear_chat_locale("tg", "123")

    assert await store.offered_locales() == {"fr": 5}
    assert await store.chat_locales() == {("qq", "123"): "ja"}
    await store.remove_locale("fr")
    assert await store.overrides() == []


async def test_two_masters_seeding_one_database_at_once_both_start(
    records: tuple[I18nRecords, AsyncEngine],
) -> None:
    store, engine = records
    other = I18nRecords(engine, Writer(engine, interval=0.001, max_rows=10, queue_limit=10))
    catalog = {"en": {f"a.k{i}": f"text {i}" for i in range(50)}}
    await asyncio.gather(store.seed(catalog, 1), other.seed(catalog, 1))
    assert await _rows(engine) == {("en", k): (v, False) for k, v in catalog["en"].items()}
