"""Wait for something the Master does in the background."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    timeout: float = 5,
    step: float = 0.05,
) -> T:
    """Call `probe` until `done(result)` holds; return that result or fail with the last one."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await probe()
        if done(result):
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still not done after {timeout} s: {result!r}")
        await asyncio.sleep(step)
