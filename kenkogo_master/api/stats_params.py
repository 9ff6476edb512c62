"""Query parameters of the statistics API: times, ranges, intervals and windows."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.observability.buckets import DAY_MS, HOUR_MS, MINUTE_MS, Period

MAX_POINTS = 100_000
PERIOD_MS = {Period.MINUTE: MINUTE_MS, Period.HOUR: HOUR_MS, Period.DAY: DAY_MS}
# How far back a series reaches when `from` is not given.
DEFAULT_SPAN_MS = {Period.MINUTE: HOUR_MS, Period.HOUR: DAY_MS, Period.DAY: 30 * DAY_MS}
_WINDOW = re.compile(r"(\d{1,9})([smhdw]?)")
_UNIT_MS = {"": 1000, "s": 1000, "m": MINUTE_MS, "h": HOUR_MS, "d": DAY_MS, "w": 7 * DAY_MS}
WINDOW_ALIASES = {"dau": "1d", "wau": "7d", "mau": "30d"}
# Span times are nanoseconds in a signed 64-bit column: they end in 2262, so times end at 2200.
MAX_EPOCH_MS = 7_258_118_400_000  # 2200-01-01T00:00:00Z


def to_epoch_ms(value: Any) -> Any:
    """Accept epoch milliseconds or an RFC 3339 time (a time without offset is UTC)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return in_time_range(value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d{1,20}", text):
            return in_time_range(int(text))
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return in_time_range(int(moment.timestamp() * 1000))
    raise ValueError("expected epoch milliseconds or an RFC 3339 time such as 2026-03-01T08:00:00Z")


def in_time_range(ms: int) -> int:
    """Refuse times no row can have; later ones would overflow 64-bit nanoseconds in SQL."""
    if not 0 <= ms <= MAX_EPOCH_MS:
        raise ValueError("a time must be between 1970-01-01 and 2200-01-01 (UTC)")
    return ms


def window_ms(value: Any) -> Any:
    """Read a window such as `90m`, `24h`, `7d`, `2w`, `3600` (seconds) or `dau`/`wau`/`mau`."""
    if not isinstance(value, str):
        raise ValueError("expected a window such as 30m, 24h, 7d or 2w")
    text = WINDOW_ALIASES.get(value.strip().lower(), value.strip().lower())
    match = _WINDOW.fullmatch(text)
    if match is None:
        raise ValueError(
            f"{value!r} is not a window: use a number with s, m, h, d or w (e.g. 7d), "
            "or dau, wau, mau"
        )
    amount = int(match[1]) * _UNIT_MS[match[2]]
    if amount <= 0:
        raise ValueError("the window must be longer than zero")
    if amount > 3660 * DAY_MS:
        raise ValueError("the window must be at most ten years")
    return amount


# What the OpenAPI document shows: the forms a caller may write, not the int they become.
TIME_SCHEMA = {
    "anyOf": [
        {"type": "integer", "minimum": 0, "maximum": MAX_EPOCH_MS},
        {"type": "string", "format": "date-time"},
    ],
    "description": "epoch milliseconds, or an RFC 3339 time (UTC when it names no offset)",
}
WINDOW_SCHEMA = {
    "type": "string",
    "pattern": r"^(\d{1,9}[smhdw]?|dau|wau|mau)$",
    "description": "a number with s, m, h, d or w (seconds without a unit), or dau, wau, mau",
}
EpochMs = Annotated[int, BeforeValidator(to_epoch_ms), WithJsonSchema(TIME_SCHEMA)]
WindowMs = Annotated[int, BeforeValidator(window_ms), WithJsonSchema(WINDOW_SCHEMA)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class RangeQuery(BaseModel):
    """`from` and `to`, as epoch milliseconds or RFC 3339 times; [from, to)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: EpochMs | None = Field(None, alias="from")
    to: EpochMs | None = None

    def span(self, now_ms: int, default_ms: int) -> tuple[int, int]:
        """Return (start, end), filling the gaps: `to` is now, `from` is `default_ms` before it."""
        end = self.to if self.to is not None else now_ms
        start = self.start if self.start is not None else end - default_ms
        if start > end:
            raise HubError(ErrorCode.INVALID_PAYLOAD, detail="from: must not be after to")
        return start, end


def check_points(period: Period, start: int, end: int) -> None:
    """Refuse a series that would have too many points for its interval."""
    points = (end - start) // PERIOD_MS[period] + 1
    if points > MAX_POINTS:
        detail = (
            f"interval: {points} {period.value} buckets from `from` to `to`, at most {MAX_POINTS}; "
            "choose a coarser interval or a shorter range"
        )
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)


class MessagesQuery(RangeQuery):
    """GET /api/v1/stats/messages."""

    interval: Period = Period.HOUR
    platform: Name | None = None
    chat: Name | None = None
    sender: Name | None = None


class TotalsQuery(RangeQuery):
    """GET /api/v1/stats/apps and /stats/commands."""

    app: Name | None = None


class AppSeriesQuery(RangeQuery):
    """GET /api/v1/stats/apps/{name}."""

    interval: Period = Period.HOUR


class ActiveQuery(RangeQuery):
    """GET /api/v1/stats/users/active: a count over `window`, or a series by `interval`."""

    window: WindowMs | None = None
    interval: Period | None = None
    platform: Name | None = None


class TopQuery(RangeQuery):
    """GET /api/v1/stats/top-senders and /stats/top-chats."""

    limit: int = Field(10, ge=1, le=1000)
    platform: Name | None = None
    chat: Name | None = None


class NoQuery(BaseModel):
    """An endpoint without parameters: anything given is a mistake worth telling."""

    model_config = ConfigDict(extra="forbid")
