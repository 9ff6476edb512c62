"""Statistics over REST after real traffic: a driver, apps that answer, exact figures back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import RunningMaster, StartMaster
from tests.support.flow_clients import FlowApp, SioDriver, start_app

TOKEN = "driver-token"
MINUTE_MS = 60_000


async def away_from_minute_edge() -> None:
    """Wait until at least 3 seconds remain in the current minute, so a burst stays in one."""
    left = 60 - time.time() % 60
    if left < 3:
        await asyncio.sleep(left + 0.05)


async def wait_settled(master: RunningMaster, ids: list[str]) -> None:
    """Poll the messages until every one has its final status."""
    for message_id in ids:
        for _ in range(200):
            _, body = await master.api("GET", f"/api/v1/messages/{message_id}")
            if body["status"] in ("handled", "unrouted", "failed"):
                break
            await asyncio.sleep(0.025)
        else:
            raise AssertionError(f"message {message_id} never settled")


class Traffic:
    """A Master, a qq driver and two apps, after a known burst of messages."""

    def __init__(self, master: RunningMaster, driver: SioDriver, apps: list[FlowApp]) -> None:
        self.master = master
        self.driver = driver
        self.apps = apps
        self.ids: list[str] = []
        self.minute = 0

    async def send(self, content: str, chat: str, sender: str, name: str = "") -> None:
        ack = await self.driver.send(
            content,
            chat={"type": "group", "id": chat},
            sender={"id": sender, "name": name or sender.title()},
        )
        assert ack["success"], ack
        self.ids.append(ack["id"])


@pytest.fixture
async def traffic(start_master: StartMaster) -> AsyncIterator[Traffic]:
    master = await start_master(drivers__tokens=f'["{TOKEN}"]')
    driver = await SioDriver(master.url).connect(TOKEN)
    assert (await driver.register("qq", "10001"))["success"]
    weather = await start_app(
        master.url,
        "weather",
        lambda m: {"reply": "sunny"},
        subscribe={"commands": ["/weather", "/w"], "groups": ["100", "200"]},
    )
    echo = await start_app(master.url, "echo", subscribe={"groups": ["100", "200"]})
    run = Traffic(master, driver, [weather, echo])
    await away_from_minute_edge()
    run.minute = int(time.time() * 1000) // MINUTE_MS * MINUTE_MS
    # alice: 3 in group 100 (two weather commands); bob: 1 in 100; carol: 2 in 200 (one /w).
    await run.send("/weather beijing", "100", "alice", "Alice")
    await run.send("/weather tokyo", "100", "alice", "Alice")
    await run.send("hello", "100", "alice", "Alice")
    await run.send("hi all", "100", "bob")
    await run.send("/w paris", "200", "carol")
    await run.send("anyone?", "200", "carol")
    await run.send("nobody listens here", "300", "dave")  # no app subscribes to group 300
    await wait_settled(master, run.ids)
    # Replies are counted when the app sends them; wait for the driver to have all three.
    for _ in range(3):
        await driver.next_action()
    yield run
    for app in run.apps:
        await app.close()
    await driver.close()


async def test_messages_per_minute_chat_and_sender(traffic: Traffic) -> None:
    master, minute = traffic.master, traffic.minute
    window = f"from={minute - 2 * MINUTE_MS}&to={minute + MINUTE_MS}"
    status, body = await master.api("GET", f"/api/v1/stats/messages?interval=minute&{window}")
    assert status == 200, body
    assert [(p["t"], p["count"]) for p in body["points"]] == [
        (minute - 2 * MINUTE_MS, 0),
        (minute - MINUTE_MS, 0),
        (minute, 7),
    ]
    assert body["total"] == 7
    for query, expected in [
        ("chat=100", 4),
        ("chat=200", 2),
        ("chat=300", 1),
        ("sender=alice", 3),
        ("sender=carol", 2),
        ("chat=100&sender=bob", 1),
        ("chat=200&sender=bob", 0),
        ("platform=qq", 7),
        ("platform=telegram", 0),
    ]:
        status, body = await master.api(
            "GET", f"/api/v1/stats/messages?interval=minute&{window}&{query}"
        )
        assert status == 200, body
        assert body["total"] == expected, query
        assert body["points"][-1] == {"t": minute, "count": expected}, query
    status, body = await master.api("GET", "/api/v1/stats/messages?interval=day")
    assert body["points"][-1]["count"] == 7


async def test_calls_per_app_and_command_and_failures(traffic: Traffic) -> None:
    master = traffic.master
    status, body = await master.api("GET", "/api/v1/stats/apps")
    assert status == 200, body
    apps = {item["app"]: item for item in body["items"]}
    assert apps["weather"]["deliveries"] == 3 and apps["weather"]["replies"] == 3
    assert apps["echo"]["deliveries"] == 6 and apps["echo"]["replies"] == 0
    assert apps["weather"]["failed"] == apps["echo"]["failed"] == 0

    status, body = await master.api("GET", "/api/v1/stats/commands")
    assert status == 200, body
    assert {(i["app"], i["command"], i["deliveries"], i["replies"]) for i in body["items"]} == {
        ("weather", "/weather", 2, 2),
        ("weather", "/w", 1, 1),
    }
    status, body = await master.api("GET", "/api/v1/stats/commands?app=echo")
    assert body["items"] == []

    status, body = await master.api("GET", "/api/v1/stats/overview")
    assert status == 200, body
    today = body["today"]
    assert (today["messages"], today["deliveries"], today["replies"]) == (7, 9, 3)
    assert today["unrouted"] == 1 and today["messages_by_platform"] == {"qq": 7}
    assert body["active_senders"] == {"dau": 4, "wau": 4, "mau": 4}
    assert body["connections"]["apps"]["by_state"] == {"scheduling": 2}

    status, body = await master.api("GET", "/api/v1/stats/apps/weather?interval=minute")
    assert status == 200, body
    assert body["totals"]["deliveries"] == 3 and body["totals"]["replies"] == 3
    assert body["series"]["deliveries"][-1] == {"t": traffic.minute, "count": 3}


async def test_active_senders_and_top_senders(traffic: Traffic) -> None:
    master = traffic.master
    for query, expected in [
        ("window=1d", 4),
        ("window=dau", 4),
        ("window=30d", 4),
        ("window=5m&platform=qq", 4),
        ("window=7d&platform=telegram", 0),
    ]:
        status, body = await master.api("GET", f"/api/v1/stats/users/active?{query}")
        assert status == 200, body
        assert body["active"] == expected, query
    # A window that ends before the burst sees nobody.
    status, body = await master.api(
        "GET", f"/api/v1/stats/users/active?window=1h&to={traffic.minute - MINUTE_MS}"
    )
    assert body["active"] == 0
    status, body = await master.api("GET", "/api/v1/stats/users/active?interval=day")
    assert body["points"][-1]["active"] == 4

    status, body = await master.api("GET", "/api/v1/stats/top-senders?limit=2")
    assert status == 200, body
    assert body["items"] == [
        {"platform": "qq", "sender_id": "alice", "name": "Alice", "count": 3},
        {"platform": "qq", "sender_id": "carol", "name": "Carol", "count": 2},
    ]
    status, body = await master.api("GET", "/api/v1/stats/top-senders?chat=100")
    assert [(i["sender_id"], i["count"]) for i in body["items"]] == [("alice", 3), ("bob", 1)]
    status, body = await master.api("GET", "/api/v1/stats/top-chats")
    assert [(i["chat_id"], i["count"], i["senders"]) for i in body["items"]] == [
        ("100", 4, 2),
        ("200", 2, 1),
        ("300", 1, 1),
    ]


async def test_storage_reports_database_data_dir_and_disk(start_master: StartMaster) -> None:
    master = await start_master()
    status, body = await master.api("GET", "/api/v1/stats/storage")
    assert status == 200, body
    database = body["database"]
    assert database["dialect"] == "sqlite"
    assert database["bytes"] == sum(database["files"].values()) > 0
    data_dir = body["data_dir"]
    assert data_dir["bytes"] >= database["bytes"]
    disk = data_dir["disk"]
    assert 0 < disk["free_bytes"] <= disk["total_bytes"]


@pytest.mark.parametrize(
    ("path", "status", "needle"),
    [
        ("/api/v1/stats/messages?interval=week", 400, "interval"),
        ("/api/v1/stats/messages?from=2000&to=1000", 400, "from"),
        ("/api/v1/stats/messages?from=yesterday", 400, "from"),
        ("/api/v1/stats/messages?interval=minute&from=0", 400, "interval"),
        ("/api/v1/stats/messages?colour=red", 400, "colour"),
        ("/api/v1/stats/users/active?window=abc", 400, "window"),
        ("/api/v1/stats/users/active?window=-3d", 400, "window"),
        ("/api/v1/stats/users/active?window=1d&interval=day", 400, "window"),
        ("/api/v1/stats/top-senders?limit=0", 400, "limit"),
        ("/api/v1/stats/top-senders?limit=ten", 400, "limit"),
        ("/api/v1/stats/apps/nobody", 404, None),
        ("/api/v1/stats/apps/nobody?interval=fortnight", 400, "interval"),
        ("/api/v1/stats/overview?x=1", 400, "x"),
    ],
)
async def test_bad_parameters_are_refused_clearly(
    start_master: StartMaster, path: str, status: int, needle: str | None
) -> None:
    master = await start_master()
    got, body = await master.api("GET", path)
    assert got == status, body
    assert body["code"] == ("invalid_payload" if status == 400 else "not_found")
    if needle is not None:
        assert needle in body["message"], body


async def test_rfc3339_times_are_accepted(start_master: StartMaster) -> None:
    master = await start_master()
    status, body = await master.api(
        "GET",
        "/api/v1/stats/messages?interval=hour&from=2026-03-01T00:00:00Z&to=2026-03-01T03:00:00%2B00:00",
    )
    assert status == 200, body
    assert [p["t"] for p in body["points"]] == [1772323200000, 1772326800000, 1772330400000]
    assert body["from_ms"] == 1772323200000 and body["to_ms"] == 1772334000000


async def test_counts_survive_a_restart(start_master: StartMaster, tmp_path: Any) -> None:
    from tests.conftest import stop_master

    master = await start_master(tmp_path / "data", drivers__tokens=f'["{TOKEN}"]')
    driver = await SioDriver(master.url).connect(TOKEN)
    await driver.register("qq", "10001")
    for n in range(3):
        assert (await driver.send(f"m{n}", sender={"id": "zed"}))["success"]
    await driver.close()
    await stop_master(master)  # the last second's counts are written on the way out
    again = await start_master(tmp_path / "data")
    status, body = await again.api("GET", "/api/v1/stats/messages?interval=day&sender=zed")
    assert status == 200 and body["total"] == 3
