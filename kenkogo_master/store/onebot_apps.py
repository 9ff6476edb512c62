"""OneBot app endpoints added over REST, kept in SQL so that a restart dials them again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from kenkogo_master.store.models import Base


class OneBotAppRow(Base):
    """One OneBot bot the Master dials (POST /api/v1/onebot-apps)."""

    __tablename__ = "onebot_apps"
    __table_args__ = (Index("uq_onebot_apps_name_url", "name", "url", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2000))
    # Kept as given: the Master must present it when it dials. Never shown over REST.
    access_token: Mapped[str | None] = mapped_column(String(1000))
    priority: Mapped[int] = mapped_column(Integer)
    block: Mapped[bool] = mapped_column(Boolean)
    subscribe: Mapped[dict[str, Any]] = mapped_column(JSON)
    message_format: Mapped[str] = mapped_column(String(16))
    accounts: Mapped[list[str]] = mapped_column(JSON)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class OneBotAppRecords:
    """Read, add and remove stored endpoints; each write is committed before it returns."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def all(self) -> list[dict[str, Any]]:
        """Return every stored endpoint, oldest first."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(*OneBotAppRow.__table__.columns).order_by(
                    OneBotAppRow.created_ms, OneBotAppRow.id
                )
            )
            return [dict(row) for row in rows.mappings()]

    async def add(self, row: dict[str, Any]) -> None:
        """Store an endpoint (`id`, `created_ms` and COLUMNS)."""
        async with self._engine.begin() as connection:
            await connection.execute(insert(OneBotAppRow).values(**row))

    async def remove(self, endpoint_id: str) -> bool:
        """Delete an endpoint; tell whether it existed."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(OneBotAppRow).where(OneBotAppRow.id == endpoint_id)
            )
        return bool(result.rowcount)
