"""Drivers on /driver: tokens, register, ingest, duplicates, bad input, replies and sends."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from tests.conftest import RunningMaster, StartMaster, stop_master
from tests.support.flow_clients import SioDriver, event, start_app
from tests.support.raw_sio import RawSocketIO

TOKEN = "driver-token"


async def settled(master: RunningMaster, message_id: str) -> dict[str, Any]:
    """Poll a message until its status is final."""
    deadline = time.monotonic() + 5
    while True:
        status, body = await master.api("GET", f"/api/v1/messages/{message_id}")
        assert status == 200, body
        if body["status"] != "pending" or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.05)


async def reply_row(master: RunningMaster, message_id: str, status: str) -> dict[str, Any]:
    """Poll a message until its first reply reaches `status`."""
    deadline = time.monotonic() + 5
    while True:
        _, body = await master.api("GET", f"/api/v1/messages/{message_id}")
        if body["replies"] and body["replies"][0]["status"] == status:
            return dict(body["replies"][0])
        assert time.monotonic() < deadline, body["replies"]
        await asyncio.sleep(0.05)


@pytest.fixture
async def master(start_master: StartMaster) -> RunningMaster:
    return await start_master(drivers__tokens=f'["{TOKEN}", "second-token"]')


async def driver_for(master: RunningMaster, closing: list[Any], **register: Any) -> SioDriver:
    client = await SioDriver(master.url).connect(TOKEN)
    closing.append(client)
    ack = await client.register(**register)
    assert ack["success"], ack
    return client


# -- connecting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "wrong", 123])
async def test_a_driver_without_a_valid_token_is_refused(master: RunningMaster, token: Any) -> None:
    client = socketio.AsyncClient(reconnection=False)
    refusals: list[Any] = []
    client.on("connect_error", refusals.append, namespace="/driver")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            master.url,
            namespaces=["/driver"],
            transports=["websocket"],
            auth=None if token is None else {"token": token},
            wait_timeout=5,
        )
    assert refusals, "no connect_error"
    assert refusals[0]["data"]["code"] == "unauthorized" and refusals[0]["message"]


async def test_register_gives_an_id_that_is_stable_per_platform_account(
    master: RunningMaster, closing: list[Any]
) -> None:
    first = await SioDriver(master.url).connect("second-token")
    ack = await first.register("qq", "10001", name="bot")
    assert ack == {"success": True, "id": ack["id"]}
    again = await first.register("qq", "10001")
    assert again["success"] is False and again["error"]["code"] == "already_registered"
    assert again["id"] == ack["id"] and again["error"]["message"]
    await first.close()
    other = await driver_for(master, closing, platform="tg", self_id="10001")
    second = await driver_for(master, closing, platform="qq", self_id="10001")
    assert (await second.register("qq", "10001"))["id"] == ack["id"]
    status, body = await master.api("GET", "/api/v1/drivers")
    assert status == 200
    by_id = {item["id"]: item for item in body["items"] if item["platform"] != "simulator"}
    assert by_id[ack["id"]]["live"] is True and by_id[ack["id"]]["platform"] == "qq"
    assert by_id[ack["id"]]["transport"] == "socket.io"
    assert len(by_id) == 2
    assert other is not None


async def test_a_second_connection_of_one_account_replaces_the_first(
    master: RunningMaster, closing: list[Any]
) -> None:
    old = await driver_for(master, closing)
    disconnected = asyncio.Event()
    old.client.on("disconnect", disconnected.set, namespace="/driver")
    new = await driver_for(master, closing)
    await asyncio.wait_for(disconnected.wait(), 5)
    ack = await new.send("still works")
    assert ack["success"]


async def test_driver_tokens_are_managed_over_rest(
    master: RunningMaster, closing: list[Any]
) -> None:
    status, created = await master.api("POST", "/api/v1/driver-tokens", json={"name": "napcat"})
    assert status == 201 and created["name"] == "napcat" and len(created["token"]) >= 32
    status, listed = await master.api("GET", "/api/v1/driver-tokens")
    assert status == 200 and [item["id"] for item in listed["items"]] == [created["id"]]
    assert "token" not in listed["items"][0]
    assert created["token"] not in str(listed)
    client = await SioDriver(master.url).connect(created["token"])
    assert (await client.register("qq", "777"))["success"]
    gone = asyncio.Event()
    client.client.on("disconnect", gone.set, namespace="/driver")
    status, deleted = await master.api("DELETE", f"/api/v1/driver-tokens/{created['id']}")
    assert status == 200 and deleted == {"id": created["id"], "deleted": True}
    await asyncio.wait_for(gone.wait(), 5)  # a revoked token cuts its drivers off
    with pytest.raises(socketio.exceptions.ConnectionError):
        await SioDriver(master.url).connect(created["token"])
    status, body = await master.api("DELETE", f"/api/v1/driver-tokens/{created['id']}")
    assert status == 404 and body["code"] == "not_found"
    status, body = await master.api("POST", "/api/v1/driver-tokens", json={"name": ""})
    assert status == 400 and body["code"] == "invalid_payload"


async def test_driver_tokens_need_the_admin_scope(master: RunningMaster) -> None:
    status, created = await master.api(
        "POST", "/api/v1/tokens", json={"name": "viewer", "scope": "read"}
    )
    assert status == 201
    reader = {"Authorization": f"Bearer {created['token']}"}
    status, body = await master.api("GET", "/api/v1/driver-tokens", headers=reader)
    assert status == 403 and body["code"] == "forbidden"
    status, body = await master.api("GET", "/api/v1/messages", headers=reader)
    assert status == 200


# -- ingest -------------------------------------------------------------------------------------


async def test_a_repeated_platform_message_id_is_stored_once(
    master: RunningMaster, closing: list[Any]
) -> None:
    app = await start_app(master.url, "counter")
    closing.append(app)
    driver = await driver_for(master, closing)
    first = await driver.send("once", pid="dup-1")
    again = await driver.send("once, again", pid="dup-1")
    assert again == {"success": True, "id": first["id"], "duplicate": True}
    other_driver = await driver_for(master, closing, platform="qq", self_id="20002")
    elsewhere = await other_driver.send("same id, other account", pid="dup-1")
    assert elsewhere["id"] != first["id"] and "duplicate" not in elsewhere
    assert (await app.next_message())["id"] == first["id"]
    assert (await app.next_message())["id"] == elsewhere["id"]
    await app.no_message()
    _, body = await master.api("GET", "/api/v1/messages?chat=100")
    assert sorted(item["id"] for item in body["items"]) == sorted([first["id"], elsewhere["id"]])


async def test_concurrent_duplicates_get_the_same_id(
    master: RunningMaster, closing: list[Any]
) -> None:
    driver = await driver_for(master, closing)
    answers = await asyncio.gather(*(driver.send("race", pid="same") for _ in range(10)))
    assert len({answer["id"] for answer in answers}) == 1
    assert sum(1 for answer in answers if answer.get("duplicate")) == 9


async def test_duplicates_are_recognised_after_a_restart(
    start_master: StartMaster, tmp_path: Path
) -> None:
    data_dir = tmp_path / "kept"
    first_run = await start_master(data_dir, drivers__tokens=f'["{TOKEN}"]')
    driver = await SioDriver(first_run.url).connect(TOKEN)
    driver_id = (await driver.register("qq", "10001"))["id"]
    first = await driver.send("before the restart", pid="kept-1")
    batch = await driver.call("events", {"events": [event("b", pid="kept-2")]})
    await driver.close()
    await stop_master(first_run)
    second_run = await start_master(data_dir, drivers__tokens=f'["{TOKEN}"]')
    driver = await SioDriver(second_run.url).connect(TOKEN)
    assert (await driver.register("qq", "10001"))["id"] == driver_id
    again = await driver.send("after the restart", pid="kept-1")
    assert again == {"success": True, "id": first["id"], "duplicate": True}
    answers = await driver.call(
        "events", {"events": [event("b", pid="kept-2"), event("new", pid="kept-3")]}
    )
    assert answers[0] == {"success": True, "id": batch[0]["id"], "duplicate": True}
    assert answers[1]["success"] and "duplicate" not in answers[1]
    await driver.close()


async def test_a_batch_of_events_is_answered_in_order(
    master: RunningMaster, closing: list[Any]
) -> None:
    driver = await driver_for(master, closing)
    events = [
        event("one", pid="b-1"),
        {"platform_message_id": "b-2", "content": "no chat"},
        event("three", pid="b-3"),
        event("one again", pid="b-1"),
    ]
    answers = await driver.call("events", {"events": events})
    assert [answer["success"] for answer in answers] == [True, False, True, True]
    assert answers[1]["error"]["code"] == "invalid_payload"
    assert "chat" in answers[1]["error"]["message"]
    assert answers[3] == {"success": True, "id": answers[0]["id"], "duplicate": True}
    for answer in (answers[0], answers[2]):
        assert (await settled(master, answer["id"]))["status"] == "unrouted"


async def test_a_bad_time_in_a_batch_fails_that_event_only(
    master: RunningMaster, closing: list[Any]
) -> None:
    driver = await driver_for(master, closing)
    events = [
        event("on time", pid="t-1", time="2026-11-22T08:00:00Z"),
        event("when?", pid="t-2", time="yesterday"),
        event("also on time", pid="t-3", time="2026-11-22T08:00:00Z"),
    ]
    answers = await driver.call("events", {"events": events})
    assert [answer["success"] for answer in answers] == [True, False, True]
    assert answers[1]["error"]["code"] == "invalid_payload"
    assert "RFC 3339" in answers[1]["error"]["message"]


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("missing content", {"platform_message_id": "x", "chat": {"type": "g", "id": "1"}}, None),
        ("content not a string", event(5), None),  # type: ignore[arg-type]
        ("empty chat id", event("x", chat={"type": "group", "id": ""}), None),
        ("segments not a list", event("x", segments="text"), None),
        ("time not RFC 3339", event("x", time="yesterday"), None),
        ("time not a string", event("x", time=1700000000), None),
        ("not an object", "hello", None),
        ("nothing", None, None),
        ("long id", event("x", pid="p" * 129), None),
    ],
)
async def test_malformed_events_are_answered_and_the_driver_keeps_working(
    master: RunningMaster, closing: list[Any], name: str, data: Any, code: str | None
) -> None:
    driver = await driver_for(master, closing)
    answer = await driver.call("event", data)
    assert answer["success"] is False, name
    assert answer["error"]["code"] == (code or "invalid_payload")
    assert answer["error"]["message"]
    assert (await driver.send("fine"))["success"]


async def test_oversized_unknown_and_early_events_are_refused_clearly(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await start_master(drivers__tokens=f'["{TOKEN}"]', limits__max_payload="2048")
    early = await SioDriver(master.url).connect(TOKEN)
    closing.append(early)
    answer = await early.send("before register")
    assert answer["error"]["code"] == "not_registered"
    assert (await early.register())["success"]
    answer = await early.send("x" * 4000)
    assert answer["success"] is False and answer["error"]["code"] == "payload_too_large"
    assert (await asyncio.wait_for(early.errors.get(), 5))["code"] == "payload_too_large"
    answer = await early.call("teleport", {})
    assert answer["error"]["code"] == "unknown_event"
    assert (await asyncio.wait_for(early.errors.get(), 5))["code"] == "unknown_event"
    assert "time_ms" in await early.call("heartbeat")
    assert (await early.send("still fine"))["success"]


# -- replies and sends --------------------------------------------------------------------------


async def test_reply_events_answer_in_the_chat_of_the_message(
    master: RunningMaster, closing: list[Any]
) -> None:
    driver = await driver_for(master, closing)
    app = await start_app(master.url, "talker")
    closing.append(app)
    ack = await driver.send("hi", pid="q-1", chat={"type": "private", "id": "55"})
    message = await app.next_message()
    answer = await app.call("reply", {"message_id": message["id"], "content": "hello!"})
    assert answer["success"] is True and len(answer["id"]) == 26
    action = await driver.next_action()
    assert action == {
        "id": answer["id"],
        "type": "send_message",
        "chat": {"type": "private", "id": "55"},
        "content": "hello!",
        "segments": [{"type": "text", "data": {"text": "hello!"}}],
        "reply_to": "q-1",
    }
    row = await reply_row(master, ack["id"], "sent")
    assert row["platform_message_id"].startswith("out-") and row["error"] is None


async def test_bad_replies_are_answered_with_a_code(
    master: RunningMaster, closing: list[Any]
) -> None:
    driver = await driver_for(master, closing)
    app = await start_app(master.url, "clumsy")
    closing.append(app)
    await driver.send("hi")
    message = await app.next_message()
    cases = [
        ({"message_id": "nope", "content": "x"}, "unknown_message"),
        ({"message_id": message["id"]}, "invalid_payload"),
        ({"message_id": message["id"], "content": "x", "template": "t"}, "invalid_payload"),
        ({"message_id": message["id"], "content": 5}, "invalid_payload"),
        ({"message_id": message["id"], "content": "x" * 70_000}, "payload_too_large"),
        ({"message_id": message["id"], "template": "no.such.template"}, "unknown_template"),
        ("text", "invalid_payload"),
    ]
    for data, code in cases:
        answer = await app.call("reply", data)
        assert answer["success"] is False, data
        assert answer["error"]["code"] == code, (data, answer)
    answer = await app.call(
        "reply",
        {
            "message_id": message["id"],
            "template": "template.items_count",
            "params": {"count": {"plural": 3}},
        },
    )
    assert answer["success"]
    assert (await driver.next_action())["content"] == "3 items"
    assert driver.actions.empty()


async def test_a_reply_in_a_bad_ack_is_reported_and_the_message_still_counts(
    master: RunningMaster, closing: list[Any]
) -> None:
    driver = await driver_for(master, closing)
    app = await start_app(master.url, "sloppy", lambda m: {"block": "yes", "reply": 7})
    closing.append(app)
    ack = await driver.send("hi")
    error = await asyncio.wait_for(app.errors.get(), 5)
    assert error["code"] == "invalid_payload" and error["message_id"] == ack["id"]
    assert (await settled(master, ack["id"]))["status"] == "handled"
    app.answer = lambda m: {"reply": "ok now"}
    await driver.send("again")
    assert (await driver.next_action())["content"] == "ok now"


async def test_a_reply_waits_for_its_driver_to_come_back(
    master: RunningMaster, closing: list[Any]
) -> None:
    driver = await driver_for(master, closing)
    app = await start_app(master.url, "patient")
    closing.append(app)
    ack = await driver.send("hold on", pid="w-1")
    message = await app.next_message()
    await driver.close()
    answer = await app.call("reply", {"message_id": message["id"], "content": "later"})
    assert answer["success"]
    await asyncio.sleep(0.3)
    back = await driver_for(master, closing)  # same platform and account: same driver id
    action = await back.next_action()
    assert (action["id"], action["content"], action["reply_to"]) == (answer["id"], "later", "w-1")
    assert (await reply_row(master, ack["id"], "sent"))["id"] == answer["id"]
    assert app.errors.empty()


async def test_a_reply_whose_driver_stays_away_fails_visibly(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await start_master(drivers__tokens=f'["{TOKEN}"]', drivers__reply_wait="0.5")
    driver = await driver_for(master, closing)
    app = await start_app(master.url, "abandoned")
    closing.append(app)
    ack = await driver.send("bye", pid="gone-1")
    message = await app.next_message()
    await driver.close()
    started = time.monotonic()
    answer = await app.call("reply", {"message_id": message["id"], "content": "anyone?"})
    assert answer["success"]
    error = await asyncio.wait_for(app.errors.get(), 5)
    assert 0.4 < time.monotonic() - started < 3
    assert error["code"] == "driver_unavailable"
    assert error["reply_id"] == answer["id"] and error["message_id"] == message["id"]
    row = await reply_row(master, ack["id"], "failed")
    assert row["error"]["code"] == "driver_unavailable"


async def test_replies_waiting_for_a_driver_are_bounded(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await start_master(
        drivers__tokens=f'["{TOKEN}"]', drivers__reply_queue_limit="2", drivers__reply_wait="5"
    )
    driver = await driver_for(master, closing)
    app = await start_app(master.url, "chatty")
    closing.append(app)
    await driver.send("hi")
    message = await app.next_message()
    await driver.close()
    answers = [
        await app.call("reply", {"message_id": message["id"], "content": f"r{n}"}) for n in range(3)
    ]
    assert [answer["success"] for answer in answers] == [True, True, False]
    assert answers[2]["error"]["code"] == "overloaded"


async def test_a_driver_refusing_an_action_is_recorded_and_told_to_the_app(
    master: RunningMaster, closing: list[Any]
) -> None:
    driver = await driver_for(master, closing)
    driver.answer = lambda action: {
        "success": False,
        "error": {"code": "rate_limited", "message": "slow down"},
    }
    app = await start_app(master.url, "eager", lambda m: {"reply": "too fast"})
    closing.append(app)
    ack = await driver.send("hi")
    error = await asyncio.wait_for(app.errors.get(), 5)
    assert (error["code"], error["message"], error["message_id"]) == (
        "rate_limited",
        "slow down",
        ack["id"],
    )
    row = await reply_row(master, ack["id"], "failed")
    assert row["error"] == {"code": "rate_limited", "message": "slow down"}


async def test_a_driver_that_does_not_answer_an_action_times_out(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await start_master(drivers__tokens=f'["{TOKEN}"]', drivers__action_timeout="0.3")
    driver = await driver_for(master, closing)
    hang = asyncio.Event()

    async def never(action: dict[str, Any]) -> Any:
        await hang.wait()
        return {"success": True}

    driver.answer = never
    app = await start_app(master.url, "waiting", lambda m: {"reply": "hello?"})
    closing.append(app)
    ack = await driver.send("hi")
    error = await asyncio.wait_for(app.errors.get(), 5)
    assert error["code"] == "action_timeout"
    assert (await reply_row(master, ack["id"], "failed"))["error"]["code"] == "action_timeout"
    hang.set()


@pytest.mark.parametrize(
    "frame", ['42/driver,3["event",{broken', '42/driver,3{"event":1}', "42/driver,3[7]"]
)
async def test_a_malformed_driver_packet_is_answered_and_the_driver_keeps_working(
    master: RunningMaster, frame: str
) -> None:
    async with aiohttp.ClientSession() as http:
        raw = await RawSocketIO.connect(http, master.url, "/driver", auth={"token": TOKEN})
        await raw.send_raw(frame)
        error = await raw.event("error", timeout=3)
        registered = await raw.call("register", {"platform": "qq", "self_id": "42"})
        await raw.close()
    assert error["code"] in {"invalid_json", "invalid_payload"}
    assert error["message"]
    assert registered["success"] is True


async def test_a_driver_failure_reaches_the_app_in_its_own_language(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await start_master(drivers__tokens=f'["{TOKEN}"]', drivers__action_timeout="0.3")
    driver = await driver_for(master, closing)
    driver.answer = lambda action: {"success": False, "error": {"code": "action_failed"}}
    app = await start_app(master.url, "polyglot", lambda m: {"reply": "你好"}, locale="zh_Hans")
    closing.append(app)
    await driver.send("hi")
    error = await asyncio.wait_for(app.errors.get(), 5)
    assert error["code"] == "action_failed"
    assert error["message"].startswith("驱动 "), error


async def test_apps_send_messages_of_their_own(master: RunningMaster, closing: list[Any]) -> None:
    driver = await driver_for(master, closing)
    driver_id = (await driver.register())["id"]  # already registered: the answer carries the id
    app = await start_app(master.url, "herald")
    closing.append(app)
    chat = {"type": "group", "id": "900"}
    by_platform = await app.call(
        "send", {"target": {"platform": "qq", "chat": chat}, "content": "a"}
    )
    assert by_platform["success"]
    action = await driver.next_action()
    assert (action["id"], action["content"], action["chat"], action["reply_to"]) == (
        by_platform["id"],
        "a",
        chat,
        None,
    )
    by_driver = await app.call(
        "send", {"target": {"driver": driver_id, "chat": chat}, "content": "b"}
    )
    assert by_driver["success"] and (await driver.next_action())["content"] == "b"
    failures = [
        ({"target": {"platform": "telegram", "chat": chat}, "content": "c"}, "driver_unavailable"),
        ({"target": {"driver": "nobody", "chat": chat}, "content": "c"}, "not_found"),
        ({"target": {"chat": chat}, "content": "c"}, "invalid_payload"),
        ({"target": {"platform": "qq"}, "content": "c"}, "invalid_payload"),
    ]
    for data, code in failures:
        answer = await app.call("send", data)
        assert answer["success"] is False and answer["error"]["code"] == code, (data, answer)


async def test_replies_and_sends_need_a_registered_app(master: RunningMaster) -> None:
    from tests.support.clients import SioApp

    app = await SioApp(master.url).connect()
    answer = await app.call("reply", {"message_id": "x", "content": "y"})
    assert answer["error"]["code"] == "not_registered"
    await app.close()


# -- what operators see ----------------------------------------------------------------------------


async def test_drivers_count_messages_in_and_out_over_rest_and_the_stream(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await start_master(drivers__tokens=f'["{TOKEN}"]', stats__system_interval="0.2")
    subscription = master.hub.bus.subscribe(["driver.load"])
    try:
        driver = await driver_for(master, closing)
        app = await start_app(master.url, "talker")
        closing.append(app)
        ack = await driver.send("hi", pid="c-1")
        assert (await driver.send("hi", pid="c-1"))["duplicate"] is True  # not counted again
        message = await app.next_message()
        await app.call("reply", {"message_id": message["id"], "content": "one"})
        await driver.next_action()
        await reply_row(master, ack["id"], "sent")
        driver.answer = lambda action: {"success": False, "error": {"code": "x", "message": "no"}}
        await app.call("reply", {"message_id": message["id"], "content": "two"})
        await driver.next_action()
        status, body = await master.api("GET", "/api/v1/drivers")
        assert status == 200, body
        (item,) = [item for item in body["items"] if item["transport"] == "socket.io"]
        deadline = time.monotonic() + 5
        while item["failed"] == 0 and time.monotonic() < deadline:  # the refusal is on its way
            await asyncio.sleep(0.05)
            (item,) = [
                i
                for i in (await master.api("GET", "/api/v1/drivers"))[1]["items"]
                if i["id"] == item["id"]
            ]
        assert (item["received"], item["sent"], item["failed"]) == (1, 1, 1)
        assert item["live"] is True and item["alive_ms"] >= item["connected_ms"]
        # The live view gets the same counts as a digest, not an event per message.
        seen: dict[str, Any] = {}
        while seen.get("failed") != 1:
            event = await asyncio.wait_for(subscription.queue.get(), 5)
            assert event is not None and event.topic == "driver.load"
            seen = event.data["drivers"].get(item["id"], seen)
        assert (seen["received"], seen["sent"]) == (1, 1) and "alive_ms" in seen
    finally:
        master.hub.bus.unsubscribe(subscription)
    # A driver that left keeps its counts (since the Master started) beside "live": false.
    await driver.close()
    await asyncio.wait_for(driver.disconnected.wait(), 5)
    deadline = time.monotonic() + 5
    while True:
        _, body = await master.api("GET", "/api/v1/drivers")
        (gone,) = [i for i in body["items"] if i["id"] == item["id"]]
        if not gone["live"] or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert gone["live"] is False and "alive_ms" not in gone
    assert (gone["received"], gone["sent"], gone["failed"]) == (1, 1, 1)
