"""POST /api/v1/simulate end to end: a message from the built-in simulator and the apps' replies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import RunningMaster, StartMaster
from tests.support.clients import SioApp


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


async def simulate(master: RunningMaster, **body: Any) -> tuple[int, Any]:
    return await master.api("POST", "/api/v1/simulate", json=body)


async def test_an_app_reply_comes_back_in_the_response(
    master: RunningMaster, opened: list[Any]
) -> None:
    app, inbox = await answering_app(
        master, opened, "echo", lambda m: {"reply": "echo: " + m["content"]}
    )
    status, body = await simulate(master, content="天气 北京", wait_ms=1500)
    assert status == 200, body
    assert isinstance(body["id"], str) and body["id"]
    assert [r["content"] for r in body["replies"]] == ["echo: 天气 北京"]
    reply = body["replies"][0]
    assert reply["id"] and reply["at_ms"] > 0
    assert reply["segments"] == [{"type": "text", "data": {"text": "echo: 天气 北京"}}]
    assert reply["chat"] == {"type": "private", "id": "sim-user"}
    assert reply["app"] == "echo"
    message = inbox.get_nowait()
    assert message["id"] == body["id"]
    assert message["platform"] == "simulator"
    assert message["chat"] == {"type": "private", "id": "sim-user"}
    assert message["sender"]["id"] == "sim-user"
    assert message["segments"] == [{"type": "text", "data": {"text": "天气 北京"}}]
    await app.close()


async def test_the_given_chat_and_sender_reach_the_app(
    master: RunningMaster, opened: list[Any]
) -> None:
    app, inbox = await answering_app(master, opened, "echo", lambda m: {"reply": "ok"})
    status, body = await simulate(
        master,
        content="/weather",
        chat={"type": "group", "id": "g-1", "name": "Testers"},
        sender={"id": "u-7", "name": "Alice"},
        wait_ms=1500,
    )
    assert status == 200, body
    message = inbox.get_nowait()
    assert message["chat"]["type"] == "group" and message["chat"]["id"] == "g-1"
    assert message["chat"]["name"] == "Testers"
    assert message["sender"] == {"id": "u-7", "name": "Alice"}
    assert [r["chat"]["id"] for r in body["replies"]] == ["g-1"]
    await app.close()


async def test_replies_from_several_apps_are_all_returned(
    master: RunningMaster, opened: list[Any]
) -> None:
    first, _ = await answering_app(master, opened, "first", lambda m: {"reply": "one"})
    second, _ = await answering_app(master, opened, "second", lambda m: {"reply": "two"})
    status, body = await simulate(master, content="hi", wait_ms=1500)
    assert status == 200, body
    replies = sorted((r["app"], r["content"]) for r in body["replies"])
    assert replies == [("first", "one"), ("second", "two")]
    await first.close()
    await second.close()


async def test_without_apps_the_message_is_stored_and_no_reply_comes(
    master: RunningMaster,
) -> None:
    started = time.monotonic()
    status, body = await simulate(master, content="anyone?", wait_ms=300)
    assert status == 200, body
    assert body["replies"] == []
    assert time.monotonic() - started >= 0.29  # it waited the window out
    status, stored = await master.api("GET", f"/api/v1/messages/{body['id']}")
    assert status == 200, stored
    assert stored["content"] == "anyone?"
    assert stored["platform"] == "simulator"
    assert stored["status"] == "unrouted"


async def test_wait_ms_zero_answers_at_once(master: RunningMaster, opened: list[Any]) -> None:
    app, inbox = await answering_app(master, opened, "slow", lambda m: {})
    started = time.monotonic()
    status, body = await simulate(master, content="hello", wait_ms=0)
    assert status == 200, body
    assert body["replies"] == []
    assert time.monotonic() - started < 1
    message = await asyncio.wait_for(inbox.get(), 5)
    assert message["id"] == body["id"]
    await app.close()


async def test_replies_are_published_for_live_views(
    master: RunningMaster, opened: list[Any]
) -> None:
    app, _ = await answering_app(master, opened, "echo", lambda m: {"reply": "seen"})
    subscription = master.hub.bus.subscribe(["simulator"])
    try:
        status, body = await simulate(master, content="x", wait_ms=2000)
        assert status == 200, body
        event = await asyncio.wait_for(subscription.queue.get(), 2)
        assert event is not None
        assert event.topic == "simulator.reply"
        assert event.data["content"] == "seen"
        assert event.data["message_id"] == body["id"]
    finally:
        master.hub.bus.unsubscribe(subscription)
    await app.close()


async def test_another_platform_is_simulated_by_a_driver_of_its_own(
    master: RunningMaster, opened: list[Any]
) -> None:
    await answering_app(
        master,
        opened,
        "qq-only",
        lambda m: {"reply": "qq: " + m["platform"]},
        subscribe={"platforms": ["qq"]},
    )
    status, body = await simulate(master, content="hello", platform="qq", wait_ms=1500)
    assert status == 200, body
    assert [reply["content"] for reply in body["replies"]] == ["qq: qq"]
    assert body["platform_message_id"].startswith("sim-")
    _, message = await master.api("GET", f"/api/v1/messages/{body['id']}")
    assert message["platform"] == "qq"
    assert message["platform_message_id"] == body["platform_message_id"]
    # The simulator's own platform stays what it was, and the app filtering on qq misses it.
    status, body = await simulate(master, content="hello", wait_ms=300)
    assert status == 200 and body["replies"] == [], body
    _, drivers = await master.api("GET", "/api/v1/drivers")
    simulated = sorted(d["platform"] for d in drivers["items"] if d["transport"] == "simulator")
    assert simulated == ["qq", "simulator"]
    assert {d["id"] for d in drivers["items"]} >= {message["driver"]}


async def test_the_simulator_speaks_for_a_bounded_number_of_platforms(
    master: RunningMaster,
) -> None:
    for n in range(16):
        status, body = await simulate(master, content="x", platform=f"p{n}", wait_ms=0)
        assert status == 200, body
    status, body = await simulate(master, content="x", platform="one-too-many", wait_ms=0)
    assert status == 400, body
    assert body["code"] == "invalid_payload" and "16" in body["message"]
    status, body = await simulate(master, content="x", platform="p3", wait_ms=0)  # known: fine
    assert status == 200, body


async def test_a_simulated_request_is_answered_back_to_the_simulator(
    master: RunningMaster, opened: list[Any]
) -> None:
    app, inbox = await answering_app(
        master, opened, "doorman", lambda _: {}, subscribe={"events": ["request.*"]}
    )

    async def approve() -> None:
        request = await inbox.get()
        answer = await app.call(
            "answer_request", {"request_id": request["id"], "approve": True, "remark": "pal"}
        )
        assert answer["success"], answer

    answering = asyncio.create_task(approve())
    body = {
        "kind": "request.friend",
        "content": "add me",
        "sender": {"id": "888"},
        "detail": {"flag": "sim-flag"},
        "wait_ms": 1000,
    }
    status, answer = await master.api("POST", "/api/v1/simulate", json=body)
    await answering
    assert status == 200, answer
    (reply,) = answer["replies"]
    assert reply["request"] == {
        "kind": "request.friend",
        "flag": "sim-flag",
        "approve": True,
        "reason": "",
        "remark": "pal",
    }
    status, stored = await master.api("GET", f"/api/v1/messages/{answer['id']}")
    assert status == 200 and stored["kind"] == "request.friend", stored


@pytest.mark.parametrize(
    "body",
    [{"content": "hi", "kind": "message"}, {"kind": "Notice.Poke"}],
)
async def test_bad_kinds_are_refused(master: RunningMaster, body: Any) -> None:
    status, answer = await master.api("POST", "/api/v1/simulate", json=body)
    assert status == 400 and answer["code"] == "invalid_payload", answer


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"content": ""},
        {"content": 5},
        {"content": "x" * 70_000},
        {"content": "x", "wait_ms": -1},
        {"content": "x", "wait_ms": 30_001},
        {"content": "x", "wait_ms": "100"},
        {"content": "x", "chat": {"type": "group"}},
        {"content": "x", "chat": "group"},
        {"content": "x", "sender": {"name": "no id"}},
        {"content": "x", "unknown": 1},
        {"content": "x", "platform": ""},
        {"content": "x", "platform": "p" * 65},
        {"content": "x", "platform": 7},
        {},
        {"content": "x", "detail": {"a": 1}},
        {"kind": "notice"},
        {"kind": "request.friend"},
        {"kind": "request.friend", "detail": {"flag": 5}},
        {"kind": "notice.poke", "detail": []},
        ["content", "x"],
    ],
)
async def test_bad_bodies_are_refused_with_a_code(start_master: StartMaster, body: Any) -> None:
    master = await start_master(limits__max_payload="200000")
    status, answer = await master.api("POST", "/api/v1/simulate", json=body)
    assert status == 400, answer
    assert answer["code"] == "invalid_payload"
    assert answer["message"]


async def test_a_body_that_is_not_json_is_refused(master: RunningMaster) -> None:
    status, answer = await master.api("POST", "/api/v1/simulate", data=b"content=hello")
    assert status == 400
    assert answer["code"] == "invalid_json"


async def test_simulating_needs_the_admin_scope(master: RunningMaster) -> None:
    status, created = await master.api(
        "POST", "/api/v1/tokens", json={"name": "viewer", "scope": "read"}
    )
    assert status == 201, created
    status, answer = await master.api(
        "POST",
        "/api/v1/simulate",
        json={"content": "x", "wait_ms": 0},
        headers=master.auth(created["token"]),
    )
    assert status == 403
    assert answer["code"] == "forbidden"
    async with master.http.post(master.url + "/api/v1/simulate", json={"content": "x"}) as resp:
        assert resp.status == 401


async def test_a_disabled_simulator_is_not_found(start_master: StartMaster) -> None:
    master = await start_master(simulator__enabled="false")
    status, answer = await simulate(master, content="x", wait_ms=0)
    assert status == 404
    assert answer["code"] == "not_found"


async def test_a_reply_after_the_window_is_left_out_but_still_published(
    master: RunningMaster, opened: list[Any]
) -> None:
    later: list[asyncio.Task[Any]] = []

    def answer_later(message: dict[str, Any]) -> dict[str, Any]:
        async def reply() -> None:
            await asyncio.sleep(0.3)
            await app.call("reply", {"message_id": message["id"], "content": "late"})

        later.append(asyncio.create_task(reply()))
        return {}

    app, _ = await answering_app(master, opened, "late", answer_later)
    subscription = master.hub.bus.subscribe(["simulator"])
    try:
        status, body = await simulate(master, content="x", wait_ms=50)
        assert status == 200, body
        assert body["replies"] == []
        event = await asyncio.wait_for(subscription.queue.get(), 3)
        assert event is not None
        assert event.data["content"] == "late"
        assert event.data["message_id"] == body["id"]
    finally:
        master.hub.bus.unsubscribe(subscription)
    await asyncio.gather(*later)
