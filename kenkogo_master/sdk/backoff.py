"""Reconnect timing: 100 ms doubling to 30 s, ±20 % jitter, moving on to the next URL on failure."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence

FIRST = 0.1
CEILING = 30.0
JITTER = 0.2

Sleep = Callable[[float], Awaitable[None]]


def nominal_delay(failures: int) -> float:
    """Return the pause after `failures` failures in a row (1 for the first), without jitter."""
    if failures < 1:
        raise ValueError("failures are counted from 1")
    # Past 2**9 the ceiling is reached; capping the exponent avoids huge floats.
    return min(CEILING, FIRST * (1 << min(failures - 1, 16)))


def delay(failures: int, rng: random.Random | None = None) -> float:
    """Return the pause after `failures` failures, jittered uniformly within ±20 %."""
    return nominal_delay(failures) * (rng or random).uniform(1 - JITTER, 1 + JITTER)


class Reconnector:
    """Run sessions against a list of URLs for as long as asked, pausing between them.

    A session that failed to establish moves on to the next URL and lengthens the pause; one that
    was established and then ended starts over at the shortest pause, on the same URL.
    """

    def __init__(
        self, urls: Sequence[str], sleep: Sleep = asyncio.sleep, rng: random.Random | None = None
    ) -> None:
        if not urls:
            raise ValueError("at least one URL")
        self.urls = list(urls)
        self._sleep = sleep
        self._rng = rng
        self.index = 0
        self.failures = 0

    @property
    def url(self) -> str:
        """Return the URL the next session uses."""
        return self.urls[self.index]

    async def run(
        self, session: Callable[[str], Awaitable[bool]], stopped: Callable[[], bool]
    ) -> None:
        """Call `session(url)` (True: it was established) until `stopped()`; pause in between."""
        while not stopped():
            established = await session(self.url)
            if stopped():
                return
            if established:
                self.failures = 1
            else:
                self.failures += 1
                self.index = (self.index + 1) % len(self.urls)
            await self._sleep(delay(self.failures, self._rng))
