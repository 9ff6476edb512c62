"""GET /api/v1/messages and /api/v1/messages/{id}: filters, cursor pages, bad parameters."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import RunningMaster, StartMaster
from tests.support.flow_clients import SioDriver, event, start_app

TOKEN = "driver-token"


@pytest.fixture
async def scene(start_master: StartMaster) -> AsyncIterator[tuple[RunningMaster, dict[str, Any]]]:
    """Twelve messages in two chats from two senders; `weather` handles the ones about weather."""
    master = await start_master(drivers__tokens=f'["{TOKEN}"]')
    driver = await SioDriver(master.url).connect(TOKEN)
    await driver.register()
    app = await start_app(master.url, "weather", subscribe={"keywords": ["weather"]})
    ids: dict[str, Any] = {"all": [], "weather": [], "chat-a": [], "bob": []}
    started = int(time.time() * 1000)
    for n in range(12):
        chat = "a" if n % 2 else "b"
        sender = "bob" if n % 3 == 0 else "eve"
        content = f"weather {n}" if n < 4 else f"chat {n}"
        ack = await driver.call(
            "event", event(content, chat={"type": "group", "id": chat}, sender={"id": sender})
        )
        ids["all"].append(ack["id"])
        if n < 4:
            ids["weather"].append(ack["id"])
        if chat == "a":
            ids["chat-a"].append(ack["id"])
        if sender == "bob":
            ids["bob"].append(ack["id"])
        if n == 5:
            await asyncio.sleep(0.05)
            ids["middle_ms"] = int(time.time() * 1000)
            await asyncio.sleep(0.05)
    ids["started_ms"] = started
    for _ in range(4):
        await app.next_message()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        _, body = await master.api("GET", "/api/v1/messages?status=pending")
        if not body["items"]:
            break
        await asyncio.sleep(0.05)
    yield master, ids
    await app.close()
    await driver.close()


async def listed(master: RunningMaster, query: str) -> list[str]:
    status, body = await master.api("GET", "/api/v1/messages" + query)
    assert status == 200, body
    return [item["id"] for item in body["items"]]


async def test_messages_are_listed_newest_first_with_their_fields(
    scene: tuple[RunningMaster, dict[str, Any]],
) -> None:
    master, ids = scene
    status, body = await master.api("GET", "/api/v1/messages")
    assert status == 200 and body["count"] == 12 and body["next_cursor"] is None
    assert [item["id"] for item in body["items"]] == ids["all"][::-1]
    item = body["items"][-1]
    assert item["content"] == "weather 0" and item["platform"] == "qq"
    assert item["chat"] == {"type": "group", "id": "b"} and item["sender"] == {"id": "bob"}
    assert item["status"] == "handled"
    assert item["time"].endswith("Z") and isinstance(item["received_ms"], int)
    assert body["items"][0]["status"] == "unrouted"


async def test_each_filter(scene: tuple[RunningMaster, dict[str, Any]]) -> None:
    master, ids = scene
    assert await listed(master, "?chat=a") == ids["chat-a"][::-1]
    assert await listed(master, "?sender=bob") == ids["bob"][::-1]
    assert await listed(master, "?app=weather") == ids["weather"][::-1]
    assert await listed(master, "?app=nobody") == []
    assert await listed(master, "?status=handled") == ids["weather"][::-1]
    assert await listed(master, "?status=unrouted") == ids["all"][4:][::-1]
    assert (
        await listed(master, "?chat=a&sender=bob")
        == [message_id for message_id in ids["chat-a"] if message_id in ids["bob"]][::-1]
    )
    middle = ids["middle_ms"]
    assert await listed(master, f"?to={middle}") == ids["all"][:6][::-1]
    assert await listed(master, f"?from={middle}") == ids["all"][6:][::-1]
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(middle // 1000))
    rfc3339 = f"{iso}.{middle % 1000:03d}Z"
    assert await listed(master, f"?from={rfc3339}") == ids["all"][6:][::-1]
    assert (
        await listed(master, f"?from={ids['started_ms']}&to={middle}&chat=b")
        == [message_id for message_id in ids["all"][:6] if message_id not in ids["chat-a"]][::-1]
    )


async def test_pages_follow_the_cursor(scene: tuple[RunningMaster, dict[str, Any]]) -> None:
    master, ids = scene
    seen: list[str] = []
    query = "?limit=5"
    pages = 0
    while True:
        status, body = await master.api("GET", "/api/v1/messages" + query)
        assert status == 200
        pages += 1
        seen.extend(item["id"] for item in body["items"])
        if body["next_cursor"] is None:
            break
        query = f"?limit=5&cursor={body['next_cursor']}"
    assert pages == 3 and seen == ids["all"][::-1]


@pytest.mark.parametrize(
    "query",
    [
        "?limit=501",
        "?limit=0",
        "?limit=many",
        "?from=yesterday",
        "?to=2026-13-01T00:00:00Z",
        "?status=lost",
        "?colour=blue",
        "?chat=" + "x" * 200,
    ],
)
async def test_bad_parameters_are_400(
    scene: tuple[RunningMaster, dict[str, Any]], query: str
) -> None:
    master, _ = scene
    status, body = await master.api("GET", "/api/v1/messages" + query)
    assert status == 400 and body["code"] == "invalid_payload" and body["message"]


async def test_one_message_with_its_deliveries(
    scene: tuple[RunningMaster, dict[str, Any]],
) -> None:
    master, ids = scene
    status, body = await master.api("GET", f"/api/v1/messages/{ids['weather'][0]}")
    assert status == 200
    assert body["content"] == "weather 0" and body["status"] == "handled"
    [delivery] = body["deliveries"]
    assert delivery["app"] == "weather" and delivery["status"] == "acked"
    assert delivery["attempt"] == 1 and delivery["error"] is None
    assert delivery["sent_ms"] <= delivery["answered_ms"]
    assert body["replies"] == []
    status, body = await master.api("GET", "/api/v1/messages/unknown")
    assert status == 404 and body["code"] == "not_found"


async def test_messages_need_a_token(scene: tuple[RunningMaster, dict[str, Any]]) -> None:
    master, _ = scene
    async with master.http.get(master.url + "/api/v1/messages") as response:
        assert response.status == 401
