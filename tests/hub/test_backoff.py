"""Redelivery back-off: 100 ms doubling to 30 s, ±20 % jitter."""

from __future__ import annotations

import random

import pytest

from kenkogo_master.hub import backoff


def test_nominal_delays_double_from_100_ms_up_to_30_s() -> None:
    delays = [backoff.nominal_delay(retry) for retry in range(1, 14)]
    assert delays[:5] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6])
    assert delays[8] == pytest.approx(25.6)
    assert delays[9:] == [30.0, 30.0, 30.0, 30.0]
    assert backoff.nominal_delay(10_000) == 30.0


def test_jitter_stays_within_twenty_percent_and_spreads() -> None:
    rng = random.Random(7)
    for retry in (1, 3, 12):
        nominal = backoff.nominal_delay(retry)
        samples = [backoff.delay(retry, rng) for _ in range(2000)]
        assert min(samples) >= nominal * 0.8
        assert max(samples) <= nominal * 1.2
        # Spread over the whole band, not stuck at one value.
        assert min(samples) < nominal * 0.82
        assert max(samples) > nominal * 1.18


def test_retries_are_numbered_from_one() -> None:
    with pytest.raises(ValueError):
        backoff.nominal_delay(0)
