"""A real Koishi bot (tests/frameworks/koishi, as Koishi's guide writes it) as an app.

The bot is `node bot.js`: a Koishi `Context` with koishi-plugin-adapter-onebot, the Master its
OneBot v11 implementation. The Master dials the bot's reverse WebSocket (`protocol:
'ws-reverse'`), or the bot dials /onebot/v11/app/ws (`protocol: 'ws'`); a OneBot driver
connection plays the QQ account. What a bot author checks: the `echo` command answers in the
group, an SDK app with `block` at a higher priority keeps a message from the bot, pausing the
bot's instance over REST stops its messages until it is resumed, the Master dials the bot only
for the accounts it knows, and a bot that dials with the wrong token is refused.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from kenkogo_master.sdk import App, Block, Message
from tests.conftest import RunningMaster, StartMaster
from tests.support.frameworks import FRAMEWORKS, KOISHI_INSTALL_HINT, Koishi
from tests.support.onebot_client import OneBotClient

pytestmark = pytest.mark.timeout(120)

MakeBot = Callable[..., Awaitable[Koishi]]
README = Path(__file__).resolve().parents[2] / "README.md"
# The `[[onebot_apps]]` table README.md gives for a Koishi bot, with the bot's port filled in.
CONFIG = """\
[[onebot_apps]]
name = "koishi"
url = "ws://127.0.0.1:{port}/onebot"   # Koishi's `server` port and the adapter's `path`
priority = 10
accounts = ["10001"]                 # the selfId Koishi is configured with
"""


@pytest.fixture
async def koishis() -> AsyncIterator[MakeBot]:
    """Start Koishi processes; each is stopped after the test."""
    bots: list[Koishi] = []

    async def make(**environ: str) -> Koishi:
        bot = Koishi(**environ)
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


def config_for(tmp_path: Path, bot: Koishi) -> Path:
    """Write the README's `[[onebot_apps]]` table for the bot."""
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(port=bot.port), encoding="utf-8")
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


async def online(master: RunningMaster, bot: Koishi, opened: list[Any]) -> OneBotClient:
    """Connect the account and wait until the Master dialed the bot and Koishi logged in."""
    qq = await account(master, opened)
    instance = await instance_of(master, "koishi")
    assert instance["transport"] == "onebot" and instance["remote"] == bot.reverse_url
    # Koishi asks get_login_info when the connection opens, and is online once answered.
    await bot.wait_for_line("LOGIN 10001 online")
    return qq


def text_of(action: dict[str, Any]) -> str:
    message = action["params"]["message"]
    if isinstance(message, str):
        return message
    return "".join(s["data"].get("text", "") for s in message)


async def no_action(client: OneBotClient, seconds: float = 1.5) -> None:
    """Fail if the account is asked to send anything within `seconds`."""
    with pytest.raises(TimeoutError):
        action = await client.next_action(timeout=seconds)
        pytest.fail(f"unexpected action {action}")


def test_the_installed_koishi_is_the_pinned_one() -> None:
    pinned = json.loads((FRAMEWORKS / "koishi" / "package.json").read_text())["dependencies"]
    assert {"koishi", "koishi-plugin-adapter-onebot"} <= set(pinned)
    for package, version in pinned.items():
        manifest = FRAMEWORKS / "koishi" / "node_modules" / package / "package.json"
        assert manifest.is_file(), KOISHI_INSTALL_HINT
        assert json.loads(manifest.read_text())["version"] == version, KOISHI_INSTALL_HINT


def test_the_readme_gives_the_configuration_these_tests_run() -> None:
    readme = README.read_text(encoding="utf-8")
    assert CONFIG.format(port=5140) in readme
    bot = (FRAMEWORKS / "koishi" / "bot.js").read_text(encoding="utf-8")
    for line in ("protocol: 'ws-reverse',", "path: '/onebot',", "protocol: 'ws',"):
        assert line in bot and line in readme, line


async def test_the_echo_command_answers_in_the_group_through_the_account(
    start_master: StartMaster, koishis: MakeBot, opened: list[Any], tmp_path: Path
) -> None:
    bot = await koishis()
    master = await start_master(config=config_for(tmp_path, bot))
    qq = await online(master, bot, opened)

    await qq.group_message(123456, 42, "echo 你好，Koishi", message_id=5001)
    action = await qq.next_action(timeout=10)
    assert action["action"] == "send_group_msg"
    assert action["params"]["group_id"] == 123456
    assert text_of(action) == "你好，Koishi"

    # Koishi heard it as account 10001 in that group, and the answer is the message's reply.
    assert any(line.split()[1:3] == ["10001", "123456"] for line in bot.seen())
    status, page = await master.api("GET", "/api/v1/messages?app=koishi")
    assert status == 200 and page["items"], page
    message_id = page["items"][0]["id"]
    async with asyncio.timeout(5):
        while True:
            _, detail = await master.api("GET", f"/api/v1/messages/{message_id}")
            if detail["replies"] and detail["replies"][0]["status"] == "sent":
                break
            await asyncio.sleep(0.05)
    assert [d["status"] for d in detail["deliveries"]] == ["acked"]
    assert detail["replies"][0]["content"] == "你好，Koishi"
    assert detail["replies"][0]["app"] == "koishi"

    # A private chat works the same way.
    await qq.private_message(42, "echo 私聊")
    action = await qq.next_action(timeout=10)
    assert action["action"] == "send_private_msg"
    assert action["params"]["user_id"] == 42
    assert text_of(action) == "私聊"


async def test_a_new_member_is_welcomed_and_a_friend_request_approved_by_the_bot(
    start_master: StartMaster, koishis: MakeBot, opened: list[Any], tmp_path: Path
) -> None:
    """Notices and requests reach Koishi as the OneBot events they came as, and its answers
    (a welcome in the group, `handleFriendRequest`) reach the account."""
    bot = await koishis()
    master = await start_master(config=config_for(tmp_path, bot))
    qq = await online(master, bot, opened)

    await qq.group_increase(123456, 777, operator_id=42)
    await bot.wait_for_line("NOTICE guild-member-added 123456 777")
    action = await qq.next_action(timeout=10)
    assert action["action"] == "send_group_msg"
    assert action["params"]["group_id"] == 123456
    assert text_of(action) == "欢迎 777"

    await qq.friend_request(888, "flag-koishi", comment="hello")
    await bot.wait_for_line("REQUEST friend 888 flag-koishi")
    action = await qq.next_action(timeout=10)
    assert action["action"] == "set_friend_add_request"
    assert action["params"]["flag"] == "flag-koishi"
    assert action["params"]["approve"] is True
    assert action["params"]["remark"] == "from koishi"


async def test_a_blocking_sdk_app_at_a_higher_priority_keeps_the_message_from_the_bot(
    start_master: StartMaster, koishis: MakeBot, opened: list[Any], tmp_path: Path
) -> None:
    bot = await koishis()
    master = await start_master(config=config_for(tmp_path, bot))
    qq = await online(master, bot, opened)
    heard: list[str] = []
    sdk = App("guard", "1.0.0", url=master.url, priority=1)

    @sdk.command("echo 秘密")
    async def guard(message: Message) -> Block:
        heard.append(message.content)
        return Block("这个不能说")

    opened.append(sdk)
    await sdk.start(timeout=10)

    await qq.group_message(777, 42, "echo 秘密", message_id=6001)
    action = await qq.next_action(timeout=10)
    assert action["action"] == "send_group_msg" and text_of(action) == "这个不能说"
    assert heard == ["echo 秘密"]
    await no_action(qq)
    assert not any("秘密" in line for line in bot.seen())

    # A message the SDK app does not take still reaches the bot.
    await qq.group_message(777, 42, "echo 公开", message_id=6002)
    action = await qq.next_action(timeout=10)
    assert action["params"]["group_id"] == 777 and text_of(action) == "公开"
    assert heard == ["echo 秘密"]


async def test_pausing_the_bots_instance_over_rest_stops_its_messages(
    start_master: StartMaster, koishis: MakeBot, opened: list[Any], tmp_path: Path
) -> None:
    bot = await koishis()
    master = await start_master(config=config_for(tmp_path, bot))
    qq = await online(master, bot, opened)
    instance = await instance_of(master, "koishi")

    status, body = await master.api("POST", f"/api/v1/apps/{instance['id']}/pause")
    assert status == 200 and body["state"] == "paused", body
    await qq.group_message(888, 42, "echo 暂停中", message_id=7001)
    await no_action(qq, 2.0)
    assert not any("暂停中" in line for line in bot.seen())

    status, body = await master.api("POST", f"/api/v1/apps/{instance['id']}/resume")
    assert status == 200 and body["state"] == "scheduling", body
    await qq.group_message(888, 42, "echo 恢复了", message_id=7002)
    action = await qq.next_action(timeout=10)
    assert action["params"]["group_id"] == 888 and text_of(action) == "恢复了"


async def test_the_master_dials_koishi_only_for_the_accounts_it_knows(
    start_master: StartMaster, koishis: MakeBot, opened: list[Any], tmp_path: Path
) -> None:
    bot = await koishis()
    master = await start_master(config=config_for(tmp_path, bot))
    other = await account(master, opened, self_id=10002)
    qq = await online(master, bot, opened)

    status, listing = await master.api("GET", "/api/v1/onebot-apps")
    assert status == 200
    (item,) = listing["items"]
    assert [(c["self_id"], c["connected"]) for c in item["connections"]] == [(10001, True)]
    status, apps = await master.api("GET", "/api/v1/apps?name=koishi")
    assert [a["state"] for a in apps["items"]] == ["scheduling"]

    # The other account's messages do not reach Koishi; its own account's do.
    await other.group_message(555, 42, "echo 别的号")
    await no_action(other)
    assert not any("别的号" in line for line in bot.seen())
    await qq.group_message(555, 42, "echo 本号")
    action = await qq.next_action(timeout=10)
    assert action["params"]["group_id"] == 555 and text_of(action) == "本号"


async def test_a_koishi_bot_that_dials_the_forward_endpoint_answers_too(
    start_master: StartMaster, koishis: MakeBot, opened: list[Any]
) -> None:
    # Koishi's `token` goes out as `Authorization: Bearer`: an app token, when the Master wants one.
    master = await start_master(apps__require_token="true", apps__tokens='["koishi-secret"]')
    qq = await account(master, opened)
    forward = master.url.replace("http", "ws", 1) + "/onebot/v11/app/ws?name=koishi-forward"
    bot = await koishis(ONEBOT_ENDPOINT=forward, ONEBOT_TOKEN="koishi-secret")
    instance = await instance_of(master, "koishi-forward")
    assert instance["transport"] == "onebot"
    await bot.wait_for_line("LOGIN 10001 online")

    await qq.group_message(321, 42, "echo 正向")
    action = await qq.next_action(timeout=10)
    assert action["action"] == "send_group_msg" and action["params"]["group_id"] == 321
    assert text_of(action) == "正向"


async def test_a_koishi_bot_with_a_wrong_token_is_refused(
    start_master: StartMaster, koishis: MakeBot, opened: list[Any]
) -> None:
    master = await start_master(apps__require_token="true", apps__tokens='["koishi-secret"]')
    qq = await account(master, opened)
    forward = master.url.replace("http", "ws", 1) + "/onebot/v11/app/ws?name=koishi-forward"
    bot = await koishis(ONEBOT_ENDPOINT=forward, ONEBOT_TOKEN="not-the-secret")

    # Koishi is told 403 and stays offline; the Master has no instance of it to schedule to.
    await bot.wait_for_line("Unexpected server response: 403")
    status, apps = await master.api("GET", "/api/v1/apps?name=koishi-forward")
    assert status == 200 and apps["items"] == []
    await qq.group_message(321, 42, "echo 进不来")
    await no_action(qq)
    assert bot.seen() == [] and not any("online" in line for line in bot.lines)
