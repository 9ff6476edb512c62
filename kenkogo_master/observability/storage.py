"""How much room the Master's data takes: the database, the data directory and its disk."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def directory_bytes(root: Path) -> tuple[int, int]:
    """Return the bytes and the number of files under `root` (links are not followed)."""
    total = files = 0
    for directory, _, names in os.walk(root):
        for name in names:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
                files += 1
            except OSError:
                continue  # removed while we walked
    return total, files


class StorageMeter:
    """Measure storage; the directory walk is cached briefly, as it can be slow."""

    def __init__(self, engine: AsyncEngine, data_dir: Path, cache_seconds: float = 10.0) -> None:
        self._engine = engine
        self._data_dir = data_dir
        self._cache_seconds = cache_seconds
        self._walked: tuple[float, tuple[int, int]] | None = None

    async def database(self) -> dict[str, Any]:
        """Return the database's size: SQLite file plus WAL, or what PostgreSQL reports."""
        dialect = self._engine.dialect.name
        if dialect == "sqlite":
            database = self._engine.url.database
            if not database or database == ":memory:":
                return {"dialect": dialect, "bytes": None, "files": {}}
            path = Path(database)
            files = {
                "database": _file_size(path),
                "wal": _file_size(path.with_name(path.name + "-wal")),
                "shm": _file_size(path.with_name(path.name + "-shm")),
            }
            return {
                "dialect": dialect,
                "path": str(path),
                "bytes": sum(files.values()),
                "files": files,
            }
        if dialect == "postgresql":
            async with self._engine.connect() as connection:
                size = await connection.scalar(text("SELECT pg_database_size(current_database())"))
            return {"dialect": dialect, "bytes": int(size or 0), "files": {}}
        return {"dialect": dialect, "bytes": None, "files": {}}

    async def data_dir(self) -> dict[str, Any]:
        """Return the data directory's usage and its disk's total, used and free bytes."""
        now = time.monotonic()
        if self._walked is None or now - self._walked[0] > self._cache_seconds:
            self._walked = (now, await asyncio.to_thread(directory_bytes, self._data_dir))
        used, files = self._walked[1]
        try:
            disk = psutil.disk_usage(str(self._data_dir))
            disk_info: dict[str, Any] | None = {
                "total_bytes": disk.total,
                "used_bytes": disk.used,
                "free_bytes": disk.free,
                "percent": disk.percent,
            }
        except OSError:
            disk_info = None
        return {
            "path": str(self._data_dir.resolve()),
            "bytes": used,
            "files": files,
            "disk": disk_info,
        }

    async def describe(self) -> dict[str, Any]:
        """Return the database and the data directory together."""
        return {"database": await self.database(), "data_dir": await self.data_dir()}
