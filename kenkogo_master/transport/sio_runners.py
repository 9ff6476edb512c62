"""Runners over Socket.IO, namespace /runner (PROTOCOL.md section 6)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import socketio
from pydantic import BaseModel, ValidationError
from socketio.exceptions import ConnectionRefusedError as Refused

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.hub import Hub
from kenkogo_master.ids import now_ms
from kenkogo_master.protocol import codec
from kenkogo_master.runners.credentials import Enrolment
from kenkogo_master.runners.protocol import (
    AppState,
    CommandResult,
    LogChunk,
    RunnerHeartbeat,
    RunnerRegister,
)
from kenkogo_master.runners.registry import Runner, Runners
from kenkogo_master.transport.app_events import describe_validation
from kenkogo_master.transport.sio_server import (
    UNANSWERED_LIMIT,
    emit_to,
    forget_oldest_unanswered,
    remote_of,
)

log = logging.getLogger(__name__)

NAMESPACE = "/runner"


class SioRunnerLink:
    """One /runner connection, as the registry talks to it."""

    def __init__(self, server: socketio.AsyncServer, sid: str, remote: str) -> None:
        self._server = server
        self._sid = sid
        self.remote = remote

    async def emit(
        self, event: str, data: Any, callback: Callable[..., None] | None = None
    ) -> None:
        """Send one event, with an ack callback if given."""
        await emit_to(self._server, self._sid, NAMESPACE, event, data, callback)
        if callback is not None:
            forget_oldest_unanswered(self._server, self._sid, UNANSWERED_LIMIT)

    async def close(self) -> None:
        """Disconnect the runner."""
        await self._server.disconnect(self._sid, namespace=NAMESPACE)


@dataclass(slots=True)
class RunnerConnection:
    """What the namespace keeps per /runner connection."""

    link: SioRunnerLink
    runner_id: str | None  # known from the credential; None while enrolling
    enrolment: Enrolment | None
    runner: Runner | None = None


Handler = Callable[["RunnerNamespace", RunnerConnection, Any], Awaitable[Any]]


class RunnerNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """Route /runner events into the runner registry, each validated first."""

    def __init__(self, hub: Hub, runners: Runners, namespace: str = NAMESPACE) -> None:
        super().__init__(namespace)
        self._hub = hub
        self._runners = runners
        self._connections: dict[str, RunnerConnection] = {}
        self._handlers: dict[str, tuple[type[BaseModel], Handler]] = {
            "register": (RunnerRegister, RunnerNamespace._register),
            "heartbeat": (RunnerHeartbeat, RunnerNamespace._heartbeat),
            "command_result": (CommandResult, RunnerNamespace._command_result),
            "app_state": (AppState, RunnerNamespace._app_state),
            "log_chunk": (LogChunk, RunnerNamespace._log_chunk),
        }

    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Dispatch every event, known or not, through one funnel."""
        if event == "connect":
            return await self._on_connect(*args)
        if event == "disconnect":
            return self._on_disconnect(args[0])
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
            log.exception("runner connection %s: event %r failed", sid, event)
            error = HubError(ErrorCode.INTERNAL)
        answer = self._hub.error(error, None)
        # Runners send app_state and log_chunk without asking for an ack: say it on `error` too.
        await self.emit("error", {**answer, "event": event[:64]}, to=sid)
        return {"success": False, "error": answer}

    async def _dispatch(self, conn: RunnerConnection, event: str, data: Any) -> Any:
        limit = self._hub.settings.limits.max_payload
        try:
            size = len(codec.dumpb(data)) if data is not None else 0
        except TypeError as exc:
            raise HubError(ErrorCode.INVALID_PAYLOAD, detail=str(exc)) from None
        if size > limit:
            raise HubError(ErrorCode.PAYLOAD_TOO_LARGE, size=size, limit=limit)
        entry = self._handlers.get(event)
        if entry is None:
            raise HubError(ErrorCode.UNKNOWN_EVENT, event=event[:64])
        model, handler = entry
        payload = model.model_validate({} if data is None else data)
        return await handler(self, conn, payload)

    async def malformed(self, sid: str, code: ErrorCode) -> None:
        """Tell a runner that a packet it sent could not be read."""
        if sid in self._connections:
            error = HubError(code, detail="the packet is not a Socket.IO event [name, data]")
            await self.emit("error", self._hub.error(error, None), to=sid)

    # -- connection -------------------------------------------------------------------------------

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        runner_id = enrolment = None
        if isinstance(token, str) and token:
            runner_id = self._runners.credentials.runner_of(token)
            if runner_id is None:
                enrolment = self._runners.credentials.unspent(token)
        if runner_id is None and enrolment is None:
            error = self._hub.error_of(ErrorCode.UNAUTHORIZED, None)
            raise Refused(error["message"], error)
        link = SioRunnerLink(self.server, sid, remote_of(environ))
        self._connections[sid] = RunnerConnection(link, runner_id, enrolment)

    def _on_disconnect(self, sid: str) -> None:
        conn = self._connections.pop(sid, None)
        if conn is not None and conn.runner is not None:
            self._runners.detach(conn.runner, conn.link)

    def _runner(self, conn: RunnerConnection) -> Runner:
        if conn.runner is None:
            raise HubError(ErrorCode.NOT_REGISTERED)
        self._runners.heard(conn.runner)
        return conn.runner

    # -- events -----------------------------------------------------------------------------------

    async def _register(self, conn: RunnerConnection, request: RunnerRegister) -> Any:
        if conn.runner is not None:
            raise HubError(ErrorCode.ALREADY_REGISTERED, id=conn.runner.id)
        runner, credential = await self._runners.attach(
            conn.link, request, conn.runner_id, conn.enrolment
        )
        conn.runner, conn.runner_id, conn.enrolment = runner, runner.id, None
        answer: dict[str, Any] = {
            "success": True,
            "id": runner.id,
            "heartbeat_interval": self._runners.settings.heartbeat_interval,
        }
        if credential is not None:
            answer["credential"] = credential  # the only time it is sent: the runner keeps it
        # After the ack, so that the runner knows its id before it converges.
        self._runners.spawn(self._reconcile(conn, runner))
        return answer

    async def _reconcile(self, conn: RunnerConnection, runner: Runner) -> None:
        if runner.link is conn.link:
            await conn.link.emit("reconcile", self._runners.reconcile_payload(runner))

    async def _heartbeat(self, conn: RunnerConnection, request: RunnerHeartbeat) -> Any:
        self._runners.heartbeat(self._runner(conn), request.resources)
        return {"time_ms": now_ms()}

    async def _command_result(self, conn: RunnerConnection, result: CommandResult) -> Any:
        if not self._runners.command_result(self._runner(conn), result):
            raise HubError(ErrorCode.NOT_FOUND, what="command", id=result.id)
        return {"success": True}

    async def _app_state(self, conn: RunnerConnection, state: AppState) -> Any:
        self._runners.app_state(self._runner(conn), state)
        return {"success": True}

    async def _log_chunk(self, conn: RunnerConnection, chunk: LogChunk) -> Any:
        missing = self._runners.log_chunk(self._runner(conn), chunk)
        return {"success": True, "missing": missing}
