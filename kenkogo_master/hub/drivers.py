"""Drivers as the hub sees them: the peer protocol, actions out, and the live registry."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from kenkogo_master.hub.events import EventBus
from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.store.driver_records import DriverRecords

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OutboundAction:
    """Something a driver must do on its platform: send a message, or answer a request."""

    id: str  # the reply id (an answer's own id for "answer_request")
    type: str  # "send_message" | "answer_request"
    chat: dict[str, Any]  # {"type", "id", "name"?}
    content: str
    segments: list[dict[str, Any]]
    reply_to: str | None  # platform_message_id being answered, if any
    # For "answer_request": {kind, flag, approve, reason, remark, detail} (docs/PROTOCOL-additions)
    request: dict[str, Any] | None = None

    def to_wire(self) -> dict[str, Any]:
        """Return the `action` payload of PROTOCOL.md section 4."""
        wire = {
            "id": self.id,
            "type": self.type,
            "chat": self.chat,
            "content": self.content,
            "segments": self.segments,
            "reply_to": self.reply_to,
        }
        if self.request is not None:
            wire["request"] = self.request
        return wire


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What a driver answered to an action."""

    success: bool
    platform_message_id: str | None = None
    error: dict[str, Any] | None = None  # {"code", "message"}


class DriverPeer(Protocol):
    """One connected driver, whatever wire it speaks."""

    transport: str  # "socket.io" | "onebot" | "simulator"
    remote: str

    async def deliver_action(self, action: OutboundAction) -> ActionResult:
        """Carry out an action; a gone peer gives a failed result instead of raising."""
        ...

    async def close(self) -> None:
        """Close the connection."""
        ...


@dataclass(slots=True)
class DriverCounts:
    """What went through one driver since the Master started (over all its connections)."""

    received: int = 0  # inbound messages stored (duplicates not counted)
    sent: int = 0  # actions the driver carried out
    failed: int = 0  # actions that failed, the driver being absent included

    def describe(self) -> dict[str, int]:
        """Return the counts as operators see them over REST and the event stream."""
        return {"received": self.received, "sent": self.sent, "failed": self.failed}


@dataclass(eq=False, slots=True)
class DriverSession:
    """One attached driver connection."""

    id: str
    platform: str
    self_id: str
    name: str
    peer: DriverPeer
    locale: str | None
    connected_ms: int
    # monotonic time of the last sign of life (attach, event, heartbeat)
    last_seen: float = field(default_factory=time.monotonic)
    counts: DriverCounts = field(default_factory=DriverCounts)  # shared with the registry

    def last_seen_ms(self) -> int:
        """Return the last sign of life as epoch milliseconds."""
        return now_ms() - int((time.monotonic() - self.last_seen) * 1000)

    def describe(self) -> dict[str, Any]:
        """Return the session as operators see it over REST."""
        return {
            "id": self.id,
            "platform": self.platform,
            "self_id": self.self_id,
            "name": self.name,
            "transport": self.peer.transport,
            "remote": self.peer.remote,
            "locale": self.locale,
            "connected_ms": self.connected_ms,
            "alive_ms": self.last_seen_ms(),
            "live": True,
        }


DriverListener = Callable[[DriverSession], None]


class DriverRegistry:
    """Live drivers by id; ids are stable per (platform, self_id) across reconnects and restarts."""

    def __init__(self, records: DriverRecords, bus: EventBus) -> None:
        self._records = records
        self._bus = bus
        self._ids: dict[tuple[str, str], str] = {}
        self._known: set[str] = set()
        self._live: dict[str, DriverSession] = {}
        self._counts: dict[str, DriverCounts] = {}  # by driver id, kept across reconnects
        self._attach_listeners: list[DriverListener] = []
        self._detach_listeners: list[DriverListener] = []

    async def load(self) -> None:
        """Read the known identities, so reconnecting drivers get their ids back."""
        self._ids = await self._records.identities()
        self._known = set(self._ids.values())

    def known(self, driver_id: str) -> bool:
        """Tell whether a driver id was ever attached (now or in an earlier run)."""
        return driver_id in self._known

    def on_attach(self, listener: DriverListener) -> None:
        """Call `listener(session)` whenever a driver attaches."""
        self._attach_listeners.append(listener)

    def on_detach(self, listener: DriverListener) -> None:
        """Call `listener(session)` whenever a driver's last connection closes."""
        self._detach_listeners.append(listener)

    async def attach(
        self,
        peer: DriverPeer,
        platform: str,
        self_id: str,
        name: str,
        locale: str | None = None,
    ) -> DriverSession:
        """Attach a driver; one already attached under the same identity is replaced and closed."""
        at_ms = now_ms()
        driver_id = self._ids.get((platform, self_id))
        if driver_id is None:
            driver_id = new_id()
            await self._records.created(
                {
                    "id": driver_id,
                    "platform": platform,
                    "self_id": self_id,
                    "name": name,
                    "transport": peer.transport,
                    "remote": peer.remote,
                    "locale": locale,
                    "first_seen_ms": at_ms,
                    "last_seen_ms": at_ms,
                }
            )
            self._ids[(platform, self_id)] = driver_id
            self._known.add(driver_id)
        else:
            await self._records.seen(driver_id, name, peer.transport, peer.remote, locale, at_ms)
        counts = self._counts.setdefault(driver_id, DriverCounts())
        session = DriverSession(
            driver_id, platform, self_id, name, peer, locale, at_ms, counts=counts
        )
        older = self._live.get(driver_id)
        self._live[driver_id] = session
        if older is not None:
            log.info(
                "driver %s (%s/%s) replaced by a new connection",
                driver_id,
                platform,
                self_id,
                extra={"driver_id": driver_id},
            )
            await older.peer.close()
        log.info(
            "driver %s (%s/%s) attached over %s",
            driver_id,
            platform,
            self_id,
            peer.transport,
            extra={"driver_id": driver_id, "remote": peer.remote},
        )
        self._bus.publish("driver.attached", session.describe())
        for listener in self._attach_listeners:
            listener(session)
        return session

    async def detach(self, session: DriverSession) -> None:
        """Forget a connection that closed (a replaced one leaves its successor in place)."""
        if self._live.get(session.id) is not session:
            return
        del self._live[session.id]
        log.info(
            "driver %s (%s/%s) detached",
            session.id,
            session.platform,
            session.self_id,
            extra={"driver_id": session.id, "remote": session.peer.remote},
        )
        self._bus.publish("driver.detached", {"id": session.id, "platform": session.platform})
        for listener in self._detach_listeners:
            listener(session)

    def touch(self, session: DriverSession) -> None:
        """Note a sign of life."""
        session.last_seen = time.monotonic()

    def count_action(self, driver_id: str, success: bool) -> None:
        """Count an action a driver carried out or failed (also while it is away)."""
        counts = self._counts.get(driver_id)
        if counts is None:
            if driver_id not in self._known:
                return  # a target that never existed: nothing to count it on
            counts = self._counts[driver_id] = DriverCounts()
        if success:
            counts.sent += 1
        else:
            counts.failed += 1

    def counts(self) -> dict[str, DriverCounts]:
        """Return the counts of every driver that had traffic or attached since the start."""
        return self._counts

    def get(self, driver_id: str) -> DriverSession | None:
        """Return the live session of a driver id."""
        return self._live.get(driver_id)

    def live(self) -> list[DriverSession]:
        """Return every attached driver."""
        return list(self._live.values())

    async def listing(self) -> list[dict[str, Any]]:
        """Return every known driver, live ones with their connection, most recent first."""
        items = []
        for row in await self._records.all():
            live = self._live.get(row["id"])
            counts = self._counts.get(row["id"], DriverCounts()).describe()
            if live is not None:
                items.append({**row, **live.describe(), **counts})
            else:
                items.append({**row, "live": False, **counts})
        return items

    def of_platform(self, platform: str) -> DriverSession | None:
        """Return the most recently attached live driver of a platform."""
        sessions = [s for s in self._live.values() if s.platform == platform]
        return max(sessions, key=lambda s: s.connected_ms) if sessions else None
