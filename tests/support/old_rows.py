"""Rows on both sides of every retention cutoff, written straight to SQL, for pruning tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.ids import now_ms
from kenkogo_master.observability.buckets import DAY_MS
from kenkogo_master.store.admin_models import AdminAccount, AdminSession, AuditRow
from kenkogo_master.store.models import DeliveryRow, DriverRow, MessageRow, ReplyRow
from kenkogo_master.store.observability_models import (
    StatsCounter,
    StatsMessages,
    TraceSpan,
    TraceSummary,
)

# Retentions (days) the seeded rows are made for: each row is a day off its cutoff.
RETENTION = {
    "retention__messages_days": "10",
    "traces__retention_days": "3",
    "stats__minute_retention_days": "2",
    "stats__hour_retention_days": "20",
    "stats__day_retention_days": "200",
    "retention__audit_days": "30",
    "retention__sessions_days": "5",
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


def audit(id: str, age_days: float) -> dict[str, Any]:
    at = now_ms() - int(age_days * DAY_MS)
    return {
        "id": id,
        "time_ms": at,
        "actor_kind": "token",
        "action": "a",
        "result": "ok",
        "detail": {},
    }


def account(now: int) -> dict[str, Any]:
    return {
        "id": "acc",
        "name": "pruned",
        "password_hash": "x",
        "created_ms": now,
        "password_changed_ms": now,
    }


def session(id: str, age_days: float) -> dict[str, Any]:
    at = now_ms() - int(age_days * DAY_MS)
    return {"id": id, "account_id": "acc", "created_ms": at, "last_seen_ms": at}


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
        await connection.execute(insert(AuditRow), [audit("audit-old", 31), audit("audit-new", 29)])
        await connection.execute(insert(AdminAccount), account(now))
        await connection.execute(
            insert(AdminSession), [session("session-old", 6), session("session-new", 4)]
        )
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
            "audit": await ids(AuditRow.id),
            "admin_sessions": await ids(AdminSession.id),
        }
