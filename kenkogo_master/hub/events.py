"""An in-process publish/subscribe bus for live views (SSE); slow subscribers are dropped."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kenkogo_master.ids import now_ms


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened, under a topic such as `app.state`."""

    topic: str
    data: dict[str, Any]
    at_ms: int = field(default_factory=now_ms)


class Subscription:
    """A subscriber's bounded queue; overflowing closes it instead of growing memory."""

    def __init__(self, topics: frozenset[str] | None, limit: int) -> None:
        self.topics = topics
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(limit)
        self.dropped = False
        self.end_reason = "too_slow"  # told to the reader when the subscription is cut off

    def wants(self, topic: str) -> bool:
        """Tell whether this subscriber asked for `topic` (or its prefix before the dot)."""
        return self.topics is None or topic in self.topics or topic.split(".", 1)[0] in self.topics

    def offer(self, event: Event) -> None:
        """Queue an event, or drop the subscriber when it cannot keep up."""
        if self.dropped:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)  # tells the reader it was cut off


class EventBus:
    """Fan events out to subscribers."""

    def __init__(self, subscriber_limit: int = 1000) -> None:
        self._subscribers: set[Subscription] = set()
        self._limit = subscriber_limit

    def publish(self, topic: str, data: dict[str, Any]) -> None:
        """Offer an event to every interested subscriber; never blocks."""
        if not self._subscribers:
            return
        event = Event(topic, data)
        for subscriber in tuple(self._subscribers):
            if subscriber.wants(topic):
                subscriber.offer(event)

    def wanted(self, topic: str) -> bool:
        """Tell whether any subscriber would receive `topic` (to skip building unwanted events)."""
        if not self._subscribers:
            return False
        return any(subscriber.wants(topic) for subscriber in self._subscribers)

    def subscribers(self) -> int:
        """Return how many subscriptions are open."""
        return len(self._subscribers)

    def subscribe(self, topics: Iterable[str] | None = None) -> Subscription:
        """Start a subscription to `topics` (all when None)."""
        subscription = Subscription(frozenset(topics) if topics else None, self._limit)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """End a subscription."""
        self._subscribers.discard(subscription)
