"""The pruner: each bucket size and the spans kept for their own retention, batch by batch."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, insert, select

from kenkogo_master.ids import now_ms
from kenkogo_master.observability.buckets import DAY_MS, Calendar
from kenkogo_master.observability.stats import StatsRecorder, StatsWriter
from kenkogo_master.store import migrate
from kenkogo_master.store.db import create_engine
from kenkogo_master.store.maintenance import Maintenance
from kenkogo_master.store.observability_models import StatsCounter, StatsMessages, TraceSpan
from kenkogo_master.store.pruner import Pruner
from kenkogo_master.store.retention import Retention
from kenkogo_master.store.writer import Writer
from tests.conftest import make_settings


async def test_prune_keeps_each_period_for_its_own_retention(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path / "data",
        stats__minute_retention_days="2",
        stats__hour_retention_days="10",
        stats__day_retention_days="100",
        traces__retention_days="1",
    )
    engine = create_engine(settings.storage)
    await migrate.upgrade(engine)
    writer = Writer(engine, interval=0.001, max_rows=500, queue_limit=10_000)
    await writer.start()
    retention = Retention(settings, engine, writer)
    await retention.load()
    # One row per batch: every table is pruned in many small transactions.
    pruner = Pruner(
        Maintenance(engine, writer, tmp_path), retention, batch_rows=1, interval=3600, pause=0
    )
    now = now_ms()
    for age_days in (0, 5, 50, 500):
        at = now - age_days * DAY_MS
        recorder = StatsRecorder(lambda at=at: at * 1_000_000)
        recorder.message("qq", "group", "1", f"sender-{age_days}")
        await StatsWriter(recorder, writer, Calendar(), "sqlite").flush_committed()
    span = {
        "trace_id": "a" * 32,
        "parent_span_id": None,
        "name": "ingest",
        "kind": "server",
        "status": "unset",
        "status_message": None,
        "message_id": None,
        "attributes": {},
        "events": [],
        "links": [],
    }
    async with engine.begin() as connection:
        for span_id, age_days in (("1" * 16, 0), ("2" * 16, 3)):
            start_ns = (now - age_days * DAY_MS) * 1_000_000
            await connection.execute(
                insert(TraceSpan).values(
                    span_id=span_id, start_ns=start_ns, end_ns=start_ns, **span
                )
            )

    report = await pruner.prune("request")
    removed = {(item["policy"], item["table"]): item["removed"] for item in report["items"]}
    assert removed[("stats_minute", "stats_messages")] == 3
    assert removed[("stats_hour", "stats_messages")] == 2
    assert removed[("stats_day", "stats_messages")] == 1
    assert removed[("traces", "trace_spans")] == 1

    async with engine.connect() as connection:
        kept = {
            period: sorted(
                (now - bucket) // DAY_MS
                for (bucket,) in await connection.execute(
                    select(StatsMessages.bucket_ms).where(StatsMessages.period == period)
                )
            )
            for period in ("minute", "hour", "day")
        }
        counters = await connection.scalar(
            select(func.count())
            .select_from(StatsCounter)
            .where(StatsCounter.period == "minute", StatsCounter.metric == "messages")
        )
        spans = [row[0] for row in await connection.execute(select(TraceSpan.span_id))]
    assert kept["minute"] == [0]
    assert kept["hour"] == [0, 5]
    assert kept["day"] == [0, 5, 50]
    assert counters == 1
    assert spans == ["1" * 16]
    await writer.stop()
    await engine.dispose()


async def test_the_schedule_prunes_and_waits_for_another_operation(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    engine = create_engine(settings.storage)
    await migrate.upgrade(engine)
    writer = Writer(engine, interval=0.001, max_rows=500, queue_limit=10_000)
    await writer.start()
    retention = Retention(settings, engine, writer)
    maintenance = Maintenance(engine, writer, tmp_path)
    pruner = Pruner(maintenance, retention, batch_rows=10, interval=0.05, pause=0)

    async with maintenance.hold("vacuum"):
        pruner.start()
        await asyncio.sleep(0.2)
        assert pruner.last is None  # it waits while the other operation runs
    for _ in range(100):
        if pruner.last is not None:
            break
        await asyncio.sleep(0.05)
    await pruner.stop()

    assert pruner.last is not None and pruner.last["trigger"] == "schedule"
    assert pruner.last["removed"] == 0
    await writer.stop()
    await engine.dispose()
