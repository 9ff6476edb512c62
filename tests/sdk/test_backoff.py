"""Reconnect timing: 100 ms doubling to 30 s, ±20 %, the next URL after a failure (a fake clock)."""

from __future__ import annotations

import random

import pytest

from kenkogo_master.sdk import backoff
from kenkogo_master.sdk.backoff import Reconnector


class FakeClock:
    """A clock that moves only when slept on, recording every pause."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def test_nominal_delays_double_from_100_ms_up_to_30_s() -> None:
    delays = [backoff.nominal_delay(failures) for failures in range(1, 14)]
    assert delays[:5] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6])
    assert delays[8] == pytest.approx(25.6)
    assert delays[9:] == [30.0] * 4
    assert backoff.nominal_delay(1_000_000) == 30.0
    with pytest.raises(ValueError):
        backoff.nominal_delay(0)


def test_jitter_spreads_over_twenty_percent_either_way() -> None:
    rng = random.Random(3)
    for failures in (1, 4, 20):
        nominal = backoff.nominal_delay(failures)
        samples = [backoff.delay(failures, rng) for _ in range(2000)]
        assert nominal * 0.8 <= min(samples) < nominal * 0.82
        assert nominal * 1.18 < max(samples) <= nominal * 1.2


async def test_failed_attempts_back_off_and_move_through_the_urls() -> None:
    clock = FakeClock()
    reconnector = Reconnector(["http://a", "http://b", "http://c"], clock.sleep, random.Random(5))
    tried: list[tuple[float, str]] = []

    async def session(url: str) -> bool:
        tried.append((clock.now, url))
        return False

    await reconnector.run(session, lambda: len(tried) >= 12)

    assert [url for _, url in tried] == ["http://a", "http://b", "http://c"] * 4
    assert len(clock.pauses) == 11
    for failures, pause in enumerate(clock.pauses, start=1):
        nominal = backoff.nominal_delay(failures)
        assert nominal * 0.8 <= pause <= nominal * 1.2, (failures, pause)
    # 100 ms, 200 ms, … 25.6 s, then the 30 s ceiling: eleven pauses take about 111 s.
    assert clock.pauses[-1] == pytest.approx(30.0, rel=0.2)
    assert tried[-1][0] == pytest.approx(sum(clock.pauses))
    assert 0.8 * 111.1 <= tried[-1][0] <= 1.2 * 111.1


async def test_a_session_that_was_established_starts_over_quickly_on_the_same_url() -> None:
    clock = FakeClock()
    reconnector = Reconnector(["http://a", "http://b"], clock.sleep, random.Random(9))
    outcomes = iter([False, False, False, True, False, True])
    tried: list[str] = []

    async def session(url: str) -> bool:
        tried.append(url)
        return next(outcomes)

    await reconnector.run(session, lambda: len(tried) >= 6)

    # a, b, a fail; b is established and drops; b again fails; a is established.
    assert tried == ["http://a", "http://b", "http://a", "http://b", "http://b", "http://a"]
    nominal = [backoff.nominal_delay(n) for n in (1, 2, 3, 1, 2)]
    for pause, expected in zip(clock.pauses, nominal, strict=True):
        assert expected * 0.8 <= pause <= expected * 1.2


async def test_a_stop_during_a_session_ends_without_another_pause() -> None:
    clock = FakeClock()
    stopped = False

    async def session(url: str) -> bool:
        nonlocal stopped
        stopped = True
        return True

    await Reconnector(["http://a"], clock.sleep).run(session, lambda: stopped)
    assert clock.pauses == []


def test_a_reconnector_needs_a_url() -> None:
    with pytest.raises(ValueError):
        Reconnector([])
