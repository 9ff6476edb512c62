"""Apps over plain WebSocket at /ws, in the JSON envelope of PROTOCOL.md section 3."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web
from pydantic import ValidationError

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.hub import Hub
from kenkogo_master.observability import log_context
from kenkogo_master.protocol import codec
from kenkogo_master.protocol.envelope import Envelope
from kenkogo_master.transport.app_events import AppConnection, describe_validation, dispatch
from kenkogo_master.transport.sio_apps import token_accepted
from kenkogo_master.transport.sio_server import UNANSWERED_LIMIT, hard_frame_limit

log = logging.getLogger(__name__)

# Unanswered messages remembered per connection at most.


class WebSocketPeer:
    """A plain WebSocket client as the hub sees it."""

    transport = "websocket"

    def __init__(self, ws: web.WebSocketResponse, remote: str) -> None:
        self._ws = ws
        self.remote = remote
        # answers awaited from the app, by (event, id of what was sent)
        self.pending: dict[str, Callable[[Any], None]] = {}

    async def send(self, event: str, data: Any, seq: int | None = None) -> None:
        """Send one envelope frame; a closed socket is not an error."""
        frame: dict[str, Any] = {"type": event}
        if data is not None:
            frame["data"] = data
        if seq is not None:
            frame["seq"] = seq
        if self._ws.closed:
            return
        try:
            await self._ws.send_str(codec.dumps(frame))
        except (ConnectionError, RuntimeError):
            log.debug("send to closed websocket %s dropped", self.remote)

    async def request(self, event: str, data: Any, on_answer: Callable[[Any], None]) -> None:
        """Send an event; the app's `ack` frame carrying the same id is passed to `on_answer`."""
        self.pending[str(data["id"])] = on_answer
        # An app that never acks must not grow this for ever; the scheduler gave up on the
        # oldest of these long before (its redeliveries carry the same id and come back here).
        if len(self.pending) > UNANSWERED_LIMIT:
            del self.pending[next(iter(self.pending))]
        await self.send(event, data)

    async def close(self) -> None:
        """Close the socket."""
        await self._ws.close()


class RawWebSocketEndpoint:
    """The aiohttp handler of /ws."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Run one app connection until it closes."""
        settings = self._hub.settings
        presented = _presented_token(request)
        # A process the supervisor started presents its own token: it is let in, and linked.
        deployment = self._hub.apps.deployment_tokens.check(presented)
        if (
            settings.apps.require_token
            and deployment is None
            and not token_accepted(presented, settings.apps.tokens)
        ):
            error = self._hub.error_of(ErrorCode.UNAUTHORIZED, None)
            return web.json_response(error, status=401, dumps=codec.dumps)
        ws = web.WebSocketResponse(
            compress=settings.server.websocket_compression,
            max_msg_size=hard_frame_limit(settings),
        )
        await ws.prepare(request)
        peer = WebSocketPeer(ws, request.remote or "unknown")
        conn = AppConnection(await self._hub.apps.connect(peer, deployment))
        # This task serves the connection: whatever it logs is about this app and peer.
        log_context.bind(app_id=conn.session.id, remote=peer.remote)
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    await self._on_frame(conn, peer, message.data)
                elif message.type is WSMsgType.BINARY:
                    await self._reply_error(conn, peer, HubError(ErrorCode.INVALID_JSON))
                elif message.type is WSMsgType.ERROR:
                    break
        finally:
            await self._hub.apps.connection_closed(conn.session)
        return ws

    async def _on_frame(self, conn: AppConnection, peer: WebSocketPeer, text: str) -> None:
        limit = self._hub.settings.limits.max_payload
        # The limit is in bytes; frames under it even at 4 bytes a character skip the count.
        size = len(text) if len(text) * 4 <= limit else len(text.encode())
        if size > limit:
            error = HubError(ErrorCode.PAYLOAD_TOO_LARGE, size=size, limit=limit)
            await self._reply_error(conn, peer, error)
            return
        try:
            envelope = Envelope.model_validate(codec.loads(text))
        except ValueError as exc:
            if isinstance(exc, ValidationError):
                error = HubError(ErrorCode.INVALID_PAYLOAD, detail=describe_validation(exc))
            elif isinstance(exc, codec.TooDeep):
                error = HubError(ErrorCode.INVALID_PAYLOAD, detail=str(exc))
            else:
                error = HubError(ErrorCode.INVALID_JSON)
            await self._reply_error(conn, peer, error)
            return
        if envelope.type == "ping":
            await peer.send("pong", None, envelope.seq)
            return
        if envelope.type == "ack":
            await self._on_ack(conn, peer, envelope.data)
            return
        outcome = await dispatch(self._hub, conn, envelope.type, envelope.data, size)
        if outcome.error is not None and outcome.error.code is ErrorCode.UNKNOWN_EVENT:
            await peer.send("error", outcome.answer["error"], envelope.seq)
            return
        await peer.send(envelope.type, outcome.answer, envelope.seq)
        if outcome.after is not None:
            await outcome.after()

    async def _on_ack(self, conn: AppConnection, peer: WebSocketPeer, data: Any) -> None:
        message_id = data.get("id") if isinstance(data, dict) else None
        callback = peer.pending.pop(str(message_id), None) if message_id is not None else None
        if callback is not None:
            callback(data)
            return
        # An ack of nothing we sent (or acked twice) is a mistake the app should hear of.
        error = HubError(ErrorCode.UNKNOWN_MESSAGE, message_id=str(message_id)[:64])
        await self._reply_error(conn, peer, error)

    async def _reply_error(self, conn: AppConnection, peer: WebSocketPeer, error: HubError) -> None:
        await peer.send("error", self._hub.error(error, conn.session.locale))


def _presented_token(request: web.Request) -> str | None:
    """Read an app token from `Authorization: Bearer`, or `?token=` for clients without headers."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer ") :]
    return request.query.get("token")
