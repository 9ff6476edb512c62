"""OneBot v11 toward apps, frame by frame: a bare bot on /onebot/v11/app/ws and a OneBot account.

What a bot written for go-cqhttp relies on: the lifecycle event first, message events in the
standard's shape, every action answered with its echo — data, `async`, or OneBot's retcodes —
and a bad frame never ending the connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.conftest import RunningMaster, StartMaster
from tests.support.flow_clients import SioDriver
from tests.support.onebot_client import OneBotClient


class Bot:
    """A OneBot bot at its simplest: reads events, calls actions, waits for their echo."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            frame = message.json()
            (self.events if "post_type" in frame else self.answers).put_nowait(frame)

    async def event(self, kind: str = "message", timeout: float = 5) -> dict[str, Any]:
        """Return the next event of `post_type` `kind`, skipping heartbeats and the like."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.events.get()
                if event["post_type"] == kind:
                    return event

    async def call(self, action: str, echo: Any = "e1", **params: Any) -> dict[str, Any]:
        """Call an action; return the answer carrying its echo."""
        await self.ws.send_json({"action": action, "params": params, "echo": echo})
        return await self.answer(echo)

    async def answer(self, echo: Any, timeout: float = 10) -> dict[str, Any]:
        """Wait for the answer with `echo`."""
        async with asyncio.timeout(timeout):
            while True:
                answer = await self.answers.get()
                if answer.get("echo") == echo:
                    return answer

    async def close(self) -> None:
        """Close the connection."""
        await self.ws.close()
        self._reader.cancel()


@pytest.fixture
async def opened() -> AsyncIterator[list[Any]]:
    """Connections closed before the Master stops."""
    clients: list[Any] = []
    yield clients
    for client in reversed(clients):
        await client.close()


def forward_url(master: RunningMaster, query: str = "name=bare") -> str:
    return master.url.replace("http", "ws", 1) + "/onebot/v11/app/ws?" + query


async def account(master: RunningMaster, opened: list[Any], **options: Any) -> OneBotClient:
    client = await OneBotClient.connect(master.http, master.url, **options)
    opened.append(client)
    return client


async def bot(master: RunningMaster, opened: list[Any], query: str = "name=bare") -> Bot:
    client = Bot(await master.http.ws_connect(forward_url(master, query)))
    opened.append(client)
    return client


async def test_the_bot_hears_the_lifecycle_first_then_messages_in_the_standards_shape(
    master: RunningMaster, opened: list[Any]
) -> None:
    qq = await account(master, opened, self_id=10001)
    app = await bot(master, opened)
    first = await app.event("meta_event")
    assert first["meta_event_type"] == "lifecycle" and first["sub_type"] == "connect"
    assert first["self_id"] == 10001

    await qq.group_message(123, 42, "[CQ:at,qq=10001] 你好 &#91;x&#93;", card="Alice")
    event = await app.event()
    assert event["message_type"] == "group" and event["sub_type"] == "normal"
    assert event["self_id"] == 10001 and event["group_id"] == 123 and event["user_id"] == 42
    assert event["message"] == [
        {"type": "at", "data": {"qq": "10001"}},
        {"type": "text", "data": {"text": " 你好 [x]"}},
    ]
    assert event["raw_message"] == "[CQ:at,qq=10001] 你好 &#91;x&#93;"
    assert event["sender"]["user_id"] == 42 and event["sender"]["nickname"] == "Alice"
    assert isinstance(event["message_id"], int) and 0 < event["message_id"] < 2**31
    assert isinstance(event["time"], int)

    await qq.private_message(43, "hi", nickname="Bob")
    event = await app.event()
    assert event["message_type"] == "private" and event["sub_type"] == "friend"
    assert event["user_id"] == 43 and event["sender"]["nickname"] == "Bob"


async def test_a_bot_that_asks_for_cq_strings_gets_them(
    master: RunningMaster, opened: list[Any]
) -> None:
    qq = await account(master, opened)
    app = await bot(master, opened, "name=cq&format=string")
    await app.event("meta_event")
    await qq.group_message(
        1, 2, [{"type": "face", "data": {"id": "14"}}, {"type": "text", "data": {"text": "&"}}]
    )
    event = await app.event()
    assert event["message"] == "[CQ:face,id=14]&amp;" == event["raw_message"]


async def test_the_master_answers_what_it_knows_and_refuses_the_rest_with_onebots_retcodes(
    master: RunningMaster, opened: list[Any]
) -> None:
    await account(master, opened, self_id=10001)
    app = await bot(master, opened)
    echo = {"seq": 7, "tag": ["any", "json"]}
    login = await app.call("get_login_info", echo=echo)
    assert login == {"status": "ok", "retcode": 0, "data": login["data"], "echo": echo}
    assert login["data"]["user_id"] == 10001
    status = await app.call("get_status", echo=2)
    assert status["data"] == {"online": True, "good": True}
    version = await app.call("get_version_info", echo=3)
    assert version["data"]["protocol_version"] == "v11"

    unknown = await app.call("set_group_kick", echo=4, group_id=1, user_id=2)
    assert (unknown["status"], unknown["retcode"]) == ("failed", 1404)
    no_group = await app.call("send_group_msg", echo=5, message="hi")
    assert (no_group["status"], no_group["retcode"]) == ("failed", 1400)
    bad_id = await app.call("send_private_msg", echo=6, user_id="alice", message="hi")
    assert bad_id["retcode"] == 1400 and "user_id" in bad_id["msg"]
    empty = await app.call("send_group_msg", echo=8, group_id=1, message=[])
    assert empty["retcode"] == 1400

    # Frames that are no action: answered when they carry an echo, logged otherwise; the
    # connection goes on either way.
    await app.ws.send_str("not json {")
    await app.ws.send_json([1, 2])
    await app.ws.send_json({"params": {}, "echo": "no-action"})
    assert (await app.answer("no-action"))["retcode"] == 1400
    assert (await app.call("get_status", echo=9))["retcode"] == 0


async def test_a_send_quoting_a_message_is_its_reply_and_goes_out_through_the_account(
    master: RunningMaster, opened: list[Any]
) -> None:
    qq = await account(master, opened, self_id=10001)
    app = await bot(master, opened)
    await app.event("meta_event")
    await qq.group_message(555, 42, "ping", message_id=5001)
    event = await app.event()

    message = [
        {"type": "reply", "data": {"id": str(event["message_id"])}},
        {"type": "text", "data": {"text": "pong"}},
    ]
    call = asyncio.create_task(app.call("send_msg", echo="s1", group_id=555, message=message))
    action = await qq.next_action()
    assert action["action"] == "send_group_msg" and action["params"]["group_id"] == 555
    # The quote names the platform's message, not the number the bot knows it by.
    assert action["params"]["message"] == [
        {"type": "reply", "data": {"id": "5001"}},
        {"type": "text", "data": {"text": "pong"}},
    ]
    answer = await call
    assert answer["status"] == "ok" and isinstance(answer["data"]["message_id"], int)

    status, page = await master.api("GET", "/api/v1/messages?app=bare")
    assert status == 200
    (item,) = page["items"]
    _, detail = await master.api("GET", f"/api/v1/messages/{item['id']}")
    (reply,) = detail["replies"]
    assert reply["content"] == "pong" and reply["app"] == "bare"

    # A send after the window has no message to answer: it goes out as a send of its own.
    sent = await app.call("send_private_msg", echo="s2", user_id=42, message="hello")
    assert sent["retcode"] == 0
    action = await qq.next_action()
    assert action["action"] == "send_private_msg" and action["params"]["user_id"] == 42


async def test_a_failed_send_carries_the_drivers_retcode_and_async_actions_answer_at_once(
    master: RunningMaster, opened: list[Any]
) -> None:
    qq = await account(master, opened, auto_respond=False)
    app = await bot(master, opened)
    await app.event("meta_event")
    call = asyncio.create_task(app.call("send_group_msg", echo="f", group_id=9, message="x"))
    await qq.respond(await qq.next_action(), status="failed", retcode=1200, wording="muted")
    failed = await call
    assert (failed["status"], failed["retcode"]) == ("failed", 1200)
    assert "muted" in failed["wording"]

    later = await app.call("send_group_msg_async", echo="a", group_id=9, message="y")
    assert (later["status"], later["retcode"]) == ("async", 1)
    await qq.respond(await qq.next_action(), message_id=1)


async def test_reads_are_forwarded_to_a_onebot_account_with_the_echo_mapped_both_ways(
    start_master: StartMaster, opened: list[Any]
) -> None:
    master = await start_master(onebot__action_timeout="0.5")
    qq = await account(master, opened, auto_respond=False)
    app = await bot(master, opened)
    call = asyncio.create_task(app.call("get_group_info", echo={"mine": 1}, group_id=77))
    asked = await qq.next_action()
    assert asked["action"] == "get_group_info" and asked["params"]["group_id"] == 77
    assert asked["echo"] != {"mine": 1}
    await qq.respond(asked, data={"group_id": 77, "group_name": "g"})
    answer = await call
    assert answer["echo"] == {"mine": 1} and answer["data"]["group_name"] == "g"

    # The account does not answer: the bot still gets an answer, a failure.
    late = await app.call("get_stranger_info", echo="late", user_id=5)
    assert (late["status"], late["retcode"]) == ("failed", 100)
    assert "in time" in late["msg"]


async def test_reads_need_a_onebot_driver(start_master: StartMaster, opened: list[Any]) -> None:
    master = await start_master(drivers__tokens='["driver-token"]')
    driver = await SioDriver(master.url).connect()
    opened.append(driver)
    assert (await driver.register("qq", "20002", name="sio"))["success"]
    app = await bot(master, opened)
    refused = await app.call("get_group_list", echo="g")
    assert (refused["status"], refused["retcode"]) == ("failed", 1404)


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        pytest.param("priority=1", 400, "invalid_payload", id="no-name"),
        pytest.param("name=x&priority=high", 400, "invalid_payload", id="bad-priority"),
        pytest.param("name=x&format=xml", 400, "invalid_payload", id="bad-format"),
        pytest.param("name=x&subscribe={", 400, "invalid_payload", id="bad-subscribe"),
        pytest.param("name=x&self_id=99999", 503, "driver_unavailable", id="unknown-account"),
    ],
)
async def test_the_forward_endpoint_refuses_bad_handshakes(
    master: RunningMaster, opened: list[Any], query: str, status: int, code: str
) -> None:
    await account(master, opened, self_id=10001)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await master.http.ws_connect(forward_url(master, query))
    assert refused.value.status == status
    async with master.http.get(master.url + "/onebot/v11/app/ws?" + query) as response:
        assert (await response.json())["code"] == code


async def test_the_forward_endpoint_wants_an_app_token_when_apps_need_one(
    start_master: StartMaster, opened: list[Any]
) -> None:
    master = await start_master(apps__require_token="true", apps__tokens='["app-token"]')
    await account(master, opened)
    for headers, status in (({}, 401), ({"Authorization": "Bearer wrong"}, 403)):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await master.http.ws_connect(forward_url(master), headers=headers)
        assert refused.value.status == status
    ws = await master.http.ws_connect(
        forward_url(master), headers={"Authorization": "Bearer app-token"}
    )
    opened.append(ws)
    assert (await ws.receive_json())["meta_event_type"] == "lifecycle"


async def test_with_several_accounts_the_bot_names_its_own(
    master: RunningMaster, opened: list[Any]
) -> None:
    first = await account(master, opened, self_id=10001)
    await account(master, opened, self_id=10002)
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await master.http.ws_connect(forward_url(master))
    app = await bot(master, opened, "name=two&self_id=10002")
    assert (await app.event("meta_event"))["self_id"] == 10002
    # Messages of the other account are not this bot's.
    await first.group_message(1, 2, "for 10001 only")
    with pytest.raises(TimeoutError):
        await app.event(timeout=1)


async def test_notices_and_requests_reach_the_bot_as_the_onebot_events_they_came_as(
    master: RunningMaster, opened: list[Any]
) -> None:
    qq = await account(master, opened, self_id=10001)
    app = await bot(master, opened)
    await app.event("meta_event")
    await qq.group_increase(5566, 777, operator_id=42)
    notice = await app.event("notice")
    assert {key: notice[key] for key in notice if key != "time"} == {
        "self_id": 10001,
        "post_type": "notice",
        "notice_type": "group_increase",
        "sub_type": "approve",
        "group_id": 5566,
        "operator_id": 42,
        "user_id": 777,
    }
    await qq.friend_request(888, "flag-1", comment="hi")
    request = await app.event("request")
    assert (request["request_type"], request["user_id"], request["flag"]) == (
        "friend",
        888,
        "flag-1",
    )
    assert request["comment"] == "hi" and request["self_id"] == 10001


async def test_a_bot_that_names_events_gets_only_those(
    master: RunningMaster, opened: list[Any]
) -> None:
    qq = await account(master, opened)
    app = await bot(master, opened, 'name=quiet&subscribe={"events":["message"]}')
    await app.event("meta_event")
    await qq.group_increase(5566, 777)
    await qq.group_message(5566, 42, "after the notice")
    kinds = []
    async with asyncio.timeout(5):
        while not kinds or kinds[-1] != "message":
            kinds.append((await app.events.get())["post_type"])
    assert "notice" not in kinds, kinds


async def test_a_bots_answer_to_a_request_goes_to_the_account_and_bad_ones_get_retcodes(
    master: RunningMaster, opened: list[Any]
) -> None:
    qq = await account(master, opened)
    app = await bot(master, opened)
    await app.event("meta_event")
    await qq.group_request(5566, 999, "flag-g", sub_type="invite")
    await app.event("request")

    answer = await app.call(
        "set_group_add_request", "g1", flag="flag-g", approve=False, reason="no"
    )
    assert answer["status"] == "ok" and answer["retcode"] == 0, answer
    action = await qq.next_action()
    assert action["action"] == "set_group_add_request"
    assert action["params"] == {
        "flag": "flag-g",
        "sub_type": "invite",
        "type": "invite",
        "approve": False,
        "reason": "no",
    }

    wrong = await app.call("set_friend_add_request", "g2", flag="flag-g", approve=True)
    assert wrong["retcode"] == 1400 and "request.group" in wrong["wording"]
    unknown = await app.call("set_friend_add_request", "g3", flag="nope")
    assert unknown["retcode"] == 1400 and "nope" in unknown["wording"]
    missing = await app.call("set_friend_add_request", "g4", approve=True)
    assert missing["retcode"] == 1400 and "flag" in missing["wording"]
    typed = await app.call("set_friend_add_request", "g5", flag="x", approve="maybe")
    assert typed["retcode"] == 1400
