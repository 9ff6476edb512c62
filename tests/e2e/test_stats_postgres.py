"""Statistics and traces on a real PostgreSQL server: the same figures as on SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.conftest import StartMaster
from tests.support.flow_clients import SioDriver, start_app

TOKEN = "driver-token"


async def test_counts_traces_and_size_on_postgres(
    start_master: StartMaster, postgres_url: str, tmp_path: Path
) -> None:
    master = await start_master(
        tmp_path / "data",
        storage__database_url=postgres_url,
        drivers__tokens=f'["{TOKEN}"]',
        traces__sample_ratio="1.0",
    )
    app = await start_app(
        master.url, "weather", lambda m: {"reply": "sunny"}, subscribe={"commands": ["/w"]}
    )
    driver = await SioDriver(master.url).connect(TOKEN)
    await driver.register("qq", "1")
    ids = []
    for sender, content in (("ann", "/w a"), ("ann", "/w b"), ("bob", "/w c"), ("bob", "hi")):
        ack = await driver.send(content, sender={"id": sender, "name": sender.title()})
        ids.append(ack["id"])
    for _ in range(3):
        await driver.next_action()

    status, body = await master.api("GET", "/api/v1/stats/messages?interval=day")
    assert status == 200 and body["total"] == 4
    status, body = await master.api("GET", "/api/v1/stats/commands")
    assert [(i["app"], i["command"], i["deliveries"], i["replies"]) for i in body["items"]] == [
        ("weather", "/w", 3, 3)
    ]
    status, body = await master.api("GET", "/api/v1/stats/overview")
    assert body["today"]["unrouted"] == 1 and body["active_senders"]["dau"] == 2
    status, body = await master.api("GET", "/api/v1/stats/top-senders")
    assert [(i["sender_id"], i["name"], i["count"]) for i in body["items"]] == [
        ("ann", "Ann", 2),
        ("bob", "Bob", 2),
    ]
    status, body = await master.api("GET", "/api/v1/stats/storage")
    assert body["database"]["dialect"] == "postgresql" and body["database"]["bytes"] > 0

    for _ in range(50):
        status, trace = await master.api("GET", f"/api/v1/messages/{ids[0]}/trace")
        if status == 200 and any(s["name"] == "driver action" for s in trace["spans"]):
            break
        await asyncio.sleep(0.1)
    names = [s["name"] for s in trace["spans"]]
    assert names[0] == "ingest" and {"route", "attempt", "ack", "reply", "driver action"} <= set(
        names
    )
    status, listed = await master.api("GET", "/api/v1/traces?min_duration_ms=0&limit=10")
    assert status == 200 and len(listed["items"]) == 4
    await app.close()
    await driver.close()
