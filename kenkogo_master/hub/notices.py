"""Fire-and-forget `error` events to apps, from code that cannot await (callbacks, timers)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kenkogo_master.errors import HubError
from kenkogo_master.hub.ports import Texts
from kenkogo_master.hub.sessions import AppSession

log = logging.getLogger(__name__)


class Notifier:
    """Send `error` events in the app's language without blocking the caller."""

    def __init__(self, texts: Texts) -> None:
        self._texts = texts
        self._tasks: set[asyncio.Task[None]] = set()

    def render(self, error: HubError, locale: str | None) -> dict[str, Any]:
        """Return `{code, message}` for `error` in `locale`."""
        return {
            "code": error.code.value,
            "message": self._texts.text(error.text_key, locale, **error.params),
        }

    def error(self, session: AppSession, error: HubError, **extra: Any) -> None:
        """Send `{code, message, **extra}` on the app's `error` event."""
        data = {**self.render(error, session.locale), **extra}
        self.spawn(session.peer.send("error", data), f"error to {session.id}")

    def spawn(self, coroutine: Any, what: str) -> None:
        """Run `coroutine` in the background, keeping a reference and logging its failure."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(done, what))

    def _finished(self, task: asyncio.Task[None], what: str) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s failed: %s", what, task.exception())

    async def drain(self) -> None:
        """Wait for everything still being sent."""
        if self._tasks:
            await asyncio.gather(*tuple(self._tasks), return_exceptions=True)
