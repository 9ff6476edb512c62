"""Time buckets of the statistics: minutes, hours and days in the operator's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000


class Period(StrEnum):
    """The size of a bucket; every count is kept at all three."""

    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"


# Coarsest first: a range is covered by the largest buckets that fit inside it.
COARSE_TO_FINE = (Period.DAY, Period.HOUR, Period.MINUTE)


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of time answered by buckets of one period: bucket_ms in [start_ms, end_ms)."""

    period: Period
    start_ms: int
    end_ms: int


class Calendar:
    """Bucket arithmetic in one time zone (hours and days start where local clocks say)."""

    def __init__(self, zone: str = "UTC") -> None:
        self.zone = zone
        self._tz = ZoneInfo(zone)
        # Zones whose offset is always whole hours (UTC, Asia/Shanghai...) keep hours on UTC hours.
        self._utc = zone in ("UTC", "Etc/UTC")

    def floor(self, period: Period, at_ms: int) -> int:
        """Return the start of the bucket of `period` holding `at_ms`."""
        if period is Period.MINUTE:
            return at_ms - at_ms % MINUTE_MS
        if self._utc:
            size = HOUR_MS if period is Period.HOUR else DAY_MS
            return at_ms - at_ms % size
        local = datetime.fromtimestamp(at_ms / 1000, self._tz)
        if period is Period.HOUR:
            start = local.replace(minute=0, second=0, microsecond=0)
        else:
            start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return int(start.timestamp() * 1000)

    def next(self, period: Period, bucket_ms: int) -> int:
        """Return the start of the bucket after the one starting at `bucket_ms`."""
        if period is Period.MINUTE:
            return bucket_ms + MINUTE_MS
        if period is Period.HOUR:
            # An hour is an hour even across a clock change, but its start must stay aligned.
            return self.floor(period, bucket_ms + HOUR_MS + MINUTE_MS)
        if self._utc:
            return bucket_ms + DAY_MS
        local = datetime.fromtimestamp(bucket_ms / 1000, self._tz)
        following = (local + timedelta(days=1, hours=12)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        return int(following.timestamp() * 1000)

    def ceil(self, period: Period, at_ms: int) -> int:
        """Return the first bucket start at or after `at_ms`."""
        start = self.floor(period, at_ms)
        return start if start == at_ms else self.next(period, start)

    def buckets(self, period: Period, start_ms: int, end_ms: int) -> list[int]:
        """Return the starts of the buckets that overlap [start_ms, end_ms)."""
        starts = []
        bucket = self.floor(period, start_ms)
        while bucket < end_ms:
            starts.append(bucket)
            bucket = self.next(period, bucket)
        return starts

    def cover(self, start_ms: int, end_ms: int) -> list[Segment]:
        """Split [start_ms, end_ms) into as few aligned buckets as possible, coarsest inside.

        Both ends are widened to whole minutes. The answer is exact to the minute.
        """
        start = self.floor(Period.MINUTE, start_ms)
        end = self.ceil(Period.MINUTE, end_ms)
        return self._cover(start, end, 0)

    def _cover(self, start: int, end: int, level: int) -> list[Segment]:
        if start >= end:
            return []
        period = COARSE_TO_FINE[level]
        if period is Period.MINUTE:
            return [Segment(period, start, end)]
        inner_start = self.ceil(period, start)
        inner_end = self.floor(period, end)
        if inner_start >= inner_end:
            return self._cover(start, end, level + 1)
        return [
            *self._cover(start, inner_start, level + 1),
            Segment(period, inner_start, inner_end),
            *self._cover(inner_end, end, level + 1),
        ]

    def widen_for_retention(
        self, start_ms: int, now_ms: int, retention_ms: dict[Period, int]
    ) -> int:
        """Move `start_ms` back to a bucket start of the finest period still kept at that time."""
        for period in (Period.MINUTE, Period.HOUR):
            if start_ms >= now_ms - retention_ms[period]:
                return start_ms
            start_ms = self.floor(COARSE_TO_FINE[COARSE_TO_FINE.index(period) - 1], start_ms)
        return start_ms
