"""A background step repeated at a fixed interval, owned by one task."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Step = Callable[[], Awaitable[object]]


class Periodic:
    """Run `step` every `interval` seconds; a failing step is logged and the loop goes on."""

    def __init__(self, name: str, interval: float, step: Step, *, final: bool = False) -> None:
        self.name = name
        self.interval = interval
        self._step = step
        self._final = final
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the loop."""
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Stop the loop, then run the step once more when asked to (to save what is pending)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._final:
            await self._run_step()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self._run_step()

    async def _run_step(self) -> None:
        try:
            await self._step()
        except Exception:
            log.exception("%s failed", self.name)
