"""OneBot v11 reverse WebSocket at /onebot/v11/ws: the Master is the server, Universal role only."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web
from pydantic import ValidationError

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.drivers import DriverSession
from kenkogo_master.hub.hub import Hub
from kenkogo_master.ids import new_id
from kenkogo_master.keys import HUB
from kenkogo_master.observability import log_context
from kenkogo_master.protocol import codec
from kenkogo_master.protocol.drivers import InboundEvent, NoticeForm
from kenkogo_master.protocol.onebot import (
    ApiResponse,
    HeartbeatEvent,
    LifecycleEvent,
    MessageEvent,
    MetaEvent,
    NoticeEvent,
    RequestEvent,
    classify,
    parse_id,
    to_inbound,
    to_notice,
)
from kenkogo_master.settings import OneBotSettings
from kenkogo_master.transport.app_events import describe_validation
from kenkogo_master.transport.onebot_peer import OneBotPeer
from kenkogo_master.transport.sio_apps import token_accepted
from kenkogo_master.transport.sio_server import hard_frame_limit

log = logging.getLogger(__name__)

PATHS = ("/onebot/v11/ws", "/onebot/v11/ws/")
PLATFORM = "qq"
# Bad frames are logged in full this many times per connection, then only every LOG_EVERY-th.
LOG_FIRST = 5
LOG_EVERY = 1000
# Message events of one connection being stored at once. OneBot has no acks, so the reader goes
# on while they commit (and while the scheduler holds ingest back); past this many it waits,
# which leaves the rest to TCP's flow control.
INGEST_WINDOW = 500


# The events stored and scheduled: chat messages, notices and requests.
Ingested = MessageEvent | NoticeEvent | RequestEvent


@dataclass(slots=True)
class OneBotCounters:
    """What the endpoint has seen since start-up, for operators and metrics."""

    connections: int = 0  # accepted handshakes
    refused: int = 0  # handshakes answered 4xx
    frames: int = 0  # text frames received
    messages: int = 0  # message events ingested
    notices: int = 0  # notice and request events ingested
    malformed: int = 0  # frames that were not JSON or not OneBot
    ignored: int = 0  # guild messages and other events the Master does not act on
    unmatched: int = 0  # responses whose echo no call was waiting for
    ingest_failed: int = 0  # message events the hub refused (overload, limits)


@dataclass(frozen=True, slots=True)
class Handshake:
    """Who is connecting, from the upgrade request's headers."""

    self_id: str
    name: str


def presented_token(request: web.Request) -> str | None:
    """Read the access token from `Authorization: Bearer` or the `access_token` query parameter."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    # "Token" is what early reverse-WebSocket clients sent; the standard says "Bearer".
    if scheme.lower() in ("bearer", "token") and value.strip():
        return value.strip()
    return request.query.get("access_token") or None


def check_handshake(request: web.Request, settings: OneBotSettings) -> Handshake:
    """Authenticate and identify a connecting implementation; raise HubError to refuse it."""
    if settings.access_token:
        presented = presented_token(request)
        # The standard's HTTP rules: no token is 401, a wrong one 403.
        if presented is None:
            raise HubError(ErrorCode.UNAUTHORIZED)
        if not token_accepted(presented, [settings.access_token]):
            raise HubError(ErrorCode.FORBIDDEN)
    role = request.headers.get("X-Client-Role", "").strip()
    if role.lower() != "universal":
        got = f"got {role!r}" if role else "the header is missing"
        raise HubError(
            ErrorCode.INVALID_PAYLOAD,
            detail=f"X-Client-Role must be Universal ({got}); "
            "switch the OneBot implementation's reverse WebSocket to the universal client",
        )
    raw_id = request.headers.get("X-Self-ID", "").strip()
    try:
        self_id = parse_id(raw_id)
    except ValueError:
        got = f"got {raw_id[:40]!r}" if raw_id else "the header is missing"
        raise HubError(
            ErrorCode.INVALID_PAYLOAD, detail=f"X-Self-ID must be the bot's numeric id ({got})"
        ) from None
    return Handshake(self_id=str(self_id), name=request.headers.get("User-Agent", "")[:200])


@dataclass(eq=False, slots=True)
class _Connection:
    """One accepted connection's state."""

    session: DriverSession
    peer: OneBotPeer
    bad_frames: int = 0
    ingesting: set[asyncio.Task[None]] = field(default_factory=set)


@dataclass(eq=False)
class OneBotEndpoint:
    """The aiohttp handler of /onebot/v11/ws, shared by every connection of one Master."""

    counters: OneBotCounters = field(default_factory=OneBotCounters)
    _peers: set[OneBotPeer] = field(default_factory=set)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Run one implementation's connection until it closes."""
        hub = request.app[HUB]
        settings = hub.settings
        log_context.bind(remote=request.remote)
        try:
            handshake = check_handshake(request, settings.onebot)
        except HubError as exc:
            self.counters.refused += 1
            log.warning(
                "OneBot connection from %s refused: %s %s",
                request.remote,
                exc.code.value,
                exc.params.get("detail", ""),
            )
            raise
        ws = web.WebSocketResponse(
            compress=settings.server.websocket_compression,
            max_msg_size=hard_frame_limit(settings),
            heartbeat=settings.onebot.ping_interval,
        )
        if not ws.can_prepare(request).ok:
            self.counters.refused += 1
            raise HubError(ErrorCode.INVALID_PAYLOAD, detail="expected a WebSocket upgrade")
        await ws.prepare(request)
        peer = OneBotPeer(
            ws,
            request.remote or "unknown",
            action_timeout=settings.onebot.action_timeout,
            quote_replies=settings.onebot.quote_replies,
        )
        self._peers.add(peer)
        try:
            session = await hub.drivers.attach(peer, PLATFORM, handshake.self_id, handshake.name)
        except Exception:
            self._peers.discard(peer)
            await peer.close()
            raise
        self.counters.connections += 1
        # This task serves the connection: whatever it logs is about this driver.
        log_context.bind(driver_id=session.id)
        log.info(
            "OneBot %s connected from %s as driver %s (%s)",
            handshake.self_id,
            peer.remote,
            session.id,
            handshake.name or "unknown implementation",
        )
        conn = _Connection(session, peer)
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    await self._on_frame(hub, conn, message.data)
                elif message.type is WSMsgType.BINARY:
                    self._bad_frame(conn, "a binary frame")
                elif message.type is WSMsgType.ERROR:
                    break
        finally:
            if conn.ingesting:
                # Received before the end: stored all the same, as a driver's acked events are.
                await asyncio.wait(conn.ingesting)
            peer.connection_lost()
            self._peers.discard(peer)
            await hub.drivers.detach(session)
            log.info("OneBot %s (driver %s) disconnected", handshake.self_id, session.id)
        return ws

    async def shutdown(self, app: web.Application) -> None:
        """Close every connection so shutdown does not wait for implementations to hang up."""
        for peer in tuple(self._peers):
            await peer.close()

    async def _on_frame(self, hub: Hub, conn: _Connection, text: str) -> None:
        try:
            await self._on_text(hub, conn, text)
        except HubError as exc:
            self._bad_frame(conn, f"{exc.code.value} {exc.params}", text)
        except Exception:
            # A bug handling one frame must not end the connection of a whole bot account.
            self.counters.malformed += 1
            log.exception("OneBot %s: handling a frame failed", conn.session.self_id)

    async def _on_text(self, hub: Hub, conn: _Connection, text: str) -> None:
        self.counters.frames += 1
        try:
            frame = classify(codec.loads(text))
        except ValidationError as exc:
            self._bad_frame(conn, describe_validation(exc), text)
            return
        except ValueError as exc:  # not JSON, or not a OneBot frame at all
            self._bad_frame(conn, str(exc) or "not JSON", text)
            return
        hub.drivers.touch(conn.session)  # any well-formed frame shows the implementation is alive
        if isinstance(frame, ApiResponse):
            if not conn.peer.resolve(frame):
                self.counters.unmatched += 1
                log.debug(
                    "OneBot %s: response to unknown echo %r", conn.session.self_id, frame.echo
                )
        elif isinstance(frame, MessageEvent | NoticeEvent | RequestEvent):
            await self._start_ingest(hub, conn, frame, text)
        elif isinstance(frame, HeartbeatEvent):
            if frame.online is False:
                log.warning("OneBot %s reports its account offline", conn.session.self_id)
        elif isinstance(frame, LifecycleEvent):
            log.info("OneBot %s lifecycle: %s", conn.session.self_id, frame.sub_type)
        elif not isinstance(frame, MetaEvent):
            self.counters.ignored += 1

    async def _start_ingest(self, hub: Hub, conn: _Connection, frame: Ingested, text: str) -> None:
        """Store a message event without holding up the frames behind it (API responses too)."""
        if len(conn.ingesting) >= INGEST_WINDOW:
            await asyncio.wait(conn.ingesting, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(self._ingest(hub, conn, frame, text))
        conn.ingesting.add(task)
        task.add_done_callback(conn.ingesting.discard)

    async def _ingest(self, hub: Hub, conn: _Connection, frame: Ingested, text: str) -> None:
        try:
            await self._store(hub, conn, frame, text)
        except Exception:
            # A bug storing one message must not end the connection of a whole bot account.
            self.counters.malformed += 1
            log.exception("OneBot %s: storing a message failed", conn.session.self_id)

    async def _store(self, hub: Hub, conn: _Connection, frame: Ingested, text: str) -> None:
        try:
            if isinstance(frame, MessageEvent):
                event = InboundEvent.model_validate(to_inbound(frame))
            else:
                # OneBot notices carry no id: each is new; a request is known by its flag.
                notice = NoticeForm.model_validate(to_notice(frame))
                event = notice.event(f"notice:{new_id()}")
        except ValidationError as exc:
            self._bad_frame(conn, describe_validation(exc), text)
            return
        try:
            # OneBot has no ack to refuse with: during a stop the message is kept for next time.
            await hub.ingest(conn.session, event, refusable=False)
        except HubError as exc:
            self.counters.ingest_failed += 1
            log.warning(
                "OneBot %s message %s not ingested: %s %s",
                conn.session.self_id,
                event.platform_message_id,
                exc.code.value,
                exc.params,
            )
            return
        if isinstance(frame, MessageEvent):
            self.counters.messages += 1
        else:
            self.counters.notices += 1

    def _bad_frame(self, conn: _Connection, reason: str, text: str = "") -> None:
        self.counters.malformed += 1
        conn.bad_frames += 1
        if conn.bad_frames <= LOG_FIRST or conn.bad_frames % LOG_EVERY == 0:
            log.warning(
                "OneBot %s sent a bad frame (%d so far): %s; frame starts %r",
                conn.session.self_id,
                conn.bad_frames,
                reason,
                text[:200],
            )


ONEBOT = web.AppKey("onebot", OneBotEndpoint)


async def handle(request: web.Request) -> web.StreamResponse:
    """Serve /onebot/v11/ws with the application's endpoint."""
    return await request.app[ONEBOT].handle(request)


def setup(app: web.Application) -> None:
    """Add the endpoint, its routes and its shutdown hook to `app`."""
    endpoint = OneBotEndpoint()
    app[ONEBOT] = endpoint
    for path in PATHS:
        app.router.add_get(path, handle)
    app.on_shutdown.append(endpoint.shutdown)
