"""An in-process publish/subscribe bus for live views (SSE); slow subscribers are dropped.

Every event gets a sequence number, and the latest ones are kept in a bounded ring while
anybody listens (and for a while after the last reader left), so that a reader that lost its
connection can ask for what it missed instead of starting over.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kenkogo_master.ids import now_ms


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened, under a topic such as `app.state`."""

    topic: str
    data: dict[str, Any]
    at_ms: int = field(default_factory=now_ms)
    seq: int = 0  # this bus's running number; 0 for an event no reader could see


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
    """Fan events out to subscribers, keeping the latest for readers that come back."""

    def __init__(
        self,
        subscriber_limit: int = 1000,
        replay_size: int = 0,
        replay_linger: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._subscribers: set[Subscription] = set()
        self._limit = subscriber_limit
        self._replay: deque[Event] = deque(maxlen=replay_size or None)
        self._replaying = replay_size > 0
        self._linger = replay_linger
        self._clock = clock
        self._recording_until = 0.0
        self._seq = 0

    def _recording(self) -> bool:
        """Tell whether events are kept: while anybody reads, and a while after the last left."""
        if not self._replaying:
            return False
        return bool(self._subscribers) or self._clock() < self._recording_until

    def publish(self, topic: str, data: dict[str, Any]) -> None:
        """Offer an event to every interested subscriber; never blocks."""
        recording = self._recording()
        if not self._subscribers and not recording:
            return
        self._seq += 1
        event = Event(topic, data, seq=self._seq)
        if recording:
            self._replay.append(event)
        for subscriber in tuple(self._subscribers):
            if subscriber.wants(topic):
                subscriber.offer(event)

    def wanted(self, topic: str) -> bool:
        """Tell whether any subscriber would receive `topic` (to skip building unwanted events)."""
        if self._recording() and not self._subscribers:
            return True  # a reader that comes back may ask for it
        return any(subscriber.wants(topic) for subscriber in self._subscribers)

    def subscribers(self) -> int:
        """Return how many subscriptions are open."""
        return len(self._subscribers)

    @property
    def last_seq(self) -> int:
        """Return the sequence number of the latest event published."""
        return self._seq

    def since(self, seq: int) -> list[Event] | None:
        """Return the kept events after `seq`, or None when some of them are no longer kept."""
        if seq >= self._seq:
            return [] if seq == self._seq else None
        if not self._replay or self._replay[0].seq > seq + 1:
            return None
        if self._replay[-1].seq != self._seq:
            return None  # numbers skipped after the last kept event: a stretch went unrecorded
        missed = [event for event in self._replay if event.seq > seq]
        # A skipped number is a stretch nobody recorded (see subscribe).
        return missed if missed and missed[0].seq == seq + 1 else None

    def subscribe(self, topics: Iterable[str] | None = None) -> Subscription:
        """Start a subscription to `topics` (all when None)."""
        if self._replaying and not self._recording():
            # Events went by unrecorded and unnumbered: skip a number, so that nobody is told
            # that nothing happened since an event before them.
            self._seq += 1
        subscription = Subscription(frozenset(topics) if topics else None, self._limit)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """End a subscription; the ring keeps recording for a while for readers coming back."""
        if subscription in self._subscribers:
            self._subscribers.discard(subscription)
            if not self._subscribers:
                self._recording_until = self._clock() + self._linger
