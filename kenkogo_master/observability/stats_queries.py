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

    # -- senders --------------------------------------------------------------------------------

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

    async def active_senders(
        self, start_ms: int, end_ms: int, now_ms: int, platform: str | None = None
    ) -> int:
        """Count distinct senders with at least one message in the range."""
        messages = StatsMessages
        parts = self._message_rows(
            [messages.platform, messages.sender_id], start_ms, end_ms, now_ms, platform, None
        )
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
        messages = StatsMessages
        inner = (
            select(messages.bucket_ms, messages.platform, messages.sender_id)
            .where(
                messages.period == period.value,
                messages.bucket_ms >= self.calendar.floor(period, start_ms),
                messages.bucket_ms < end_ms,
                *([messages.platform == platform] if platform is not None else []),
            )
            .distinct()
            .subquery()
        )
        statement = select(inner.c.bucket_ms, func.count()).group_by(inner.c.bucket_ms)
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
        total = func.sum(rows.c.count).label("total")
        top = (
            select(rows.c.platform, rows.c.sender_id, total)
            .group_by(rows.c.platform, rows.c.sender_id)
            .order_by(total.desc(), rows.c.platform, rows.c.sender_id)
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
        messages = StatsMessages
        parts = self._message_rows(
            [
                messages.platform,
                messages.chat_type,
                messages.chat_id,
                messages.sender_id,
                messages.count,
            ],
            start_ms,
            end_ms,
            now_ms,
            platform,
            None,
        )
        if not parts:
            return []
        rows = union_all(*parts).subquery()
        total = func.sum(rows.c.count).label("total")
        statement = (
            select(
                rows.c.platform,
                rows.c.chat_type,
                rows.c.chat_id,
                total,
                func.count(rows.c.sender_id.distinct()),
            )
            .group_by(rows.c.platform, rows.c.chat_type, rows.c.chat_id)
            .order_by(total.desc(), rows.c.platform, rows.c.chat_id)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            return [
                {
                    "platform": row[0],
                    "chat_type": row[1],
                    "chat_id": row[2],
                    "count": int(row[3]),
                    "senders": int(row[4]),
                }
                for row in await connection.execute(statement)
            ]

    async def senders_known(self) -> int:
        """Count every sender ever seen."""
        async with self._engine.connect() as connection:
            statement = select(func.count()).select_from(StatsSender)
            return int((await connection.execute(statement)).scalar_one())
