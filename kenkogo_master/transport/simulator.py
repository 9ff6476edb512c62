"""The built-in simulator driver: messages injected over REST, replies kept and published."""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.drivers import ActionResult, DriverSession, OutboundAction
from kenkogo_master.hub.events import EventBus
from kenkogo_master.hub.hub import Hub
from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.keys import HUB
from kenkogo_master.protocol.drivers import ChatInfo, InboundEvent, NoticeForm, SenderInfo

PLATFORM = "simulator"
SELF_ID = "simulator"
NAME = "Simulator"
REPLY_TOPIC = "simulator.reply"
DEFAULT_SENDER = SenderInfo(id="sim-user")
# Simulated messages whose id is remembered for replies arriving after their request ended.
REMEMBERED_MESSAGES = 10_000
# Platforms the simulator speaks for besides its own, each a driver of its own once used.
MAX_PLATFORMS = 16


@dataclass(frozen=True, slots=True)
class SimulatedReply:
    """A reply an app sent to the simulator's chat."""

    id: str  # the reply id
    platform_message_id: str  # what the simulator answered the action with
    chat: dict[str, Any]
    content: str
    segments: list[dict[str, Any]]
    reply_to: str | None  # the simulated platform_message_id it answers
    at_ms: int
    app: str | None = None  # the app name that sent it, once looked up
    # An answer to a request ({kind, flag, approve, reason, remark}) rather than a message.
    request: dict[str, Any] | None = None

    def describe(self) -> dict[str, Any]:
        """Return the reply as the REST API and the event bus show it."""
        described = {
            "id": self.id,
            "content": self.content,
            "segments": self.segments,
            "chat": self.chat,
            "platform_message_id": self.platform_message_id,
            "at_ms": self.at_ms,
        }
        if self.app is not None:
            described["app"] = self.app
        if self.request is not None:
            described["request"] = self.request
        return described


@dataclass(eq=False, slots=True)
class _Waiter:
    """Replies collected for one injected message while its request waits."""

    replies: list[SimulatedReply] = field(default_factory=list)


class SimulatorPeer:
    """The simulator as a driver: every action succeeds and is remembered."""

    transport = "simulator"
    remote = "built-in"

    def __init__(self, bus: EventBus, history_limit: int) -> None:
        self._bus = bus
        self.history: deque[SimulatedReply] = deque(maxlen=history_limit)
        self._waiters: dict[str, _Waiter] = {}  # by the platform_message_id being answered
        # platform_message_id -> message id, so late replies still name their message
        self._message_ids: OrderedDict[str, str] = OrderedDict()

    async def deliver_action(self, action: OutboundAction) -> ActionResult:
        """Record a reply, publish it, and succeed with a generated platform message id."""
        reply = SimulatedReply(
            id=action.id,
            platform_message_id=f"sim-{new_id()}",
            chat=dict(action.chat),
            content=action.content,
            segments=[dict(segment) for segment in action.segments],
            reply_to=action.reply_to,
            at_ms=now_ms(),
            request=None
            if action.request is None
            else {key: value for key, value in action.request.items() if key != "detail"},
        )
        self.history.append(reply)
        event = reply.describe()
        if reply.reply_to is not None:
            event["reply_to"] = reply.reply_to
            message_id = self._message_ids.get(reply.reply_to)
            if message_id is not None:
                event["message_id"] = message_id
            waiter = self._waiters.get(reply.reply_to)
            if waiter is not None:
                waiter.replies.append(reply)
        self._bus.publish(REPLY_TOPIC, event)
        return ActionResult(success=True, platform_message_id=reply.platform_message_id)

    @contextlib.contextmanager
    def collect(self, platform_message_id: str) -> Iterator[_Waiter]:
        """Collect the replies to one simulated message for as long as the block runs."""
        waiter = _Waiter()
        self._waiters[platform_message_id] = waiter
        try:
            yield waiter
        finally:
            self._waiters.pop(platform_message_id, None)

    def name_message(self, platform_message_id: str, message_id: str) -> None:
        """Remember which message id a simulated message got, for the replies' events."""
        self._message_ids[platform_message_id] = message_id
        if len(self._message_ids) > REMEMBERED_MESSAGES:
            self._message_ids.popitem(last=False)

    async def close(self) -> None:
        """Nothing to close: the simulator lives as long as the Master."""


@dataclass(frozen=True, slots=True)
class Simulation:
    """The outcome of one simulated message."""

    message_id: str
    platform_message_id: str
    duplicate: bool
    replies: list[SimulatedReply]


class Simulator:
    """Injects messages as the simulator driver and gathers the replies to them."""

    def __init__(self, hub: Hub, peer: SimulatorPeer, session: DriverSession) -> None:
        self._hub = hub
        self.peer = peer
        self.session = session
        # Other platforms, so that operators can see what apps filtering on one would do.
        self._platforms: dict[str, DriverSession] = {}
        self._attaching = asyncio.Lock()

    @classmethod
    async def start(cls, hub: Hub) -> Simulator:
        """Attach the simulator driver to the hub."""
        peer = SimulatorPeer(hub.bus, hub.settings.simulator.history_limit)
        session = await hub.drivers.attach(peer, PLATFORM, SELF_ID, NAME)
        return cls(hub, peer, session)

    async def stop(self) -> None:
        """Detach the simulator driver (and the other platforms it spoke for)."""
        for session in self._platforms.values():
            await self._hub.drivers.detach(session)
        await self._hub.drivers.detach(self.session)

    async def session_of(self, platform: str | None) -> DriverSession:
        """Return the simulator's driver for a platform, attaching it on first use.

        Raise HubError when the simulator already speaks for MAX_PLATFORMS others.
        """
        if platform is None or platform == PLATFORM:
            return self.session
        async with self._attaching:
            session = self._platforms.get(platform)
            if session is None:
                if len(self._platforms) >= MAX_PLATFORMS:
                    detail = f"platform: the simulator speaks for at most {MAX_PLATFORMS} others"
                    raise HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)
                session = await self._hub.drivers.attach(self.peer, platform, SELF_ID, NAME)
                self._platforms[platform] = session
            return session

    async def inject(
        self,
        content: str,
        chat: ChatInfo | None = None,
        sender: SenderInfo | None = None,
        wait_ms: int = 0,
        segments: list[dict[str, Any]] | None = None,
        locale: str | None = None,
        platform: str | None = None,
        notice: dict[str, Any] | None = None,
    ) -> Simulation:
        """Ingest one message (from `platform`, the simulator's own by default) and return the
        replies that arrive within `wait_ms`.

        `notice` ({kind, detail}) makes it a notice or request instead; raise ValidationError
        when it is not one (a request without `detail.flag`).
        """
        session = await self.session_of(platform)
        sender = sender or DEFAULT_SENDER
        # A private chat is the conversation with its sender, as on real platforms.
        chat = chat or ChatInfo(type="private", id=sender.id, name=sender.name)
        platform_message_id = f"sim-{new_id()}"
        if notice is not None:
            form = NoticeForm.model_validate(
                {
                    **notice,
                    "platform_message_id": platform_message_id,
                    "chat": chat.model_dump(exclude_none=True),
                    "sender": sender.model_dump(exclude_none=True),
                    "content": content,
                    "locale": locale,
                }
            )
            event = form.event(platform_message_id)
        else:
            event = InboundEvent(
                platform_message_id=platform_message_id,
                chat=chat,
                sender=sender,
                content=content,
                segments=segments or [{"type": "text", "data": {"text": content}}],
                locale=locale,
            )
        with self.peer.collect(platform_message_id) as waiter:
            result = await self._hub.ingest(session, event)
            self.peer.name_message(platform_message_id, result.id)
            # Any app may still reply until the window closes, so it is waited out in full.
            await asyncio.sleep(wait_ms / 1000)
            replies = list(waiter.replies)
        replies = await self._with_apps(result.id, replies)
        return Simulation(result.id, platform_message_id, result.duplicate, replies)

    async def _with_apps(
        self, message_id: str, replies: list[SimulatedReply]
    ) -> list[SimulatedReply]:
        """Name the app behind each reply, from the replies recorded for the message."""
        flow = self._hub.flow
        if not replies or flow is None:
            return replies
        detail = await flow.records.detail(message_id)
        apps = {row["id"]: row["app_name"] for row in (detail or {}).get("replies", [])}
        return [replace(reply, app=apps.get(reply.id)) for reply in replies]


SIMULATOR = web.AppKey("simulator", Simulator)


async def simulator_context(app: web.Application) -> AsyncIterator[None]:
    """Attach the simulator driver once the hub exists, and detach it at shutdown."""
    hub = app[HUB]
    if not hub.settings.simulator.enabled:
        yield
        return
    simulator = await Simulator.start(hub)
    app[SIMULATOR] = simulator
    yield
    await simulator.stop()
