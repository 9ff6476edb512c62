"""Statistics on the hot path: counted in memory, written as bucket upserts once a second."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from enum import StrEnum

from sqlalchemy import case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from kenkogo_master.observability.buckets import MINUTE_MS, Calendar, Period
from kenkogo_master.store.observability_models import StatsCounter, StatsMessages, StatsSender
from kenkogo_master.store.writer import Writer


class Metric(StrEnum):
    """What a counter counts; `dim1`/`dim2` say by what."""

    MESSAGES = "messages"  # every inbound message; by platform
    DELIVERIES = "deliveries"  # a message sent to an app name (first attempt); by app, command
    REPLIES = "replies"  # replies and sends from apps; by app, matched command
    RETRIES = "retries"  # a delivery attempt after the first; by app
    TIMEOUTS = "timeouts"  # an attempt unanswered in time or cut by its instance leaving; by app
    UNROUTED = "unrouted"  # a message no app matched; by platform
    DROPPED = "dropped"  # a message pushed out of a full app queue; by app
    FAILED = "failed"  # a delivery that ran out of attempts; by app
    # a queued message no instance came for in time, or a reply whose driver never came back;
    # by app
    EXPIRED = "expired"
    ACTIONS_FAILED = "actions_failed"  # a reply the driver could not send; by driver id
    # a message left unhandled by a stopped Master, too old to deliver after the restart;
    # by platform
    INTERRUPTED = "interrupted"
    # Messages per sender and per chat without the other: every row of a bucket is one active
    # sender (or chat), so active counts and top lists read far fewer rows than stats_messages.
    SENDER_MESSAGES = "messages.sender"  # by platform, sender id
    CHAT_MESSAGES = "messages.chat"  # by platform, chat key (see chat_key)


# key of a counter: (minute start, metric, dim1, dim2)
CounterKey = tuple[int, str, str, str]
# key of a message count: (minute start, platform, chat type, chat id, sender id)
MessageKey = tuple[int, str, str, str, str]


def chat_key(chat_type: str, chat_id: str) -> str:
    """Return how a chat is named in the per-chat counters: `<type>/<id>`."""
    return f"{chat_type}/{chat_id}"


def matched_command(commands: Sequence[str] | None, content: str) -> str:
    """Return the first subscribed command that starts `content`, or "" when none does."""
    for command in commands or ():
        if content.startswith(command):
            return command
    return ""


class StatsRecorder:
    """Count events in memory; `drain` hands the counts over for writing."""

    def __init__(self, clock: Callable[[], int] = time.time_ns) -> None:
        self._clock = clock  # nanoseconds since the epoch
        self._counters: Counter[CounterKey] = Counter()
        self._messages: Counter[MessageKey] = Counter()
        # (platform, sender id) -> (name, last seen ms) of the senders since the last drain
        self._senders: dict[tuple[str, str], tuple[str, int]] = {}
        # Running totals since start, for Prometheus and the messages-per-second figure.
        self.messages_total = 0
        self.totals: Counter[tuple[str, str]] = Counter()

    # -- the hot path: one or two dictionary updates per call -----------------------------------

    def message(
        self,
        platform: str,
        chat_type: str,
        chat_id: str,
        sender_id: str,
        sender_name: str | None = None,
    ) -> None:
        """Count one inbound message."""
        now = self._clock() // 1_000_000
        self._messages[(now - now % MINUTE_MS, platform, chat_type, chat_id, sender_id)] += 1
        self._senders[(platform, sender_id)] = (sender_name or "", now)
        self.messages_total += 1

    def count(self, metric: Metric, dim1: str = "", dim2: str = "", n: int = 1) -> None:
        """Count `n` events of `metric`."""
        now = self._clock() // 1_000_000
        # A StrEnum member is its own string: no `.value` lookup on the hot path.
        self._counters[(now - now % MINUTE_MS, metric, dim1, dim2)] += n

    def delivered(self, app: str, command: str = "") -> None:
        """Count a message handed to app name `app` (once per name, whatever the attempts)."""
        now = self._clock() // 1_000_000
        self._counters[(now - now % MINUTE_MS, Metric.DELIVERIES, app, command)] += 1

    def replied(self, app: str, command: str = "") -> None:
        """Count a reply (or a send) from app name `app`."""
        self.count(Metric.REPLIES, app, command)

    # -- handing over ---------------------------------------------------------------------------

    def drain(
        self,
    ) -> tuple[Counter[CounterKey], Counter[MessageKey], dict[tuple[str, str], tuple[str, int]]]:
        """Take what was counted since the last drain, leaving empty counters behind."""
        counters, messages, senders = self._counters, self._messages, self._senders
        self._counters, self._messages, self._senders = Counter(), Counter(), {}
        for (_, metric, dim1, _), n in counters.items():
            self.totals[(metric, dim1)] += n
        for (_, platform, *_), n in messages.items():
            self.totals[(Metric.MESSAGES.value, platform)] += n
        return counters, messages, senders


def _increment(dialect: str, table: type, keys: list[str], **extra: object) -> Insert:
    """Return an INSERT that adds to `count` (and sets `extra`) when the row exists."""
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table)
    target = table.__table__  # type: ignore[attr-defined]
    values = {"count": target.c["count"] + statement.excluded["count"], **extra}
    upsert: Insert = statement.on_conflict_do_update(index_elements=keys, set_=values)
    return upsert


class StatsWriter:
    """Turn drained counts into upserts of minute, hour and day buckets through the writer."""

    def __init__(
        self, recorder: StatsRecorder, writer: Writer, calendar: Calendar, dialect: str
    ) -> None:
        self.recorder = recorder
        self.calendar = calendar
        self._writer = writer
        self._upsert_counter = _increment(
            dialect, StatsCounter, ["metric", "period", "bucket_ms", "dim1", "dim2"]
        )
        self._upsert_messages = _increment(
            dialect,
            StatsMessages,
            ["period", "bucket_ms", "platform", "chat_type", "chat_id", "sender_id"],
        )
        module = postgresql if dialect == "postgresql" else sqlite
        senders = module.insert(StatsSender)
        table = StatsSender.__table__
        self._upsert_sender = senders.on_conflict_do_update(
            index_elements=["platform", "sender_id"],
            set_={
                # a message without a sender name keeps the name seen before
                "name": case(
                    (senders.excluded.name == "", table.c.name), else_=senders.excluded.name
                ),
                "last_seen_ms": senders.excluded.last_seen_ms,
                "messages": table.c.messages + senders.excluded.messages,
            },
        )
        # minute start -> (hour start, day start); a handful of minutes are live at a time
        self._rollup: dict[int, tuple[int, int]] = {}

    def _periods(self, minute: int) -> tuple[tuple[Period, int], ...]:
        starts = self._rollup.get(minute)
        if starts is None:
            if len(self._rollup) > 1000:
                self._rollup.clear()
            starts = (
                self.calendar.floor(Period.HOUR, minute),
                self.calendar.floor(Period.DAY, minute),
            )
            self._rollup[minute] = starts
        return (Period.MINUTE, minute), (Period.HOUR, starts[0]), (Period.DAY, starts[1])

    async def flush(self) -> int:
        """Queue the upserts for everything counted so far; return how many rows they touch."""
        counters, messages, senders = self.recorder.drain()
        # (metric, period, bucket, dim1, dim2) -> count
        totals: Counter[tuple[str, str, int, str, str]] = Counter()
        for (minute, metric, dim1, dim2), n in counters.items():
            for period, bucket in self._periods(minute):
                totals[(metric, period.value, bucket, dim1, dim2)] += n
        per_sender: Counter[tuple[str, str]] = Counter()
        message_rows: Counter[tuple[str, int, str, str, str, str]] = Counter()
        for (minute, platform, chat_type, chat_id, sender_id), n in messages.items():
            per_sender[(platform, sender_id)] += n
            chat = chat_key(chat_type, chat_id)
            for period, bucket in self._periods(minute):
                name = period.value
                message_rows[(name, bucket, platform, chat_type, chat_id, sender_id)] += n
                totals[(Metric.MESSAGES.value, name, bucket, platform, "")] += n
                totals[(Metric.SENDER_MESSAGES.value, name, bucket, platform, sender_id)] += n
                totals[(Metric.CHAT_MESSAGES.value, name, bucket, platform, chat)] += n
        rows = 0
        for (metric, period_name, bucket, dim1, dim2), n in totals.items():
            await self._writer.submit(
                self._upsert_counter,
                {
                    "metric": metric,
                    "period": period_name,
                    "bucket_ms": bucket,
                    "dim1": dim1,
                    "dim2": dim2,
                    "count": n,
                },
            )
            rows += 1
        for (
            period_name,
            bucket,
            platform,
            chat_type,
            chat_id,
            sender_id,
        ), n in message_rows.items():
            await self._writer.submit(
                self._upsert_messages,
                {
                    "period": period_name,
                    "bucket_ms": bucket,
                    "platform": platform,
                    "chat_type": chat_type,
                    "chat_id": chat_id,
                    "sender_id": sender_id,
                    "count": n,
                },
            )
            rows += 1
        for (platform, sender_id), (name, seen_ms) in senders.items():
            await self._writer.submit(
                self._upsert_sender,
                {
                    "platform": platform,
                    "sender_id": sender_id,
                    "name": name,
                    "first_seen_ms": seen_ms,
                    "last_seen_ms": seen_ms,
                    "messages": per_sender[(platform, sender_id)],
                },
            )
            rows += 1
        return rows

    async def flush_committed(self) -> None:
        """Queue what was counted and wait until it is committed (for exact reads)."""
        await self.flush()
        await self._writer.flush()
