"""Babel message catalogs: compile each .po to .mo when stale, and load them into memory."""

from __future__ import annotations

import gettext
import io
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import PoFileError, read_po

from kenkogo_master.i18n.locale import normalize
from kenkogo_master.i18n.pocheck import PoSyntaxError, check_po

DOMAIN = "messages"
_PLURAL_KEY = re.compile(r"(?P<key>.+)\[(?P<index>\d+)\]")


class CatalogError(Exception):
    """A catalog cannot be compiled or read; the message names the file (and line when known)."""


@dataclass(frozen=True)
class PluralRule:
    """A catalog's gettext plural rule: how many forms, and which one a count takes."""

    count: int
    expr: str
    _select: Callable[[int], int] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, count: int, expr: str) -> PluralRule:
        """Build a rule from a Plural-Forms header's parts; raise ValueError when they are bad."""
        if count < 1:
            raise ValueError(f"nplurals must be at least 1, not {count}")
        return cls(count, expr, gettext.c2py(expr))

    def index(self, count: int) -> int:
        """Return the plural form index a whole count takes."""
        return min(max(self._select(abs(count)), 0), self.count - 1)


def plural_rule_for(locale: str) -> PluralRule:
    """Return babel's gettext plural rule for a locale that has no catalog of its own."""
    count, expr = get_plural(locale)
    return PluralRule.parse(count, expr)


def plural_key(key: str, index: int) -> str:
    """Return the flat name of one plural form of a key: `template.items_count[1]`."""
    return f"{key}[{index}]"


def split_plural_key(flat: str) -> tuple[str, int | None]:
    """Split a flat key into the key and its plural form index (None for a plain key)."""
    match = _PLURAL_KEY.fullmatch(flat)
    if match is None:
        return flat, None
    return match.group("key"), int(match.group("index"))


@dataclass(frozen=True)
class LocaleCatalog:
    """One locale's texts: key -> text, key -> plural forms ("" where a form is untranslated)."""

    locale: str
    texts: Mapping[str, str]
    plurals: Mapping[str, tuple[str, ...]]
    plural_rule: PluralRule

    def flat_texts(self) -> dict[str, str]:
        """Return every text under a flat key, plural forms as `key[i]`; for seeding a table."""
        flat = dict(self.texts)
        for key, forms in self.plurals.items():
            flat.update((plural_key(key, i), form) for i, form in enumerate(forms) if form)
        return flat


@dataclass(frozen=True)
class Catalogs:
    """The compiled catalogs of every locale, keyed by babel locale identifier."""

    by_locale: Mapping[str, LocaleCatalog]

    @property
    def locales(self) -> list[str]:
        """Return the locales that have a catalog, sorted."""
        return sorted(self.by_locale)

    def get(self, locale: str) -> LocaleCatalog | None:
        """Return a locale's catalog, or None when it has none."""
        return self.by_locale.get(locale)

    def keys(self) -> set[str]:
        """Return every key any catalog holds."""
        keys: set[str] = set()
        for catalog in self.by_locale.values():
            keys.update(catalog.texts, catalog.plurals)
        return keys


def default_locales_dir() -> Path:
    """Return the catalog tree shipped next to the package."""
    return Path(__file__).resolve().parents[2] / "locales"


def _po_files(locales_dir: Path) -> Iterator[tuple[str, Path]]:
    """Yield (locale, .po path) for each catalog in the tree, checking the directory names."""
    for po in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        name = po.parent.parent.name
        if normalize(name) != name:
            raise CatalogError(
                f"{po}: directory {name!r} is not a locale identifier"
                f" (expected {normalize(name) or 'a babel locale such as zh_Hans'})"
            )
        yield name, po


def _read_po(po: Path, locale: str) -> Catalog:
    """Parse and validate one .po file, raising CatalogError that names the file and line."""
    data = po.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        lineno = data[: exc.start].count(b"\n") + 1
        raise CatalogError(f"{po}:{lineno}: not valid UTF-8") from None
    try:
        check_po(text)
        catalog = read_po(io.StringIO(text), locale=locale, abort_invalid=True)
        PluralRule.parse(catalog.num_plurals, catalog.plural_expr)
    except PoSyntaxError as exc:
        raise CatalogError(f"{po}:{exc.lineno}: {exc.reason}") from None
    except PoFileError as exc:
        raise CatalogError(f"{po}:{exc.lineno + 1}: {exc}") from None
    except ValueError as exc:
        raise CatalogError(f"{po}: bad Plural-Forms header: {exc}") from None
    return catalog


def _compile_one(po: Path, mo: Path, locale: str) -> None:
    """Compile one .po file, replacing the .mo atomically so readers never see half a file."""
    catalog = _read_po(po, locale)
    partial = mo.with_name(f"{mo.name}.{os.getpid()}.tmp")
    try:
        with partial.open("wb") as stream:
            write_mo(stream, catalog)
        partial.replace(mo)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CatalogError(f"{mo}: cannot write: {exc.strerror}") from None


def compile_catalogs(locales_dir: Path, *, force: bool = False) -> list[Path]:
    """Compile each .po whose .mo is missing or older (every one with force); return .mo written."""
    written: list[Path] = []
    for locale, po in _po_files(locales_dir):
        mo = po.with_suffix(".mo")
        if not force and mo.exists() and mo.stat().st_mtime_ns >= po.stat().st_mtime_ns:
            continue
        _compile_one(po, mo, locale)
        written.append(mo)
    return written


def _load_mo(mo: Path, locale: str) -> LocaleCatalog:
    """Read one compiled catalog into plain mappings."""
    try:
        with mo.open("rb") as stream:
            catalog = read_mo(stream)
        rule = PluralRule.parse(catalog.num_plurals, catalog.plural_expr)
    except (OSError, ValueError, IndexError) as exc:
        raise CatalogError(f"{mo}: cannot read compiled catalog: {exc}") from None
    texts: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        # read_mo gives plural ids and forms as lists, read_po as tuples.
        if isinstance(message.id, list | tuple) and isinstance(message.string, list | tuple):
            if any(message.string):
                plurals[message.id[0]] = tuple(message.string)
        elif message.id and isinstance(message.string, str) and message.string:
            texts[str(message.id)] = message.string
    return LocaleCatalog(locale, texts, plurals, rule)


def load_catalogs(locales_dir: Path, *, compile: bool = True) -> Catalogs:
    """Load every locale's compiled catalog, compiling stale ones first unless told not to."""
    if compile:
        compile_catalogs(locales_dir)
    by_locale: dict[str, LocaleCatalog] = {}
    for locale, po in _po_files(locales_dir):
        mo = po.with_suffix(".mo")
        if not mo.exists():
            raise CatalogError(f"{po}: not compiled (run the compile-catalogs command)")
        by_locale[locale] = _load_mo(mo, locale)
    if not by_locale:
        raise CatalogError(f"{locales_dir}: no <locale>/LC_MESSAGES/{DOMAIN}.po catalogs found")
    return Catalogs(by_locale)


def compile_command(
    locales_dir: Path | None = None,
    *,
    force: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Compile the catalog tree for the `compile-catalogs` sub-command; return the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    root = locales_dir or default_locales_dir()
    try:
        written = compile_catalogs(root, force=force)
    except CatalogError as exc:
        print(f"error: {exc}", file=err)
        return 1
    for mo in written:
        print(f"compiled {mo}", file=out)
    if not written:
        print(f"catalogs in {root} are up to date", file=out)
    return 0
