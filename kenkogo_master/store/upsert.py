"""A dialect-aware INSERT ... ON CONFLICT, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def upsert(dialect: str, table: Any, keys: list[str], update: dict[str, Any]) -> Insert:
    """Return an INSERT that updates `update` columns when a row with the same `keys` exists."""
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table)
    values = {
        name: (statement.excluded[name] if value is None else value)
        for name, value in update.items()
    }
    result: Insert = statement.on_conflict_do_update(index_elements=keys, set_=values)
    return result
