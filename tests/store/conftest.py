"""Fixtures of the store's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.settings import StorageSettings
from kenkogo_master.store.db import create_engine
from tests.store.rows_table import METADATA


@pytest.fixture
async def rows_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A SQLite file engine holding tests.store.rows_table."""
    engine = create_engine(StorageSettings(data_dir=tmp_path))
    async with engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
    yield engine
    await engine.dispose()
