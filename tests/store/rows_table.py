"""A small table with a JSON and a defaulted column, for tests of prepared statements."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

METADATA = MetaData()
ROWS = Table(
    "rows",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=False),
    Column("data", JSON),
    Column("flag", Boolean, default=False),
)
INSERT = insert(ROWS)
RENAME = update(ROWS).where(ROWS.c.id == bindparam("row_id")).values(name=bindparam("name"))


async def stored(engine: AsyncEngine) -> list[tuple[object, ...]]:
    """Return every row, read through the async engine."""
    async with engine.connect() as connection:
        result = await connection.execute(select(ROWS).order_by(ROWS.c.id))
        return [tuple(row) for row in result]
