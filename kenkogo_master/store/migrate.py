"""Apply alembic migrations from code, on start-up and from the `migrate` command."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """Build an alembic configuration for our migrations and, optionally, a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the database to `revision`."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Downgrade the database to `revision` (`base` empties it)."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


def script() -> ScriptDirectory:
    """Return the migrations this code ships."""
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str | None:
    """Return the newest revision this code knows."""
    return script().get_current_head()


def known_revisions() -> set[str]:
    """Return every revision this code knows: a database at another one is newer than it."""
    return {revision.revision for revision in script().walk_revisions()}
