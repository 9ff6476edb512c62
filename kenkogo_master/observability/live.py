"""The open live streams (SSE readers) of one Master: opened, counted and ended together."""

from __future__ import annotations

from collections.abc import Iterable

from kenkogo_master.hub.events import EventBus, Subscription


def cut_off(subscription: Subscription) -> None:
    """Tell a reader its stream is over, discarding what it had not read yet."""
    subscription.dropped = True
    while not subscription.queue.empty():
        subscription.queue.get_nowait()
    subscription.queue.put_nowait(None)


class LiveStreams:
    """Track the readers of the event bus, so that shutdown can end them."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._open: set[Subscription] = set()
        self.ending = False

    def open(self, topics: Iterable[str] | None) -> Subscription:
        """Subscribe a new reader."""
        subscription = self.bus.subscribe(topics)
        self._open.add(subscription)
        return subscription

    def close(self, subscription: Subscription) -> None:
        """Unsubscribe a reader that has gone."""
        self._open.discard(subscription)
        self.bus.unsubscribe(subscription)

    def end_all(self) -> None:
        """End every stream (the Master is stopping)."""
        self.ending = True
        for subscription in tuple(self._open):
            cut_off(subscription)

    def __len__(self) -> int:
        return len(self._open)
