"""The async engine: SQLite tuned for a single writer, or any SQLAlchemy URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kenkogo_master.settings import StorageSettings


def json_text(value: Any) -> str:
    """Serialize a JSON column's value with orjson, or the json module for what orjson refuses.

    orjson refuses integers past 64 bits and non-string keys, which stored values may hold.
    """
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Turn on WAL, foreign keys and a busy timeout for every new SQLite connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL with synchronous=NORMAL survives a killed process; power loss may drop the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(storage: StorageSettings) -> AsyncEngine:
    """Create the engine for the configured database, making the data directory first."""
    url = storage.resolved_database_url()
    if url.startswith("sqlite"):
        Path(storage.data_dir).mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, pool_size=5, max_overflow=5, json_serializer=json_text)
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        return engine
    return create_async_engine(
        url, pool_size=10, max_overflow=10, pool_pre_ping=True, json_serializer=json_text
    )


def _tune_sqlite_writer(dbapi_connection: Any, record: Any) -> None:
    """Tune the writer's connection: no checkpoints (done off the loop), no waiting for locks.

    The writer runs on the event loop and retries a locked group after a pause instead.
    """
    _tune_sqlite(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()


def sqlite_file_twin(engine: AsyncEngine) -> Engine | None:
    """Return a synchronous engine on the same SQLite file (None for other databases).

    The group-commit writer commits each group on it straight from the event loop: through
    aiosqlite every cursor, statement and commit is a thread hop of its own, each waiting for
    a busy event loop to come back to it.
    """
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.query.get("mode") == "memory" or url.database.startswith("file:"):
        return None
    twin = create_sync_engine(
        url.set(drivername="sqlite+pysqlite"),
        pool_size=1,
        max_overflow=0,
        json_serializer=json_text,
    )
    event.listen(twin, "connect", _tune_sqlite_writer)
    return twin
