"""The App: decorators for handlers, and a connection kept up by itself (PROTOCOL.md section 2)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import logging
import signal
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from kenkogo_master.sdk import deployed
from kenkogo_master.sdk.backoff import Reconnector
from kenkogo_master.sdk.backoff import delay as backoff_delay
from kenkogo_master.sdk.connection import Connection, Gone, Refused
from kenkogo_master.sdk.dispatch import ACK_MODES, AckMode, Dispatcher, Stats
from kenkogo_master.sdk.models import (
    Approve,
    AppState,
    ErrorHook,
    Event,
    EventHandler,
    Handler,
    MasterError,
    Message,
    Refuse,
    Reply,
    StateHook,
    Target,
    as_reply,
)
from kenkogo_master.sdk.routes import Kind, Route, Routes, Subscription

log = logging.getLogger("kenkogo_master.sdk")

H = TypeVar("H", bound=Handler)
E = TypeVar("E", bound=EventHandler)
DEFAULT_URL = "http://127.0.0.1:17680"
# Failures that pass: the same request succeeds once the Master has recovered or restarted.
TRANSIENT = frozenset({"storage_unavailable", "shutting_down", "overloaded", "not_registered"})
REGISTERED = (AppState.PAUSED, AppState.SCHEDULING)
STOP_WAIT = 2.0  # seconds a stop waits for the connection loop to end by itself


def check_urls(url: str | None, urls: Sequence[str] | None) -> list[str]:
    """Return the Master URLs to try, in order; raise ValueError for bad ones."""
    if url is not None and urls is not None:
        raise ValueError("give url or urls, not both")
    chosen = list(urls) if urls is not None else [url or DEFAULT_URL]
    if not chosen:
        raise ValueError("urls: give at least one")
    for item in chosen:
        if not isinstance(item, str) or not item.startswith(("http://", "https://")):
            raise ValueError(f"url {item!r}: must start with http:// or https://")
    return chosen


def _word(field: str, value: Any, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValueError(f"{field}: a non-empty string of at most {limit} characters")
    return value


async def _call_hook(hook: Callable[..., Any], *args: Any) -> None:
    try:
        result = hook(*args)
        if inspect.isawaitable(result):
            await result
    except Exception:
        log.exception("hook %s failed", getattr(hook, "__qualname__", hook))


class App:
    """A KenkoGo app: declare handlers with decorators, then `run()` (or `await start()`)."""

    def __init__(
        self,
        name: str,
        version: str,
        *,
        url: str | None = None,
        urls: Sequence[str] | None = None,
        token: str | None = None,
        locale: str | None = None,
        priority: int | None = None,
        block: bool = False,
        subscribe: Subscription | Mapping[str, Any] | None = None,
        batch: int | None = None,
        ack: AckMode = "after",
        description: str = "",
        author: str = "",
        remember: int = 10_000,
        stop_grace: float = 5.0,
        request_timeout: float = 60.0,
        connect_timeout: float = 10.0,
    ) -> None:
        self.name = _word("name", name, 64).strip()
        self.version = _word("version", version, 64)
        self.urls = check_urls(url, urls)
        self.token = token
        self.locale = locale
        if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)):
            raise ValueError("priority: an integer")
        self.priority = priority
        self.block = bool(block)
        self.subscription = Subscription.of(subscribe)
        if batch is not None and (isinstance(batch, bool) or not 1 <= batch <= 1000):
            raise ValueError("batch: the most messages per batch, 1 to 1000")
        self.batch = batch
        if ack not in ACK_MODES:
            raise ValueError(f"ack: one of {', '.join(ACK_MODES)}")
        self.description = description
        self.author = author
        self.stop_grace = stop_grace
        self.request_timeout = request_timeout
        self.connect_timeout = connect_timeout
        self.routes = Routes()
        self._dispatcher = Dispatcher(
            self.name, self.routes, self._read, self.reply_to, ack, remember, self.answer_request
        )
        self._state_hooks: list[StateHook] = []
        self._error_hooks: list[ErrorHook] = []
        self._state = AppState.DISCONNECTED
        self._registered = asyncio.Event()
        self._stop = asyncio.Event()
        self._stopping = False
        self._connection: Connection | None = None
        self._runner: asyncio.Task[None] | None = None
        self._failure: MasterError | None = None
        self._reconnector: Reconnector | None = None
        self.instance_id: str | None = None
        # Whether serve() has read KENKOGO_MASTER_URL / KENKOGO_APP_TOKEN (see sdk/deployed.py).
        self.adopted = False
        self.heartbeat_interval = 30.0

    # -- declaring handlers ----------------------------------------------------------------------

    def _route(self, kind: Kind, items: Sequence[str]) -> Callable[[Any], Any]:
        if self._runner is not None:
            raise RuntimeError("declare handlers before the app starts")

        # Checked now, so that a bad pattern fails where it is written, not at the first message.
        checked = Route.make(kind, items, lambda message: None)

        def declare(handler: Any) -> Any:
            """Add `handler` to the routes; return it unchanged."""
            self.routes.add(dataclasses.replace(checked, handler=handler))
            return handler

        return declare

    def command(self, *names: str) -> Callable[[H], H]:
        """Handle messages that start with one of `names` (`message.args` is the rest)."""
        return self._route(Kind.COMMAND, names)

    def keyword(self, *words: str) -> Callable[[H], H]:
        """Handle messages that contain one of `words`."""
        return self._route(Kind.KEYWORD, words)

    def regex(self, *patterns: str) -> Callable[[H], H]:
        """Handle messages where one of `patterns` is found (`message.match` holds the match)."""
        return self._route(Kind.REGEX, patterns)

    def message(self) -> Callable[[H], H]:
        """Handle every message the app's subscription lets through."""
        return self._route(Kind.ANY, ())

    def event(self, *kinds: str) -> Callable[[E], E]:
        """Handle notices and requests whose kind matches a glob: "notice.*", "request.friend"."""
        return self._route(Kind.EVENT, kinds)

    def notice(self, *types: str) -> Callable[[E], E]:
        """Handle notices of `types` ("group_increase", "notify.poke"; none given: every one)."""
        return self._route(Kind.EVENT, [f"notice.{name}" for name in types or ("*",)])

    def request(self, *types: str) -> Callable[[E], E]:
        """Handle requests of `types` ("friend", "group"; none given: every one).

        The handler may return Approve(remark=...) or Refuse(reason=...).
        """
        return self._route(Kind.EVENT, [f"request.{name}" for name in types or ("*",)])

    def on_state(self, hook: StateHook) -> StateHook:
        """Call `hook(state, reason)` whenever the app's state changes."""
        self._state_hooks.append(hook)
        return hook

    def on_error(self, hook: ErrorHook) -> ErrorHook:
        """Call `hook(error)` for every `error` event the Master sends."""
        self._error_hooks.append(hook)
        return hook

    # -- what the app can see ----------------------------------------------------------------------

    @property
    def state(self) -> AppState:
        """Return where the app stands with the Master now."""
        return self._state

    @property
    def stats(self) -> Stats:
        """Return what the app has received and handled so far."""
        return self._dispatcher.stats

    @property
    def connected_url(self) -> str | None:
        """Return the URL of the live connection, if there is one."""
        return self._connection.url if self._connection is not None else None

    def register_payload(self) -> dict[str, Any]:
        """Return the `register` data this app sends (with `resume` once it has an id)."""
        payload: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "subscribe": self.subscription.wire(self.routes),
            "block": self.block,
        }
        optional = {
            "description": self.description or None,
            "author": self.author or None,
            "locale": self.locale,
            "priority": self.priority,
            "resume": self.instance_id,
            "batch": {"max": self.batch} if self.batch is not None else None,
        }
        payload.update({key: value for key, value in optional.items() if value is not None})
        return payload

    # -- talking to the Master -------------------------------------------------------------------

    async def reply_to(self, message: Message, reply: Reply) -> str:
        """Answer `message` in its chat; return the reply id once the Master has stored it."""
        data: dict[str, Any] = {"message_id": message.id, **reply.wire()}
        if message.traceparent is not None:
            data["traceparent"] = message.traceparent  # links the reply into the message's trace
        return await self._request("reply", data)

    async def send(
        self,
        target: Target,
        content: str | Reply | None = None,
        *,
        template: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> str:
        """Start a message in `target`'s chat; return its id once the Master has stored it."""
        if not isinstance(target, Target):
            raise TypeError("target: a Target, e.g. message.target or Target.group(...)")
        reply = as_reply(content, template, params)
        return await self._request("send", {"target": target.wire(), **reply.wire()})

    async def answer_request(self, event: Event, answer: Approve | Refuse) -> str:
        """Approve or refuse a request through its driver; return the answer's id."""
        data: dict[str, Any] = {"request_id": event.id, "approve": isinstance(answer, Approve)}
        if isinstance(answer, Approve) and answer.remark:
            data["remark"] = answer.remark
        if isinstance(answer, Refuse) and answer.reason:
            data["reason"] = answer.reason
        return await self._request("answer_request", data)

    async def _request(self, event: str, data: dict[str, Any]) -> str:
        """Send `event` until the Master accepts it, across reconnects, for `request_timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.request_timeout
        failures = 0
        while True:
            if self._runner is None:
                raise RuntimeError(f"{event}: the app is not running")
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"{event}: no connection to the Master")
            connection = self._connection
            if connection is None or self._state not in REGISTERED:
                try:
                    await asyncio.wait_for(self._registered.wait(), left)
                except TimeoutError:
                    raise TimeoutError(f"{event}: no connection to the Master") from None
                continue
            try:
                ack = await connection.call(event, data, timeout=min(left, 10.0))
            except Gone:
                failures += 1
                await asyncio.sleep(backoff_delay(failures))
                continue
            if isinstance(ack, Mapping) and ack.get("success") is True:
                return str(ack.get("id", ""))
            error = MasterError.of(ack.get("error") if isinstance(ack, Mapping) else ack)
            if error.code not in TRANSIENT:
                raise error
            failures += 1
            await asyncio.sleep(backoff_delay(failures))

    # -- running ---------------------------------------------------------------------------------

    async def start(self, wait: bool = True, timeout: float | None = None) -> None:
        """Start connecting; with `wait`, return once registered (raise MasterError if refused)."""
        if self._runner is not None:
            raise RuntimeError("the app is running already")
        if not self.routes:
            log.warning("app %s has no handlers: it will answer every message with {}", self.name)
        # Made here, in the loop that runs the app: `run()` may be called again in a new loop.
        self._registered = asyncio.Event()
        self._stop = asyncio.Event()
        self._stopping = False
        self._failure = None
        self._reconnector = Reconnector(self.urls, self._pause)
        self._runner = asyncio.create_task(self._run(self._reconnector), name=f"app-{self.name}")
        if not wait:
            return
        registered = asyncio.create_task(self._registered.wait())
        try:
            await asyncio.wait(
                {registered, self._runner}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            registered.cancel()
        if self._registered.is_set():
            return
        failure = self._failure
        await self.stop()
        if failure is not None:
            raise failure
        raise TimeoutError(f"app {self.name}: not registered within {timeout} s")

    async def stop(self) -> None:
        """Let running handlers finish (up to `stop_grace`), then disconnect; no reconnects."""
        runner = self._runner
        if runner is None:
            return
        self._stopping = True
        self._stop.set()
        await self._dispatcher.settle(self.stop_grace)
        if self._connection is not None:
            await self._connection.flush()
            await self._connection.close()
        # A connection attempt to a host that does not answer would hold the stop for seconds.
        await asyncio.wait({runner}, timeout=STOP_WAIT)
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        self._runner = None
        await self._set_state(AppState.DISCONNECTED, "stopped")

    async def wait_closed(self) -> None:
        """Wait until the app stops reconnecting: stopped, kicked or refused."""
        if self._runner is not None:
            await asyncio.gather(self._runner, return_exceptions=True)

    def run(self) -> None:
        """Run until SIGINT or SIGTERM (then disconnect cleanly), a kick or a refusal."""
        asyncio.run(self.serve())

    async def serve(self) -> None:
        """Run in the current loop until a stop signal, a kick or a refusal; raise a refusal."""
        loop = asyncio.get_running_loop()
        signalled = asyncio.Event()
        if not self.adopted:  # started by the Master's supervisor: its URL and token win
            deployed.adopt(self)
            self.adopted = True
        parent = deployed.master_pid()
        watcher = (
            asyncio.create_task(deployed.watch_master(parent, signalled))
            if parent is not None
            else None
        )
        installed = []
        for number in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(number, self._on_signal, number, signalled)
                installed.append(number)
            except (NotImplementedError, RuntimeError):  # not on this platform or thread
                pass
        try:
            await self.start(wait=False)
            assert self._runner is not None
            waiting = asyncio.create_task(signalled.wait())
            await asyncio.wait({waiting, self._runner}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            failure = self._failure
            await self.stop()
            if failure is not None:
                raise failure
        finally:
            if watcher is not None:
                watcher.cancel()
            for number in installed:
                loop.remove_signal_handler(number)

    def _on_signal(self, number: int, signalled: asyncio.Event) -> None:
        if signalled.is_set():
            log.warning(
                "app %s: %s again: not waiting for handlers", self.name, signal.Signals(number).name
            )
            self.stop_grace = 0
            for task in tuple(self._dispatcher.tasks):
                task.cancel()
            return
        log.info("app %s: %s: stopping", self.name, signal.Signals(number).name)
        signalled.set()

    async def _pause(self, seconds: float) -> None:
        """Sleep between connection attempts; a stop ends the pause at once."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _run(self, reconnector: Reconnector) -> None:
        try:
            await reconnector.run(self._session, lambda: self._stopping)
        except Exception:
            log.exception("app %s: the connection loop failed", self.name)
            raise

    def _handlers(self) -> dict[str, Any]:
        return {
            "message": self._dispatcher.on_message,
            "messages": self._dispatcher.on_messages,
            "state": self._on_state,
            "error": self._on_error,
        }

    async def _session(self, url: str) -> bool:
        """Connect, register and serve until the connection ends; tell whether it registered."""
        connection = Connection(url, self.token, self._handlers(), self.connect_timeout)
        try:
            await connection.open()
        except Refused as exc:
            self._fail(exc)
            return False
        except Gone as exc:
            log.info("app %s: cannot connect to %s: %s", self.name, url, exc)
            return False
        self._connection = connection
        try:
            await self._set_state(AppState.CONNECTED, "")
            if not await self._register(connection):
                return False
            heartbeat = asyncio.create_task(self._heartbeat(connection))
            await connection.closed.wait()
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
            if not self._stopping:
                log.warning("app %s: the connection to %s closed; reconnecting", self.name, url)
            return True
        finally:
            await connection.close()
            self._connection = None
            self._registered.clear()
            await self._set_state(AppState.DISCONNECTED, "")

    async def _register(self, connection: Connection) -> bool:
        if self._stopping:
            return False
        try:
            ack = await connection.call("register", self.register_payload())
        except Gone as exc:
            log.info("app %s: register was not answered: %s", self.name, exc)
            return False
        if not isinstance(ack, Mapping) or ack.get("success") is not True:
            error = MasterError.of(ack.get("error") if isinstance(ack, Mapping) else ack)
            if error.code in TRANSIENT:
                log.info("app %s: register refused for now: %s", self.name, error)
            else:
                self._fail(error)
            return False
        previous = self.instance_id
        self.instance_id = str(ack.get("id"))
        interval = ack.get("heartbeat_interval")
        if isinstance(interval, int | float) and not isinstance(interval, bool) and interval > 0:
            self.heartbeat_interval = float(interval)
        self._dispatcher.stats.registrations += 1
        resumed = previous is not None and previous == self.instance_id
        log.info(
            "app %s: registered at %s as %s%s",
            self.name,
            connection.url,
            self.instance_id,
            " (resumed)" if resumed else "",
        )
        state = ack.get("state")
        await self._set_state(AppState(state) if state in REGISTERED else AppState.PAUSED, "")
        self._registered.set()
        return True

    async def _heartbeat(self, connection: Connection) -> None:
        """Beat every `heartbeat_interval`; a beat left unanswered ends the connection."""
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                await connection.call(
                    "heartbeat", timeout=max(1.0, min(self.heartbeat_interval, 10.0))
                )
            except Gone as exc:
                log.warning("app %s: heartbeat failed (%s); reconnecting", self.name, exc)
                await connection.close()
                return

    def _fail(self, error: MasterError) -> None:
        """Stop for good: the Master refuses this app as it is configured."""
        log.error("app %s: refused by the Master: %s", self.name, error)
        self._failure = error
        self._stopping = True
        self._stop.set()

    def _read(self, data: Any) -> Message:
        if isinstance(data, Mapping) and data.get("kind", "message") != "message":
            return Event.from_wire(data, self)  # a notice or request
        return Message.from_wire(data, self)

    async def _on_state(self, data: Any) -> None:
        if not isinstance(data, Mapping) or data.get("state") not in REGISTERED:
            log.warning("app %s: a state event that cannot be read: %r", self.name, data)
            return
        reason = data.get("reason")
        await self._set_state(AppState(data["state"]), reason if isinstance(reason, str) else "")

    async def _on_error(self, data: Any) -> None:
        error = MasterError.of(data)
        log.warning("app %s: the Master reports %s", self.name, error)
        if error.code == "kicked":
            # An operator's kick: coming straight back would undo it.
            log.warning("app %s: kicked by an operator; not reconnecting", self.name)
            self._stopping = True
            self._stop.set()
        for hook in self._error_hooks:
            await _call_hook(hook, error)

    async def _set_state(self, state: AppState, reason: str) -> None:
        if state is self._state:
            return
        self._state = state
        if state in REGISTERED:
            log.info("app %s is %s%s", self.name, state.value, f" ({reason})" if reason else "")
        for hook in self._state_hooks:
            await _call_hook(hook, state, reason)
