"""A OneBot v11 bot talks to apps through the Master: messages in, send_*_msg with echo out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import RunningMaster, StartMaster
from tests.support.clients import SioApp
from tests.support.onebot_client import OneBotClient


@pytest.fixture
async def opened() -> AsyncIterator[list[Any]]:
    """Clients a test opens; closed at teardown even when the test fails, so stopping is quick."""
    clients: list[Any] = []
    yield clients
    for client in reversed(clients):
        await client.close()


async def answering_app(
    master: RunningMaster, opened: list[Any], name: str, answer: Any, **register: Any
) -> tuple[SioApp, asyncio.Queue[dict[str, Any]]]:
    """Connect an app whose ack to every message is `answer(message)`; return it and its inbox."""
    app = SioApp(master.url)
    opened.append(app)
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def on_message(data: dict[str, Any]) -> Any:
        inbox.put_nowait(data)
        return answer(data)

    app.client.on("message", on_message, namespace="/app")
    await app.connect()
    ack = await app.register(name, **register)
    assert ack["success"], ack
    while ack["state"] != "scheduling":
        ack = await app.next_state()
    return app, inbox


async def connect_bot(master: RunningMaster, opened: list[Any], **options: Any) -> OneBotClient:
    """Connect a OneBot account that is closed at teardown."""
    bot = await OneBotClient.connect(master.http, master.url, **options)
    opened.append(bot)
    return bot


def echo(message: dict[str, Any]) -> dict[str, Any]:
    return {"reply": "echo:" + message["content"]}


async def message_detail(master: RunningMaster, message_id: str) -> dict[str, Any]:
    status, body = await master.api("GET", f"/api/v1/messages/{message_id}")
    assert status == 200, body
    result: dict[str, Any] = body
    return result


async def reply_rows(master: RunningMaster, message_id: str, count: int = 1) -> list[Any]:
    """Wait until the message has `count` replies with a driver answer; return them."""
    async with asyncio.timeout(5):
        while True:
            replies = (await message_detail(master, message_id))["replies"]
            if len(replies) >= count and all(r["status"] != "pending" for r in replies):
                return list(replies)
            await asyncio.sleep(0.05)


async def test_group_cq_code_message_reaches_the_app_and_the_reply_goes_out(
    master: RunningMaster, opened: list[Any]
) -> None:
    app, inbox = await answering_app(master, opened, "echo", echo)
    bot = await connect_bot(master, opened, self_id=10001)
    await bot.group_message(
        123456, 42, "[CQ:at,qq=10001] 天气 &#91;北京&#93;", message_id=7001, card="Alice card"
    )
    message = await asyncio.wait_for(inbox.get(), 5)
    assert message["platform"] == "qq"
    assert message["chat"]["type"] == "group" and message["chat"]["id"] == "123456"
    assert message["sender"] == {"id": "42", "name": "Alice card"}
    assert message["content"] == " 天气 [北京]"
    assert message["segments"] == [
        {"type": "at", "data": {"qq": "10001"}},
        {"type": "text", "data": {"text": " 天气 [北京]"}},
    ]
    action = await bot.next_action()
    assert action["action"] == "send_group_msg"
    assert action["params"]["group_id"] == 123456
    assert action["params"]["message"] == [{"type": "text", "data": {"text": "echo: 天气 [北京]"}}]
    assert isinstance(action["echo"], str) and action["echo"]
    # The bot answered with message_id 90001: the reply row records it.
    [row] = await reply_rows(master, message["id"])
    assert row["platform_message_id"] == "90001"
    await bot.close()
    await app.close()


async def test_private_array_message_gets_a_send_private_msg(
    master: RunningMaster, opened: list[Any]
) -> None:
    app, inbox = await answering_app(master, opened, "echo", echo)
    bot = await connect_bot(master, opened, self_id=10001)
    await bot.private_message(
        42,
        [
            {"type": "text", "data": {"text": "hello "}},
            {"type": "face", "data": {"id": 14}},
            {"type": "text", "data": {"text": "world"}},
        ],
        nickname="Bob",
    )
    message = await asyncio.wait_for(inbox.get(), 5)
    assert message["chat"]["type"] == "private" and message["chat"]["id"] == "42"
    assert message["sender"] == {"id": "42", "name": "Bob"}
    assert message["content"] == "hello world"
    assert message["segments"][1] == {"type": "face", "data": {"id": "14"}}
    action = await bot.next_action()
    assert action["action"] == "send_private_msg"
    assert action["params"]["user_id"] == 42
    assert action["params"]["message"] == [{"type": "text", "data": {"text": "echo:hello world"}}]
    [row] = await reply_rows(master, message["id"])
    assert row["platform_message_id"] == "90001"
    await bot.close()
    await app.close()


async def test_a_refused_send_is_recorded_with_the_implementation_error(
    master: RunningMaster, opened: list[Any]
) -> None:
    app, inbox = await answering_app(master, opened, "echo", echo)
    bot = await connect_bot(master, opened, auto_respond=False)
    await bot.group_message(5555, 42, "hi")
    message = await asyncio.wait_for(inbox.get(), 5)
    action = await bot.next_action()
    await bot.respond(action, status="failed", retcode=100, wording="消息发送失败")
    [row] = await reply_rows(master, message["id"])
    assert row["status"] == "failed"
    assert row["platform_message_id"] is None
    assert row["error"]["code"] == "action_failed"
    assert "消息发送失败" in row["error"]["message"]
    assert "retcode 100" in row["error"]["message"]
    await bot.close()
    await app.close()


async def test_a_repeated_message_id_is_delivered_once(
    master: RunningMaster, opened: list[Any]
) -> None:
    app, inbox = await answering_app(master, opened, "quiet", lambda m: {})
    bot = await connect_bot(master, opened)
    await bot.group_message(1, 2, "once", message_id=555)
    await bot.group_message(1, 2, "once", message_id=555)
    await bot.group_message(1, 2, "next", message_id=556)
    first = await asyncio.wait_for(inbox.get(), 5)
    second = await asyncio.wait_for(inbox.get(), 5)
    assert [first["content"], second["content"]] == ["once", "next"]
    await asyncio.sleep(0.2)
    assert inbox.empty()
    await bot.close()
    await app.close()


async def test_two_accounts_each_answer_their_own_chats(
    master: RunningMaster, opened: list[Any]
) -> None:
    app, inbox = await answering_app(master, opened, "echo", echo)
    one = await connect_bot(master, opened, self_id=1)
    two = await connect_bot(master, opened, self_id=2)
    await two.group_message(200, 9, "to two")
    message = await asyncio.wait_for(inbox.get(), 5)
    action = await two.next_action()
    assert action["params"]["group_id"] == 200
    assert one.actions.empty()
    assert message["driver"] != ""
    await one.close()
    await two.close()
    await app.close()


async def test_a_reply_cut_off_by_a_disconnect_goes_out_when_the_bot_returns(
    master: RunningMaster, opened: list[Any]
) -> None:
    app, inbox = await answering_app(master, opened, "echo", echo)
    first = await connect_bot(master, opened, self_id=10001, auto_respond=False)
    await first.group_message(777, 42, "are you there")
    message = await asyncio.wait_for(inbox.get(), 5)
    lost = await first.next_action()
    await first.close()  # gone before answering the send
    second = await connect_bot(master, opened, self_id=10001)
    again = await second.next_action()
    assert again["params"] == lost["params"]
    assert again["echo"] != lost["echo"]
    [row] = await reply_rows(master, message["id"])
    assert row["status"] == "sent"
    assert row["platform_message_id"] == "90001"
    await second.close()
    await app.close()


async def test_group_replies_can_quote_the_message_they_answer(
    start_master: StartMaster, opened: list[Any]
) -> None:
    master = await start_master(onebot__quote_replies="true")
    app, inbox = await answering_app(master, opened, "echo", echo)
    bot = await connect_bot(master, opened)
    await bot.group_message(1, 2, "quote me", message_id=4242)
    await asyncio.wait_for(inbox.get(), 5)
    action = await bot.next_action()
    assert action["params"]["message"] == [
        {"type": "reply", "data": {"id": "4242"}},
        {"type": "text", "data": {"text": "echo:quote me"}},
    ]
    await bot.close()
    await app.close()
