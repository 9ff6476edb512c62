"""Retention over REST: exactly the rows past retention go, in batches, while messages flow."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kenkogo_master.keys import ENGINE, TELEMETRY
from kenkogo_master.observability.buckets import DAY_MS, Period
from tests.conftest import RunningMaster, StartMaster, stop_master
from tests.support.flow_clients import SioDriver
from tests.support.old_rows import RETENTION, remaining, seed

TOKEN = "driver-token"


async def test_prune_removes_exactly_the_rows_past_retention(start_master: StartMaster) -> None:
    master = await start_master(**RETENTION, retention__batch_rows="3", stats__enabled="false")
    engine = master.app[ENGINE]
    kept = await seed(engine)

    status, report = await master.api("POST", "/api/v1/db/prune")

    assert status == 200, report
    assert report["trigger"] == "request"
    removed = {(item["policy"], item["table"]): item["removed"] for item in report["items"]}
    assert removed == {
        ("messages", "deliveries"): 7,
        ("messages", "replies"): 8,  # seven with their messages, one send on its own
        ("messages", "messages"): 7,
        ("traces", "trace_spans"): 1,
        ("traces", "traces"): 1,
        ("stats_minute", "stats_counters"): 1,
        ("stats_minute", "stats_messages"): 1,
        ("stats_hour", "stats_counters"): 1,
        ("stats_hour", "stats_messages"): 1,
        ("stats_day", "stats_counters"): 1,
        ("stats_day", "stats_messages"): 1,
        ("audit", "audit"): 1,
        ("sessions", "admin_sessions"): 1,
    }
    assert report["removed"] == sum(removed.values())
    left = await remaining(engine)
    for table, ids in kept.items():
        assert left[table] == ids, table
    # The Master audits and signs in for itself as well: only the seeded rows are looked at.
    assert left["audit"] & {"audit-old", "audit-new"} == {"audit-new"}
    assert left["admin_sessions"] & {"session-old", "session-new"} == {"session-new"}
    expected_buckets = {("minute", 1), ("hour", 19), ("day", 199)}
    assert left["stats_counters"] == left["stats_messages"] == expected_buckets

    status, again = await master.api("POST", "/api/v1/db/prune")
    assert again["removed"] == 0
    status, listed = await master.api("GET", "/api/v1/db/retention")
    assert listed["last_prune"] == again


async def test_retention_changes_at_run_time_and_survives_a_restart(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master = await start_master(tmp_path / "data", **RETENTION)
    status, body = await master.api("GET", "/api/v1/db/retention")
    assert status == 200
    items = {item["name"]: item for item in body["items"]}
    assert set(items) == {
        "messages",
        "traces",
        "stats_minute",
        "stats_hour",
        "stats_day",
        "audit",
        "sessions",
    }
    assert items["messages"] == {
        "name": "messages",
        "days": 10.0,
        "configured_days": 10.0,
        "overridden": False,
        "setting": "retention.messages_days",
        "description": "messages with their deliveries and replies",
        "tables": ["deliveries", "messages", "replies"],
    }
    assert items["stats_hour"]["setting"] == "stats.hour_retention_days"
    assert body["batch_rows"] == 500 and body["interval_s"] == 3600

    status, body = await master.api(
        "PUT", "/api/v1/db/retention", json={"messages": 30, "stats_minute": 0.5}
    )
    assert status == 200, body
    items = {item["name"]: item for item in body["items"]}
    assert (items["messages"]["days"], items["messages"]["overridden"]) == (30, True)
    assert items["traces"]["days"] == 3 and not items["traces"]["overridden"]
    # Statistics queries follow at once: minute buckets now reach back half a day.
    assert master.app[TELEMETRY].stats.retention_ms[Period.MINUTE] == DAY_MS // 2
    await stop_master(master)

    master = await start_master(tmp_path / "data", **RETENTION)
    status, body = await master.api("GET", "/api/v1/db/retention")
    items = {item["name"]: item for item in body["items"]}
    assert (items["messages"]["days"], items["messages"]["overridden"]) == (30, True)
    assert items["stats_minute"]["days"] == 0.5
    assert master.app[TELEMETRY].stats.retention_ms[Period.MINUTE] == DAY_MS // 2

    status, body = await master.api("PUT", "/api/v1/db/retention", json={"messages": None})
    items = {item["name"]: item for item in body["items"]}
    assert (items["messages"]["days"], items["messages"]["overridden"]) == (10, False)
    assert items["stats_minute"]["days"] == 0.5  # left out, so left alone


async def test_bad_retention_bodies_are_400(master: RunningMaster) -> None:
    for body in (
        {"audit_rows": 3},
        {"messages": 0},
        {"messages": -1},
        {"messages": 40_000},
        {"messages": "ten"},
        {"messages": True},
        [1],
        "x",
    ):
        status, answer = await master.api("PUT", "/api/v1/db/retention", json=body)
        assert (status, answer["code"]) == (400, "invalid_payload"), body
        assert answer["message"]
    status, answer = await master.api("PUT", "/api/v1/db/retention", data=b"{nope")
    assert (status, answer["code"]) == (400, "invalid_json")
    status, body = await master.api("GET", "/api/v1/db/retention")
    assert not any(item["overridden"] for item in body["items"])


async def test_prune_runs_while_messages_flow(start_master: StartMaster) -> None:
    master = await start_master(
        **RETENTION, retention__batch_rows="100", drivers__tokens=f'["{TOKEN}"]'
    )
    engine = master.app[ENGINE]
    await seed(engine, old_messages=3000)
    driver = await SioDriver(master.url).connect(TOKEN)
    await driver.register("qq", "10001")
    acked: list[str] = []
    stop = asyncio.Event()

    async def send() -> None:
        while not stop.is_set():
            ack = await driver.send("flowing")
            assert ack["success"], ack
            acked.append(ack["id"])

    senders = [asyncio.create_task(send()) for _ in range(4)]
    await asyncio.sleep(0.2)
    before = len(acked)
    status, report = await master.api("POST", "/api/v1/db/prune")
    during = len(acked) - before
    stop.set()
    await asyncio.gather(*senders)
    await driver.close()

    assert status == 200, report
    removed = {(item["policy"], item["table"]): item["removed"] for item in report["items"]}
    assert removed[("messages", "messages")] == 3000
    assert removed[("messages", "deliveries")] == 3000
    assert during > 0, "no message was stored while the prune ran"
    left = await remaining(engine)
    assert set(acked) <= left["messages"]
    assert left["messages"] - set(acked) == {"new", "pending-old"}
