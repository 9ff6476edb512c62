"""Publish how loaded the apps are — in-flight messages per instance, queue depth per name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kenkogo_master.hub.events import EventBus

TOPIC = "app.load"


class AppLoadPublisher:
    """Publish `app.load` with the counts that changed since the last step, while anyone reads.

    The counts change with every message, so they are sent as a periodic digest of changes
    (never per message): `{"in_flight": {instance id: n}, "queued": {name: n}}`.
    """

    def __init__(self, describe: Callable[[], dict[str, Any]], bus: EventBus) -> None:
        self._describe = describe
        self._bus = bus
        self._in_flight: dict[str, int] = {}
        self._queued: dict[str, int] = {}

    def step_now(self) -> None:
        """Compare the counts with the last ones sent and publish what changed."""
        if not self._bus.wanted(TOPIC):
            self._in_flight, self._queued = {}, {}  # a new reader starts from its snapshot
            return
        names = self._describe()["names"]
        in_flight = {
            instance: count
            for state in names.values()
            for instance, count in state["instances"].items()
        }
        queued = {name: state["queued"] for name, state in names.items()}
        changed_in_flight = _changes(self._in_flight, in_flight)
        changed_queued = _changes(self._queued, queued)
        self._in_flight, self._queued = in_flight, queued
        if changed_in_flight or changed_queued:
            self._bus.publish(TOPIC, {"in_flight": changed_in_flight, "queued": changed_queued})

    async def step(self) -> None:
        """Run one step (for Periodic)."""
        self.step_now()


def _changes(before: dict[str, int], now: dict[str, int]) -> dict[str, int]:
    """Return the counts that differ, with 0 for keys that went away."""
    changed = {key: value for key, value in now.items() if before.get(key) != value}
    changed.update({key: 0 for key in before.keys() - now.keys() if before[key]})
    return changed
