"""Texts as operators see them: seeded into SQL, listed, overridden and reset without a restart."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.i18n.catalogs import plural_key, split_plural_key
from kenkogo_master.i18n.locale import fallback_chain
from kenkogo_master.i18n.render import Translator, placeholders
from kenkogo_master.i18n.validate import (
    TEMPLATE_PREFIX,
    check_key_syntax,
    check_locale,
    check_text,
    invalid,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Override:
    """An operator's text for one flat key in one locale."""

    locale: str
    key: str
    text: str
    updated_ms: int


class TextStore(Protocol):
    """Where texts, overrides and added locales are kept (store/i18n_records.py)."""

    async def seed(self, catalog_texts: Mapping[str, Mapping[str, str]], now_ms: int) -> Any:
        """Make the catalog rows match the catalogs, keeping overrides."""

    async def overrides(self) -> list[Any]:
        """Return every override row (with locale, key, text and updated_ms)."""

    async def set_override(self, locale: str, key: str, text: str, now_ms: int) -> None:
        """Store an override."""

    async def clear_override(
        self, locale: str, key: str, catalog_text: str | None, now_ms: int
    ) -> None:
        """Go back to the catalog text."""

    async def offered_locales(self) -> dict[str, int]:
        """Return the added locales with when they were added."""

    async def add_locale(self, locale: str, now_ms: int) -> None:
        """Remember an added locale."""

    async def remove_locale(self, locale: str) -> None:
        """Forget an added locale and its overrides."""


@dataclass(frozen=True, slots=True)
class TextView:
    """One text of one locale, as listed: what is used, where it comes from, what it replaces."""

    locale: str
    key: str
    # The text used for this locale; from `source` (the locale itself or one it falls back to).
    text: str | None
    source: str | None
    catalog_text: str | None
    overridden: bool
    updated_ms: int | None


@dataclass(frozen=True, slots=True)
class LocaleView:
    """One locale the Master offers."""

    locale: str
    catalog: bool
    default: bool
    added_ms: int | None
    overrides: int


class TextAdmin:
    """Keep the translator, the texts table and operators' overrides in step."""

    def __init__(self, translator: Translator, store: TextStore, clock: Callable[[], int]) -> None:
        self.translator = translator
        self._store = store
        self._clock = clock
        self._overrides: dict[str, dict[str, Override]] = {}
        self._added: dict[str, int] = {}
        self._flat: dict[str, dict[str, str]] = {}
        self._listeners: list[Callable[[], None]] = []

    async def start(self) -> None:
        """Seed the table from the catalogs, then load overrides and added locales."""
        self._flat = {
            locale: catalog.flat_texts()
            for locale, catalog in self.translator.catalogs.by_locale.items()
        }
        result = await self._store.seed(self._flat, self._clock())
        log.info("texts seeded from the catalogs: %s", result)
        self._added = await self._store.offered_locales()
        for locale in self._added:
            self.translator.add_locale(locale)
        rows = await self._store.overrides()
        for row in rows:
            self._overrides.setdefault(row.locale, {})[row.key] = Override(
                row.locale, row.key, row.text, row.updated_ms
            )
        self.translator.replace_overrides((row.locale, row.key, row.text) for row in rows)

    def on_locales_changed(self, listener: Callable[[], None]) -> None:
        """Call `listener()` whenever the offered locales change."""
        self._listeners.append(listener)

    # -- keys ----------------------------------------------------------------------------------

    def _keys(self) -> tuple[set[str], set[str]]:
        """Return every key known: (plain keys, keys with plural forms)."""
        catalogs = self.translator.catalogs.by_locale.values()
        plural = {key for catalog in catalogs for key in catalog.plurals}
        plain = {key for catalog in catalogs for key in catalog.texts}
        for texts in self._overrides.values():
            for flat in texts:
                key, index = split_plural_key(flat)
                (plural if index is not None else plain).add(key)
        return plain - plural, plural

    def _catalog_placeholders(self, key: str) -> set[str] | None:
        """Return the placeholders a catalog key's texts use, or None when no catalog has it."""
        found = False
        names: set[str] = set()
        for catalog in self.translator.catalogs.by_locale.values():
            texts = [catalog.texts[key]] if key in catalog.texts else []
            texts += [form for form in catalog.plurals.get(key, ()) if form]
            if key in catalog.texts or key in catalog.plurals:
                found = True
            for text in texts:
                names |= placeholders(text)
        return names if found else None

    # -- listing -------------------------------------------------------------------------------

    def view(self, locale: str, flat: str) -> TextView:
        """Return what `locale` uses for a flat key, and where it comes from."""
        key, index = split_plural_key(flat)
        own = self._overrides.get(locale, {}).get(flat)
        text: str | None = None
        source: str | None = None
        for step in fallback_chain(locale, self.translator.default_locale):
            overrides = self._overrides.get(step, {})
            row = overrides.get(flat) or (overrides.get(key) if index is not None else None)
            text = row.text if row is not None else self._flat.get(step, {}).get(flat)
            if text is not None:
                source = step
                break
        return TextView(
            locale=locale,
            key=flat,
            text=text,
            source=source,
            catalog_text=self._flat.get(locale, {}).get(flat),
            overridden=own is not None,
            updated_ms=own.updated_ms if own is not None else None,
        )

    def view_checked(self, locale_tag: str, flat: str) -> TextView:
        """Return the view of one text, raising for a bad locale or a key nobody knows."""
        locale = check_locale(locale_tag)
        check_key_syntax(flat)
        view = self.view(locale, flat)
        if view.text is None and not self._known(flat):
            raise HubError(ErrorCode.NOT_FOUND, what="text", id=flat)
        return view

    def _known(self, flat: str) -> bool:
        """Return whether a flat key's key is in a catalog or an override."""
        key, _ = split_plural_key(flat)
        plain, plural = self._keys()
        return key in plain or key in plural

    def list_texts(self, locale: str | None, query: str | None) -> list[TextView]:
        """List the texts of one locale (or all), those whose key or text contains `query`."""
        locales = [check_locale(locale)] if locale else self.translator.locales()
        plain, plural = self._keys()
        needle = (query or "").casefold()
        views: list[TextView] = []
        for each in locales:
            flats = sorted(plain)
            for key in sorted(plural):
                if key in self._overrides.get(each, {}):
                    flats.append(key)
                flats += [plural_key(key, i) for i in range(self.translator.plural_count(each))]
            for flat in sorted(flats):
                view = self.view(each, flat)
                if not needle or any(
                    needle in field.casefold()
                    for field in (flat, view.text or "", view.catalog_text or "")
                ):
                    views.append(view)
        return views

    def texts_under(self, locale: str, prefixes: tuple[str, ...]) -> dict[str, str]:
        """Return the texts `locale` uses for catalog keys under `prefixes`, overrides applied."""
        keys = {key for flat in self._flat.values() for key in flat if key.startswith(prefixes)}
        texts = {}
        for key in sorted(keys):
            text = self.view(locale, key).text
            if text is not None:
                texts[key] = text
        return texts

    def locale_views(self) -> list[LocaleView]:
        """Describe every offered locale."""
        return [
            LocaleView(
                locale=locale,
                catalog=self.translator.has_catalog(locale),
                default=locale == self.translator.default_locale,
                added_ms=self._added.get(locale),
                overrides=len(self._overrides.get(locale, {})),
            )
            for locale in self.translator.locales()
        ]

    # -- changing ------------------------------------------------------------------------------

    def _check_key(self, locale: str, flat: str) -> None:
        """Raise invalid_payload unless `flat` is a known key or a new template key."""
        check_key_syntax(flat)
        key, index = split_plural_key(flat)
        plain, plural = self._keys()
        if key not in plain | plural and not key.startswith(TEMPLATE_PREFIX):
            raise invalid(f"unknown key {key!r}; new keys must start with {TEMPLATE_PREFIX!r}")
        if index is None:
            return
        if any(key in catalog.texts for catalog in self.translator.catalogs.by_locale.values()):
            raise invalid(f"{key!r} has no plural forms")
        count = self.translator.plural_count(locale)
        if index >= count:
            raise invalid(f"{locale} has {count} plural form(s): [0] to [{count - 1}]")

    async def set_text(self, locale_tag: str, flat: str, text: str) -> TextView:
        """Override a text (adding its locale if new); it is used from the next lookup."""
        locale = check_locale(locale_tag)
        self._check_key(locale, flat)
        check_text(text, self._catalog_placeholders(split_plural_key(flat)[0]))
        now = self._clock()
        if locale not in self.translator.locales():
            await self._add(locale, now)
        await self._store.set_override(locale, flat, text, now)
        self._overrides.setdefault(locale, {})[flat] = Override(locale, flat, text, now)
        self.translator.set_override(locale, flat, text)
        return self.view(locale, flat)

    async def reset_text(self, locale_tag: str, flat: str) -> TextView:
        """Drop an override: the catalog's text (or the fallback) is used again."""
        locale = check_locale(locale_tag)
        check_key_syntax(flat)
        if not self._known(flat):
            raise HubError(ErrorCode.NOT_FOUND, what="text", id=flat)
        if flat in self._overrides.get(locale, {}):
            catalog_text = self._flat.get(locale, {}).get(flat)
            await self._store.clear_override(locale, flat, catalog_text, self._clock())
            texts = self._overrides[locale]
            del texts[flat]
            if not texts:
                del self._overrides[locale]
            self.translator.clear_override(locale, flat)
        return self.view(locale, flat)

    async def add_locale(self, locale_tag: str) -> tuple[LocaleView, bool]:
        """Offer a locale; return its view and whether it is new."""
        locale = check_locale(locale_tag)
        created = locale not in self.translator.locales()
        if created:
            await self._add(locale, self._clock())
        view = next(item for item in self.locale_views() if item.locale == locale)
        return view, created

    async def _add(self, locale: str, now: int) -> None:
        await self._store.add_locale(locale, now)
        self._added[locale] = now
        self.translator.add_locale(locale)
        self._changed()

    async def remove_locale(self, locale_tag: str) -> None:
        """Stop offering an added locale and drop its overrides."""
        locale = check_locale(locale_tag)
        if locale not in self.translator.locales():
            raise HubError(ErrorCode.NOT_FOUND, what="locale", id=locale)
        if self.translator.has_catalog(locale):
            raise invalid(f"{locale} has a catalog; override its texts instead of removing it")
        if locale == self.translator.default_locale:
            raise invalid(f"{locale} is the default locale")
        await self._store.remove_locale(locale)
        self._added.pop(locale, None)
        self._overrides.pop(locale, None)
        self.translator.remove_locale(locale)
        self._changed()

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()
