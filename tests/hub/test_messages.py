"""Traceparents made for messages, and the payload apps receive."""

from __future__ import annotations

import re

from kenkogo_master.hub.messages import (
    InboundMessage,
    new_traceparent,
    new_traceparents,
    valid_traceparent,
)

W3C = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01")


def test_fresh_traceparents_are_well_formed_and_distinct() -> None:
    made = [*new_traceparents(50), new_traceparent()]
    assert all(W3C.fullmatch(value) for value in made)
    assert len(set(made)) == 51


def test_a_drivers_traceparent_is_kept_only_when_well_formed() -> None:
    given = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    assert valid_traceparent(given, lambda: "fresh") == given
    assert valid_traceparent("00-zz", lambda: "fresh") == "fresh"
    assert valid_traceparent(None, lambda: "fresh") == "fresh"


def test_the_payload_carries_the_time_as_rfc_3339() -> None:
    message = InboundMessage(
        id="m",
        driver_id="d",
        platform="qq",
        platform_message_id="p",
        chat={"type": "group", "id": "1"},
        sender={"id": "u"},
        content="hi",
        segments=[],
        locale=None,
        traceparent=new_traceparent(),
        time_ms=1_795_334_400_000,
        received_ms=0,
    )
    assert message.payload()["time"] == "2026-11-22T08:00:00Z"
    assert message.values()[3] == "p" and message.values()[-3:] == ("pending", "message", None)
    assert "kind" not in message.payload()  # chat messages look as they always did


def test_a_notice_payload_carries_its_kind_and_detail() -> None:
    notice = InboundMessage(
        id="n",
        driver_id="d",
        platform="qq",
        platform_message_id="notice:1",
        chat={"type": "group", "id": "1"},
        sender={"id": "u"},
        content="",
        segments=[],
        locale=None,
        traceparent=new_traceparent(),
        time_ms=0,
        received_ms=0,
        kind="notice.group_increase",
        detail={"notice_type": "group_increase"},
    )
    payload = notice.payload()
    assert payload["kind"] == "notice.group_increase"
    assert payload["detail"] == {"notice_type": "group_increase"}
    assert not notice.is_chat_message
