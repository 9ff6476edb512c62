"""Drivers over Socket.IO, namespace /driver (PROTOCOL.md section 4)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import socketio
from pydantic import BaseModel, ValidationError
from socketio.exceptions import ConnectionRefusedError as Refused

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.drivers import ActionResult, DriverSession, OutboundAction
from kenkogo_master.hub.hub import Hub
from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.protocol import codec
from kenkogo_master.protocol.drivers import (
    DriverRegister,
    EventsBatch,
    InboundEvent,
    read_event,
    validate_batch,
)
from kenkogo_master.store.driver_tokens import DriverTokenStore
from kenkogo_master.transport.app_events import describe_validation
from kenkogo_master.transport.sio_server import (
    UNANSWERED_LIMIT,
    emit_to,
    forget_oldest_unanswered,
    remote_of,
)

log = logging.getLogger(__name__)

NAMESPACE = "/driver"


class SioDriverPeer:
    """A driver on /driver as the hub sees it."""

    transport = "socket.io"

    def __init__(
        self, server: socketio.AsyncServer, sid: str, remote: str, action_timeout: float
    ) -> None:
        self._server = server
        self._sid = sid
        self.remote = remote
        self._timeout = action_timeout
        self._waiting: set[asyncio.Future[Any]] = set()
        self.gone = False

    async def deliver_action(self, action: OutboundAction) -> ActionResult:
        """Emit `action` and wait for the driver's ack; failures come back as results."""
        if self.gone:
            return _failed(ErrorCode.DRIVER_UNAVAILABLE.value, "the driver has disconnected")
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_answer(*args: Any) -> None:
            if not answer.done():
                answer.set_result(args[0] if args else None)

        self._waiting.add(answer)
        try:
            await emit_to(self._server, self._sid, NAMESPACE, "action", action.to_wire(), on_answer)
            forget_oldest_unanswered(self._server, self._sid, UNANSWERED_LIMIT)
            async with asyncio.timeout(self._timeout):
                data = await answer
        except TimeoutError:
            return _failed(ErrorCode.ACTION_TIMEOUT, f"no answer within {self._timeout} s")
        finally:
            self._waiting.discard(answer)
        return action_result(data)

    def disconnected(self) -> None:
        """Fail the actions still waiting for an answer."""
        self.gone = True
        for answer in self._waiting:
            if not answer.done():
                answer.set_result(
                    {
                        "success": False,
                        "error": {
                            "code": ErrorCode.DRIVER_UNAVAILABLE.value,
                            "message": "the driver disconnected before answering",
                        },
                    }
                )

    async def close(self) -> None:
        """Disconnect the driver."""
        await self._server.disconnect(self._sid, namespace=NAMESPACE)


def _failed(code: str, message: str) -> ActionResult:
    return ActionResult(False, error={"code": str(code), "message": message})


def action_result(data: Any) -> ActionResult:
    """Read a driver's answer to `action`: `{success, platform_message_id}` or `{error}`."""
    if not isinstance(data, dict) or not isinstance(data.get("success"), bool):
        return _failed(ErrorCode.INVALID_ANSWER, "the answer has no boolean `success`")
    if data["success"]:
        platform_id = data.get("platform_message_id")
        return ActionResult(True, None if platform_id is None else str(platform_id)[:128])
    error = data.get("error")
    if not isinstance(error, dict):
        return _failed(ErrorCode.ACTION_FAILED, "refused without saying why")
    code = error.get("code")
    message = error.get("message")
    return _failed(
        str(code)[:64] if code else ErrorCode.ACTION_FAILED, str(message)[:2000] if message else ""
    )


@dataclass(slots=True)
class DriverConnection:
    """What the namespace keeps per /driver connection."""

    peer: SioDriverPeer
    token_id: str
    session: DriverSession | None = None


Handler = Callable[["DriverNamespace", DriverConnection, Any], Awaitable[Any]]


class DriverNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """Route /driver events into the hub."""

    def __init__(self, hub: Hub, tokens: DriverTokenStore, namespace: str = NAMESPACE) -> None:
        super().__init__(namespace)
        self._hub = hub
        self._tokens = tokens
        self._connections: dict[str, DriverConnection] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._handlers: dict[str, tuple[type[BaseModel] | None, Handler]] = {
            "register": (DriverRegister, DriverNamespace._register),
            # a chat message (InboundEvent) or a notice / request (NoticeForm), by its `kind`
            "event": (None, DriverNamespace._event),
            "events": (EventsBatch, DriverNamespace._events),
            "heartbeat": (None, DriverNamespace._heartbeat),
        }
        tokens.on_revoke(self._revoked)

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
        data = payload[0] if payload else None
        try:
            return await self._dispatch(conn, event, data)
        except HubError as exc:
            error = exc
        except ValidationError as exc:
            error = HubError(ErrorCode.INVALID_PAYLOAD, detail=describe_validation(exc))
        except Exception:
            driver = conn.session.id if conn.session is not None else None
            extra = {"driver_id": driver, "remote": conn.peer.remote}
            log.exception("driver connection %s: event %r failed", sid, event, extra=extra)
            error = HubError(ErrorCode.INTERNAL)
        answer = self._failure(conn, error)
        if error.code in (ErrorCode.UNKNOWN_EVENT, ErrorCode.PAYLOAD_TOO_LARGE):
            # The driver may have emitted without asking for an ack: tell it on `error` too.
            await self.emit("error", answer["error"], to=sid)
        return answer

    async def _dispatch(self, conn: DriverConnection, event: str, data: Any) -> Any:
        limit = self._hub.settings.limits.max_payload
        try:
            size = len(codec.dumpb(data)) if data is not None else 0
        except TypeError as exc:
            # Deeper than JSON encoders go: no driver event looks like this.
            raise HubError(ErrorCode.INVALID_PAYLOAD, detail=str(exc)) from None
        if size > limit:
            raise HubError(ErrorCode.PAYLOAD_TOO_LARGE, size=size, limit=limit)
        entry = self._handlers.get(event)
        if entry is None:
            raise HubError(ErrorCode.UNKNOWN_EVENT, event=event[:64])
        model, handler = entry
        payload = model.model_validate({} if data is None else data) if model else data
        return await handler(self, conn, payload)

    def _failure(self, conn: DriverConnection, error: HubError) -> dict[str, Any]:
        locale = conn.session.locale if conn.session is not None else None
        answer: dict[str, Any] = {"success": False, "error": self._hub.error(error, locale)}
        if error.code is ErrorCode.ALREADY_REGISTERED and conn.session is not None:
            answer["id"] = conn.session.id
        return answer

    # -- connection -------------------------------------------------------------------------------

    async def malformed(self, sid: str, code: ErrorCode) -> None:
        """Tell a driver that a packet it sent could not be read."""
        conn = self._connections.get(sid)
        if conn is None:
            return
        detail = "the packet is not a Socket.IO event [name, data]"
        error = HubError(code, detail=detail)
        await self.emit("error", self._failure(conn, error)["error"], to=sid)

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        token_id = self._tokens.check(token)
        if token_id is None:
            error = self._hub.error_of(ErrorCode.UNAUTHORIZED, None)
            raise Refused(error["message"], error)
        peer = SioDriverPeer(
            self.server, sid, remote_of(environ), self._hub.settings.drivers.action_timeout
        )
        self._connections[sid] = DriverConnection(peer, token_id)
        log.debug("driver connection %s from %s", sid, peer.remote, extra={"remote": peer.remote})

    async def _on_disconnect(self, sid: str) -> None:
        conn = self._connections.pop(sid, None)
        if conn is None:
            return
        conn.peer.disconnected()
        if conn.session is not None:
            await self._hub.drivers.detach(conn.session)

    def _revoked(self, token_id: str) -> None:
        """Cut off the drivers that connected with a token just deleted."""
        for conn in list(self._connections.values()):
            if conn.token_id == token_id:
                task = asyncio.create_task(conn.peer.close())
                self._background.add(task)
                task.add_done_callback(self._background.discard)

    # -- events -----------------------------------------------------------------------------------

    @staticmethod
    def _session(conn: DriverConnection) -> DriverSession:
        if conn.session is None:
            raise HubError(ErrorCode.NOT_REGISTERED)
        return conn.session

    async def _register(self, conn: DriverConnection, request: DriverRegister) -> Any:
        if conn.session is not None:
            raise HubError(ErrorCode.ALREADY_REGISTERED, id=conn.session.id)
        conn.session = await self._hub.drivers.attach(
            conn.peer, request.platform, request.self_id, request.name, request.locale
        )
        return {"success": True, "id": conn.session.id}

    async def _event(self, conn: DriverConnection, data: Any) -> Any:
        event = read_event({} if data is None else data, f"notice:{new_id()}")
        session = self._session(conn)
        self._hub.drivers.touch(session)
        return (await self._hub.ingest(session, event)).to_wire()

    async def _events(self, conn: DriverConnection, batch: EventsBatch) -> Any:
        session = self._session(conn)
        self._hub.drivers.touch(session)
        try:
            events = validate_batch(batch.events)
        except (ValidationError, ValueError):
            return await self._events_one_by_one(conn, session, batch.events)
        return [
            self._failure(conn, result) if isinstance(result, HubError) else result.to_wire()
            for result in await self._hub.ingest_many(session, events)
        ]

    async def _events_one_by_one(
        self, conn: DriverConnection, session: DriverSession, items: list[Any]
    ) -> list[Any]:
        """Validate a batch holding a bad event item by item: each bad one gets its own answer."""
        answers: list[Any] = [None] * len(items)
        valid: list[tuple[int, InboundEvent]] = []
        for index, item in enumerate(items):
            try:
                valid.append((index, read_event(item, f"notice:{new_id()}")))
            except ValidationError as exc:
                error = HubError(ErrorCode.INVALID_PAYLOAD, detail=describe_validation(exc))
                answers[index] = self._failure(conn, error)
        results = await self._hub.ingest_many(session, [event for _, event in valid])
        for (index, _), result in zip(valid, results, strict=True):
            answers[index] = (
                self._failure(conn, result) if isinstance(result, HubError) else result.to_wire()
            )
        return answers

    async def _heartbeat(self, conn: DriverConnection, _: Any) -> Any:
        self._hub.drivers.touch(self._session(conn))
        return {"time_ms": now_ms()}
