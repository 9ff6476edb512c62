"""Translated texts: babel catalogs, operator overrides, locale fallback and template rendering."""

from __future__ import annotations

from kenkogo_master.i18n.catalogs import (
    CatalogError,
    Catalogs,
    LocaleCatalog,
    PluralRule,
    compile_catalogs,
    compile_command,
    default_locales_dir,
    load_catalogs,
)
from kenkogo_master.i18n.keys import N_, NP_
from kenkogo_master.i18n.locale import fallback_chain, normalize, parse_accept_language
from kenkogo_master.i18n.render import TemplateError, Translator

__all__ = [
    "NP_",
    "N_",
    "CatalogError",
    "Catalogs",
    "LocaleCatalog",
    "PluralRule",
    "TemplateError",
    "Translator",
    "compile_catalogs",
    "compile_command",
    "default_locales_dir",
    "fallback_chain",
    "load_catalogs",
    "normalize",
    "parse_accept_language",
]
