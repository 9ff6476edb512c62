"""Apps over Socket.IO, namespace /app."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from typing import Any

import orjson
import socketio
from socketio.exceptions import ConnectionRefusedError as Refused

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.hub import Hub
from kenkogo_master.transport.app_events import AppConnection, dispatch, failure
from kenkogo_master.transport.sio_server import (
    UNANSWERED_LIMIT,
    emit_to,
    forget_oldest_unanswered,
    remote_of,
)

log = logging.getLogger(__name__)

# Failures of events the sender may have emitted without an ack.
_UNANSWERABLE = frozenset({ErrorCode.UNKNOWN_EVENT, ErrorCode.PAYLOAD_TOO_LARGE})


class SocketIOPeer:
    """A Socket.IO client as the hub sees it."""

    transport = "socket.io"

    def __init__(self, server: socketio.AsyncServer, sid: str, namespace: str, remote: str) -> None:
        self._server = server
        self._sid = sid
        self._namespace = namespace
        self.remote = remote

    async def send(self, event: str, data: Any) -> None:
        """Emit an event to this client."""
        await emit_to(self._server, self._sid, self._namespace, event, data)

    async def request(self, event: str, data: Any, on_answer: Callable[[Any], None]) -> None:
        """Emit an event whose ack is passed to `on_answer`."""
        await emit_to(self._server, self._sid, self._namespace, event, data, on_answer)
        forget_oldest_unanswered(self._server, self._sid, UNANSWERED_LIMIT)

    async def close(self) -> None:
        """Disconnect this client."""
        await self._server.disconnect(self._sid, namespace=self._namespace)


def _binary_stand_in(value: Any) -> str:
    """Count a binary attachment, which has no JSON form, at its own length."""
    if isinstance(value, bytes | bytearray):
        return " " * len(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def wire_size(data: Any) -> int:
    """Return the size in bytes of an event's payload (raises TypeError when nested too deep)."""
    return 0 if data is None else len(orjson.dumps(data, default=_binary_stand_in))


def token_accepted(presented: Any, accepted: list[str]) -> bool:
    """Compare a presented token with the accepted ones in constant time."""
    if not isinstance(presented, str):
        return False
    return any(hmac.compare_digest(presented.encode(), token.encode()) for token in accepted)


class AppNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """Route /app events into the hub."""

    def __init__(self, hub: Hub, namespace: str = "/app") -> None:
        super().__init__(namespace)
        self._hub = hub
        self._connections: dict[str, AppConnection] = {}
        self._background: set[asyncio.Task[Any]] = set()

    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Dispatch every event, known or not, through one funnel."""
        if event == "connect":
            return await self._on_connect(*args)
        if event == "disconnect":
            return await self._on_disconnect(args[0])
        sid, *payload = args
        conn = self._connections.get(sid)
        if conn is None:
            return None
        if not isinstance(event, str):
            event = repr(event)  # a hand-made frame may name its event with a number
        data = payload[0] if payload else None
        try:
            size = wire_size(data)
        except TypeError as exc:
            # Deeper than JSON encoders go: no app event looks like this.
            return failure(self._hub, conn, HubError(ErrorCode.INVALID_PAYLOAD, detail=str(exc)))
        outcome = await dispatch(self._hub, conn, event, data, size)
        if outcome.error is not None and outcome.error.code in _UNANSWERABLE:
            # The sender may not have asked for an ack; tell it on the `error` event as well.
            await conn.session.peer.send("error", outcome.answer["error"])
        if outcome.after is not None:
            # Runs once this handler returns and the ack has been queued ahead of it.
            task = asyncio.create_task(outcome.after())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return outcome.answer

    async def malformed(self, sid: str, code: ErrorCode) -> None:
        """Tell an app that a packet it sent could not be read."""
        conn = self._connections.get(sid)
        locale = conn.session.locale if conn is not None else None
        detail = "the packet is not a Socket.IO event [name, data]"
        error = self._hub.error_of(code, locale, detail=detail)
        await self.server.emit("error", error, to=sid, namespace=self.namespace)

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        settings = self._hub.settings.apps
        token = auth.get("token") if isinstance(auth, dict) else None
        # A process the supervisor started presents its own token: it is let in, and linked.
        deployment = self._hub.apps.deployment_tokens.check(token)
        if (
            settings.require_token
            and deployment is None
            and not token_accepted(token, settings.tokens)
        ):
            error = self._hub.error_of(ErrorCode.UNAUTHORIZED, None)
            raise Refused(error["message"], error)
        peer = SocketIOPeer(self.server, sid, self.namespace, remote_of(environ))
        session = await self._hub.apps.connect(peer, deployment)
        self._connections[sid] = AppConnection(session)
        log.debug(
            "app %s connected over socket.io from %s",
            session.id,
            peer.remote,
            extra={"app_id": session.id, "remote": peer.remote},
        )

    async def _on_disconnect(self, sid: str) -> None:
        conn = self._connections.pop(sid, None)
        if conn is not None:
            await self._hub.apps.connection_closed(conn.session)
