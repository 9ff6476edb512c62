"""Identifiers: shape, uniqueness and order by creation time."""

from __future__ import annotations

import time

import pytest

from kenkogo_master.ids import IdSource, new_id

CROCKFORD = set("0123456789abcdefghjkmnpqrstvwxyz")


def test_an_id_is_a_lower_case_ulid() -> None:
    value = new_id()
    assert len(value) == 26
    assert set(value) <= CROCKFORD
    assert value[0] in "01234567"  # 130 bits of digits hold 128: the first carries three


def test_ids_are_unique() -> None:
    ids = [new_id() for _ in range(50_000)]
    assert len(set(ids)) == len(ids)


def test_ids_sort_by_the_millisecond_they_were_made_in() -> None:
    made = []
    for _ in range(5):
        made.append(new_id())
        time.sleep(0.002)
    assert sorted(made) == made
    assert len({value[:10] for value in made}) == 5


def test_the_time_prefix_encodes_epoch_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    value = new_id()
    after = time.time_ns() // 1_000_000
    decoded = 0
    for char in value[:10]:
        decoded = decoded * 32 + "0123456789abcdefghjkmnpqrstvwxyz".index(char)
    assert before <= decoded <= after


def test_ids_made_within_one_millisecond_sort_in_the_order_they_were_made() -> None:
    made = [new_id() for _ in range(20_000)]
    assert made == sorted(made)


def test_ids_keep_their_order_when_the_clock_is_set_back(monkeypatch: pytest.MonkeyPatch) -> None:
    source = IdSource()
    clock = iter([5_000_000_000_000, 4_000_000_000_000, 4_000_000_000_000])
    monkeypatch.setattr(time, "time_ns", lambda: next(clock))
    made = [source() for _ in range(3)]
    assert made == sorted(made)
    assert len(set(made)) == 3


def test_a_millisecond_that_runs_out_of_ids_borrows_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = IdSource()
    monkeypatch.setattr(time, "time_ns", lambda: 7_000_000_000)
    first = source()
    source._last_random = (1 << 80) - 1  # the millisecond's room used up
    second = source()
    assert second > first
    assert second[:10] != first[:10]
