"""A chat's locale: operator's choice, then the event's, then the driver's, then the default."""

from __future__ import annotations

import pytest

from kenkogo_master.errors import HubError
from kenkogo_master.i18n import Translator
from kenkogo_master.i18n.chats import ChatLocales


class MemoryChats:
    """Chat locales kept in a dict, standing in for SQL."""

    def __init__(self, rows: dict[tuple[str, str], str] | None = None) -> None:
        self.rows = dict(rows or {})

    async def chat_locales(self) -> dict[tuple[str, str], str]:
        return dict(self.rows)

    async def set_chat_locale(self, platform: str, chat_id: str, locale: str, now_ms: int) -> None:
        self.rows[(platform, chat_id)] = locale

    async def clear_chat_locale(self, platform: str, chat_id: str) -> None:
        del self.rows[(platform, chat_id)]


async def chats_with(translator: Translator, store: MemoryChats) -> ChatLocales:
    chats = ChatLocales(translator, store, lambda: 0)
    await chats.start()
    return chats


@pytest.mark.parametrize(
    ("event", "driver", "expected"),
    [
        ("zh-CN", "ja", "zh_Hans_CN"),
        (None, "ja-JP", "ja_JP"),
        ("not a locale", "ja", "ja"),
        ("", "", "en"),
        (None, None, "en"),
    ],
)
async def test_event_then_driver_then_default(
    translator: Translator, event: str | None, driver: str | None, expected: str
) -> None:
    chats = await chats_with(translator, MemoryChats())
    assert chats.chat_locale("qq", "1", event, driver) == expected


async def test_the_operator_s_choice_wins_and_is_loaded_at_start(translator: Translator) -> None:
    store = MemoryChats({("qq", "1"): "ja"})
    chats = await chats_with(translator, store)
    assert chats.chat_locale("qq", "1", "zh_Hans", "en") == "ja"
    assert chats.chat_locale("tg", "1", "zh_Hans", "en") == "zh_Hans"

    assert await chats.set("tg", "1", "zh-hans") == "zh_Hans"
    assert store.rows[("tg", "1")] == "zh_Hans"
    assert chats.chat_locale("tg", "1", "en", "en") == "zh_Hans"

    assert await chats.clear("qq", "1") is True
    assert await chats.clear("qq", "1") is False
    assert chats.chat_locale("qq", "1", "zh_Hans", "en") == "zh_Hans"
    assert chats.items() == [("tg", "1", "zh_Hans")]


async def test_a_bad_tag_is_refused_and_nothing_is_stored(translator: Translator) -> None:
    store = MemoryChats()
    chats = await chats_with(translator, store)
    with pytest.raises(HubError) as caught:
        await chats.set("qq", "1", "12-34")
    assert caught.value.code == "invalid_payload"
    assert store.rows == {}
