"""`[storage] synchronous` reaches every SQLite connection, the writer's own included."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from kenkogo_master.settings import StorageSettings
from kenkogo_master.store.db import create_engine, sqlite_file_twin

LEVELS = {"normal": 1, "full": 2}  # what PRAGMA synchronous reads back


@pytest.mark.parametrize("level", ["normal", "full"])
async def test_every_connection_commits_as_durably_as_configured(
    tmp_path: Path, level: str
) -> None:
    storage = StorageSettings(data_dir=tmp_path, synchronous=level)  # type: ignore[arg-type]
    engine = create_engine(storage)
    twin = sqlite_file_twin(engine, storage.synchronous)
    assert twin is not None
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA synchronous"))).scalar() == LEVELS[level]
        with twin.connect() as connection:
            assert connection.execute(text("PRAGMA synchronous")).scalar() == LEVELS[level]
    finally:
        twin.dispose()
        await engine.dispose()


def test_an_unknown_level_stops_start_up() -> None:
    with pytest.raises(ValueError, match="synchronous"):
        StorageSettings(synchronous="off")  # type: ignore[arg-type]
