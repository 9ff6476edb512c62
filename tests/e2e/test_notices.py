"""Notices and requests end to end: a OneBot account's events reach the apps that asked for them.

A fake OneBot implementation plays the QQ account (tests/support/onebot_client.py); SDK apps and
a raw Socket.IO driver on /driver are the real clients a bot author would run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from kenkogo_master.sdk import App, Approve, Event, MasterError, Message
from tests.conftest import RunningMaster, StartMaster
from tests.support.clients import SioApp
from tests.support.flow_clients import SioDriver, start_app
from tests.support.onebot_client import OneBotClient

pytestmark = pytest.mark.timeout(60)

TOKEN = "driver-token"


@pytest.fixture
async def master(start_master: StartMaster) -> RunningMaster:
    return await start_master(drivers__tokens=f'["{TOKEN}"]')


@pytest.fixture
async def opened() -> AsyncIterator[list[Any]]:
    """Driver connections and apps; closed before the Master stops."""
    clients: list[Any] = []
    yield clients
    for client in reversed(clients):
        await (client.stop() if isinstance(client, App) else client.close())


async def account(master: RunningMaster, opened: list[Any]) -> OneBotClient:
    client = await OneBotClient.connect(master.http, master.url, self_id=10001)
    opened.append(client)
    return client


async def started(app: App, opened: list[Any]) -> App:
    opened.append(app)
    await app.start(timeout=10)
    return app


async def eventually(check: Callable[[], bool], timeout: float = 5) -> None:
    """Wait until `check()` is true."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


async def test_a_group_increase_reaches_the_app_subscribed_to_it_and_not_a_plain_one(
    master: RunningMaster, opened: list[Any]
) -> None:
    qq = await account(master, opened)
    greeted: list[Event] = []
    greeter = App("greeter", "1.0.0", url=master.url)

    @greeter.notice("group_increase")
    async def welcome(event: Event) -> str:
        greeted.append(event)
        return f"欢迎 {event.sender.id}"

    heard: list[Message] = []
    plain = App("plain", "1.0.0", url=master.url)

    @plain.message()
    async def note(message: Message) -> None:
        heard.append(message)

    await started(greeter, opened)
    await started(plain, opened)
    assert greeter.register_payload()["subscribe"] == {"events": ["notice.group_increase"]}

    await qq.group_increase(5566, 777, operator_id=1)
    action = await qq.next_action(timeout=10)
    # The welcome goes into the group as a plain message: a notice is nothing to quote.
    assert action["action"] == "send_group_msg"
    assert action["params"]["group_id"] == 5566
    assert action["params"]["message"] == [{"type": "text", "data": {"text": "欢迎 777"}}]
    (event,) = greeted
    assert (event.kind, event.type, event.chat.type, event.chat.id) == (
        "notice.group_increase",
        "group_increase",
        "group",
        "5566",
    )
    assert event.detail["operator_id"] == 1 and event.detail["sub_type"] == "approve"

    # The plain app hears the next chat message, and heard no notice before it.
    await qq.group_message(5566, 42, "hello", message_id=81)
    await eventually(lambda: len(heard) == 1)
    assert heard[0].content == "hello"

    # Stored and counted like a message, with its kind for the panel and REST.
    status, page = await master.api("GET", "/api/v1/messages?app=greeter")
    assert status == 200, page
    (item,) = page["items"]
    assert item["kind"] == "notice.group_increase" and item["status"] == "handled"
    assert item["detail"]["notice_type"] == "group_increase"
    # Listed by kind: one kind, a family, plain messages; a malformed kind is refused.
    for kind, expected in (
        ("notice.group_increase", ["notice.group_increase"]),
        ("notice.*", ["notice.group_increase"]),
        ("message", ["message"]),
        ("request.*", []),
    ):
        status, page = await master.api("GET", f"/api/v1/messages?kind={kind}")
        assert status == 200, page
        assert [entry["kind"] for entry in page["items"]] == expected, kind
    status, answer = await master.api("GET", "/api/v1/messages?kind=notice.%25")
    assert status == 400 and answer["code"] == "invalid_payload", answer

    # The routing explanation names the kind that did or did not match.
    status, answer = await master.api("GET", f"/api/v1/messages/{item['id']}/routing")
    assert status == 200, answer
    names = {entry["name"]: entry for entry in answer["names"]}
    assert names["greeter"]["outcome"] == "receives"
    assert names["plain"]["outcome"] == "no_match"
    (target,) = names["plain"]["targets"]
    assert target["filters"] == [
        {
            "filter": "events",
            "wanted": ["message"],
            "seen": "notice.group_increase",
            "matched": False,
        }
    ]


async def test_a_friend_request_approved_by_an_sdk_app_reaches_the_account(
    master: RunningMaster, opened: list[Any]
) -> None:
    qq = await account(master, opened)
    doorman = App("doorman", "1.0.0", url=master.url)
    comments: list[str] = []

    @doorman.request("friend")
    async def friend(event: Event) -> Approve:
        comments.append(event.comment)
        return Approve(remark=f"pal {event.sender.id}")

    @doorman.request("group")
    async def group(event: Event) -> None:
        await event.refuse("members only")

    await started(doorman, opened)
    await qq.friend_request(888, "flag-f1", comment="it's me")
    action = await qq.next_action(timeout=10)
    assert action["action"] == "set_friend_add_request"
    assert action["params"] == {"flag": "flag-f1", "approve": True, "remark": "pal 888"}
    assert comments == ["it's me"]

    await qq.group_request(5566, 999, "flag-g1", sub_type="add")
    action = await qq.next_action(timeout=10)
    assert action["action"] == "set_group_add_request"
    assert action["params"] == {
        "flag": "flag-g1",
        "sub_type": "add",
        "type": "add",
        "approve": False,
        "reason": "members only",
    }

    # The same request again (an implementation resending it) is a duplicate: no second answer.
    await qq.friend_request(888, "flag-f1", comment="it's me")
    with pytest.raises(TimeoutError):
        await qq.next_action(timeout=1.0)


async def test_pausing_an_app_stops_its_notices(master: RunningMaster, opened: list[Any]) -> None:
    qq = await account(master, opened)
    greeted: list[Event] = []
    greeter = App("greeter", "1.0.0", url=master.url)

    @greeter.event("notice.*")
    async def welcome(event: Event) -> None:
        greeted.append(event)

    await started(greeter, opened)
    status, body = await master.api("POST", f"/api/v1/apps/{greeter.instance_id}/pause")
    assert status == 200 and body["state"] == "paused", body
    await qq.group_increase(5566, 1001)
    await asyncio.sleep(1.0)
    assert greeted == []

    status, body = await master.api("POST", f"/api/v1/apps/{greeter.instance_id}/resume")
    assert status == 200 and body["state"] == "scheduling", body
    await qq.group_increase(5566, 1002)
    await eventually(lambda: [event.sender.id for event in greeted][-1:] == ["1002"])


async def test_the_driver_notice_form_and_answers_over_socketio(
    master: RunningMaster, opened: list[Any]
) -> None:
    driver = await SioDriver(master.url).connect(TOKEN)
    opened.append(driver)
    assert (await driver.register(platform="qq", self_id="20002"))["success"]
    app = await start_app(master.url, "native", subscribe={"events": ["request.*", "notice.*"]})
    opened.append(app)

    ack = await driver.call(
        "event",
        {
            "kind": "notice.group_increase",
            "chat": {"type": "group", "id": "5566"},
            "sender": {"id": "777", "name": "Newcomer"},
            "detail": {"notice_type": "group_increase", "sub_type": "invite", "operator_id": 3},
        },
    )
    assert ack["success"] is True, ack
    delivered = await app.next_message()
    assert delivered["kind"] == "notice.group_increase"
    assert delivered["chat"] == {"type": "group", "id": "5566"}
    assert delivered["detail"]["operator_id"] == 3 and delivered["content"] == ""

    first = await driver.call(
        "event",
        {"kind": "request.friend", "sender": {"id": "888"}, "detail": {"flag": "abc"}},
    )
    again = await driver.call(
        "event",
        {"kind": "request.friend", "sender": {"id": "888"}, "detail": {"flag": "abc"}},
    )
    assert again == {"success": True, "id": first["id"], "duplicate": True}
    request = await app.next_message()
    assert request["id"] == first["id"] and request["chat"] == {"type": "private", "id": "888"}

    answer = await app.call(
        "answer_request", {"request_id": first["id"], "approve": False, "reason": "no"}
    )
    assert answer["success"] is True, answer
    action = await driver.next_action()
    assert action["type"] == "answer_request" and action["reply_to"] == "request:abc"
    assert {key: action["request"][key] for key in ("kind", "flag", "approve", "reason")} == {
        "kind": "request.friend",
        "flag": "abc",
        "approve": False,
        "reason": "no",
    }

    # A driver that refuses the answer: the app hears its {code, message}.
    driver.answer = lambda _: {"success": False, "error": {"code": "expired", "message": "gone"}}
    answer = await app.call("answer_request", {"request_id": first["id"], "approve": True})
    assert answer == {"success": False, "error": {"code": "expired", "message": "gone"}}


@pytest.mark.parametrize(
    ("event", "code", "words"),
    [
        ({"kind": "notice.group_increase"}, "invalid_payload", "sender"),
        ({"kind": "notice", "sender": {"id": "1"}}, "invalid_payload", "kind"),
        ({"kind": "Notice.Poke", "sender": {"id": "1"}}, "invalid_payload", "kind"),
        ({"kind": "request.friend", "sender": {"id": "1"}}, "invalid_payload", "detail.flag"),
        (
            {"kind": "notice.x", "sender": {"id": "1"}, "detail": "joined"},
            "invalid_payload",
            "detail",
        ),
    ],
)
async def test_bad_notices_from_a_driver_get_clear_codes(
    master: RunningMaster, opened: list[Any], event: dict[str, Any], code: str, words: str
) -> None:
    driver = await SioDriver(master.url).connect(TOKEN)
    opened.append(driver)
    assert (await driver.register())["success"]
    ack = await driver.call("event", event)
    assert ack["success"] is False
    assert ack["error"]["code"] == code
    assert words in ack["error"]["message"]
    # One bad notice in a batch is answered on its own; the good one is stored.
    good = {"kind": "notice.poke", "sender": {"id": "1"}}
    answers = await driver.call("events", {"events": [event, good]})
    assert answers[0]["error"]["code"] == code and answers[1]["success"] is True


async def test_bad_answers_get_clear_codes(master: RunningMaster, opened: list[Any]) -> None:
    qq = await account(master, opened)
    app = await start_app(master.url, "native", subscribe={"events": ["*"]})
    opened.append(app)
    await qq.group_increase(5566, 777)
    notice = await app.next_message()
    await qq.group_message(5566, 42, "hi", message_id=90)
    message = await app.next_message()

    async def error_of(data: Any) -> dict[str, Any]:
        answer = await app.call("answer_request", data)
        assert answer["success"] is False, answer
        return dict(answer["error"])

    assert (await error_of({"request_id": notice["id"], "approve": True}))["code"] == (
        "not_a_request"
    )
    assert (await error_of({"request_id": message["id"], "approve": True}))["code"] == (
        "not_a_request"
    )
    assert (await error_of({"request_id": "nope", "approve": True}))["code"] == "unknown_message"
    missing = await error_of({"request_id": notice["id"]})
    assert missing["code"] == "invalid_payload" and "approve" in missing["message"]
    assert (await error_of({"request_id": notice["id"], "approve": "yes"}))["code"] == (
        "invalid_payload"
    )
    # An SDK app's answer to what is no request fails where it is made.
    sdk = await started(App("sdk", "1.0.0", url=master.url), opened)
    event = Event.from_wire(notice, sdk)
    with pytest.raises(ValueError, match="only requests"):
        await event.approve()
    with pytest.raises(MasterError) as refused:
        await sdk.answer_request(
            Event.from_wire({**notice, "kind": "request.friend"}, sdk), Approve()
        )
    assert refused.value.code == "not_a_request"


async def test_bad_kind_patterns_are_refused_at_register(master: RunningMaster) -> None:
    app = await SioApp(master.url).connect()
    try:
        ack = await app.register("bad", subscribe={"events": ["Notice Poke"]})
        empty = await app.register("bad", subscribe={"events": []})
    finally:
        await app.close()
    assert ack["success"] is False and ack["error"]["code"] == "invalid_payload"
    assert "kind pattern" in ack["error"]["message"]
    assert empty["success"] is False and empty["error"]["code"] == "invalid_payload"
    with pytest.raises(ValueError, match="kind pattern"):
        App("bad", "1.0.0").event("notice poke")
