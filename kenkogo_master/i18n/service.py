"""The Master's translation service: the translator, its texts in SQL and the chat locales."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from kenkogo_master.i18n.catalogs import default_locales_dir, load_catalogs
from kenkogo_master.i18n.chats import ChatLocales, ChatLocaleStore
from kenkogo_master.i18n.locale import parse_accept_language
from kenkogo_master.i18n.render import Translator
from kenkogo_master.i18n.texts import TextAdmin, TextStore
from kenkogo_master.settings import I18nSettings

# Accept-Language headers seen are remembered up to this many, then the memo restarts.
_HEADER_MEMO_LIMIT = 256


def load_texts(settings: I18nSettings) -> Translator:
    """Compile stale catalogs, load them and return a translator (raises CatalogError)."""
    catalogs = load_catalogs(settings.locales_dir or default_locales_dir())
    return Translator(catalogs, settings.default_locale)


class I18nStore(TextStore, ChatLocaleStore, Protocol):
    """Everything the translation service keeps in SQL."""


class I18n:
    """One handle on translation for the hub, the transports and the API."""

    def __init__(self, translator: Translator, store: I18nStore, clock: Callable[[], int]) -> None:
        self.translator = translator
        self.texts = TextAdmin(translator, store, clock)
        self.chats = ChatLocales(translator, store, clock)
        self._headers: dict[str, str | None] = {}
        self.texts.on_locales_changed(self._headers.clear)

    async def start(self) -> None:
        """Seed the texts table and load overrides and chat locales into memory."""
        await self.texts.start()
        await self.chats.start()

    def chat_locale(
        self,
        platform: str,
        chat_id: str,
        event_locale: str | None = None,
        driver_locale: str | None = None,
    ) -> str:
        """Return the locale to speak to a chat in (see ChatLocales.chat_locale); no SQL."""
        return self.chats.chat_locale(platform, chat_id, event_locale, driver_locale)

    def request_locale(self, accept_language: str | None) -> str | None:
        """Return the best offered locale for an Accept-Language header, or None for the default."""
        if not accept_language:
            return None
        try:
            return self._headers[accept_language]
        except KeyError:
            pass
        if len(self._headers) >= _HEADER_MEMO_LIMIT:
            self._headers.clear()
        best = self.translator.best_locale(parse_accept_language(accept_language))
        self._headers[accept_language] = best
        return best

    def render_template(self, key: str, locale: str | None, params: dict[str, Any]) -> str:
        """Render an app's template in a locale (raises TemplateError)."""
        return self.translator.render_template(key, locale, params)
