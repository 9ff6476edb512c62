"""Typed template parameters formatted with babel for a locale."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel import Locale

from kenkogo_master.i18n.formats import Formatted, format_param

EN = Locale.parse("en")
ZH = Locale.parse("zh_Hans")
JA = Locale.parse("ja")


@pytest.mark.parametrize(
    ("value", "locale", "expected"),
    [
        ("text", EN, "text"),
        (1234567.891, ZH, "1,234,567.891"),
        (1234567.891, Locale.parse("de"), "1.234.567,891"),
        ({"number": 1234.5}, EN, "1,234.5"),
        ({"number": "1234.5"}, Locale.parse("fr"), "1\u202f234,5"),
        ({"currency": 9.99, "code": "CNY"}, ZH, "¥9.99"),
        ({"currency": 9.99, "code": "cny"}, EN, "CN¥9.99"),
        ({"currency": 1200, "code": "JPY"}, JA, "￥1,200"),
        ({"percent": 0.25}, EN, "25%"),
        ({"date": "2026-11-22"}, EN, "Nov 22, 2026"),
        ({"date": "2026-11-22", "format": "long"}, ZH, "2026年11月22日"),
        ({"date": "2026-11-22", "format": "short"}, JA, "2026/11/22"),
        ({"datetime": "2026-11-22T08:00:00Z"}, EN, "Nov 22, 2026, 8:00:00\u202fAM"),
        ({"datetime": "2026-11-22T08:00:00", "format": "short"}, EN, "11/22/26, 8:00\u202fAM"),
        (
            {"datetime": "2026-11-22T08:00:00Z", "format": "short", "tz": "Asia/Tokyo"},
            JA,
            "2026/11/22 17:00",
        ),
    ],
)
def test_values_are_formatted_for_the_locale(value: object, locale: Locale, expected: str) -> None:
    assert format_param(value, locale).text == expected


def test_a_plural_param_carries_its_count() -> None:
    assert format_param({"plural": 5}, EN) == Formatted("5", 5)
    assert format_param({"plural": "2.50"}, EN) == Formatted("2.5", Decimal("2.50"))
    assert format_param({"number": 5}, EN).count is None
