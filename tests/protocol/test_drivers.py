"""What drivers send: events validated one by one or a batch at once, times read exactly."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from kenkogo_master.protocol.drivers import (
    InboundEvent,
    format_time,
    parse_time_ms,
    validate_batch,
)


def event(pid: str, **fields: Any) -> dict[str, Any]:
    return {
        "platform_message_id": pid,
        "chat": {"type": "group", "id": "1"},
        "sender": {"id": "u"},
        "content": "hi",
        **fields,
    }


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("2026-11-22T08:00:00Z", 1_795_334_400_000),
        ("2026-11-22T08:00:00.123+08:00", 1_795_305_600_123),
        ("2026-11-22T08:00:00", 1_795_334_400_000),  # no offset: UTC
        ("1969-12-31T23:59:59.999Z", -1),
        ("2026-11-22T08:00:00.999999Z", 1_795_334_400_999),  # whole milliseconds, not rounded
    ],
)
def test_times_become_exact_epoch_milliseconds(text: str, ms: int) -> None:
    assert parse_time_ms(text) == ms


def test_a_time_formats_back_to_utc() -> None:
    assert format_time(parse_time_ms("2026-11-22T08:00:00.120+08:00")) == (
        "2026-11-22T00:00:00.120Z"
    )


def test_a_batch_validates_as_the_events_would_one_by_one() -> None:
    items = [event(f"p{n}", time=f"2026-11-22T08:00:0{n}Z") for n in range(3)]
    items.append(event("untimed", chat={"type": "group", "id": "2", "name": None}))
    batch = validate_batch(items)
    assert [e.model_dump() for e in batch] == [
        InboundEvent.model_validate(item).model_dump() for item in items
    ]
    assert all(isinstance(e, InboundEvent) for e in batch)


@pytest.mark.parametrize(
    "bad",
    [
        event("p", time="yesterday"),
        event("p", time=1_700_000_000),
        event("p", chat={"type": "group"}),
        event("p" * 129),
        "not an object",
    ],
)
def test_a_batch_with_any_bad_event_is_refused_as_one_by_one(bad: Any) -> None:
    with pytest.raises(ValueError):  # a ValidationError is a ValueError too
        validate_batch([event("ok", time="2026-11-22T08:00:00Z"), bad])
    with pytest.raises(ValidationError):
        InboundEvent.model_validate(bad)


def test_a_bad_time_is_refused_with_the_rfc_named() -> None:
    with pytest.raises(ValidationError) as caught:
        InboundEvent.model_validate(event("p", time="yesterday"))
    assert "RFC 3339" in str(caught.value)


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (1_795_334_400_000, "2026-11-22T08:00:00Z"),
        (1_795_334_400_007, "2026-11-22T08:00:00.007Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (-59_011_459_200_000, "0100-01-01T00:00:00Z"),  # four digits for the year, always
    ],
)
def test_times_format_as_rfc_3339_utc(ms: int, text: str) -> None:
    assert format_time(ms) == text
    assert parse_time_ms(text) == ms
