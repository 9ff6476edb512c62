"""The open live streams (SSE readers) of one Master: opened, counted and ended together."""

from __future__ import annotations

from collections.abc import Iterable

from kenkogo_master.hub.events import EventBus, Subscription
from kenkogo_master.ids import now_ms

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(number: int) -> str:
    """Return a non-negative number in base 36 (short, lower case)."""
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = _DIGITS[digit] + text
        if not number:
            return text


def cut_off(subscription: Subscription, reason: str | None = None) -> None:
    """Tell a reader its stream is over, discarding what it had not read yet."""
    if reason is not None:
        subscription.end_reason = reason
    subscription.dropped = True
    while not subscription.queue.empty():
        subscription.queue.get_nowait()
    subscription.queue.put_nowait(None)


class LiveStreams:
    """Track the readers of the event bus, so that shutdown can end them."""

    def __init__(self, bus: EventBus, boot: str | None = None) -> None:
        self.bus = bus
        # Names this run of the Master in event ids: an id from before a restart is not ours.
        self.boot = boot or base36(now_ms())
        self._open: set[Subscription] = set()
        # The browser session each stream was opened with, so that it ends with the session.
        self._owners: dict[Subscription, str] = {}
        self.ending = False

    def open(self, topics: Iterable[str] | None, owner: str | None = None) -> Subscription:
        """Subscribe a new reader, opened with the session `owner` (None: a bearer token)."""
        subscription = self.bus.subscribe(topics)
        self._open.add(subscription)
        if owner is not None:
            self._owners[subscription] = owner
        return subscription

    def close(self, subscription: Subscription) -> None:
        """Unsubscribe a reader that has gone."""
        self._open.discard(subscription)
        self._owners.pop(subscription, None)
        self.bus.unsubscribe(subscription)

    def end_owned(self, owner: str) -> None:
        """End every stream opened with the session `owner` (it was ended)."""
        for subscription, opened_by in tuple(self._owners.items()):
            if opened_by == owner:
                cut_off(subscription, "session_ended")

    def end_all(self) -> None:
        """End every stream (the Master is stopping)."""
        self.ending = True
        for subscription in tuple(self._open):
            cut_off(subscription)

    def __len__(self) -> int:
        return len(self._open)
