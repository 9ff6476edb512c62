"""Retention over REST: exactly the rows past retention go, in batches, while messages flow."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.ids import now_ms
from kenkogo_master.keys import ENGINE, TELEMETRY
from kenkogo_master.observability.buckets import DAY_MS, Period
from kenkogo_master.store.models import DeliveryRow, DriverRow, MessageRow, ReplyRow
from kenkogo_master.store.observability_models import (
    StatsCounter,
    StatsMessages,
    TraceSpan,
    TraceSummary,
)
from tests.conftest import RunningMaster, StartMaster, stop_master
from tests.support.flow_clients import SioDriver

TOKEN = "driver-token"
# Retentions of these tests, in days: each seeded row is a day off its cutoff, one way or the other.
RETENTION = {
    "retention__messages_days": "10",
    "traces__retention_days": "3",
    "stats__minute_retention_days": "2",
    "stats__hour_retention_days": "20",
    "stats__day_retention_days": "200",
}


def message(id: str, age_days: float, status: str = "handled") -> dict[str, Any]:
    at = now_ms() - int(age_days * DAY_MS)
    return {
        "id": id,
        "driver_id": "drv",
        "platform": "qq",
        "platform_message_id": id,
        "chat_type": "group",
        "chat_id": "1",
        "chat_name": None,
        "sender_id": "2",
        "sender_name": None,
        "content": id,
        "segments": [],
        "locale": None,
        "traceparent": "",
        "time_ms": at,
        "received_ms": at,
        "status": status,
    }


def delivery(id: str, message_id: str) -> dict[str, Any]:
    return {
        "id": id,
        "message_id": message_id,
        "app_name": "app",
        "instance_id": None,
        "attempt": 1,
        "status": "acked",
        "created_ms": now_ms(),  # its own time does not matter: it goes with its message
        "sent_ms": None,
        "answered_ms": None,
        "latency_ms": None,
        "blocked": False,
        "error": None,
    }


def reply(id: str, message_id: str | None, age_days: float) -> dict[str, Any]:
    return {
        "id": id,
        "message_id": message_id,
        "app_name": "app",
        "instance_id": None,
        "driver_id": "drv",
        "chat_type": "group",
        "chat_id": "1",
        "content": "hi",
        "template": None,
        "status": "sent",
        "platform_message_id": None,
        "error_code": None,
        "error_message": None,
        "created_ms": now_ms() - int(age_days * DAY_MS),
        "done_ms": None,
    }


def span(span_id: str, age_days: float) -> dict[str, Any]:
    at = (now_ms() - int(age_days * DAY_MS)) * 1_000_000
    return {
        "span_id": span_id,
        "trace_id": span_id * 2,
        "parent_span_id": None,
        "name": "ingest",
        "kind": "server",
        "start_ns": at,
        "end_ns": at,
        "status": "unset",
        "status_message": None,
        "message_id": None,
        "attributes": {},
        "events": [],
        "links": [],
    }


def summary(trace_id: str, age_days: float) -> dict[str, Any]:
    at = (now_ms() - int(age_days * DAY_MS)) * 1_000_000
    return {
        "trace_id": trace_id,
        "root_name": "ingest",
        "message_id": None,
        "start_ns": at,
        "end_ns": at,
        "spans": 1,
        "error": False,
    }


def buckets(period: str, age_days: float) -> tuple[dict[str, Any], dict[str, Any]]:
    at = now_ms() - int(age_days * DAY_MS)
    counter = {"metric": "messages", "period": period, "bucket_ms": at, "dim1": "qq", "dim2": ""}
    sender = {"period": period, "bucket_ms": at, "platform": "qq", "chat_type": "group"}
    return {**counter, "count": 1}, {
        **sender,
        "chat_id": "1",
        "sender_id": str(age_days),
        "count": 1,
    }


async def seed(engine: AsyncEngine, old_messages: int = 7) -> dict[str, set[str]]:
    """Write rows on both sides of every cutoff; return the ids that must stay."""
    now = now_ms()
    driver = {"id": "drv", "platform": "qq", "self_id": "1", "transport": "socketio"}
    messages = [message(f"old-{n}", 11) for n in range(old_messages)]
    messages += [message("new", 9), message("pending-old", 30, status="pending")]
    deliveries = [delivery(f"d-{m['id']}", m["id"]) for m in messages]
    replies = [reply(f"r-{m['id']}", m["id"], 0) for m in messages]
    replies += [reply("send-old", None, 11), reply("send-new", None, 9)]
    counters, senders = [], []
    for period, ages in {"minute": (1, 3), "hour": (19, 21), "day": (199, 201)}.items():
        for age in ages:
            counter, sender = buckets(period, age)
            counters.append(counter)
            senders.append(sender)
    async with engine.begin() as connection:
        await connection.execute(
            insert(DriverRow), {**driver, "first_seen_ms": now, "last_seen_ms": now}
        )
        await connection.execute(insert(MessageRow), messages)
        await connection.execute(insert(DeliveryRow), deliveries)
        await connection.execute(insert(ReplyRow), replies)
        await connection.execute(insert(TraceSpan), [span("a" * 16, 2), span("b" * 16, 4)])
        await connection.execute(insert(TraceSummary), [summary("a" * 32, 2), summary("b" * 32, 4)])
        await connection.execute(insert(StatsCounter), counters)
        await connection.execute(insert(StatsMessages), senders)
    return {
        "messages": {"new", "pending-old"},
        "deliveries": {"d-new", "d-pending-old"},
        "replies": {"r-new", "r-pending-old", "send-new"},
        "trace_spans": {"a" * 16},
        "traces": {"a" * 32},
    }


async def remaining(engine: AsyncEngine) -> dict[str, Any]:
    """Return the ids (or bucket ages in days) left in every pruned table."""
    now = now_ms()
    async with engine.connect() as connection:

        async def ids(column: Any) -> set[str]:
            return set((await connection.execute(select(column))).scalars())

        async def ages(model: Any) -> set[tuple[str, int]]:
            rows = await connection.execute(select(model.period, model.bucket_ms))
            return {(period, round((now - at) / DAY_MS)) for period, at in rows}

        return {
            "messages": await ids(MessageRow.id),
            "deliveries": await ids(DeliveryRow.id),
            "replies": await ids(ReplyRow.id),
            "trace_spans": await ids(TraceSpan.span_id),
            "traces": await ids(TraceSummary.trace_id),
            "stats_counters": await ages(StatsCounter),
            "stats_messages": await ages(StatsMessages),
        }


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
    }
    assert report["removed"] == sum(removed.values())
    left = await remaining(engine)
    for table, ids in kept.items():
        assert left[table] == ids, table
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
    assert set(items) == {"messages", "traces", "stats_minute", "stats_hour", "stats_day"}
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
