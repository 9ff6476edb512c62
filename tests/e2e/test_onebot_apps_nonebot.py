"""A real NoneBot2 bot (tests/frameworks/nonebot, as its tutorial writes it) as an app.

The Master dials the bot's reverse WebSocket (or the bot dials /onebot/v11/app/ws); a OneBot
driver connection plays the QQ account. What a bot author checks: the command answers in the
group, an SDK app with `block` at a higher priority keeps a message from the bot, and pausing
the bot's instance over REST stops its messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from kenkogo_master.sdk import App, Block, Event, Message
from tests.conftest import RunningMaster, StartMaster
from tests.support.frameworks import NoneBot
from tests.support.onebot_client import OneBotClient

pytestmark = pytest.mark.timeout(120)

TOKEN = "nonebot-secret"
MakeBot = Callable[..., Awaitable[NoneBot]]


@pytest.fixture
async def nonebots() -> AsyncIterator[MakeBot]:
    """Start NoneBot processes; each is stopped after the test."""
    bots: list[NoneBot] = []

    async def make(**environ: str) -> NoneBot:
        bot = NoneBot(**environ)
        bots.append(bot)
        return await bot.start()

    yield make
    for bot in bots:
        await bot.stop()


@pytest.fixture
async def opened() -> AsyncIterator[list[Any]]:
    """Driver connections and SDK apps; closed before the Master stops."""
    clients: list[Any] = []
    yield clients
    for client in reversed(clients):
        await (client.stop() if isinstance(client, App) else client.close())


def config_for(tmp_path: Path, bot: NoneBot, **keys: str) -> Path:
    """Write a configuration with the bot as a `[[onebot_apps]]` table."""
    lines = ["[[onebot_apps]]", 'name = "nonebot"', f'url = "{bot.reverse_url}"']
    lines.append(f'access_token = "{TOKEN}"')
    lines.extend(f"{key} = {value}" for key, value in keys.items())
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def instance_of(master: RunningMaster, name: str, timeout: float = 20) -> dict[str, Any]:
    """Wait until an instance of `name` is scheduling; return it as GET /api/v1/apps shows it."""
    async with asyncio.timeout(timeout):
        while True:
            status, body = await master.api("GET", f"/api/v1/apps?name={name}")
            assert status == 200, body
            ready = [item for item in body["items"] if item["state"] == "scheduling"]
            if ready:
                return dict(ready[0])
            await asyncio.sleep(0.1)


async def account(master: RunningMaster, opened: list[Any], self_id: int = 10001) -> OneBotClient:
    """Connect a OneBot account (the driver side, as NapCat would)."""
    client = await OneBotClient.connect(master.http, master.url, self_id=self_id)
    opened.append(client)
    return client


def text_of(action: dict[str, Any]) -> str:
    return "".join(s["data"].get("text", "") for s in action["params"]["message"])


async def no_action(client: OneBotClient, seconds: float = 1.5) -> None:
    """Fail if the account is asked to send anything within `seconds`."""
    with pytest.raises(TimeoutError):
        action = await client.next_action(timeout=seconds)
        pytest.fail(f"unexpected action {action}")


async def test_the_bots_command_answers_in_the_group_through_the_account(
    start_master: StartMaster, nonebots: MakeBot, opened: list[Any], tmp_path: Path
) -> None:
    bot = await nonebots(ONEBOT_ACCESS_TOKEN=TOKEN)
    master = await start_master(config=config_for(tmp_path, bot))
    qq = await account(master, opened, self_id=10001)
    instance = await instance_of(master, "nonebot")
    assert instance["transport"] == "onebot"
    assert instance["remote"] == bot.reverse_url
    await bot.wait_for_line("Bot 10001 connected")

    await qq.group_message(123456, 42, "/天气 北京", message_id=5001)
    action = await qq.next_action(timeout=10)
    assert action["action"] == "send_group_msg"
    assert action["params"]["group_id"] == 123456
    assert text_of(action) == "今天北京的天气是..."

    # The bot heard it as account 10001, and the answer is the message's reply in SQL.
    assert any(line.split()[1:] == ["10001", "/天气", "北京"] for line in bot.seen())
    status, page = await master.api("GET", "/api/v1/messages?app=nonebot")
    assert status == 200 and page["items"], page
    message_id = page["items"][0]["id"]
    async with asyncio.timeout(5):
        while True:
            _, detail = await master.api("GET", f"/api/v1/messages/{message_id}")
            if detail["replies"] and detail["replies"][0]["status"] == "sent":
                break
            await asyncio.sleep(0.05)
    assert [d["status"] for d in detail["deliveries"]] == ["acked"]
    assert detail["replies"][0]["content"] == "今天北京的天气是..."
    assert detail["replies"][0]["app"] == "nonebot"

    # The private chat works the same way.
    await qq.private_message(42, "/weather 上海")
    action = await qq.next_action(timeout=10)
    assert action["action"] == "send_private_msg"
    assert action["params"]["user_id"] == 42
    assert text_of(action) == "今天上海的天气是..."


async def test_a_blocking_sdk_app_at_a_higher_priority_keeps_the_message_from_the_bot(
    start_master: StartMaster, nonebots: MakeBot, opened: list[Any], tmp_path: Path
) -> None:
    bot = await nonebots(ONEBOT_ACCESS_TOKEN=TOKEN)
    master = await start_master(config=config_for(tmp_path, bot))
    qq = await account(master, opened)
    await instance_of(master, "nonebot")
    heard: list[str] = []
    sdk = App("guard", "1.0.0", url=master.url, priority=1)

    @sdk.command("/天气 火星")
    async def guard(message: Message) -> Block:
        heard.append(message.content)
        return Block("火星没有天气")

    opened.append(sdk)
    await sdk.start(timeout=10)

    await qq.group_message(777, 42, "/天气 火星", message_id=6001)
    action = await qq.next_action(timeout=10)
    assert text_of(action) == "火星没有天气"
    assert heard == ["/天气 火星"]
    await no_action(qq)
    assert not any("火星" in line for line in bot.seen())

    # A message the SDK app does not take still reaches the bot.
    await qq.group_message(777, 42, "/天气 月球", message_id=6002)
    action = await qq.next_action(timeout=10)
    assert text_of(action) == "今天月球的天气是..."


async def test_pausing_the_bots_instance_over_rest_stops_its_messages(
    start_master: StartMaster, nonebots: MakeBot, opened: list[Any], tmp_path: Path
) -> None:
    bot = await nonebots(ONEBOT_ACCESS_TOKEN=TOKEN)
    master = await start_master(config=config_for(tmp_path, bot))
    qq = await account(master, opened)
    instance = await instance_of(master, "nonebot")

    status, body = await master.api("POST", f"/api/v1/apps/{instance['id']}/pause")
    assert status == 200 and body["state"] == "paused", body
    await qq.group_message(888, 42, "/天气 广州", message_id=7001)
    await no_action(qq, 2.0)
    assert not any("广州" in line for line in bot.seen())

    status, body = await master.api("POST", f"/api/v1/apps/{instance['id']}/resume")
    assert status == 200 and body["state"] == "scheduling", body
    await qq.group_message(888, 42, "/天气 深圳", message_id=7002)
    assert text_of(await qq.next_action(timeout=10)) == "今天深圳的天气是..."


async def test_a_bot_added_over_rest_is_dialed_and_a_deleted_one_is_let_go(
    master: RunningMaster, nonebots: MakeBot, opened: list[Any]
) -> None:
    bot = await nonebots(ONEBOT_ACCESS_TOKEN=TOKEN)
    qq = await account(master, opened)
    body = {"name": "nonebot", "url": bot.reverse_url, "access_token": TOKEN, "priority": 3}
    status, created = await master.api("POST", "/api/v1/onebot-apps", json=body)
    assert status == 201, created
    assert created["access_token_set"] is True and "access_token" not in created
    instance = await instance_of(master, "nonebot")
    assert instance["priority"] == 3

    status, listing = await master.api("GET", "/api/v1/onebot-apps")
    assert status == 200
    (item,) = listing["items"]
    (connection,) = item["connections"]
    assert connection["self_id"] == 10001 and connection["connected"] is True
    assert connection["instance_id"] == instance["id"]

    await qq.group_message(99, 42, "/天气 杭州")
    assert text_of(await qq.next_action(timeout=10)) == "今天杭州的天气是..."

    status, _ = await master.api("DELETE", f"/api/v1/onebot-apps/{created['id']}")
    assert status == 200
    await bot.wait_for_line("closed by peer")
    status, apps = await master.api("GET", "/api/v1/apps?name=nonebot")
    assert [item["state"] for item in apps["items"]] in ([], ["disconnected"])


async def test_a_bot_that_dials_the_forward_endpoint_answers_too(
    master: RunningMaster, nonebots: MakeBot, opened: list[Any]
) -> None:
    qq = await account(master, opened)
    forward = master.url.replace("http", "ws", 1) + "/onebot/v11/app/ws?name=forward-bot"
    bot = await nonebots(ONEBOT_WS_URLS=f'["{forward}"]')
    instance = await instance_of(master, "forward-bot")
    assert instance["transport"] == "onebot"
    await bot.wait_for_line("Bot 10001 connected")

    await qq.group_message(321, 42, "/天气 成都")
    action = await qq.next_action(timeout=10)
    assert action["action"] == "send_group_msg" and text_of(action) == "今天成都的天气是..."


async def test_the_bots_notice_handler_welcomes_and_its_request_handler_refuses(
    start_master: StartMaster, nonebots: MakeBot, opened: list[Any], tmp_path: Path
) -> None:
    bot = await nonebots(ONEBOT_ACCESS_TOKEN=TOKEN)
    master = await start_master(config=config_for(tmp_path, bot))
    qq = await account(master, opened)
    await instance_of(master, "nonebot")
    await bot.wait_for_line("Bot 10001 connected")
    greeted: list[str] = []
    sdk = App("greeter", "1.0.0", url=master.url)

    @sdk.notice("group_increase")
    async def note(event: Event) -> None:
        greeted.append(event.sender.id)

    opened.append(sdk)
    await sdk.start(timeout=10)

    # A group-increase notice reaches the bot's on_notice handler as the OneBot event it was,
    # and an SDK app subscribed to it; the bot's welcome goes out through the account.
    await qq.group_increase(5566, 777, operator_id=42)
    action = await qq.next_action(timeout=10)
    assert action["action"] == "send_group_msg" and action["params"]["group_id"] == 5566
    assert text_of(action) == "欢迎新成员 777"
    await bot.wait_for_line("NOTICE group_increase 5566 777")
    assert greeted == ["777"]

    # A friend request refused by the bot's on_request handler reaches the account.
    await qq.friend_request(888, "flag-nb", comment="hi")
    action = await qq.next_action(timeout=10)
    assert action["action"] == "set_friend_add_request"
    assert action["params"] == {"flag": "flag-nb", "approve": False}
    await bot.wait_for_line("REQUEST friend 888 flag-nb")
