"""Format template parameters for a locale with babel: plain values and typed objects."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel import Locale
from babel.dates import format_date, format_datetime, get_timezone
from babel.numbers import format_currency, format_decimal, format_percent, is_currency

Number = int | float | Decimal

# Each typed parameter is an object with one of these keys, plus the options listed with it.
_OPTIONS: dict[str, frozenset[str]] = {
    "number": frozenset(),
    "currency": frozenset({"code"}),
    "date": frozenset({"format"}),
    "datetime": frozenset({"format", "tz"}),
    "percent": frozenset(),
    "plural": frozenset(),
}
_LENGTHS = frozenset({"short", "medium", "long", "full"})


class ParamError(ValueError):
    """A template parameter's value cannot be formatted; the message says why."""


@dataclass(frozen=True)
class Formatted:
    """A parameter formatted as text, with its count when it decides the plural form."""

    text: str
    count: Number | None = None


def _number(value: object) -> Number:
    """Return a finite number from a JSON number or numeric string."""
    if isinstance(value, bool):
        raise ParamError("expected a number, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParamError("expected a finite number")
        return value
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            raise ParamError(f"expected a number, got {value[:40]!r}") from None
        if not parsed.is_finite():
            raise ParamError("expected a finite number")
        return parsed
    raise ParamError(f"expected a number, got {type(value).__name__}")


def _length(spec: Mapping[str, object]) -> str:
    """Return the date/time format length a typed parameter asks for (medium by default)."""
    length = spec.get("format", "medium")
    if not isinstance(length, str) or length not in _LENGTHS:
        raise ParamError(f"format must be one of short, medium, long, full, not {length!r}")
    return length


def _typed(spec: Mapping[str, object], locale: Locale) -> Formatted:
    """Format a typed parameter object such as {"currency": 9.99, "code": "CNY"}."""
    kinds = [kind for kind in _OPTIONS if kind in spec]
    if len(kinds) != 1:
        raise ParamError(f"expected exactly one of {', '.join(_OPTIONS)}")
    kind = kinds[0]
    extra = set(spec) - {kind} - _OPTIONS[kind]
    if extra:
        raise ParamError(f"unknown option {sorted(extra)[0]!r} for {kind}")
    value = spec[kind]
    if kind == "number":
        return Formatted(format_decimal(_number(value), locale=locale))
    if kind == "plural":
        count = _number(value)
        return Formatted(format_decimal(count, locale=locale), count)
    if kind == "percent":
        return Formatted(format_percent(_number(value), locale=locale))
    if kind == "currency":
        code = spec.get("code")
        if not isinstance(code, str) or not is_currency(code.upper()):
            raise ParamError(f"unknown currency code {code!r}")
        return Formatted(format_currency(_number(value), code.upper(), locale=locale))
    if not isinstance(value, str):
        raise ParamError(f"{kind} must be an ISO 8601 string")
    if kind == "date":
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ParamError(f"not an ISO 8601 date: {value[:40]!r}") from None
        return Formatted(format_date(day, _length(spec), locale=locale))
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ParamError(f"not an ISO 8601 date and time: {value[:40]!r}") from None
    zone_name = spec.get("tz", "UTC")
    try:
        zone = get_timezone(zone_name if isinstance(zone_name, str) else "")
    except LookupError:
        raise ParamError(f"unknown time zone {zone_name!r}") from None
    # A time without an offset is taken as UTC, the protocol's convention for payload times.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return Formatted(format_datetime(moment, _length(spec), tzinfo=zone, locale=locale))


def format_param(value: object, locale: Locale) -> Formatted:
    """Format one template parameter: strings as they are, numbers as decimals, typed objects."""
    if isinstance(value, str):
        return Formatted(value)
    if isinstance(value, Mapping):
        return _typed(value, locale)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Formatted(format_decimal(_number(value), locale=locale))
    raise ParamError(f"expected a string, number or typed object, got {type(value).__name__}")


def whole(count: Number) -> int | None:
    """Return a count as an int when it is whole (5.0 reads as 5), else None."""
    if isinstance(count, int):
        return count
    return int(count) if count == int(count) else None
