"""While the database refuses writes, no message is acked as stored, and /health says so."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import aiohttp
import pytest

from tests.support.flow_clients import SioDriver, event, start_app
from tests.support.process import DRIVER_TOKEN, MakeMaster, RestartableMaster
from tests.support.waiting import eventually

LOCK_FOR = 8.0  # longer than the writer's busy timeout (5 s): its writes fail, not just wait


async def health(master: RestartableMaster) -> tuple[int, Any]:
    """GET /health; a request that takes over 2 s counts as no answer (status 0)."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http,
            http.get(master.url + "/health") as response,
        ):
            return response.status, await response.json()
    except (TimeoutError, aiohttp.ClientError) as exc:
        return 0, repr(exc)


async def resend(driver: SioDriver, content: str, pid: str, within: float = 10) -> dict[str, Any]:
    """Send an event again while it is refused as `storage_unavailable`; return the last answer."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        answer: dict[str, Any] = await driver.send(content, pid=pid)
        refused = answer.get("error", {}).get("code") == "storage_unavailable"
        if not refused or asyncio.get_running_loop().time() > deadline:
            return answer
        await asyncio.sleep(0.5)


@pytest.mark.timeout(90)
async def test_a_locked_database_refuses_events_turns_health_unhealthy_and_recovers(
    restartable_master: MakeMaster, closing: list[Any]
) -> None:
    """Another process holds SQLite's write lock for 8 s.

    An event sent meanwhile is answered `storage_unavailable` (the driver keeps it), /health
    answers 503 naming the storage, and the Master stays up. Once the lock is gone, the refused
    event sent again is acked, /health is 200 again within seconds, and every acked message
    reaches its app.
    """
    master = restartable_master()
    await master.start()
    healthy_before = await health(master)
    driver = await SioDriver(master.url).connect(DRIVER_TOKEN)
    closing.append(driver)
    assert (await driver.register())["success"]
    sink = await start_app(master.url, "sink")
    closing.append(sink)
    before = await driver.send("before", pid="w-0")
    assert before["success"] is True, before
    await sink.receive_ids([before["id"]])

    loop = asyncio.get_running_loop()
    lock = sqlite3.connect(master.database, timeout=10, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # SQLite's write lock, as a backup tool or a migration holds it
    locked_at = loop.time()
    unhealthy: tuple[int, Any] | None = None
    try:
        during = asyncio.create_task(driver.call("event", event("during", pid="w-1"), timeout=30))
        # Held until the event is answered (at least LOCK_FOR): on a busy machine the event may
        # reach the Master late, and a lock gone before the writer gave up would let it through.
        while not during.done() or loop.time() < locked_at + LOCK_FOR - 0.5:
            answer = await health(master)
            if answer[0] != 200:
                unhealthy = unhealthy or answer
            await asyncio.sleep(0.25)
    finally:
        lock.rollback()
        lock.close()
    answered_during = await during
    again = await resend(driver, "during", "w-1")  # as a driver does with what was refused
    healthy_again = await eventually(
        lambda: health(master), lambda answer: answer[0] == 200, timeout=10, step=0.2
    )
    after = await driver.send("after", pid="w-2")

    assert master.running, master.text
    assert answered_during.get("success") is not True, "acked while nothing could be stored"
    assert answered_during["error"]["code"] == "storage_unavailable", answered_during
    assert unhealthy is not None, "/health said ok all the time the database refused writes"
    status, body = unhealthy
    assert status == 503, unhealthy
    assert body["status"] == "unhealthy"
    assert body["checks"]["storage"]["ok"] is False
    assert isinstance(body["checks"]["storage"]["error"], str)
    assert body["checks"]["storage"]["error"]
    for status, body in (healthy_before, healthy_again):
        assert status == 200
        assert body["status"] == "ok"
        assert body["checks"]["storage"] == {"ok": True}
    assert again["success"] is True and not again.get("duplicate"), again
    assert after["success"] is True, after
    acked = [before["id"], again["id"], after["id"]]
    await sink.receive_ids(acked)
    stored = master.messages()
    assert [stored[message_id][0] for message_id in acked] == ["w-0", "w-1", "w-2"]
