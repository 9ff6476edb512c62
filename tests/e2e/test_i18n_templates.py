"""Apps reply and send with templates, rendered in each chat's locale, over real sockets."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from tests.conftest import RunningMaster, StartMaster
from tests.support.flow_clients import FlowApp, SioDriver, start_app

TOKEN = "driver-token"
RECEIPT = "template.receipt"
PARAMS: dict[str, Any] = {
    "amount": 1234567.891,
    "fee": {"currency": 9.99, "code": "CNY"},
    "day": {"date": "2026-11-22"},
}


def receipt(locale: str) -> str:
    """Return the receipt as babel formats its parts for `locale`."""
    amount = format_decimal(1234567.891, locale=locale)
    fee = format_currency(9.99, "CNY", locale=locale)
    day = format_date(dt.date(2026, 11, 22), "medium", locale=locale)
    if locale == "zh_Hans":
        return f"{day} 合计 {amount}（手续费 {fee}）"
    return f"Total {amount} on {day} (fee {fee})"


@pytest.fixture
async def master(start_master: StartMaster) -> RunningMaster:
    """A Master that accepts the test driver, with a receipt template in en and zh_Hans."""
    running = await start_master(drivers__tokens=f'["{TOKEN}"]')
    for locale, text in (
        ("en", "Total {amount} on {day} (fee {fee})"),
        ("zh_Hans", "{day} 合计 {amount}（手续费 {fee}）"),
    ):
        status, body = await running.api(
            "PUT", f"/api/v1/i18n/texts/{locale}/{RECEIPT}", json={"text": text}
        )
        assert status == 200, body
    return running


@pytest.fixture
async def driver(master: RunningMaster) -> AsyncIterator[SioDriver]:
    """A qq driver whose chats speak English unless an event or an operator says otherwise."""
    client = await SioDriver(master.url).connect(TOKEN)
    assert (await client.register("qq", "10001", name="bot", locale="en"))["success"]
    yield client
    await client.close()


@pytest.fixture
async def app(master: RunningMaster, driver: SioDriver) -> AsyncIterator[FlowApp]:
    """An app that reads Japanese: its own errors come in ja, its replies in the chat's locale."""
    client = await start_app(master.url, "shop", locale="ja")
    yield client
    await client.close()


async def reply_in(
    driver: SioDriver, app: FlowApp, chat: str, template: str, params: dict[str, Any], **event: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Send a message into `chat`, answer it with a template; return the reply ack and message."""
    await driver.send("how much?", chat={"type": "group", "id": chat}, **event)
    message = await app.next_message()
    ack = await app.call(
        "reply", {"message_id": message["id"], "template": template, "params": params}
    )
    return ack, message


async def test_a_template_reply_is_formatted_for_the_chat_s_locale(
    driver: SioDriver, app: FlowApp
) -> None:
    ack, message = await reply_in(driver, app, "zh-group", RECEIPT, PARAMS, locale="zh-Hans")
    assert message["locale"] == "zh_Hans"
    assert ack["success"] is True
    zh = (await driver.next_action())["content"]

    ack, message = await reply_in(driver, app, "en-group", RECEIPT, PARAMS)
    assert message["locale"] == "en"
    assert ack["success"] is True
    en = (await driver.next_action())["content"]

    assert zh == receipt("zh_Hans") == "2026年11月22日 合计 1,234,567.891（手续费 ¥9.99）"
    assert en == receipt("en") == "Total 1,234,567.891 on Nov 22, 2026 (fee CN¥9.99)"


async def test_plural_templates_pick_the_form_for_the_count(
    driver: SioDriver, app: FlowApp
) -> None:
    contents = []
    for locale in ("en", "zh-Hans"):
        for count in (1, 5):
            params = {"count": {"plural": count}}
            ack, _ = await reply_in(driver, app, "g", "template.items_count", params, locale=locale)
            assert ack["success"] is True
            contents.append((await driver.next_action())["content"])
    assert contents == ["1 item", "5 items", "1 个项目", "5 个项目"]


async def test_the_operator_s_chat_locale_wins_over_the_event_s(
    master: RunningMaster, driver: SioDriver, app: FlowApp
) -> None:
    status, _ = await master.api(
        "PUT", "/api/v1/chats/qq/chosen/locale", json={"locale": "zh_Hans"}
    )
    assert status == 200
    ack, message = await reply_in(driver, app, "chosen", RECEIPT, PARAMS, locale="en-US")
    assert ack["success"] is True
    assert message["locale"] == "zh_Hans"
    assert (await driver.next_action())["content"] == receipt("zh_Hans")


async def test_a_send_is_rendered_in_its_target_chat_s_locale(
    master: RunningMaster, driver: SioDriver, app: FlowApp
) -> None:
    status, _ = await master.api(
        "PUT", "/api/v1/chats/qq/chosen/locale", json={"locale": "zh_Hans"}
    )
    assert status == 200
    for chat, expected in (("chosen", receipt("zh_Hans")), ("plain", receipt("en"))):
        ack = await app.call(
            "send",
            {
                "target": {"platform": "qq", "chat": {"type": "group", "id": chat}},
                "template": RECEIPT,
                "params": PARAMS,
            },
        )
        assert ack["success"] is True, ack
        action = await driver.next_action()
        assert (action["chat"]["id"], action["content"]) == (chat, expected)


async def test_an_override_is_used_by_the_next_reply(
    master: RunningMaster, driver: SioDriver, app: FlowApp
) -> None:
    status, _ = await master.api(
        "PUT", f"/api/v1/i18n/texts/zh_Hans/{RECEIPT}", json={"text": "共 {amount}"}
    )
    assert status == 200
    ack, _ = await reply_in(driver, app, "g", RECEIPT, PARAMS, locale="zh_Hans")
    assert ack["success"] is True
    assert (await driver.next_action())["content"] == "共 1,234,567.891"


@pytest.mark.parametrize(
    ("template", "params", "code", "message"),
    [
        ("template.nope", {}, "unknown_template", "不明なテンプレートです：template.nope"),
        (
            RECEIPT,
            {"amount": 1, "fee": 2},
            "template_missing_param",
            f"テンプレート {RECEIPT} にはパラメーター day が必要です",
        ),
        (
            RECEIPT,
            {**PARAMS, "day": {"date": "someday"}},
            "invalid_template_param",
            f"テンプレート {RECEIPT} のパラメーター day の値が無効です",
        ),
    ],
)
async def test_a_template_error_is_answered_to_the_app_in_its_language_and_nothing_is_sent(
    driver: SioDriver,
    app: FlowApp,
    template: str,
    params: dict[str, Any],
    code: str,
    message: str,
) -> None:
    ack, _ = await reply_in(driver, app, "zh-group", template, params, locale="zh_Hans")
    assert ack == {"success": False, "error": {"code": code, "message": message}}
    assert driver.actions.empty()
    # The chat still gets a good reply once the app fixes its call.
    ack, _ = await reply_in(driver, app, "zh-group", RECEIPT, PARAMS, locale="zh_Hans")
    assert ack["success"] is True
    assert (await driver.next_action())["content"] == receipt("zh_Hans")
