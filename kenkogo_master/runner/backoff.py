"""How long a runner waits before it dials the Master again."""

from __future__ import annotations

import random

INITIAL = 0.1  # seconds before the second attempt
MAXIMUM = 30.0  # the doubling stops here
JITTER = 0.2  # ± this fraction of each delay


class Backoff:
    """Delays doubling from 100 ms to 30 s, each ±20 %, so that retries do not march together."""

    def __init__(
        self,
        rng: random.Random | None = None,
        initial: float = INITIAL,
        maximum: float = MAXIMUM,
        jitter: float = JITTER,
    ) -> None:
        self._rng = rng or random.Random()
        self._initial = initial
        self._maximum = maximum
        self._jitter = jitter
        self._next = initial

    def next(self) -> float:
        """Return the next delay and double the one after."""
        base, self._next = self._next, min(self._next * 2, self._maximum)
        return base * self._rng.uniform(1 - self._jitter, 1 + self._jitter)

    def reset(self) -> None:
        """Start again from the shortest delay (after a connection that worked)."""
        self._next = self._initial


def first_delay(spread: float, rng: random.Random | None = None) -> float:
    """Return the wait before the first redial after a lost connection: anywhere in [0, spread].

    Every runner of a restarted Master loses its connection at the same moment; drawn evenly
    over the spread, their first attempts arrive at about `runners / spread` per second.
    """
    return (rng or random.Random()).uniform(0.0, spread) if spread > 0 else 0.0
