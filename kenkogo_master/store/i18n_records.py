"""What the store keeps for translation: texts and overrides, added locales, chat locales."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.store.i18n_models import ChatLocale, OfferedLocale, TextEntry
from kenkogo_master.store.upsert import upsert
from kenkogo_master.store.writer import Writer


@dataclass(frozen=True, slots=True)
class OverrideRow:
    """An operator's text for one flat key in one locale."""

    locale: str
    key: str
    text: str
    updated_ms: int


@dataclass(frozen=True, slots=True)
class SeedResult:
    """How many catalog rows one seeding inserted, updated and deleted."""

    inserted: int
    updated: int
    deleted: int


class I18nRecords:
    """Read and write translation data; operator writes wait for their commit."""

    def __init__(self, engine: AsyncEngine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        dialect = engine.dialect.name
        self._upsert_text = upsert(
            dialect,
            TextEntry,
            ["locale", "key"],
            {"text": None, "overridden": None, "updated_ms": None},
        )
        # Masters starting together on one database may seed the same rows: the first one wins.
        module = postgresql if dialect == "postgresql" else sqlite
        self._insert_new_text = module.insert(TextEntry).on_conflict_do_nothing()
        self._upsert_locale = upsert(dialect, OfferedLocale, ["locale"], {"added_ms": None})
        self._upsert_chat = upsert(
            dialect, ChatLocale, ["platform", "chat_id"], {"locale": None, "updated_ms": None}
        )

    async def seed(self, catalog_texts: Mapping[str, Mapping[str, str]], now_ms: int) -> SeedResult:
        """Make the catalog rows match `catalog_texts` (locale -> flat key -> text).

        Rows an operator overrode are left alone; a catalog row whose key left the catalog goes.
        """
        async with self._engine.begin() as connection:
            rows = (
                await connection.execute(
                    select(TextEntry.locale, TextEntry.key, TextEntry.text, TextEntry.overridden)
                )
            ).all()
            existing = {(row.locale, row.key): (row.text, row.overridden) for row in rows}
            inserts: list[dict[str, object]] = []
            updates: list[dict[str, object]] = []
            for locale, texts in catalog_texts.items():
                for key, text in texts.items():
                    found = existing.get((locale, key))
                    row = {"locale": locale, "key": key, "text": text, "updated_ms": now_ms}
                    if found is None:
                        inserts.append({**row, "overridden": False})
                    elif not found[1] and found[0] != text:
                        updates.append(row)
            stale = [
                {"locale": locale, "key": key}
                for (locale, key), (_, overridden) in existing.items()
                if not overridden and key not in catalog_texts.get(locale, {})
            ]
            if inserts:
                await connection.execute(self._insert_new_text, inserts)
            for row in updates:
                await connection.execute(
                    update(TextEntry)
                    .where(and_(TextEntry.locale == row["locale"], TextEntry.key == row["key"]))
                    .values(text=row["text"], updated_ms=row["updated_ms"])
                )
            for row in stale:
                await connection.execute(
                    delete(TextEntry).where(
                        and_(TextEntry.locale == row["locale"], TextEntry.key == row["key"])
                    )
                )
        return SeedResult(len(inserts), len(updates), len(stale))

    async def overrides(self) -> list[OverrideRow]:
        """Return every operator override."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(TextEntry.locale, TextEntry.key, TextEntry.text, TextEntry.updated_ms)
                .where(TextEntry.overridden.is_(True))
                .order_by(TextEntry.locale, TextEntry.key)
            )
            return [OverrideRow(row.locale, row.key, row.text, row.updated_ms) for row in rows]

    async def set_override(self, locale: str, key: str, text: str, now_ms: int) -> None:
        """Store an operator's text for a key, replacing the catalog's row."""
        await self._writer.write(
            self._upsert_text,
            {"locale": locale, "key": key, "text": text, "overridden": True, "updated_ms": now_ms},
        )

    async def clear_override(
        self, locale: str, key: str, catalog_text: str | None, now_ms: int
    ) -> None:
        """Go back to the catalog's text for a key, or drop the row where the catalog has none."""
        if catalog_text is None:
            await self._writer.write(
                delete(TextEntry).where(and_(TextEntry.locale == locale, TextEntry.key == key)),
                {},
            )
            return
        await self._writer.write(
            self._upsert_text,
            {
                "locale": locale,
                "key": key,
                "text": catalog_text,
                "overridden": False,
                "updated_ms": now_ms,
            },
        )

    async def offered_locales(self) -> dict[str, int]:
        """Return the locales operators added, with when."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(select(OfferedLocale.locale, OfferedLocale.added_ms))
            return {row.locale: row.added_ms for row in rows}

    async def add_locale(self, locale: str, now_ms: int) -> None:
        """Remember an added locale."""
        await self._writer.write(self._upsert_locale, {"locale": locale, "added_ms": now_ms})

    async def remove_locale(self, locale: str) -> None:
        """Forget an added locale and every override of it."""
        await self._writer.write(delete(OfferedLocale).where(OfferedLocale.locale == locale), {})
        await self._writer.write(delete(TextEntry).where(TextEntry.locale == locale), {})

    async def chat_locales(self) -> dict[tuple[str, str], str]:
        """Return every chat locale operators set, by (platform, chat id)."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(ChatLocale.platform, ChatLocale.chat_id, ChatLocale.locale)
            )
            return {(row.platform, row.chat_id): row.locale for row in rows}

    async def set_chat_locale(self, platform: str, chat_id: str, locale: str, now_ms: int) -> None:
        """Store the locale an operator chose for a chat."""
        await self._writer.write(
            self._upsert_chat,
            {"platform": platform, "chat_id": chat_id, "locale": locale, "updated_ms": now_ms},
        )

    async def clear_chat_locale(self, platform: str, chat_id: str) -> None:
        """Forget a chat's operator locale."""
        await self._writer.write(
            delete(ChatLocale).where(
                and_(ChatLocale.platform == platform, ChatLocale.chat_id == chat_id)
            ),
            {},
        )
