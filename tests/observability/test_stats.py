"""Counting in memory, bucket upserts through the writer, and the queries that read them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kenkogo_master.observability.buckets import DAY_MS, HOUR_MS, MINUTE_MS, Calendar, Period
from kenkogo_master.observability.stats import (
    Metric,
    StatsRecorder,
    StatsWriter,
    matched_command,
)
from kenkogo_master.observability.stats_queries import StatsQueries
from kenkogo_master.store import migrate
from kenkogo_master.store.writer import Writer
from tests.observability.test_buckets import ms

T0 = ms("2026-03-01 10:00:30")


class Clock:
    """A settable clock in epoch nanoseconds."""

    def __init__(self, at_ms: int) -> None:
        self.at_ms = at_ms

    def __call__(self) -> int:
        return self.at_ms * 1_000_000


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'stats.db'}")
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def writer(engine: AsyncEngine) -> AsyncIterator[Writer]:
    writer = Writer(engine, interval=0.001, max_rows=500, queue_limit=10_000)
    await writer.start()
    yield writer
    await writer.stop()


RETENTION = {Period.MINUTE: 7.0, Period.HOUR: 90.0, Period.DAY: 1000.0}


async def _record(engine: AsyncEngine, writer: Writer) -> tuple[StatsQueries, Clock]:
    clock = Clock(T0)
    recorder = StatsRecorder(clock)
    stats = StatsWriter(recorder, writer, Calendar(), "sqlite")
    for _ in range(3):
        recorder.message("qq", "group", "g1", "alice", "Alice")
    recorder.message("qq", "group", "g1", "bob")
    recorder.delivered("weather", "/weather")
    recorder.delivered("weather", "/weather")
    recorder.count(Metric.UNROUTED, "qq")
    await stats.flush_committed()
    clock.at_ms = T0 + MINUTE_MS  # 10:01:30
    recorder.message("qq", "group", "g2", "alice")
    recorder.message("qq", "group", "g2", "alice")
    recorder.message("tg", "private", "carol", "carol", "Carol")
    recorder.delivered("weather", "/weather")
    recorder.delivered("music", "")
    recorder.replied("weather", "/weather")
    await stats.flush_committed()
    return StatsQueries(engine, Calendar(), RETENTION), clock


async def test_message_series_per_minute_chat_and_sender(
    engine: AsyncEngine, writer: Writer
) -> None:
    queries, _ = await _record(engine, writer)
    start, end = ms("2026-03-01 10:00"), ms("2026-03-01 10:03")

    def counts(points: list[dict[str, int]]) -> list[int]:
        return [point["count"] for point in points]

    assert counts(await queries.message_series(Period.MINUTE, start, end)) == [4, 3, 0]
    assert counts(await queries.message_series(Period.MINUTE, start, end, platform="qq")) == [
        4,
        2,
        0,
    ]
    assert counts(await queries.message_series(Period.MINUTE, start, end, chat="g1")) == [4, 0, 0]
    assert counts(await queries.message_series(Period.MINUTE, start, end, sender="alice")) == [
        3,
        2,
        0,
    ]
    assert counts(
        await queries.message_series(Period.MINUTE, start, end, chat="g2", sender="alice")
    ) == [0, 2, 0]
    hours = await queries.message_series(Period.HOUR, start, start + 2 * HOUR_MS)
    assert hours == [
        {"t": ms("2026-03-01 10:00"), "count": 7},
        {"t": ms("2026-03-01 11:00"), "count": 0},
    ]
    days = await queries.message_series(Period.DAY, start, start + DAY_MS)
    assert days == [
        {"t": ms("2026-03-01 00:00"), "count": 7},
        {"t": ms("2026-03-02 00:00"), "count": 0},
    ]


async def test_calls_per_app_and_command(engine: AsyncEngine, writer: Writer) -> None:
    queries, clock = await _record(engine, writer)
    rows = await queries.counter_totals(
        [Metric.DELIVERIES, Metric.REPLIES],
        ms("2026-03-01 00:00"),
        ms("2026-03-02 00:00"),
        clock.at_ms,
        by_command=True,
    )
    assert sorted((r["metric"], r["dim1"], r["dim2"], r["count"]) for r in rows) == [
        ("deliveries", "music", "", 1),
        ("deliveries", "weather", "/weather", 3),
        ("replies", "weather", "/weather", 1),
    ]
    # A range that starts mid-minute-bucket reads minutes for its edge, exactly.
    later = await queries.counter_totals(
        [Metric.DELIVERIES], ms("2026-03-01 10:01"), clock.at_ms + 1, clock.at_ms
    )
    assert sorted((r["dim1"], r["count"]) for r in later) == [("music", 1), ("weather", 1)]
    series = await queries.counter_series(
        [Metric.DELIVERIES, Metric.REPLIES],
        Period.MINUTE,
        ms("2026-03-01 10:00"),
        ms("2026-03-01 10:02"),
        "weather",
    )
    assert [p["count"] for p in series["deliveries"]] == [2, 1]
    assert [p["count"] for p in series["replies"]] == [0, 1]
    assert await queries.knows_dim1([Metric.DELIVERIES], "music")
    assert not await queries.knows_dim1([Metric.DELIVERIES], "nobody")


async def test_active_senders_and_top_lists(engine: AsyncEngine, writer: Writer) -> None:
    queries, clock = await _record(engine, writer)
    now = clock.at_ms
    assert await queries.active_senders(now - DAY_MS, now, now) == 3
    assert await queries.active_senders(now - DAY_MS, now, now, platform="qq") == 2
    # Only the second minute: alice and carol spoke in it, bob did not.
    assert await queries.active_senders(ms("2026-03-01 10:01"), now, now) == 2
    assert await queries.active_senders(now - 7 * DAY_MS, now - DAY_MS, now) == 0
    series = await queries.active_series(
        Period.MINUTE, ms("2026-03-01 10:00"), ms("2026-03-01 10:02")
    )
    assert [p["active"] for p in series] == [2, 2]

    top = await queries.top_senders(now - DAY_MS, now, now, 2)
    assert top == [
        {"platform": "qq", "sender_id": "alice", "name": "Alice", "count": 5},
        {"platform": "qq", "sender_id": "bob", "name": None, "count": 1},
    ]
    chats = await queries.top_chats(now - DAY_MS, now, now, 5)
    assert chats[0] == {
        "platform": "qq",
        "chat_type": "group",
        "chat_id": "g1",
        "count": 4,
        "senders": 2,
    }
    assert await queries.senders_known() == 3


def test_recorder_totals_and_matched_command() -> None:
    recorder = StatsRecorder(Clock(T0))
    recorder.message("qq", "group", "1", "a")
    recorder.delivered("weather", "/w")
    recorder.drain()
    assert recorder.messages_total == 1
    assert recorder.totals[("messages", "qq")] == 1
    assert recorder.totals[("deliveries", "weather")] == 1
    assert recorder.drain() == ({}, {}, {})
    assert matched_command(["/weather", "/w"], "/w beijing") == "/w"
    assert matched_command(["/weather"], "hello") == ""
    assert matched_command(None, "hello") == ""
