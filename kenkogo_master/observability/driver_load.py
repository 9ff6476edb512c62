"""Publish what went through each driver — messages in, actions out — and its last sign of life."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kenkogo_master.hub.drivers import DriverRegistry
from kenkogo_master.hub.events import EventBus

TOPIC = "driver.load"


class DriverLoadPublisher:
    """Publish `driver.load` with the drivers whose counts changed since the last step.

    Like `app.load`, a periodic digest rather than an event per message: `{"drivers": {driver
    id: {"received", "sent", "failed", "alive_ms"?}}}`, the counts since the Master started.
    """

    def __init__(self, registry: Callable[[], DriverRegistry], bus: EventBus) -> None:
        self._registry = registry
        self._bus = bus
        self._last: dict[str, tuple[int, int, int]] = {}

    def step_now(self) -> None:
        """Compare the counts with the last ones sent and publish the drivers that changed."""
        if not self._bus.wanted(TOPIC):
            self._last = {}  # a new reader starts from its snapshot
            return
        registry = self._registry()
        changed: dict[str, dict[str, Any]] = {}
        for driver_id, counts in registry.counts().items():
            now = (counts.received, counts.sent, counts.failed)
            if self._last.get(driver_id) == now:
                continue
            self._last[driver_id] = now
            entry: dict[str, Any] = counts.describe()
            session = registry.get(driver_id)
            if session is not None:
                entry["alive_ms"] = session.last_seen_ms()
            changed[driver_id] = entry
        if changed:
            self._bus.publish(TOPIC, {"drivers": changed})

    async def step(self) -> None:
        """Run one step (for Periodic)."""
        self.step_now()
