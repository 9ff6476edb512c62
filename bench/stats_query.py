"""How fast the statistics answer over a month of per-minute data for 10 000 senders (SQLite).

Fills a fresh database with the rows the Master itself would have written (minute, hour and day
buckets per chat and sender, the totals, calls per app and command), then times the queries
behind the statistics API and prints one line per query: the median of a few runs.

    python bench/stats_query.py                    # 30 days, 10 000 senders, ~50 messages/min
    python bench/stats_query.py --days 7 --per-minute 20 --db /tmp/stats.db --keep

Not a test: the figures depend on the machine. The README quotes the last run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.ext.asyncio import create_async_engine

from kenkogo_master.observability.buckets import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    Calendar,
    Period,
)
from kenkogo_master.observability.stats import Metric
from kenkogo_master.observability.stats_queries import StatsQueries
from kenkogo_master.store import migrate

APPS = {"weather": ["/weather", "/w"], "music": ["/play"], "dice": ["/roll"], "echo": [""]}
PLATFORMS = ("qq", "telegram")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--senders", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--per-minute", type=float, default=50.0, help="mean messages a minute")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per query (median)")
    parser.add_argument("--db", type=Path, default=None, help="database file (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the database file")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def generate(args: argparse.Namespace, db: Path, end_ms: int) -> dict[str, int]:
    """Write the buckets of `args.days` days of traffic ending at `end_ms`; return row counts."""
    rng = random.Random(args.seed)
    senders = [f"u{n}" for n in range(args.senders)]
    # A few people talk a lot: weights falling off like 1/rank.
    weights = [1 / (rank + 1) ** 0.8 for rank in range(args.senders)]
    home = {s: f"g{rng.randrange(args.chats)}" for s in senders}
    platform_of = {s: PLATFORMS[int(s[1:]) % 2] for s in senders}
    start_ms = (end_ms - args.days * DAY_MS) // MINUTE_MS * MINUTE_MS
    minutes = (end_ms - start_ms) // MINUTE_MS
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    insert_messages = (
        "INSERT INTO stats_messages (period, bucket_ms, platform, chat_type, chat_id, sender_id, "
        "count) VALUES (?, ?, ?, 'group', ?, ?, ?)"
    )
    insert_counter = (
        "INSERT INTO stats_counters (metric, period, bucket_ms, dim1, dim2, count) "
        "VALUES (?, ?, ?, ?, ?, ?)"
    )
    hours: Counter[tuple[int, str, str, str]] = Counter()
    days: Counter[tuple[int, str, str, str]] = Counter()
    counters: Counter[tuple[str, str, int, str, str]] = Counter()
    last_seen: dict[str, int] = {}
    totals: Counter[str] = Counter()
    rows = 0
    batch: list[tuple[Any, ...]] = []
    for index in range(minutes):
        minute = start_ms + index * MINUTE_MS
        hour, day = minute - minute % HOUR_MS, minute - minute % DAY_MS
        # Busier in the day than at night (UTC+8 evening peak), noisy from minute to minute.
        daylight = 0.35 + 0.65 * max(0.0, 1 - abs(((minute // HOUR_MS + 8) % 24) - 20) / 12)
        count = max(0, int(rng.gauss(args.per_minute * daylight * 1.3, 5)))
        per_minute: Counter[tuple[str, str, str]] = Counter()
        for sender in rng.choices(senders, weights, k=count):
            chat = home[sender] if rng.random() < 0.85 else f"g{rng.randrange(args.chats)}"
            per_minute[(platform_of[sender], chat, sender)] += 1
            last_seen[sender] = minute
        for (platform, chat, sender), n in per_minute.items():
            batch.append(("minute", minute, platform, chat, sender, n))
            hours[(hour, platform, chat, sender)] += n
            days[(day, platform, chat, sender)] += n
            totals[platform] += n
            for period, bucket in (("minute", minute), ("hour", hour), ("day", day)):
                counters[(Metric.MESSAGES.value, period, bucket, platform, "")] += n
        for app, commands in APPS.items():
            calls = sum(per_minute.values()) // (2 if app == "echo" else 7)
            for period, bucket in (("minute", minute), ("hour", hour), ("day", day)):
                command = rng.choice(commands)
                counters[(Metric.DELIVERIES.value, period, bucket, app, command)] += calls
                counters[(Metric.REPLIES.value, period, bucket, app, command)] += calls // 2
        if len(batch) > 50_000:
            connection.executemany(insert_messages, batch)
            rows += len(batch)
            batch.clear()
    for (hour, platform, chat, sender), n in hours.items():
        batch.append(("hour", hour, platform, chat, sender, n))
    for (day, platform, chat, sender), n in days.items():
        batch.append(("day", day, platform, chat, sender, n))
    connection.executemany(insert_messages, batch)
    rows += len(batch)
    connection.executemany(insert_counter, [(*key, n) for key, n in counters.items()])
    # The per-sender and per-chat counters are sums of the rows above, as the Master writes them.
    connection.execute(
        "INSERT INTO stats_counters (metric, period, bucket_ms, dim1, dim2, count) "
        f"SELECT '{Metric.SENDER_MESSAGES.value}', period, bucket_ms, platform, sender_id, "
        "SUM(count) FROM stats_messages GROUP BY period, bucket_ms, platform, sender_id"
    )
    connection.execute(
        "INSERT INTO stats_counters (metric, period, bucket_ms, dim1, dim2, count) "
        f"SELECT '{Metric.CHAT_MESSAGES.value}', period, bucket_ms, platform, "
        "chat_type || '/' || chat_id, SUM(count) FROM stats_messages "
        "GROUP BY period, bucket_ms, platform, chat_type, chat_id"
    )
    counter_rows = connection.execute("SELECT COUNT(*) FROM stats_counters").fetchone()[0]
    connection.executemany(
        "INSERT INTO stats_senders (platform, sender_id, name, first_seen_ms, last_seen_ms, "
        "messages) VALUES (?, ?, ?, ?, ?, 0)",
        [(platform_of[s], s, f"User {s[1:]}", start_ms, seen) for s, seen in last_seen.items()],
    )
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()
    return {
        "messages": sum(totals.values()),
        "stats_messages rows": rows,
        "stats_counters rows": counter_rows,
        "senders seen": len(last_seen),
    }


async def timed(run: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, Any]:
    """Return the median seconds of `runs` runs and the last answer."""
    durations = []
    answer: Any = None
    for _ in range(runs):
        started = time.perf_counter()
        answer = await run()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations), answer


def size(answer: Any) -> str:
    if isinstance(answer, list):
        return f"{len(answer)} rows"
    return str(answer)


async def measure(args: argparse.Namespace, db: Path, end_ms: int) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{db}")
    retention = {Period.MINUTE: args.days + 2, Period.HOUR: 400.0, Period.DAY: 4000.0}
    queries = StatsQueries(engine, Calendar(), retention)
    month = end_ms - args.days * DAY_MS
    day = end_ms - DAY_MS
    top = (await queries.top_senders(month, end_ms, end_ms, 1))[0]["sender_id"]
    busy_chat = (await queries.top_chats(month, end_ms, end_ms, 1))[0]["chat_id"]
    cases: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        (
            "messages per minute, last 24 h",
            lambda: queries.message_series(Period.MINUTE, day, end_ms),
        ),
        (
            f"messages per minute, all {args.days} days",
            lambda: queries.message_series(Period.MINUTE, month, end_ms),
        ),
        ("messages per hour, month", lambda: queries.message_series(Period.HOUR, month, end_ms)),
        (
            "messages per hour, month, one platform",
            lambda: queries.message_series(Period.HOUR, month, end_ms, platform="qq"),
        ),
        (
            "messages per minute, 24 h, one sender",
            lambda: queries.message_series(Period.MINUTE, day, end_ms, sender=top),
        ),
        (
            "messages per hour, month, one chat",
            lambda: queries.message_series(Period.HOUR, month, end_ms, chat=busy_chat),
        ),
        (
            "messages per day, month, one sender",
            lambda: queries.message_series(Period.DAY, month, end_ms, sender=top),
        ),
        (
            "active senders, last 24 h (DAU)",
            lambda: queries.active_senders(day, end_ms + 1, end_ms),
        ),
        (
            "active senders, last 7 days (WAU)",
            lambda: queries.active_senders(end_ms - 7 * DAY_MS, end_ms + 1, end_ms),
        ),
        (
            f"active senders, last {args.days} days (MAU)",
            lambda: queries.active_senders(month, end_ms + 1, end_ms),
        ),
        (
            "active senders, 90 min window",
            lambda: queries.active_senders(end_ms - 90 * MINUTE_MS, end_ms + 1, end_ms),
        ),
        ("DAU per day, month", lambda: queries.active_series(Period.DAY, month, end_ms)),
        ("top 10 senders, month", lambda: queries.top_senders(month, end_ms, end_ms, 10)),
        ("top 10 chats, month", lambda: queries.top_chats(month, end_ms, end_ms, 10)),
        (
            "calls per app and command, month",
            lambda: queries.counter_totals(
                [Metric.DELIVERIES, Metric.REPLIES], month, end_ms, end_ms, by_command=True
            ),
        ),
    ]
    print(f"{'query':<44} {'median':>9}  answer")
    slowest = 0.0
    for name, run in cases:
        seconds, answer = await timed(run, args.runs)
        slowest = max(slowest, seconds)
        print(f"{name:<44} {seconds * 1000:>7.1f} ms  {size(answer)}")
    print(f"slowest query: {slowest * 1000:.1f} ms")
    await engine.dispose()


async def prepare(db: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{db}")
    await migrate.upgrade(engine)
    await engine.dispose()


def main() -> None:
    args = parse_args()
    directory = None
    if args.db is None:
        directory = tempfile.mkdtemp(prefix="kenkogo-stats-bench-")
        args.db = Path(directory) / "stats.db"
    elif args.db.exists():
        sys.exit(f"{args.db} exists; give a new file")
    end_ms = int(time.time() * 1000)
    asyncio.run(prepare(args.db))
    started = time.perf_counter()
    counts = generate(args, args.db, end_ms)
    wal = args.db.with_name(args.db.name + "-wal")
    size_mb = (args.db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)) / 1e6
    print(
        f"{args.days} days, {args.senders} senders, {args.chats} chats: "
        + ", ".join(f"{value} {name}" for name, value in counts.items())
        + f"; database {size_mb:.0f} MB, filled in {time.perf_counter() - started:.0f} s"
    )
    asyncio.run(measure(args, args.db, end_ms))
    if not args.keep:
        for path in (args.db, wal, args.db.with_name(args.db.name + "-shm")):
            if path.exists():
                os.remove(path)
        if directory is not None:
            os.rmdir(directory)


if __name__ == "__main__":
    main()
