"""The texts a running Master shows people, looked up the way it looks them up."""

from __future__ import annotations

from typing import Any


def shown_text(master: Any, key: str, locale: str | None = "en", **params: Any) -> str:
    """Return the text the Master shows for `key`, failing when no catalog translates it."""
    text: str = master.hub.texts.text(key, locale, **params)
    assert text != key, f"no catalog has a text for {key!r} (locale {locale})"
    return text
