"""Redelivery back-off: 100 ms doubling up to 30 s, with ±20 % jitter (PROTOCOL.md 2.3)."""

from __future__ import annotations

import random

FIRST = 0.1
CEILING = 30.0
JITTER = 0.2


def nominal_delay(retry: int) -> float:
    """Return the delay before retry number `retry` (1 for the first retry), without jitter."""
    if retry < 1:
        raise ValueError("retries are numbered from 1")
    # Past 2**9 the ceiling is reached; capping the exponent avoids huge floats.
    return min(CEILING, FIRST * (1 << min(retry - 1, 16)))


def delay(retry: int, rng: random.Random | None = None) -> float:
    """Return the delay before retry `retry`, jittered uniformly within ±20 % of nominal."""
    spread = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return nominal_delay(retry) * spread
