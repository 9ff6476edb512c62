"""Locale tags: normalizing what peers send, fallback chains, Accept-Language."""

from __future__ import annotations

import re

from babel import Locale, UnknownLocaleError

# Language, then script / region / variant subtags, with `-` or `_` between them.
_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
# Tags babel accepts but that name no language a reader could want.
_NOT_LANGUAGES = frozenset({"und", "root"})
_Q_VALUE = re.compile(r"q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)", re.IGNORECASE)


def normalize(tag: str) -> str | None:
    """Return the canonical babel identifier for a locale tag, or None if it names no locale.

    `zh-Hans` and `zh_hans` become `zh_Hans`, `en-US` becomes `en_US`, and a region alone gets
    its likely script (`zh-CN` becomes `zh_Hans_CN`, whose fallback chain passes `zh_Hans`).
    """
    # POSIX locales (`en_US.UTF-8@euro`) carry an encoding and modifier nobody renders with.
    tag = tag.strip().split(".", 1)[0].split("@", 1)[0]
    if not _TAG.fullmatch(tag) or tag.lower() in _NOT_LANGUAGES:
        return None
    try:
        return str(Locale.parse(tag.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        return None


def parents(locale: str) -> list[str]:
    """Return a normalized locale and its parents, most specific first: zh_Hans_CN, zh_Hans, zh."""
    parts = locale.split("_")
    return ["_".join(parts[:end]) for end in range(len(parts), 0, -1)]


def fallback_chain(locale: str | None, default: str) -> list[str]:
    """Return the locales to look a text up in, in order; the caller's last resort is the key.

    The chain is the locale, its parents, then the default locale and its parents; a locale that
    names nothing is skipped, so a garbage tag falls straight back to the default.
    """
    chain: list[str] = []
    for tag in (locale, default):
        normalized = normalize(tag) if tag else None
        if normalized is None:
            continue
        for candidate in parents(normalized):
            if candidate not in chain:
                chain.append(candidate)
    return chain


def parse_accept_language(header: str | None) -> list[str]:
    """Return the normalized locales of an Accept-Language header, best first (ties keep order).

    Ranges with q=0, the `*` wildcard, malformed weights and tags that name no locale are dropped.
    """
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")):
        tag, _, params = item.partition(";")
        quality = 1.0
        if params.strip():
            match = _Q_VALUE.fullmatch(params.strip())
            if match is None:
                continue
            quality = float(match.group(1))
        locale = normalize(tag) if tag.strip() != "*" else None
        if locale is not None and quality > 0:
            weighted.append((-quality, position, locale))
    result: list[str] = []
    for _, _, locale in sorted(weighted):
        if locale not in result:
            result.append(locale)
    return result
