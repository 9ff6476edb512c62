"""Build the Master's translator from the configured catalog tree."""

from __future__ import annotations

from kenkogo_master.i18n.catalogs import default_locales_dir, load_catalogs
from kenkogo_master.i18n.render import Translator
from kenkogo_master.settings import I18nSettings


def load_texts(settings: I18nSettings) -> Translator:
    """Compile stale catalogs, load them and return a translator (raises CatalogError)."""
    catalogs = load_catalogs(settings.locales_dir or default_locales_dir())
    return Translator(catalogs, settings.default_locale)
