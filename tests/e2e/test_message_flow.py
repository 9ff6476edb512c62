"""A driver and apps exchange messages over real sockets: routing, acks, retries, replies, REST."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import RunningMaster, StartMaster
from tests.support.clients import WsApp
from tests.support.flow_clients import FlowApp, SioDriver, event, start_app

TOKEN = "driver-token"
SETTLED = {"handled", "unrouted", "failed"}


async def flow_master(start_master: StartMaster, **overrides: str) -> RunningMaster:
    """A Master that accepts the test driver token."""
    return await start_master(drivers__tokens=f'["{TOKEN}"]', **overrides)


async def qq_driver(master: RunningMaster, self_id: str = "10001") -> SioDriver:
    """A registered driver for platform qq."""
    client = await SioDriver(master.url).connect(TOKEN)
    ack = await client.register("qq", self_id, name="bot")
    assert ack["success"], ack
    return client


async def settled(master: RunningMaster, message_id: str, timeout: float = 5) -> dict[str, Any]:
    """Poll GET /api/v1/messages/{id} until the message has its final status."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = await master.api("GET", f"/api/v1/messages/{message_id}")
        assert status == 200, body
        if body["status"] in SETTLED or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.05)


def apps_of(detail: dict[str, Any]) -> set[str]:
    """Return the app names a message was delivered to."""
    return {delivery["app"] for delivery in detail["deliveries"]}


@pytest.fixture
async def master(start_master: StartMaster) -> RunningMaster:
    return await flow_master(start_master)


@pytest.fixture
async def driver(master: RunningMaster) -> AsyncIterator[SioDriver]:
    client = await qq_driver(master)
    yield client
    await client.close()


async def test_a_message_reaches_an_app_and_its_reply_reaches_the_driver(
    master: RunningMaster, driver: SioDriver, closing: list[Any]
) -> None:
    app = await start_app(master.url, "echo", lambda m: {"reply": "echo " + m["content"]})
    closing.append(app)
    ack = await driver.send("hello", pid="p-1", time="2026-11-22T08:00:00Z", locale="zh-Hans")
    assert ack["success"] is True and "duplicate" not in ack
    message = await app.next_message()
    assert message["id"] == ack["id"]
    assert message["content"] == "hello"
    assert message["segments"] == [{"type": "text", "data": {"text": "hello"}}]
    assert message["platform"] == "qq"
    assert message["driver"] == driver_id_of(message)
    assert message["chat"] == {"type": "group", "id": "100"}
    assert message["sender"] == {"id": "200", "name": "Alice"}
    assert message["time"] == "2026-11-22T08:00:00Z"
    assert message["locale"] == "zh_Hans"
    assert message["attempt"] == 1
    assert message["traceparent"].startswith("00-") and len(message["traceparent"]) == 55
    action = await driver.next_action()
    assert action["type"] == "send_message"
    assert action["content"] == "echo hello"
    assert action["chat"] == {"type": "group", "id": "100"}
    assert action["reply_to"] == "p-1"
    detail = await settled(master, ack["id"])
    assert detail["status"] == "handled"
    [delivery] = detail["deliveries"]
    assert delivery["app"] == "echo" and delivery["status"] == "acked"
    assert delivery["attempt"] == 1 and delivery["latency_ms"] is not None
    for _ in range(50):
        detail = await settled(master, ack["id"])
        if detail["replies"] and detail["replies"][0]["status"] == "sent":
            break
        await asyncio.sleep(0.05)
    [reply] = detail["replies"]
    assert reply["id"] == action["id"] and reply["status"] == "sent"
    assert reply["platform_message_id"].startswith("out-")
    assert reply["content"] == "echo hello" and reply["app"] == "echo"


def driver_id_of(message: dict[str, Any]) -> str:
    driver_id: str = message["driver"]
    assert len(driver_id) == 26
    return driver_id


async def test_the_driver_traceparent_and_segments_are_passed_on(
    master: RunningMaster, driver: SioDriver, closing: list[Any]
) -> None:
    app = await start_app(master.url, "tracer")
    closing.append(app)
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    segments = [{"type": "text", "data": {"text": "hi "}}, {"type": "at", "data": {"qq": "1"}}]
    await driver.send("hi", traceparent=traceparent, segments=segments)
    message = await app.next_message()
    # The trace goes on (same trace id, sampled) under the delivery attempt's own span.
    version, trace_id, span_id, flags = message["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", "4bf92f3577b34da6a3ce929d0e0e4736", "01")
    assert span_id != "00f067aa0ba902b7"
    assert message["segments"] == segments
    await driver.send("no trace", traceparent="garbage")
    assert (await app.next_message())["traceparent"] != "garbage"


async def test_priorities_run_in_order_and_block_stops_the_lower_ones(
    master: RunningMaster, driver: SioDriver, closing: list[Any]
) -> None:
    def gate(message: dict[str, Any]) -> dict[str, Any]:
        return {"block": "stop" in message["content"]}

    closing.extend(
        [
            await start_app(master.url, "gate", gate, priority=1),
            await start_app(master.url, "peer", priority=1),
            await start_app(master.url, "low", priority=20),
            await start_app(
                master.url, "guard", priority=0, block=True, subscribe={"keywords": ["secret"]}
            ),
        ]
    )
    passing = await driver.send("go on")
    stopped = await driver.send("please stop")
    secret = await driver.send("a secret")
    assert apps_of(await settled(master, passing["id"])) == {"gate", "peer", "low"}
    detail = await settled(master, stopped["id"])
    assert apps_of(detail) == {"gate", "peer"}
    assert [d["blocked"] for d in detail["deliveries"] if d["app"] == "gate"] == [True]
    assert apps_of(await settled(master, secret["id"])) == {"guard"}


async def test_every_filter(master: RunningMaster, driver: SioDriver, closing: list[Any]) -> None:
    filters = {
        "chats": {"chats": ["private"]},
        "platforms": {"platforms": ["telegram"]},
        "groups": {"groups": ["777"]},
        "users": {"users": ["42"]},
        "commands": {"commands": ["/w"]},
        "keywords": {"keywords": ["天气"]},
        "regex": {"regex": [r"^\d+$"]},
        "both": {"chats": ["group"], "keywords": ["rain"]},
    }
    for name, subscribe in filters.items():
        closing.append(await start_app(master.url, name, subscribe=subscribe))
    cases = [
        (event("hello", chat={"type": "private", "id": "5"}), {"chats"}),
        (event("hello", chat={"type": "group", "id": "777"}), {"groups"}),
        (event("hello", sender={"id": "42"}), {"users"}),
        (event("/w beijing"), {"commands"}),
        (event("say /w"), set()),
        (event("今天天气"), {"keywords"}),
        (event("12345"), {"regex"}),
        (event("12345x"), set()),
        (event("rain soon"), {"both"}),
        (event("rain soon", chat={"type": "private", "id": "5"}), {"chats"}),
    ]
    for payload, expected in cases:
        ack = await driver.call("event", payload)
        detail = await settled(master, ack["id"])
        assert apps_of(detail) == expected, payload
        assert detail["status"] == ("handled" if expected else "unrouted")


async def test_instances_of_a_name_share_the_work(
    master: RunningMaster, driver: SioDriver, closing: list[Any]
) -> None:
    first = await start_app(master.url, "worker")
    second = await start_app(master.url, "worker")
    closing.extend([first, second])
    ids = [(await driver.send(f"job {n}"))["id"] for n in range(10)]
    for message_id in ids:
        await settled(master, message_id)
    got_first, got_second = first.messages.qsize(), second.messages.qsize()
    assert got_first + got_second == 10
    assert 3 <= got_first <= 7, (got_first, got_second)


async def test_the_instance_with_fewer_unacknowledged_messages_is_chosen(
    master: RunningMaster, driver: SioDriver, closing: list[Any]
) -> None:
    busy = await start_app(master.url, "pool")
    busy.answer = busy.never_ack
    idle = await start_app(master.url, "pool")
    closing.extend([busy, idle])
    for n in range(6):
        await driver.send(f"task {n}")
    await busy.next_message()
    for _ in range(5):
        await idle.next_message()
    await busy.no_message()


async def test_max_in_flight_holds_messages_back_until_acks_come(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await flow_master(start_master, apps__max_in_flight="2")
    driver = await qq_driver(master)
    slow = await start_app(master.url, "slow")
    closing.extend([driver, slow])
    slow.answer = slow.never_ack
    for n in range(5):
        await driver.send(f"m{n}")
    first = [await slow.next_message() for _ in range(2)]
    await slow.no_message()
    slow.answer = lambda message: {}
    slow.release.set()  # the two held answers go out; the three waiting follow
    rest = [await slow.next_message() for _ in range(3)]
    assert [m["content"] for m in first + rest] == [f"m{n}" for n in range(5)]


async def test_the_queue_limit_drops_the_oldest_waiting_messages(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await flow_master(start_master, apps__max_in_flight="1", apps__queue_limit="3")
    driver = await qq_driver(master)
    slow = await start_app(master.url, "narrow")
    closing.extend([driver, slow])
    slow.answer = slow.never_ack
    # One batch, so that the queue overflows before back-pressure could hold the driver back;
    # its answer waits until the queue has room again.
    batch = [event(f"m{n}") for n in range(6)]
    answering = asyncio.create_task(driver.call("events", {"events": batch}))
    assert (await slow.next_message())["content"] == "m0"
    slow.answer = lambda message: {}
    slow.release.set()
    assert [(await slow.next_message())["content"] for _ in range(3)] == ["m3", "m4", "m5"]
    ids = [answer["id"] for answer in await asyncio.wait_for(answering, 5)]
    for dropped in ids[1:3]:
        detail = await settled(master, dropped)
        assert detail["status"] == "failed"
        assert [(d["status"], d["error"]) for d in detail["deliveries"]] == [
            ("failed", "queue_limit")
        ]
    status, body = await master.api("GET", "/api/v1/messages?status=failed")
    assert status == 200 and {item["id"] for item in body["items"]} == set(ids[1:3])


async def test_an_app_that_never_acks_gets_retries_with_back_off_then_fails(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await flow_master(start_master, apps__ack_timeout="0.3", apps__max_attempts="3")
    driver = await qq_driver(master)
    mute = await start_app(master.url, "mute")
    closing.extend([driver, mute])
    mute.answer = mute.never_ack
    ack = await driver.send("anyone?")
    arrivals = []
    for attempt in (1, 2, 3):
        message = await mute.next_message(timeout=5)
        arrivals.append(time.monotonic())
        assert (message["id"], message["attempt"]) == (ack["id"], attempt)
    # ack_timeout, then 100 ms (±20 %), then ack_timeout and 200 ms (±20 %); loose bounds.
    first_gap, second_gap = arrivals[1] - arrivals[0], arrivals[2] - arrivals[1]
    assert 0.3 + 0.08 - 0.05 <= first_gap <= 0.3 + 0.12 + 0.4, first_gap
    assert 0.3 + 0.16 - 0.05 <= second_gap <= 0.3 + 0.24 + 0.4, second_gap
    assert second_gap > first_gap - 0.05
    detail = await settled(master, ack["id"])
    assert detail["status"] == "failed"
    attempts = [(d["attempt"], d["status"], d["error"]) for d in detail["deliveries"]]
    assert attempts == [
        (1, "expired", "ack_timeout"),
        (2, "expired", "ack_timeout"),
        (3, "failed", "ack_timeout"),
    ]
    await mute.no_message(0.6)


async def test_an_unanswered_message_is_retried_on_another_instance(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await flow_master(start_master, apps__ack_timeout="0.3")
    driver = await qq_driver(master)
    mute = await start_app(master.url, "duo")
    mute.answer = mute.never_ack
    helpful = await start_app(master.url, "duo")
    closing.extend([driver, mute, helpful])
    ack = await driver.send("first goes to the mute one")
    assert (await mute.next_message())["attempt"] == 1
    retried = await helpful.next_message(timeout=3)
    assert (retried["id"], retried["attempt"]) == (ack["id"], 2)
    detail = await settled(master, ack["id"])
    assert detail["status"] == "handled"
    instances = {d["instance_id"] for d in detail["deliveries"]}
    assert len(instances) == 2


async def test_a_killed_instance_hands_its_messages_to_its_sibling_at_once(
    master: RunningMaster, driver: SioDriver, closing: list[Any]
) -> None:
    doomed = await start_app(master.url, "pair")
    doomed.answer = doomed.never_ack
    sibling = await start_app(master.url, "pair")
    sibling.answer = sibling.never_ack
    closing.append(sibling)
    ids = [(await driver.send(f"m{n}"))["id"] for n in range(4)]
    held = [(await doomed.next_message())["id"] for _ in range(2)]
    [(await sibling.next_message())["id"] for _ in range(2)]
    sibling.answer = lambda message: {}
    started = time.monotonic()
    await doomed.client.eio.disconnect(abort=True)  # gone without a goodbye
    again = [await sibling.next_message(timeout=3) for _ in range(2)]
    assert time.monotonic() - started < 2  # at once, not after ack_timeout (10 s)
    assert [m["id"] for m in again] == held
    assert all(m["attempt"] == 2 for m in again)
    sibling.release.set()
    for message_id in ids:
        assert (await settled(master, message_id))["status"] == "handled"


async def test_an_instance_that_resumes_gets_its_messages_again(
    master: RunningMaster, driver: SioDriver, closing: list[Any]
) -> None:
    first = await start_app(master.url, "solo")
    first.answer = first.never_ack
    registered = await first.call("heartbeat")
    assert "time_ms" in registered
    _, listed = await master.api("GET", "/api/v1/apps?name=solo")
    instance_id = listed["items"][0]["id"]
    ack = await driver.send("keep this")
    assert (await first.next_message())["id"] == ack["id"]
    await first.client.eio.disconnect(abort=True)
    await first.disconnected.wait()
    back = FlowApp(master.url)
    closing.append(back)
    await back.connect()
    answer = await back.register("solo", resume=instance_id)
    assert answer["success"] and answer["id"] == instance_id
    again = await back.next_message(timeout=3)
    assert (again["id"], again["attempt"]) == (ack["id"], 2)
    detail = await settled(master, ack["id"])
    assert detail["status"] == "handled"
    assert {d["instance_id"] for d in detail["deliveries"]} == {instance_id}


async def test_a_paused_instance_gets_nothing_new_but_its_acks_are_taken(
    master: RunningMaster, driver: SioDriver, closing: list[Any]
) -> None:
    app = await start_app(master.url, "pausable")
    closing.append(app)
    app.answer = app.never_ack
    held = await driver.send("before the pause")
    await app.next_message()
    status, listed = await master.api("GET", "/api/v1/apps?name=pausable")
    status, _ = await master.api("POST", f"/api/v1/apps/{listed['items'][0]['id']}/pause")
    assert status == 200
    later = await driver.send("during the pause")
    assert (await settled(master, later["id"]))["status"] == "unrouted"
    app.release.set()
    assert (await settled(master, held["id"]))["status"] == "handled"


async def test_batch_apps_receive_messages_together(
    master: RunningMaster, driver: SioDriver, closing: list[Any]
) -> None:
    bulk = await start_app(master.url, "bulk", lambda m: {"reply": m["content"]}, batch={"max": 50})
    closing.append(bulk)
    single = await driver.send("alone")
    assert (await bulk.next_message())["id"] == single["id"]
    assert bulk.batches == []  # one ready message still goes as `message`
    answers = await driver.call("events", {"events": [event(f"b{n}") for n in range(5)]})
    assert [answer["success"] for answer in answers] == [True] * 5
    received = [await bulk.next_message() for _ in range(5)]
    assert sorted(m["content"] for m in received) == [f"b{n}" for n in range(5)]
    assert bulk.batches and max(len(batch) for batch in bulk.batches) > 1
    for answer in answers:
        assert (await settled(master, answer["id"]))["status"] == "handled"
    contents = sorted([(await driver.next_action())["content"] for _ in range(6)])
    assert contents == ["alone", "b0", "b1", "b2", "b3", "b4"]


async def test_a_ws_app_takes_part_with_ack_frames(
    master: RunningMaster, driver: SioDriver, closing: list[Any]
) -> None:
    app = await WsApp.connect(master.http, master.url)
    closing.append(app)
    assert (await app.request("register", {"name": "plain", "version": "1"}))["data"]["success"]
    ack = await driver.send("over ws")
    frame = await app.until("message")
    assert frame["data"]["id"] == ack["id"] and frame["data"]["attempt"] == 1
    await app.send({"type": "ack", "data": {"id": ack["id"], "reply": "ws says hi"}})
    assert (await settled(master, ack["id"]))["status"] == "handled"
    assert (await driver.next_action())["content"] == "ws says hi"
    await app.send({"type": "ack", "data": {"id": "never-sent"}})
    error = await app.until("error")
    assert error["data"]["code"] == "unknown_message"
