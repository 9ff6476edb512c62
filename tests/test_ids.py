"""Identifiers: shape, uniqueness and order by creation time."""

from __future__ import annotations

import time

from kenkogo_master.ids import new_id

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
