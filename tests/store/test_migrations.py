"""Alembic migrations: up from empty to head, down to base, and a schema equal to the models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.settings import StorageSettings
from kenkogo_master.store import migrate
from kenkogo_master.store.db import create_engine
from kenkogo_master.store.models import Base

FOUNDATION = {
    "apps": {"name", "version", "description", "author", "first_seen_ms", "last_seen_ms", "held"},
    "app_instances": {
        "id",
        "name",
        "remote",
        "transport",
        "locale",
        "subscription",
        "priority",
        "state",
        "connected_ms",
        "registered_ms",
        "disconnected_ms",
    },
    "state_transitions": {"instance_id", "from_state", "to_state", "reason", "at_ms"},
    "api_tokens": {"token_hash", "scope"},
}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty SQLite file."""
    engine = create_engine(StorageSettings(data_dir=tmp_path))
    yield engine
    await engine.dispose()


async def table_columns(engine: AsyncEngine) -> dict[str, set[str]]:
    """Return every table with its column names."""

    def read(connection: Connection) -> dict[str, set[str]]:
        inspector = inspect(connection)
        return {
            table: {column["name"] for column in inspector.get_columns(table)}
            for table in inspector.get_table_names()
        }

    async with engine.connect() as connection:
        return await connection.run_sync(read)


def revisions_oldest_first() -> list[str]:
    """Return every migration id, oldest first."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


async def test_upgrade_an_empty_database_to_head_and_down_to_base(engine: AsyncEngine) -> None:
    assert await table_columns(engine) == {}

    await migrate.upgrade(engine)
    upgraded = await table_columns(engine)
    await migrate.downgrade(engine, "base")
    downgraded = await table_columns(engine)
    await migrate.upgrade(engine)  # and up again: the downgrade left nothing behind
    again = await table_columns(engine)

    for table, columns in FOUNDATION.items():
        assert columns <= upgraded[table], table
    assert set(downgraded) <= {"alembic_version"}
    assert again == upgraded


async def test_every_migration_steps_up_and_down_on_its_own(engine: AsyncEngine) -> None:
    seen: list[set[str]] = [set(await table_columns(engine))]
    revisions = revisions_oldest_first()
    assert revisions, "no migrations found"

    for revision in revisions:
        await migrate.upgrade(engine, revision)
        seen.append(set(await table_columns(engine)))
    for index in range(len(revisions) - 1, -1, -1):
        target = revisions[index - 1] if index > 0 else "base"
        await migrate.downgrade(engine, target)
        assert set(await table_columns(engine)) - {"alembic_version"} == (
            seen[index] - {"alembic_version"}
        ), f"downgrade from {revisions[index]} does not undo it"


async def test_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)

    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        found = await connection.run_sync(differences)

    assert found == [], "the models and the migrations disagree; write a migration"


async def test_upgrading_twice_is_harmless(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)
    before = await table_columns(engine)

    await migrate.upgrade(engine)

    assert await table_columns(engine) == before
