"""The runner agent: dial the Master on /runner, register, and do what it commands."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import platform
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import socketio
from pydantic import ValidationError

from kenkogo_master import __version__
from kenkogo_master.deploy.spec import LaunchSpec
from kenkogo_master.runner.backoff import Backoff, first_delay
from kenkogo_master.runner.executor import AppEvents, Executor, ExecutorError, ProcessExecutor
from kenkogo_master.runner.journal import Identity, Journal
from kenkogo_master.runner.outbox import LogOutbox
from kenkogo_master.runner.packages import fetch_revision, install_revision
from kenkogo_master.runners.protocol import Command, Reconcile

log = logging.getLogger(__name__)

NAMESPACE = "/runner"
CALL_TIMEOUT = 10.0
CUT_INTERVAL = 0.1  # seconds between cuts of output lines into chunks
DEFAULT_SPREAD = 5.0  # seconds over which the first redials after a lost connection spread


@dataclass(slots=True)
class RunnerContext:
    """What an executor factory may use."""

    data_dir: Path
    master: str
    identity: Identity
    events: AppEvents


ExecutorFactory = Callable[[RunnerContext], Executor]


def package_executor(context: RunnerContext) -> Executor:
    """Return the executor that fetches package revisions by digest and runs them."""

    async def resolve(deployment: str, package: str, revision: str, url: str) -> LaunchSpec:
        archive = await fetch_revision(
            context.master,
            url,
            revision,
            context.identity.credential,
            context.data_dir / "packages",
        )
        return await install_revision(archive, package, revision, context.data_dir / "apps")

    return ProcessExecutor(context.data_dir, resolve, context.events, context.master)


def _resources(apps: int) -> dict[str, Any]:
    memory = psutil.virtual_memory()
    sample: dict[str, Any] = {
        "cpu_percent": psutil.cpu_percent(interval=None),
        "memory_percent": memory.percent,
        "memory_available_mb": round(memory.available / 2**20, 1),
        "apps": apps,
    }
    with contextlib.suppress(OSError, AttributeError):
        sample["load"] = os.getloadavg()[0]
    return sample


class RunnerAgent:
    """One runner: reconnects forever, converges to the desired state, runs each command once."""

    def __init__(
        self,
        master: str,
        token: str | None,
        data_dir: Path,
        *,
        name: str | None = None,
        labels: list[str] | None = None,
        capacity: int | None = None,
        factory: ExecutorFactory = package_executor,
        spread: float = DEFAULT_SPREAD,
        rng: random.Random | None = None,
    ) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.master = master.rstrip("/") + "/"
        self._token = token
        self.data_dir = data_dir
        self.name = name or socket.gethostname()
        self.labels = labels or []
        self.capacity = capacity if capacity is not None else (os.cpu_count() or 1)
        self.spread = spread
        self._rng = rng or random.Random()
        self.identity = Identity.load(data_dir)
        self.journal = Journal(data_dir)
        self.outbox = LogOutbox()
        self.executor = factory(RunnerContext(data_dir, self.master, self.identity, self))
        self.attempts: list[float] = []  # monotonic time of each dial
        self.registered_at: list[float] = []  # monotonic time of each successful register
        self._sio: socketio.AsyncClient | None = None
        self._registered = asyncio.Event()
        self._stopping = asyncio.Event()
        self._work = asyncio.Lock()  # commands and reconciles change apps one at a time
        self._unsent: dict[str, dict[str, Any]] = {}  # results that found no connection
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def id(self) -> str | None:
        """Return the runner's id, once the Master has given one."""
        return self.identity.id

    # -- the connection ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Stay connected until `stop()`: redial after a first random delay, then with back-off."""
        await self.executor.open()
        backoff = Backoff(self._rng)
        delay = 0.0
        while not self._stopping.is_set():
            if delay:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._stopping.wait()
                if self._stopping.is_set():
                    break
            if await self._session():
                backoff.reset()
                delay = first_delay(self.spread, self._rng)
            else:
                delay = backoff.next()
        await self.executor.close()

    def stop(self) -> None:
        """Ask `run()` to end: the connection closes and the apps are stopped."""
        self._stopping.set()

    async def _session(self) -> bool:
        """Connect, register and serve until the connection ends; tell whether it registered."""
        sio = socketio.AsyncClient(reconnection=False, logger=False, engineio_logger=False)
        closed = asyncio.Event()
        sio.on("disconnect", lambda *_: closed.set(), namespace=NAMESPACE)
        sio.on("command", self._on_command, namespace=NAMESPACE)
        sio.on("reconcile", self._on_reconcile, namespace=NAMESPACE)
        sio.on("error", self._on_error, namespace=NAMESPACE)
        self.attempts.append(time.monotonic())
        token = self.identity.credential or self._token
        try:
            await sio.connect(
                self.master,
                namespaces=[NAMESPACE],
                auth={"token": token or ""},
                transports=["websocket"],
                wait_timeout=CALL_TIMEOUT,
            )
        except (socketio.exceptions.ConnectionError, OSError, TimeoutError) as exc:
            log.info("runner: cannot connect to %s: %s", self.master, exc)
            await _quietly_disconnect(sio)
            return False
        try:
            ack = await sio.call(
                "register", self._register_payload(), namespace=NAMESPACE, timeout=CALL_TIMEOUT
            )
        except (socketio.exceptions.SocketIOError, TimeoutError) as exc:
            log.warning("runner: register got no answer: %s", exc)
            await _quietly_disconnect(sio)
            return False
        if not isinstance(ack, dict) or ack.get("success") is not True:
            log.error("runner: the Master refused the registration: %s", ack)
            await _quietly_disconnect(sio)
            return False
        self.identity.save(str(ack["id"]), ack.get("credential"))
        self._sio = sio
        self._registered.set()
        self.registered_at.append(time.monotonic())
        log.info("runner %s registered with %s", self.identity.id, self.master)
        interval = float(ack.get("heartbeat_interval") or 10.0)
        helpers = [
            asyncio.create_task(self._heartbeats(sio, interval)),
            asyncio.create_task(self._send_logs(sio, closed)),
            asyncio.create_task(self._send_unsent(sio)),
        ]
        stopping = asyncio.create_task(self._stopping.wait())
        ended = asyncio.create_task(closed.wait())
        await asyncio.wait({stopping, ended}, return_when=asyncio.FIRST_COMPLETED)
        for task in (*helpers, stopping, ended):
            task.cancel()
        await asyncio.gather(*helpers, stopping, ended, return_exceptions=True)
        self._registered.clear()
        self._sio = None
        await _quietly_disconnect(sio)
        return True

    def _register_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "name": self.name,
            "host": socket.gethostname()[:200],
            "os": f"{platform.system()} {platform.release()}"[:200],
            "arch": platform.machine()[:200],
            "version": __version__,
            "capacity": self.capacity,
            "labels": self.labels,
            "apps": self.executor.states(),
        }
        if self.identity.id is not None:
            payload["id"] = self.identity.id
        return payload

    async def _heartbeats(self, sio: socketio.AsyncClient, interval: float) -> None:
        psutil.cpu_percent(interval=None)  # the first reading only starts the measurement
        while True:
            await asyncio.sleep(interval)
            resources = _resources(len(self.executor.states()))
            await sio.emit("heartbeat", {"resources": resources}, namespace=NAMESPACE)

    async def _send_logs(self, sio: socketio.AsyncClient, closed: asyncio.Event) -> None:
        while not closed.is_set():
            self.outbox.cut()
            while self.outbox.chunks and not closed.is_set():
                chunk = self.outbox.chunks.popleft()
                await sio.emit("log_chunk", chunk, namespace=NAMESPACE)
            await asyncio.sleep(CUT_INTERVAL)

    async def _send_unsent(self, sio: socketio.AsyncClient) -> None:
        for command_id, result in list(self._unsent.items()):
            await sio.emit("command_result", result, namespace=NAMESPACE)
            self._unsent.pop(command_id, None)

    # -- what the executor reports (AppEvents) ----------------------------------------------------

    def state(
        self,
        deployment: str,
        state: str,
        *,
        detail: str = "",
        pid: int | None = None,
        exit_code: int | None = None,
        revision: str | None = None,
    ) -> None:
        """Send an app's transition (a runner not connected reports its apps when it registers)."""
        data: dict[str, Any] = {"deployment": deployment, "state": state, "detail": detail[:2000]}
        for key, value in (("pid", pid), ("exit_code", exit_code), ("revision", revision)):
            if value is not None:
                data[key] = value
        self._emit("app_state", data)

    def output(self, deployment: str, stream: str, line: str) -> None:
        """Queue a line of an app's output."""
        self.outbox.add(deployment, stream, line)

    def _emit(self, event: str, data: dict[str, Any]) -> None:
        sio = self._sio
        if sio is not None and self._registered.is_set():
            self._spawn(sio.emit(event, data, namespace=NAMESPACE))

    # -- what the Master sends --------------------------------------------------------------------

    async def _on_error(self, data: Any) -> None:
        log.warning("runner: the Master reported %s", data)

    async def _on_command(self, data: Any) -> dict[str, Any]:
        try:
            command = Command.model_validate(data)
        except ValidationError as exc:
            message = "; ".join(str(item["msg"]) for item in exc.errors()[:3])
            return {"success": False, "error": {"code": "invalid_payload", "message": message}}
        known = self.journal.get(command.id)
        if known is not None:
            # Run once: a repeated id is answered with the first result (or, still running,
            # with the result when it comes).
            if known["status"] != "running":
                self._result(known)
            return {"received": True, "duplicate": True}
        self.journal.begin(command.id)
        self._spawn(self._run_command(command))
        return {"received": True}

    async def _run_command(self, command: Command) -> None:
        result: dict[str, Any] = {"id": command.id, "status": "ok"}
        try:
            async with self._work:
                self._emit("command_result", {"id": command.id, "status": "running"})
                lines = await self._execute(command)
            if lines is not None:
                result["lines"] = lines
        except ExecutorError as exc:
            result = {
                "id": command.id,
                "status": "failed",
                "error": {"code": exc.code, "message": exc.message[:2000]},
            }
        except Exception as exc:
            log.exception("runner: command %s (%s) failed", command.id, command.type)
            result = {
                "id": command.id,
                "status": "failed",
                "error": {"code": "internal", "message": str(exc)[:2000]},
            }
        self.journal.finish(result)
        self._result(result)

    async def _execute(self, command: Command) -> list[str] | None:
        executor, deployment = self.executor, command.deployment
        if command.type == "deploy":
            if command.package is None or command.revision is None or command.url is None:
                raise ExecutorError("invalid_payload", "deploy needs package, revision and url")
            await executor.deploy(
                deployment,
                command.package,
                command.revision,
                command.url,
                env=command.env,
                secrets=command.secrets,
            )
        elif command.type == "start":
            await executor.start(deployment)
        elif command.type == "stop":
            await executor.stop(deployment)
        elif command.type == "restart":
            await executor.restart(deployment)
        elif command.type == "remove":
            await executor.remove(deployment)
        else:
            return await executor.logs(deployment, command.lines)
        return None

    def _result(self, result: dict[str, Any]) -> None:
        sio = self._sio
        if sio is None or not self._registered.is_set():
            self._unsent[result["id"]] = result
            return
        self._spawn(sio.emit("command_result", result, namespace=NAMESPACE))

    async def _on_reconcile(self, data: Any) -> dict[str, Any]:
        try:
            desired = Reconcile.model_validate(data)
        except ValidationError as exc:
            message = "; ".join(str(item["msg"]) for item in exc.errors()[:3])
            return {"success": False, "error": {"code": "invalid_payload", "message": message}}
        self._spawn(self._reconcile(desired))
        return {"received": True}

    async def _reconcile(self, reconcile: Reconcile) -> None:
        """Converge: remove what is not desired, deploy what is missing, start and stop."""
        # It may overtake the register ack; what it changes is reported once registered.
        await self._registered.wait()
        async with self._work:
            wanted = {entry.deployment: entry for entry in reconcile.desired}
            current = {item["deployment"]: item for item in self.executor.states()}
            for deployment in current.keys() - wanted.keys():
                await self._converge_step(self.executor.remove(deployment), deployment)
            for entry in reconcile.desired:
                here = current.get(entry.deployment)
                if here is None or here.get("revision") != entry.revision:
                    done = await self._converge_step(
                        self.executor.deploy(
                            entry.deployment,
                            entry.package,
                            entry.revision,
                            entry.url,
                            env=entry.env,
                            secrets=entry.secrets,
                        ),
                        entry.deployment,
                    )
                    if not done:
                        continue
                state = next(
                    (
                        item["state"]
                        for item in self.executor.states()
                        if item["deployment"] == entry.deployment
                    ),
                    "stopped",
                )
                running = state in ("starting", "running", "backoff")
                if entry.state == "running" and not running:
                    await self._converge_step(
                        self.executor.start(entry.deployment), entry.deployment
                    )
                elif entry.state == "stopped" and running:
                    await self._converge_step(
                        self.executor.stop(entry.deployment), entry.deployment
                    )

    async def _converge_step(self, step: Any, deployment: str) -> bool:
        try:
            await step
        except ExecutorError as exc:
            log.error("runner: reconcile of %s failed: %s", deployment, exc.message)
            self.state(deployment, "fatal", detail=exc.message)
            return False
        return True

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _quietly_disconnect(sio: socketio.AsyncClient) -> None:
    with contextlib.suppress(Exception):
        await sio.disconnect()
