"""What drivers send: events validated one by one or a batch at once, times read exactly."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from kenkogo_master.protocol.drivers import (
    INBOUND_EVENTS,
    InboundEvent,
    format_time,
    parse_time_ms,
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
    items = [event(f"p{n}", time="2026-11-22T08:00:00Z") for n in range(3)]
    batch = INBOUND_EVENTS.validate_python(items)
    assert batch == [InboundEvent.model_validate(item) for item in items]


def test_a_bad_time_is_refused_with_the_rfc_named() -> None:
    with pytest.raises(ValidationError) as caught:
        InboundEvent.model_validate(event("p", time="yesterday"))
    assert "RFC 3339" in str(caught.value)
    with pytest.raises(ValidationError):
        INBOUND_EVENTS.validate_python([event("ok"), event("p", time="yesterday")])
