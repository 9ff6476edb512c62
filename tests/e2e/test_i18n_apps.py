"""Apps hear the Master in the language they registered with, over real sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import RunningMaster
from tests.support.clients import SioApp, WsApp

UNKNOWN_EVENT = {
    "en": "Unknown event: dance",
    "zh_Hans": "未知的事件：dance",
    "ja": "不明なイベントです：dance",
}
ALREADY_REGISTERED = {
    "en": "This connection is already registered",
    "zh_Hans": "此连接已经注册过了",
    "ja": "この接続はすでに登録されています",
}
SCHEDULING_STARTED = {
    "en": "Scheduling started",
    "zh_Hans": "已开始调度",
    "ja": "スケジューリングを開始しました",
}


@pytest.fixture
async def apps(master: RunningMaster) -> AsyncIterator[dict[str, SioApp]]:
    """Three apps over Socket.IO, registered with en, zh-CN (a zh_Hans reader) and ja."""
    connected: dict[str, SioApp] = {}
    for locale, tag in (("en", "en"), ("zh_Hans", "zh-CN"), ("ja", "ja-JP")):
        app = await SioApp(master.url).connect()
        ack = await app.register(f"app-{locale}", locale=tag)
        assert ack["success"] is True
        connected[locale] = app
    yield connected
    for app in connected.values():
        await app.close()


async def test_one_error_reaches_three_apps_in_three_languages(
    apps: dict[str, SioApp],
) -> None:
    for locale, app in apps.items():
        answer = await app.call("dance", {"steps": 3})
        assert answer == {
            "success": False,
            "error": {"code": "unknown_event", "message": UNKNOWN_EVENT[locale]},
        }
        again = await app.register(f"app-{locale}")
        assert again["error"] == {
            "code": "already_registered",
            "message": ALREADY_REGISTERED[locale],
        }


async def test_state_reasons_are_in_the_app_s_language(apps: dict[str, SioApp]) -> None:
    for locale, app in apps.items():
        state = await app.next_state()
        assert state == {"state": "scheduling", "reason": SCHEDULING_STARTED[locale]}


async def test_an_operator_override_is_used_by_the_next_error(
    master: RunningMaster, apps: dict[str, SioApp]
) -> None:
    path = "/api/v1/i18n/texts/zh_Hans/error.unknown_event"
    status, _ = await master.api("PUT", path, json={"text": "没有「{event}」这个事件"})
    assert status == 200

    zh = await apps["zh_Hans"].call("dance")
    en = await apps["en"].call("dance")
    assert zh["error"]["message"] == "没有「dance」这个事件"
    assert en["error"]["message"] == UNKNOWN_EVENT["en"]

    status, _ = await master.api("DELETE", path)
    assert status == 200
    zh = await apps["zh_Hans"].call("dance")
    assert zh["error"]["message"] == UNKNOWN_EVENT["zh_Hans"]


async def test_plain_websocket_apps_hear_errors_in_their_language(master: RunningMaster) -> None:
    app = await WsApp.connect(master.http, master.url)
    answer = await app.request("register", {"name": "ws-ja", "version": "1", "locale": "ja"})
    assert answer["data"]["success"] is True
    await app.send({"type": "dance"})
    error = await app.until("error")
    assert error["data"] == {"code": "unknown_event", "message": UNKNOWN_EVENT["ja"]}
    await app.close()


@pytest.mark.parametrize("tag", ["fr", "xx-not-a-locale", "zh-Hant-TW"])
async def test_a_locale_without_texts_falls_back_to_the_default(
    master: RunningMaster, tag: str
) -> None:
    app = await SioApp(master.url).connect()
    assert (await app.register("elsewhere", locale=tag))["success"] is True
    answer = await app.call("dance")
    assert answer["error"]["message"] == UNKNOWN_EVENT["en"]
    await app.close()


async def test_a_locale_added_by_an_operator_is_used_once_it_has_texts(
    master: RunningMaster,
) -> None:
    status, _ = await master.api(
        "PUT",
        "/api/v1/i18n/texts/fr/error.unknown_event",
        json={"text": "Événement inconnu : {event}"},
    )
    assert status == 200
    app = await SioApp(master.url).connect()
    assert (await app.register("paris", locale="fr-FR"))["success"] is True
    answer = await app.call("dance")
    assert answer["error"]["message"] == "Événement inconnu : dance"
    await app.close()
