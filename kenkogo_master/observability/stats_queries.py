"""Read the statistics buckets: series, totals, active senders and top lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, select, union, union_all
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.observability.buckets import DAY_MS, Calendar, Period, Segment
from kenkogo_master.observability.stats import Metric
from kenkogo_master.store.observability_models import StatsCounter, StatsMessages, StatsSender

Row = dict[str, Any]


class StatsQueries:
    """Answer statistics questions from SQL; every range is [start_ms, end_ms)."""

    def __init__(
        self, engine: AsyncEngine, calendar: Calendar, retention_days: dict[Period, float]
    ) -> None:
        self._engine = engine
        self.calendar = calendar
        self.retention_ms = {period: int(days * DAY_MS) for period, days in retention_days.items()}

    # -- time ranges ----------------------------------------------------------------------------

    def segments(self, start_ms: int, end_ms: int, now_ms: int) -> list[Segment]:
        """Cover a range with the coarsest buckets that fit, widened where fine ones expired."""
        start = self.calendar.widen_for_retention(start_ms, now_ms, self.retention_ms)
        if end_ms >= now_ms:
            # Nothing is counted after now, so the bucket holding now may be read whole.
            end_ms = self.calendar.next(Period.DAY, self.calendar.floor(Period.DAY, now_ms))
        return self.calendar.cover(start, end_ms)

    @staticmethod
    def _in(table: Any, segment: Segment) -> ColumnElement[bool]:
        return and_(
            table.period == segment.period.value,
            table.bucket_ms >= segment.start_ms,
            table.bucket_ms < segment.end_ms,
        )

    # -- message series -------------------------------------------------------------------------

    async def message_series(
        self,
        period: Period,
        start_ms: int,
        end_ms: int,
        *,
        platform: str | None = None,
        chat: str | None = None,
        sender: str | None = None,
    ) -> list[Row]:
        """Return messages per bucket, zeros included, for the filters given."""
        first = self.calendar.floor(period, start_ms)
        statement: Select[int, int]
        if chat is None and sender is None:
            counters = StatsCounter
            statement = (
                select(counters.bucket_ms, func.sum(counters.count))
                .where(
                    counters.metric == Metric.MESSAGES.value,
                    counters.period == period.value,
                    counters.bucket_ms >= first,
                    counters.bucket_ms < end_ms,
                )
                .group_by(counters.bucket_ms)
            )
            if platform is not None:
                statement = statement.where(counters.dim1 == platform)
        else:
            messages = StatsMessages
            statement = (
                select(messages.bucket_ms, func.sum(messages.count))
                .where(
                    messages.period == period.value,
                    messages.bucket_ms >= first,
                    messages.bucket_ms < end_ms,
                )
                .group_by(messages.bucket_ms)
            )
            if platform is not None:
                statement = statement.where(messages.platform == platform)
            if chat is not None:
                statement = statement.where(messages.chat_id == chat)
            if sender is not None:
                statement = statement.where(messages.sender_id == sender)
        async with self._engine.connect() as connection:
            counts = {row[0]: int(row[1]) for row in await connection.execute(statement)}
        return [
            {"t": bucket, "count": counts.get(bucket, 0)}
            for bucket in self.calendar.buckets(period, start_ms, end_ms)
        ]

    # -- counters -------------------------------------------------------------------------------

    async def counter_totals(
        self,
        metrics: Sequence[Metric],
        start_ms: int,
        end_ms: int,
        now_ms: int,
        *,
        by_command: bool = False,
        dim1: str | None = None,
    ) -> list[Row]:
        """Return the sums of `metrics` over a range, by dim1 (and dim2 when `by_command`)."""
        counters = StatsCounter
        parts = [
            select(counters.metric, counters.dim1, counters.dim2, counters.count).where(
                counters.metric.in_([metric.value for metric in metrics]),
                self._in(counters, segment),
                *([counters.dim1 == dim1] if dim1 is not None else []),
            )
            for segment in self.segments(start_ms, end_ms, now_ms)
        ]
        if not parts:
            return []
        rows = union_all(*parts).subquery()
        keys = [rows.c.metric, rows.c.dim1] + ([rows.c.dim2] if by_command else [])
        statement = select(*keys, func.sum(rows.c.count)).group_by(*keys)
        async with self._engine.connect() as connection:
            result = await connection.execute(statement)
            return [
                {
                    "metric": row[0],
                    "dim1": row[1],
                    **({"dim2": row[2]} if by_command else {}),
                    "count": int(row[-1]),
                }
                for row in result
            ]

    async def counter_series(
        self, metrics: Sequence[Metric], period: Period, start_ms: int, end_ms: int, dim1: str
    ) -> dict[str, list[Row]]:
        """Return per-bucket sums of each metric for one dim1 (an app name), zeros included."""
        counters = StatsCounter
        statement = (
            select(counters.metric, counters.bucket_ms, func.sum(counters.count))
            .where(
                counters.metric.in_([metric.value for metric in metrics]),
                counters.period == period.value,
                counters.bucket_ms >= self.calendar.floor(period, start_ms),
                counters.bucket_ms < end_ms,
                counters.dim1 == dim1,
            )
            .group_by(counters.metric, counters.bucket_ms)
        )
        async with self._engine.connect() as connection:
            counts = {(row[0], row[1]): int(row[2]) for row in await connection.execute(statement)}
        buckets = self.calendar.buckets(period, start_ms, end_ms)
        return {
            metric.value: [{"t": b, "count": counts.get((metric.value, b), 0)} for b in buckets]
            for metric in metrics
        }

    async def knows_dim1(self, metrics: Sequence[Metric], dim1: str) -> bool:
        """Tell whether any bucket of `metrics` was ever counted for `dim1`."""
        counters = StatsCounter
        statement = (
            select(literal(1))
            .where(
                counters.metric.in_([metric.value for metric in metrics]),
                counters.period == Period.DAY.value,
                counters.dim1 == dim1,
            )
            .limit(1)
        )
        async with self._engine.connect() as connection:
            return (await connection.execute(statement)).first() is not None

    # -- senders and chats ------------------------------------------------------------------------

    def _message_rows(
        self,
        columns: Sequence[Any],
        start_ms: int,
        end_ms: int,
        now_ms: int,
        platform: str | None,
        chat: str | None,
    ) -> list[Select[Any]]:
        messages = StatsMessages
        filters = []
        if platform is not None:
            filters.append(messages.platform == platform)
        if chat is not None:
            filters.append(messages.chat_id == chat)
        return [
            select(*columns).where(self._in(messages, segment), *filters)
            for segment in self.segments(start_ms, end_ms, now_ms)
        ]

    def _per_key_rows(
        self, metric: Metric, start_ms: int, end_ms: int, now_ms: int, platform: str | None
    ) -> list[Select[str, str, int]]:
        """Select (platform, key, count) of the per-sender or per-chat counters in a range."""
        counters = StatsCounter
        filters = [counters.metric == metric.value]
        if platform is not None:
            filters.append(counters.dim1 == platform)
        return [
            select(counters.dim1, counters.dim2, counters.count).where(
                *filters, self._in(counters, segment)
            )
            for segment in self.segments(start_ms, end_ms, now_ms)
        ]

    async def active_senders(
        self, start_ms: int, end_ms: int, now_ms: int, platform: str | None = None
    ) -> int:
        """Count distinct senders with at least one message in the range."""
        parts = [
            part.with_only_columns(StatsCounter.dim1, StatsCounter.dim2)
            for part in self._per_key_rows(
                Metric.SENDER_MESSAGES, start_ms, end_ms, now_ms, platform
            )
        ]
        if not parts:
            return 0
        # UNION (not UNION ALL) keeps each sender once however many buckets it appears in.
        distinct = union(*parts).subquery() if len(parts) > 1 else parts[0].distinct().subquery()
        statement = select(func.count()).select_from(distinct)
        async with self._engine.connect() as connection:
            return int((await connection.execute(statement)).scalar_one())

    async def active_series(
        self, period: Period, start_ms: int, end_ms: int, platform: str | None = None
    ) -> list[Row]:
        """Return distinct senders per bucket (DAU per day, per hour...), zeros included."""
        counters = StatsCounter
        # Each per-sender row of a bucket is one sender; a platform filter keeps them distinct.
        keys = counters.dim2 if platform is not None else counters.dim1 + " " + counters.dim2
        statement = (
            select(counters.bucket_ms, func.count(keys.distinct()))
            .where(
                counters.metric == Metric.SENDER_MESSAGES.value,
                counters.period == period.value,
                counters.bucket_ms >= self.calendar.floor(period, start_ms),
                counters.bucket_ms < end_ms,
                *([counters.dim1 == platform] if platform is not None else []),
            )
            .group_by(counters.bucket_ms)
        )
        async with self._engine.connect() as connection:
            counts = {row[0]: int(row[1]) for row in await connection.execute(statement)}
        return [
            {"t": bucket, "active": counts.get(bucket, 0)}
            for bucket in self.calendar.buckets(period, start_ms, end_ms)
        ]

    async def top_senders(
        self,
        start_ms: int,
        end_ms: int,
        now_ms: int,
        limit: int,
        platform: str | None = None,
        chat: str | None = None,
    ) -> list[Row]:
        """Return the senders with most messages in the range, with their latest names."""
        parts: list[Any]
        if chat is None:
            parts = self._per_key_rows(Metric.SENDER_MESSAGES, start_ms, end_ms, now_ms, platform)
        else:
            messages = StatsMessages
            parts = self._message_rows(
                [messages.platform, messages.sender_id, messages.count],
                start_ms,
                end_ms,
                now_ms,
                platform,
                chat,
            )
        if not parts:
            return []
        rows = union_all(*parts).subquery()
        platform_column, sender_column, count_column = rows.c
        total = func.sum(count_column).label("total")
        top = (
            select(platform_column.label("platform"), sender_column.label("sender_id"), total)
            .group_by(platform_column, sender_column)
            .order_by(total.desc(), platform_column, sender_column)
            .limit(limit)
            .subquery()
        )
        senders = StatsSender
        statement = (
            select(top.c.platform, top.c.sender_id, top.c.total, senders.name)
            .outerjoin(
                senders,
                and_(senders.platform == top.c.platform, senders.sender_id == top.c.sender_id),
            )
            .order_by(top.c.total.desc(), top.c.platform, top.c.sender_id)
        )
        async with self._engine.connect() as connection:
            return [
                {
                    "platform": row[0],
                    "sender_id": row[1],
                    "name": row[3] or None,
                    "count": int(row[2]),
                }
                for row in await connection.execute(statement)
            ]

    async def top_chats(
        self, start_ms: int, end_ms: int, now_ms: int, limit: int, platform: str | None = None
    ) -> list[Row]:
        """Return the chats with most messages in the range and how many people spoke there."""
        parts = self._per_key_rows(Metric.CHAT_MESSAGES, start_ms, end_ms, now_ms, platform)
        if not parts:
            return []
        rows = union_all(*parts).subquery()
        platform_column, chat_column, count_column = rows.c
        total = func.sum(count_column).label("total")
        statement = (
            select(platform_column, chat_column, total)
            .group_by(platform_column, chat_column)
            .order_by(total.desc(), platform_column, chat_column)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            top = [
                (row[0], *row[1].split("/", 1), int(row[2]))
                for row in await connection.execute(statement)
            ]
        items = []
        for chat_platform, chat_type, chat_id, count in top:
            # Distinct senders of one chat do not add up across buckets: count them from the
            # per-chat-and-sender rows, which the chat index finds quickly.
            messages = StatsMessages
            parts = [
                part.where(messages.chat_type == chat_type)
                for part in self._message_rows(
                    [messages.sender_id], start_ms, end_ms, now_ms, chat_platform, chat_id
                )
            ]
            distinct = (
                union(*parts).subquery() if len(parts) > 1 else parts[0].distinct().subquery()
            )
            async with self._engine.connect() as connection:
                senders = await connection.scalar(select(func.count()).select_from(distinct))
            items.append(
                {
                    "platform": chat_platform,
                    "chat_type": chat_type,
                    "chat_id": chat_id,
                    "count": count,
                    "senders": int(senders or 0),
                }
            )
        return items

    async def senders_known(self) -> int:
        """Count every sender ever seen."""
        async with self._engine.connect() as connection:
            statement = select(func.count()).select_from(StatsSender)
            return int((await connection.execute(statement)).scalar_one())
