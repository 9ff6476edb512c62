"""Delivery rows: written once when an attempt ends quickly, as it stands when it stays open."""

from __future__ import annotations

import asyncio
from typing import Any

from kenkogo_master.hub.recorder import Attempt, DeliveryStatus, Recorder


class FakeRecords:
    """Keeps each row handed over, by statement, as a dict of its columns."""

    insert_delivery = "insert"
    update_delivery = "update"
    set_message_status = "status"

    def __init__(self) -> None:
        self.writes: list[tuple[str, dict[str, Any]]] = []
        self.calls = 0

    async def submit_rows(
        self, statement: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        if rows:
            self.calls += 1
        self.writes.extend((statement, dict(zip(columns, row, strict=True))) for row in rows)


def attempt(name: str) -> Attempt:
    return Attempt(id=name, message_id="m", app_name="app", number=1, created_ms=1)


def summary(records: FakeRecords) -> list[tuple[str, str, str]]:
    return [
        (kind, params.get("id") or params["row_id"], params["status"])
        for kind, params in records.writes
    ]


async def test_an_attempt_that_ends_within_the_window_is_one_insert() -> None:
    records = FakeRecords()
    recorder = Recorder(records, settle_window=0.2)  # type: ignore[arg-type]
    quick = attempt("quick")
    quick.status = DeliveryStatus.SENT
    recorder.attempt(quick)
    await recorder.flush()
    assert records.writes == []
    quick.status = DeliveryStatus.ACKED
    recorder.attempt(quick)
    recorder.message_status("m", "handled")
    await recorder.flush()
    assert summary(records) == [("insert", "quick", "acked"), ("status", "m", "handled")]


async def test_an_open_attempt_is_written_after_the_window_then_updated() -> None:
    records = FakeRecords()
    recorder = Recorder(records, settle_window=0.1)  # type: ignore[arg-type]
    recorder.start()
    slow = attempt("slow")
    slow.status = DeliveryStatus.SENT
    recorder.attempt(slow)
    await asyncio.sleep(0.05)
    assert records.writes == []
    await asyncio.sleep(0.15)
    assert summary(records) == [("insert", "slow", "sent")]
    slow.status = DeliveryStatus.EXPIRED
    recorder.attempt(slow)
    await asyncio.sleep(0.02)
    assert summary(records)[-1] == ("update", "slow", "expired")
    await recorder.stop()


async def test_stop_writes_open_attempts_as_they_stand() -> None:
    records = FakeRecords()
    recorder = Recorder(records, settle_window=60)  # type: ignore[arg-type]
    recorder.start()
    waiting = attempt("waiting")
    recorder.attempt(waiting)
    await asyncio.sleep(0.01)
    assert records.writes == []
    await recorder.stop()
    assert summary(records) == [("insert", "waiting", "pending")]


async def test_a_flush_hands_each_kind_of_row_over_in_one_piece() -> None:
    records = FakeRecords()
    recorder = Recorder(records, settle_window=0)  # type: ignore[arg-type]
    for n in range(50):
        done = attempt(f"a{n}")
        done.status = DeliveryStatus.ACKED
        recorder.attempt(done)
        recorder.message_status(f"m{n}", "handled")
    await recorder.flush()
    assert len(records.writes) == 100
    assert records.calls == 2
    assert records.writes[0] == (
        "insert",
        {
            "id": "a0",
            "message_id": "m",
            "app_name": "app",
            "created_ms": 1,
            "instance_id": None,
            "attempt": 1,
            "status": "acked",
            "sent_ms": None,
            "answered_ms": None,
            "latency_ms": None,
            "blocked": False,
            "error": None,
        },
    )
    assert records.writes[-1] == ("status", {"status": "handled", "row_id": "m49"})
