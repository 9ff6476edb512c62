"""Settings changed at run time, kept in SQL so that a restart applies them again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, String, Text, delete, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from kenkogo_master.protocol import codec
from kenkogo_master.store.models import Base
from kenkogo_master.store.upsert import upsert
from kenkogo_master.store.writer import Writer


class SettingOverrideRow(Base):
    """A setting an operator changed at run time; it wins over file and environment."""

    __tablename__ = "settings_overrides"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)  # `section.key`
    value: Mapped[str] = mapped_column(Text)  # JSON, as it was validated
    updated_ms: Mapped[int] = mapped_column(BigInteger)


@dataclass(frozen=True, slots=True)
class StoredOverride:
    """One stored value and when it was set."""

    value: Any
    updated_ms: int


class SettingOverrides:
    """Read, set and remove the overrides; every write waits for its commit."""

    def __init__(self, engine: AsyncEngine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        self._upsert = upsert(
            engine.dialect.name, SettingOverrideRow, ["key"], {"value": None, "updated_ms": None}
        )

    async def load(self) -> dict[str, StoredOverride]:
        """Return every stored override, by key; a value that is not JSON is left out."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(
                    SettingOverrideRow.key, SettingOverrideRow.value, SettingOverrideRow.updated_ms
                )
            )
        stored = {}
        for key, value, updated_ms in rows:
            try:
                stored[key] = StoredOverride(codec.loads(value), updated_ms)
            except ValueError:
                continue
        return stored

    async def save(self, key: str, value: Any, at_ms: int) -> None:
        """Keep `value` for `key`."""
        await self._writer.write(
            self._upsert, {"key": key, "value": codec.dumps(value), "updated_ms": at_ms}
        )

    async def remove(self, key: str) -> None:
        """Forget `key`'s value (the configured one applies again)."""
        await self._writer.write(
            delete(SettingOverrideRow).where(SettingOverrideRow.key == key), {}
        )
