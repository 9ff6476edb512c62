"""Check what operators write: text keys, locales and the placeholders of a text."""

from __future__ import annotations

import re
from collections.abc import Iterable

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.i18n.locale import normalize
from kenkogo_master.i18n.render import placeholders, stray_brace

# `area.name` with more dotted parts allowed, and `[i]` naming one plural form.
KEY_PATTERN = r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+(?:\[\d{1,2}\])?"
_KEY = re.compile(KEY_PATTERN)
KEY_MAX = 200
TEXT_MAX = 4000
# Apps may add keys under this prefix; every other key must come from the catalogs.
TEMPLATE_PREFIX = "template."


def invalid(detail: str) -> HubError:
    """Return the error answered for bad operator input."""
    return HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)


def check_locale(tag: str) -> str:
    """Return a locale tag normalized, or raise invalid_payload."""
    locale = normalize(tag)
    if locale is None:
        raise invalid(f"{tag[:40]!r} is not a locale (try en, zh_Hans or ja)")
    return locale


def check_key_syntax(key: str) -> None:
    """Raise invalid_payload unless `key` looks like `area.name` or `area.name[i]`."""
    if len(key) > KEY_MAX or not _KEY.fullmatch(key):
        raise invalid(
            f"{key[:60]!r} is not a text key (lower-case dotted names such as template.greeting,"
            " with [i] for one plural form)"
        )


def check_text(text: str, allowed: Iterable[str] | None) -> None:
    """Raise invalid_payload for an empty or stray-braced text, or a placeholder not `allowed`.

    `allowed` is None for a new template, whose placeholders are whatever it names.
    """
    if not text.strip():
        raise invalid("the text is empty")
    if len(text) > TEXT_MAX:
        raise invalid(f"the text is longer than {TEXT_MAX} characters")
    offset = stray_brace(text)
    if offset is not None:
        raise invalid(
            f"unmatched {text[offset]!r} at character {offset + 1}; placeholders are {{name}}"
            " and a literal brace is written {{ or }}"
        )
    if allowed is None:
        return
    permitted = set(allowed)
    unknown = sorted(placeholders(text) - permitted)
    if unknown:
        names = ", ".join(f"{{{name}}}" for name in sorted(permitted)) or "no placeholders"
        raise invalid(f"unknown placeholder {{{unknown[0]}}}; this text may use {names}")
