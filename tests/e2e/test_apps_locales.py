"""An app hears the Master in the language it registered with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.fleet import Fleet


@pytest.fixture
async def fleet(start_master: Any) -> AsyncIterator[Fleet]:
    """App clients, closed before the Master stops."""
    clients = Fleet()
    yield clients
    await clients.close()


# What people reading each language see; these are the catalogs' texts.
TEXTS = {
    "zh_Hans": {
        "scheduling_started": "已开始调度",
        "paused_by_operator": "已被管理员暂停",
        "unknown_event": "未知的事件：fly",
        "already_registered": "此连接已经注册过了",
    },
    "ja": {
        "scheduling_started": "スケジューリングを開始しました",
        "paused_by_operator": "オペレーターによって一時停止されました",
        "unknown_event": "不明なイベントです：fly",
        "already_registered": "この接続はすでに登録されています",
    },
    "en": {
        "scheduling_started": "Scheduling started",
        "paused_by_operator": "Paused by an operator",
        "unknown_event": "Unknown event: fly",
        "already_registered": "This connection is already registered",
    },
}


@pytest.mark.parametrize("locale", ["zh_Hans", "ja", "en"])
async def test_socketio_app_gets_states_and_errors_in_its_language(
    master: Any, fleet: Fleet, locale: str
) -> None:
    texts = TEXTS[locale]
    app, ack = await fleet.sio_registered(master.url, locale=locale)

    started = await app.next_state()
    unknown = await app.call("fly")
    again = await app.register()
    await master.api("POST", f"/api/v1/apps/{ack['id']}/pause")
    paused = await app.next_state()

    assert started["reason"] == texts["scheduling_started"]
    assert unknown["error"]["message"] == texts["unknown_event"]
    assert (await app.next_error())["message"] == texts["unknown_event"]
    assert again["error"]["message"] == texts["already_registered"]
    assert paused["reason"] == texts["paused_by_operator"]


@pytest.mark.parametrize("locale", ["zh_Hans", "ja", "en"])
async def test_websocket_app_gets_states_and_errors_in_its_language(
    master: Any, fleet: Fleet, locale: str
) -> None:
    texts = TEXTS[locale]
    app, _ = await fleet.ws_registered(master.url, locale=locale)

    started = await app.until("state")
    unknown = await app.request("fly")

    assert started["data"]["reason"] == texts["scheduling_started"]
    assert unknown["data"]["message"] == texts["unknown_event"]


@pytest.mark.parametrize(("tag", "expected"), [("zh-Hans", "zh_Hans"), ("ja-JP", "ja")])
async def test_locale_tags_in_other_spellings_are_understood(
    master: Any, fleet: Fleet, tag: str, expected: str
) -> None:
    app, _ = await fleet.sio_registered(master.url, locale=tag)

    assert (await app.next_state())["reason"] == TEXTS[expected]["scheduling_started"]


async def test_unknown_locale_falls_back_to_english(master: Any, fleet: Fleet) -> None:
    app, _ = await fleet.sio_registered(master.url, locale="xx-Bogus")

    assert (await app.next_state())["reason"] == TEXTS["en"]["scheduling_started"]


async def test_timeout_error_is_in_the_apps_language(start_master: Any, fleet: Fleet) -> None:
    master = await start_master(apps__heartbeat_timeout="0.3")
    app, _ = await fleet.sio_registered(master.url, locale="zh_Hans")

    error = await app.next_error(timeout=3)

    assert error == {"code": "heartbeat_timeout", "message": "未在规定时间内收到心跳"}


async def test_operator_reads_history_in_the_language_asked_for(master: Any, fleet: Fleet) -> None:
    _, ack = await fleet.sio_registered(master.url, locale="en")

    status, body = await master.api(
        "GET", f"/api/v1/apps/{ack['id']}", headers={"Accept-Language": "ja"}
    )

    assert status == 200
    assert [step["reason"] for step in body["transitions"]] == [
        "登録しました",
        TEXTS["ja"]["scheduling_started"],
    ]
