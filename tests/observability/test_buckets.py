"""Bucket arithmetic: floors, steps and covering ranges, in UTC and in a local zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from kenkogo_master.observability.buckets import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    Calendar,
    Period,
    Segment,
)


def ms(text: str, zone: str = "UTC") -> int:
    """Return epoch ms of a local time like "2026-03-01 13:27"."""
    return int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp() * 1000)


def test_utc_floors() -> None:
    calendar = Calendar()
    at = ms("2026-03-01 13:27:45")
    assert calendar.floor(Period.MINUTE, at) == ms("2026-03-01 13:27")
    assert calendar.floor(Period.HOUR, at) == ms("2026-03-01 13:00")
    assert calendar.floor(Period.DAY, at) == ms("2026-03-01 00:00")
    assert calendar.next(Period.DAY, ms("2026-03-01 00:00")) == ms("2026-03-02 00:00")


def test_days_start_at_local_midnight() -> None:
    calendar = Calendar("Asia/Shanghai")
    at = ms("2026-03-01 01:30", "Asia/Shanghai")  # 2026-02-28 17:30 UTC
    assert calendar.floor(Period.DAY, at) == ms("2026-03-01 00:00", "Asia/Shanghai")
    assert calendar.next(Period.DAY, calendar.floor(Period.DAY, at)) == ms(
        "2026-03-02 00:00", "Asia/Shanghai"
    )


def test_half_hour_zones_keep_local_hours() -> None:
    calendar = Calendar("Asia/Kolkata")
    at = ms("2026-03-01 10:45", "Asia/Kolkata")
    assert calendar.floor(Period.HOUR, at) == ms("2026-03-01 10:00", "Asia/Kolkata")
    assert calendar.next(Period.HOUR, ms("2026-03-01 10:00", "Asia/Kolkata")) == ms(
        "2026-03-01 11:00", "Asia/Kolkata"
    )


def test_a_day_with_a_clock_change_is_one_bucket() -> None:
    calendar = Calendar("Europe/Berlin")
    start = ms("2026-03-29 00:00", "Europe/Berlin")  # 23 hours long
    assert calendar.next(Period.DAY, start) - start == 23 * HOUR_MS
    assert len(calendar.buckets(Period.HOUR, start, calendar.next(Period.DAY, start))) == 23


def test_cover_uses_the_coarsest_buckets_that_fit() -> None:
    calendar = Calendar()
    start, end = ms("2026-03-01 22:50"), ms("2026-03-04 01:10")
    assert calendar.cover(start, end) == [
        Segment(Period.MINUTE, ms("2026-03-01 22:50"), ms("2026-03-01 23:00")),
        Segment(Period.HOUR, ms("2026-03-01 23:00"), ms("2026-03-02 00:00")),
        Segment(Period.DAY, ms("2026-03-02 00:00"), ms("2026-03-04 00:00")),
        Segment(Period.HOUR, ms("2026-03-04 00:00"), ms("2026-03-04 01:00")),
        Segment(Period.MINUTE, ms("2026-03-04 01:00"), ms("2026-03-04 01:10")),
    ]
    covered = sum(segment.end_ms - segment.start_ms for segment in calendar.cover(start, end))
    assert covered == end - start


def test_cover_inside_one_hour_is_minutes() -> None:
    calendar = Calendar()
    start = ms("2026-03-01 10:05:30")
    assert calendar.cover(start, start + 3 * MINUTE_MS) == [
        Segment(Period.MINUTE, ms("2026-03-01 10:05"), ms("2026-03-01 10:09"))
    ]


def test_expired_minutes_widen_the_start_to_hours_then_days() -> None:
    calendar = Calendar()
    now = ms("2026-03-31 12:00")
    retention = {Period.MINUTE: 2 * DAY_MS, Period.HOUR: 10 * DAY_MS, Period.DAY: 400 * DAY_MS}
    recent = ms("2026-03-30 10:17")
    assert calendar.widen_for_retention(recent, now, retention) == recent
    assert calendar.widen_for_retention(ms("2026-03-25 10:17"), now, retention) == ms(
        "2026-03-25 10:00"
    )
    assert calendar.widen_for_retention(ms("2026-03-02 10:17"), now, retention) == ms(
        "2026-03-02 00:00"
    )
