"""Which locale a chat is spoken to in: the operator's choice, then the event's, the driver's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from kenkogo_master.i18n.render import Translator
from kenkogo_master.i18n.validate import check_locale


class ChatLocaleStore(Protocol):
    """Where operators' chat locales are kept (store/i18n_records.py)."""

    async def chat_locales(self) -> dict[tuple[str, str], str]:
        """Return every chat locale set, by (platform, chat id)."""

    async def set_chat_locale(self, platform: str, chat_id: str, locale: str, now_ms: int) -> None:
        """Store a chat's locale."""

    async def clear_chat_locale(self, platform: str, chat_id: str) -> None:
        """Forget a chat's locale."""


class ChatLocales:
    """Operators' chat locales, held in memory so resolving a chat's locale costs no SQL."""

    def __init__(
        self, translator: Translator, store: ChatLocaleStore, clock: Callable[[], int]
    ) -> None:
        self._translator = translator
        self._store = store
        self._clock = clock
        self._chosen: dict[tuple[str, str], str] = {}

    async def start(self) -> None:
        """Load what operators set."""
        self._chosen = await self._store.chat_locales()

    def chat_locale(
        self,
        platform: str,
        chat_id: str,
        event_locale: str | None = None,
        driver_locale: str | None = None,
    ) -> str:
        """Return the locale to speak to a chat in: operator's → event's → driver's → default.

        Tags that name no locale are skipped; the event and driver tags are normalized.
        """
        chosen = self._chosen.get((platform, chat_id)) if self._chosen else None
        if chosen is not None:
            return chosen
        normalize = self._translator.normalize_tag
        return (
            normalize(event_locale) or normalize(driver_locale) or self._translator.default_locale
        )

    def get(self, platform: str, chat_id: str) -> str | None:
        """Return the locale an operator set for a chat, if any."""
        return self._chosen.get((platform, chat_id))

    def items(self) -> list[tuple[str, str, str]]:
        """Return every (platform, chat id, locale) operators set, sorted."""
        return sorted((platform, chat, locale) for (platform, chat), locale in self._chosen.items())

    async def set(self, platform: str, chat_id: str, locale_tag: str) -> str:
        """Set a chat's locale (normalized, raising invalid_payload for a bad tag); return it."""
        locale = check_locale(locale_tag)
        await self._store.set_chat_locale(platform, chat_id, locale, self._clock())
        self._chosen[(platform, chat_id)] = locale
        return locale

    async def clear(self, platform: str, chat_id: str) -> bool:
        """Forget a chat's locale; return whether one was set."""
        if (platform, chat_id) not in self._chosen:
            return False
        await self._store.clear_chat_locale(platform, chat_id)
        del self._chosen[(platform, chat_id)]
        return True
