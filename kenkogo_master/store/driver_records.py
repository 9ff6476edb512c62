"""What the store keeps about drivers: one stable id per (platform, self_id)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.store.models import DriverRow
from kenkogo_master.store.writer import Writer


class DriverRecords:
    """Read and write the `drivers` table."""

    def __init__(self, engine: AsyncEngine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        self._insert = insert(DriverRow)
        self._seen = (
            update(DriverRow)
            .where(DriverRow.id == bindparam("driver_id"))
            .values(
                name=bindparam("name"),
                transport=bindparam("transport"),
                remote=bindparam("remote"),
                locale=bindparam("locale"),
                last_seen_ms=bindparam("last_seen_ms"),
            )
        )

    async def identities(self) -> dict[tuple[str, str], str]:
        """Return every known driver id by (platform, self_id)."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(DriverRow.platform, DriverRow.self_id, DriverRow.id)
            )
            return {(row.platform, row.self_id): row.id for row in rows}

    async def created(self, row: dict[str, Any]) -> None:
        """Store a new driver identity and wait for the commit (messages refer to it)."""
        await self._writer.write(self._insert, row)

    async def seen(
        self, driver_id: str, name: str, transport: str, remote: str, locale: str | None, at_ms: int
    ) -> None:
        """Record that a known driver attached again."""
        await self._writer.submit(
            self._seen,
            {
                "driver_id": driver_id,
                "name": name,
                "transport": transport,
                "remote": remote,
                "locale": locale,
                "last_seen_ms": at_ms,
            },
        )

    async def all(self) -> list[dict[str, Any]]:
        """Return every known driver, most recently seen first."""
        await self._writer.flush()
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(DriverRow.__table__).order_by(DriverRow.last_seen_ms.desc())
            )
            return [dict(row) for row in rows.mappings()]
