"""App lifecycle: connect, register, heartbeat, resume, operator control and the timeouts."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from kenkogo_master.deploy.app_tokens import AppTokens
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.events import EventBus
from kenkogo_master.hub.ports import Peer, Texts
from kenkogo_master.hub.registry import Registry
from kenkogo_master.hub.routing import Matcher
from kenkogo_master.hub.scheduler import AwayName, Shadow
from kenkogo_master.hub.sessions import AppSession
from kenkogo_master.hub.states import AppState, check_transition
from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.protocol.apps import DEFAULT_PRIORITY, RegisterRequest, Subscription
from kenkogo_master.settings import AppSettings
from kenkogo_master.store.app_records import AppRecords

# The message of `kicked` when the operator gave a reason (marked in i18n/keys.py).
KICKED_WITH_REASON = "error.kicked_with_reason"

log = logging.getLogger(__name__)

TransitionListener = Callable[[AppSession, AppState, AppState], None]
AfterAck = Callable[[], Coroutine[Any, Any, None]]
# Distinct register requests kept for sharing (see AppLifecycle._shared).
SHARED_REQUESTS = 256


def _compile_regexes(patterns: list[str] | None) -> tuple[re.Pattern[str], ...]:
    """Compile subscription regexes, turning a bad one into a clear error."""
    compiled = []
    for pattern in patterns or ():
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise HubError(ErrorCode.INVALID_REGEX, pattern=pattern, detail=str(exc)) from None
    return tuple(compiled)


def away_names(rows: Sequence[Any], at_ms: int) -> list[AwayName]:
    """Turn recent registrations into away names: since the restart for those left open."""
    names: dict[str, tuple[list[Shadow], int]] = {}
    for row in rows:
        try:
            subscription = Subscription.model_validate(row.subscription or {})
            regexes = _compile_regexes(subscription.regex)
        except (ValueError, HubError):
            log.warning("app %s: its stored subscription no longer reads; not kept away", row.name)
            continue
        priority = row.priority if row.priority is not None else DEFAULT_PRIORITY
        shadow = Shadow(Matcher.build(subscription, regexes), priority, bool(row.block))
        shadows, since = names.get(row.name, ([], 0))
        if shadow not in shadows:
            shadows.append(shadow)
        left_ms = at_ms if row.state != "disconnected" else row.disconnected_ms
        names[row.name] = (shadows, max(since, left_ms))
    return [AwayName(name, tuple(shadows), since) for name, (shadows, since) in names.items()]


class AppLifecycle:
    """Own every app session's state; the only place that changes it."""

    def __init__(
        self,
        settings: AppSettings,
        records: AppRecords,
        bus: EventBus,
        texts: Texts,
        normalize_locale: Callable[[str], str | None] = lambda tag: tag,
    ) -> None:
        self.settings = settings
        self.registry = Registry()
        self._records = records
        self._bus = bus
        self._texts = texts
        self._normalize_locale = normalize_locale
        self._listeners: list[TransitionListener] = []
        # The tokens of the processes the supervisor started: who presents one is that deployment.
        self.deployment_tokens = AppTokens()
        self._sweeper: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        # Instances of one app mostly register the very same request: their sessions share one
        # copy of it (requests are frozen) instead of holding one each, ~0.6 KB an app.
        self._requests: dict[str, RegisterRequest] = {}

    # -- running -------------------------------------------------------------------------------

    async def start(self) -> list[AwayName]:
        """Load held names, close what an earlier process left open, start the timeout sweeper.

        Return the names that had instances within `away_window`: they are away, not absent.
        """
        self.registry.held = await self._records.held_names()
        at_ms = now_ms()
        window_ms = int(self.settings.away_window * 1000)
        away = away_names(await self._records.recent_registrations(at_ms - window_ms), at_ms)
        stale = await self._records.close_stale("state.master_restarted", at_ms)
        if stale:
            log.info("marked %d app instances of an earlier run as disconnected", stale)
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="app-timeouts")
        return away

    async def stop(self) -> None:
        """Stop the sweeper and disconnect every session."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        for session in self.registry:
            await self._disconnect(session, "state.master_stopped", close=True)
        await asyncio.gather(*self._background, return_exceptions=True)

    def on_transition(self, listener: TransitionListener) -> None:
        """Call `listener(session, from, to)` after every state change."""
        self._listeners.append(listener)

    # -- app events -----------------------------------------------------------------------------

    async def connect(self, peer: Peer, deployment: str | None = None) -> AppSession:
        """Admit a new connection in state `connected` (of a deployment's process, if named)."""
        session = AppSession(id=new_id(), peer=peer, connected_ms=now_ms(), deployment=deployment)
        self.registry.add(session)
        await self._records.connected(session.id, peer.remote, peer.transport, session.connected_ms)
        self._bus.publish("app.connected", {"id": session.id, "remote": peer.remote})
        return session

    async def register(
        self, session: AppSession, request: RegisterRequest
    ) -> tuple[AppSession, dict[str, Any], AfterAck]:
        """Register a connection; return the session to use from now on, the ack and a follow-up.

        The follow-up sends the `state` event and must run after the ack has gone out.
        """
        if session.state is not AppState.CONNECTED:
            raise HubError(ErrorCode.ALREADY_REGISTERED, id=session.id)
        regexes = _compile_regexes(request.subscribe.regex)
        locale = self._normalize_locale(request.locale) if request.locale else None
        previous = (
            self.registry.take_resumable(request.resume, request.name) if request.resume else None
        )
        if previous is not None:
            session = await self._adopt(session, previous)
            reason = "state.resumed"
        else:
            reason = "state.registered"
        session.registration = self._shared(request)
        session.regexes = regexes
        session.locale = locale
        session.registered_ms = now_ms()
        session.last_seen = time.monotonic()
        await self._records.registered(
            session.id,
            request.model_dump(),
            session.peer.remote,
            session.peer.transport,
            session.registered_ms,
        )
        await self._move(session, AppState.PAUSED, reason)
        self.registry.index_name(session)
        if request.name in self.registry.held:
            state_reason = "state.name_held"
        elif session.paused_by_operator:
            state_reason = "state.paused_by_operator"
        else:
            await self._move(session, AppState.SCHEDULING, "state.scheduling_started")
            state_reason = "state.scheduling_started"
        ack = {
            "success": True,
            "id": session.id,
            "state": session.state.value,
            "heartbeat_interval": self.settings.heartbeat_interval,
        }
        return session, ack, lambda: self._notify_state(session, state_reason)

    def heartbeat(self, session: AppSession) -> dict[str, Any]:
        """Note a sign of life; answer with the server clock."""
        session.last_seen = time.monotonic()
        return {"time_ms": now_ms()}

    async def connection_closed(self, session: AppSession) -> None:
        """Handle the transport telling us the connection is gone."""
        if session.state is AppState.DISCONNECTED:
            return  # already disconnected by us (kick, timeout); the socket closing follows
        await self._disconnect(session, "state.connection_closed", close=False)

    # -- operator control -------------------------------------------------------------------------

    def session(self, session_id: str) -> AppSession:
        """Return a live session or raise not_found."""
        session = self.registry.get(session_id)
        if session is None:
            raise HubError(ErrorCode.NOT_FOUND, what="app", id=session_id)
        return session

    async def pause(self, session_id: str) -> AppSession:
        """Pause one instance at an operator's request."""
        session = self.session(session_id)
        self._require(session, AppState.SCHEDULING, AppState.PAUSED)
        session.paused_by_operator = True
        await self._move(session, AppState.PAUSED, "state.paused_by_operator")
        await self._notify_state(session, "state.paused_by_operator")
        return session

    async def resume(self, session_id: str) -> AppSession:
        """Resume one instance at an operator's request, unless its name is held."""
        session = self.session(session_id)
        self._require(session, AppState.PAUSED, AppState.SCHEDULING)
        if session.name in self.registry.held:
            raise HubError(ErrorCode.NAME_HELD, name=session.name)
        session.paused_by_operator = False
        await self._move(session, AppState.SCHEDULING, "state.resumed_by_operator")
        await self._notify_state(session, "state.resumed_by_operator")
        return session

    async def kick(self, session_id: str, reason: str | None = None) -> None:
        """Disconnect one instance at an operator's request; it may not resume.

        The app hears `error` `kicked`, with the operator's reason in the message when given.
        """
        session = self.session(session_id)
        session.resumable = False
        if reason:
            text = self._texts.text(KICKED_WITH_REASON, session.locale, reason=reason)
            await session.peer.send("error", {"code": ErrorCode.KICKED.value, "message": text})
        else:
            await self._send_error(session, HubError(ErrorCode.KICKED))
        await self._disconnect(session, "state.kicked", close=True)

    async def hold(self, name: str) -> list[AppSession]:
        """Hold a name: pause its instances now and keep new ones paused."""
        self.registry.held.add(name)
        await self._records.set_hold(name, True, now_ms())
        paused = []
        for session in self.registry.named(name):
            if session.state is AppState.SCHEDULING:
                await self._move(session, AppState.PAUSED, "state.name_held")
                await self._notify_state(session, "state.name_held")
                paused.append(session)
        return paused

    async def release(self, name: str) -> list[AppSession]:
        """Release a held name: resume the instances the hold paused."""
        self.registry.held.discard(name)
        await self._records.set_hold(name, False, now_ms())
        resumed = []
        for session in self.registry.named(name):
            if session.state is AppState.PAUSED and not session.paused_by_operator:
                await self._move(session, AppState.SCHEDULING, "state.name_released")
                await self._notify_state(session, "state.name_released")
                resumed.append(session)
        return resumed

    # -- internals ------------------------------------------------------------------------------

    def _shared(self, request: RegisterRequest) -> RegisterRequest:
        """Return an equal request registered before, or keep this one for the next instances."""
        if request.resume is not None:
            return request  # names one session: nobody else registers it
        key = request.model_dump_json()
        known = self._requests.get(key)
        if known is not None:
            return known
        if len(self._requests) >= SHARED_REQUESTS:
            del self._requests[next(iter(self._requests))]  # the oldest
        self._requests[key] = request
        return request

    @staticmethod
    def _require(session: AppSession, from_state: AppState, to_state: AppState) -> None:
        if session.state is not from_state:
            raise HubError(
                ErrorCode.ILLEGAL_TRANSITION,
                from_state=session.state.value,
                to_state=to_state.value,
            )

    async def _move(self, session: AppSession, to_state: AppState, reason: str) -> None:
        from_state = session.state
        check_transition(from_state, to_state)
        session.state = to_state
        at_ms = now_ms()
        await self._records.transition(
            session.id,
            from_state.value,
            to_state.value,
            reason,
            at_ms,
        )
        self._bus.publish(
            "app.state",
            {
                "id": session.id,
                "name": session.name,
                "from": from_state.value,
                "to": to_state.value,
                "reason": reason,
                "at_ms": at_ms,
            },
        )
        log.info(
            "app %s (%s): %s -> %s (%s)",
            session.id,
            session.name,
            from_state.value,
            to_state.value,
            reason,
            extra={"app_id": session.id, "remote": session.peer.remote},
        )
        for listener in self._listeners:
            listener(session, from_state, to_state)

    async def _adopt(self, connection: AppSession, previous: AppSession) -> AppSession:
        """Move a resuming app's earlier session onto this connection."""
        await self._move(connection, AppState.DISCONNECTED, "state.resumed_elsewhere")
        self.registry.remove(connection, 0)
        previous.peer = connection.peer
        previous.resumable = True
        self.registry.add(previous)
        return previous

    async def _disconnect(self, session: AppSession, reason: str, *, close: bool) -> None:
        if session.state is AppState.DISCONNECTED:
            return
        await self._move(session, AppState.DISCONNECTED, reason)
        self.registry.remove(session, self.settings.resume_window)
        if close:
            await session.peer.close()

    async def _notify_state(self, session: AppSession, reason: str) -> None:
        if session.state is AppState.DISCONNECTED:
            return
        await session.peer.send(
            "state",
            {"state": session.state.value, "reason": self._texts.text(reason, session.locale)},
        )

    async def _send_error(self, session: AppSession, error: HubError) -> None:
        message = self._texts.text(error.text_key, session.locale, **error.params)
        await session.peer.send("error", {"code": error.code.value, "message": message})

    def _sweep_interval(self) -> float:
        return min(1.0, self.settings.register_timeout / 4, self.settings.heartbeat_timeout / 4)

    async def _sweep_forever(self) -> None:
        while True:
            # Asked each time: the timeouts may change while the Master runs.
            await asyncio.sleep(self._sweep_interval())
            try:
                await self._sweep()
            except Exception:
                log.exception("timeout sweep failed")

    async def _sweep(self) -> None:
        """Disconnect connections that did not register, and apps that stopped heartbeating."""
        now = time.monotonic()
        for session in self.registry:
            if session.state is AppState.CONNECTED:
                if now - session.last_seen > self.settings.register_timeout:
                    await self._timeout(session, ErrorCode.REGISTER_TIMEOUT)
            elif now - session.last_seen > self.settings.heartbeat_timeout:
                await self._timeout(session, ErrorCode.HEARTBEAT_TIMEOUT)
        self.registry.expire_resumable()

    async def _timeout(self, session: AppSession, code: ErrorCode) -> None:
        seconds = (
            self.settings.register_timeout
            if code is ErrorCode.REGISTER_TIMEOUT
            else self.settings.heartbeat_timeout
        )
        await self._send_error(session, HubError(code, seconds=seconds))
        await self._disconnect(session, f"state.{code.value}", close=True)
