"""The runners the Master knows: their sessions, liveness, apps, logs and commands."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.events import EventBus
from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.runners.commands import CommandBook, CommandRecord
from kenkogo_master.runners.credentials import Credentials, Enrolment
from kenkogo_master.runners.protocol import (
    AppState,
    CommandResult,
    LogChunk,
    Resources,
    RunnerRegister,
)
from kenkogo_master.settings import RunnerSettings
from kenkogo_master.store.runner_records import RunnerRecords

log = logging.getLogger(__name__)

RunnerState = Literal["online", "lost", "offline"]
LOST_AFTER = 3  # heartbeat intervals of silence that make a runner `lost`
DOWNLOAD = "/api/v1/packages/{package}/revisions/{revision}/download"


class Link(Protocol):
    """One connection of a runner, as the registry talks to it."""

    remote: str

    async def emit(
        self, event: str, data: Any, callback: Callable[..., None] | None = None
    ) -> None: ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class AppView:
    """The last state a runner reported for one of its apps."""

    deployment: str
    state: str
    detail: str = ""
    pid: int | None = None
    exit_code: int | None = None
    revision: str | None = None
    changed_ms: int = field(default_factory=now_ms)


@dataclass(slots=True)
class LogTail:
    """The latest output lines of one app, and the chunks that never arrived."""

    lines: deque[tuple[str, int, str, int]]  # stream, chunk seq, line, time received (ms)
    received: int = 0  # lines so far: the last one's number (deployment logs count from 1)
    next_seq: dict[str, int] = field(default_factory=dict)
    gaps: int = 0  # chunks missing between the ones received (the runner's queue overflowed)


@dataclass(slots=True)
class Runner:
    """A runner: its registration, where it stands, and what it should and does host."""

    id: str
    name: str
    created_ms: int
    host: str = ""
    os: str = ""
    arch: str = ""
    version: str = ""
    capacity: int = 0
    labels: list[str] = field(default_factory=list)
    desired: list[dict[str, Any]] = field(default_factory=list)
    state: RunnerState = "offline"
    last_seen_ms: int | None = None  # the last frame of any kind
    last_heartbeat_ms: int | None = None
    connected_ms: int | None = None
    resources: dict[str, Any] = field(default_factory=dict)
    apps: dict[str, AppView] = field(default_factory=dict)
    logs: dict[str, LogTail] = field(default_factory=dict)
    link: Link | None = None
    sessions: int = 0  # connections so far; a reconnect replaces the previous one

    def app_state(self, view: AppView) -> str:
        """Return an app's state as shown: `lost` while its runner is."""
        return "lost" if self.state == "lost" else view.state

    def describe(self, detail: bool = False) -> dict[str, Any]:
        """Return the runner as REST and the event stream show it."""
        described: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "connected": self.link is not None,
            "remote": self.link.remote if self.link is not None else None,
            "host": self.host,
            "os": self.os,
            "arch": self.arch,
            "version": self.version,
            "capacity": self.capacity,
            "labels": self.labels,
            "created_ms": self.created_ms,
            "connected_ms": self.connected_ms,
            "last_heartbeat_ms": self.last_heartbeat_ms,
            "last_seen_ms": self.last_seen_ms,
            "resources": self.resources,
            "apps": [
                {
                    "deployment": view.deployment,
                    "state": self.app_state(view),
                    "reported_state": view.state,
                    "detail": view.detail,
                    "pid": view.pid,
                    "exit_code": view.exit_code,
                    "revision": view.revision,
                    "changed_ms": view.changed_ms,
                }
                for view in self.apps.values()
            ],
        }
        if detail:
            described["desired"] = self.desired
        return described


class Runners:
    """Keep every runner's state; send it commands and its desired state."""

    def __init__(
        self,
        records: RunnerRecords,
        credentials: Credentials,
        bus: EventBus,
        settings: RunnerSettings,
    ) -> None:
        self._records = records
        self.credentials = credentials
        self._bus = bus
        self.settings = settings
        self._runners: dict[str, Runner] = {}
        self.commands = CommandBook(settings.commands_kept)
        self._watch: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        # A deployment's env and secrets for `reconcile`, from where they are kept (placement);
        # they are never part of the stored desired state.
        self.variables: Callable[[str], dict[str, Any]] = lambda _deployment: {}

    async def load(self) -> None:
        """Read the known runners; none is connected yet."""
        for row in await self.credentials.load():
            self._runners[row["id"]] = Runner(
                id=row["id"],
                name=row["name"],
                created_ms=row["created_ms"],
                host=row["host"],
                os=row["os"],
                arch=row["arch"],
                version=row["version"],
                capacity=row["capacity"],
                labels=list(row["labels"]),
                desired=list(row["desired"]),
                last_seen_ms=row["last_seen_ms"],
            )

    def start(self) -> None:
        """Start watching for silent runners."""
        self._watch = asyncio.create_task(self._watch_liveness(), name="runner-liveness")

    async def stop(self) -> None:
        """Stop watching and note when each connected runner was last heard from."""
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        for runner in self._runners.values():
            if runner.link is not None and runner.last_seen_ms is not None:
                await self._records.update_runner(runner.id, last_seen_ms=runner.last_seen_ms)

    # -- queries ----------------------------------------------------------------------------------

    def listing(self) -> list[Runner]:
        """Return every runner, oldest first."""
        return sorted(self._runners.values(), key=lambda runner: (runner.created_ms, runner.id))

    def get(self, runner_id: str) -> Runner:
        """Return a runner, or raise not_found."""
        runner = self._runners.get(runner_id)
        if runner is None:
            raise HubError(ErrorCode.NOT_FOUND, what="runner", id=runner_id)
        return runner

    # -- sessions ---------------------------------------------------------------------------------

    async def attach(
        self,
        link: Link,
        request: RunnerRegister,
        runner_id: str | None,
        enrolment: Enrolment | None,
    ) -> tuple[Runner, str | None]:
        """Register a connection as its runner; return the runner and a new credential, if any.

        A runner that connects again under its id replaces its previous session, which is
        closed: the old connection is usually a dead one the Master has not noticed yet.
        """
        credential = None
        if runner_id is None:
            if enrolment is None:
                raise HubError(ErrorCode.UNAUTHORIZED)
            runner_id, credential = await self._enrol(enrolment, request)
        elif request.id is not None and request.id != runner_id:
            raise HubError(ErrorCode.FORBIDDEN, scope=f"runner {request.id}")
        runner = self.get(runner_id)
        previous, runner.link = runner.link, link
        runner.sessions += 1
        now = now_ms()
        runner.name = request.name
        runner.host, runner.os, runner.arch = request.host, request.os, request.arch
        runner.version, runner.capacity = request.version, request.capacity
        runner.labels = list(request.labels)
        runner.connected_ms = runner.last_seen_ms = runner.last_heartbeat_ms = now
        for tail in runner.logs.values():  # a restarted runner numbers its chunks from 0
            tail.next_seq.clear()
        runner.apps = {
            app.deployment: AppView(app.deployment, app.state, revision=app.revision)
            for app in request.apps
        }
        await self._records.update_runner(
            runner.id,
            name=runner.name,
            host=runner.host,
            os=runner.os,
            arch=runner.arch,
            version=runner.version,
            capacity=runner.capacity,
            labels=runner.labels,
            last_seen_ms=now,
        )
        self._set_state(runner, "online", "registered")
        if previous is not None and previous is not link:
            log.info(
                "runner %s reconnected from %s: its previous session ends", runner.id, link.remote
            )
            self.spawn(previous.close())
        return runner, credential

    async def _enrol(self, enrolment: Enrolment, request: RunnerRegister) -> tuple[str, str]:
        runner_id = new_id()
        created = now_ms()
        row = {
            "id": runner_id,
            "name": request.name,
            "host": request.host,
            "os": request.os,
            "arch": request.arch,
            "version": request.version,
            "capacity": request.capacity,
            "labels": list(request.labels),
            "desired": [],
            "created_ms": created,
            "last_seen_ms": created,
        }
        credential = await self.credentials.enrol(enrolment, row)
        if credential is None:
            raise HubError(ErrorCode.UNAUTHORIZED)
        self._runners[runner_id] = Runner(id=runner_id, name=request.name, created_ms=created)
        self._bus.publish("runners.enrolled", {"id": runner_id, "enrolment": enrolment.id})
        return runner_id, credential

    def detach(self, runner: Runner, link: Link) -> None:
        """Forget a closed connection unless a newer one replaced it already."""
        if runner.link is link:
            runner.link = None
            self._bus.publish("runners.disconnected", {"id": runner.id})

    def reconcile_payload(self, runner: Runner) -> dict[str, Any]:
        """Return the `reconcile` event's data for a runner."""
        return {
            "desired": [
                {**entry, **self.variables(entry["deployment"])} for entry in runner.desired
            ]
        }

    def heard(self, runner: Runner) -> None:
        """Note a frame from a runner."""
        runner.last_seen_ms = now_ms()

    def heartbeat(self, runner: Runner, resources: Resources) -> None:
        """Note a heartbeat and the resources it carries."""
        runner.last_seen_ms = runner.last_heartbeat_ms = now_ms()
        runner.resources = resources.model_dump(exclude_none=True)
        if runner.state != "online":
            self._set_state(runner, "online", "heard again")

    def _set_state(self, runner: Runner, state: RunnerState, reason: str) -> None:
        if runner.state == state:
            return
        previous, runner.state = runner.state, state
        self._bus.publish(
            "runners.state",
            {
                "id": runner.id,
                "name": runner.name,
                "from": previous,
                "state": state,
                "reason": reason,
            },
        )
        if state == "lost" or previous == "lost":
            for view in runner.apps.values():
                self._publish_app(runner, view)

    async def _watch_liveness(self) -> None:
        interval = self.settings.heartbeat_interval
        while True:
            await asyncio.sleep(min(interval / 4, 1.0))
            deadline = now_ms() - int(LOST_AFTER * interval * 1000)
            for runner in list(self._runners.values()):
                heard = runner.last_heartbeat_ms
                if runner.state == "online" and heard is not None and heard < deadline:
                    self._set_state(runner, "lost", f"silent for {LOST_AFTER} heartbeats")
                    await self._records.update_runner(runner.id, last_seen_ms=runner.last_seen_ms)

    # -- what runners report ----------------------------------------------------------------------

    def app_state(self, runner: Runner, state: AppState) -> None:
        """Note an app's transition on a runner."""
        if state.state == "removed":
            view = runner.apps.pop(state.deployment, None) or AppView(state.deployment, "removed")
            view.state = "removed"
            runner.logs.pop(state.deployment, None)
        else:
            view = runner.apps.setdefault(state.deployment, AppView(state.deployment, state.state))
            view.state = state.state
        view.detail, view.pid, view.exit_code = state.detail, state.pid, state.exit_code
        view.revision = state.revision or view.revision
        view.changed_ms = now_ms()
        self._publish_app(runner, view)

    def _publish_app(self, runner: Runner, view: AppView) -> None:
        self._bus.publish(
            "runners.app_state",
            {
                "runner": runner.id,
                "deployment": view.deployment,
                "state": runner.app_state(view),
                "detail": view.detail,
                "pid": view.pid,
                "exit_code": view.exit_code,
            },
        )

    def log_chunk(self, runner: Runner, chunk: LogChunk) -> int:
        """Keep a chunk's lines; return how many chunks were missing before it."""
        tail = runner.logs.get(chunk.deployment)
        if tail is None:
            tail = runner.logs[chunk.deployment] = LogTail(deque(maxlen=self.settings.log_lines))
        expected = tail.next_seq.get(chunk.stream)
        missing = 0
        if expected is not None and chunk.seq > expected:
            missing = chunk.seq - expected
            tail.gaps += missing
            log.warning(
                "runner %s: %d log chunks of %s (%s) never arrived",
                runner.id,
                missing,
                chunk.deployment,
                chunk.stream,
            )
        tail.next_seq[chunk.stream] = max(chunk.seq + 1, expected or 0)
        received_ms = now_ms()
        for line in chunk.lines:
            tail.lines.append((chunk.stream, chunk.seq, line, received_ms))
        tail.received += len(chunk.lines)
        self._bus.publish(
            "runners.log",
            {
                "runner": runner.id,
                "deployment": chunk.deployment,
                "stream": chunk.stream,
                "seq": chunk.seq,
                "lines": chunk.lines,
                "missing": missing,
            },
        )
        return missing

    def command_result(self, runner: Runner, result: CommandResult) -> bool:
        """Apply a command's result; tell whether the command was known."""
        record = self.commands.result(runner.id, result)
        if record is None:
            return False
        self._bus.publish("runners.command", record.describe())
        return True

    # -- commands ---------------------------------------------------------------------------------

    async def send(self, runner_id: str, body: dict[str, Any]) -> CommandRecord:
        """Send a command (a new one, or one sent before under the same id) to a runner."""
        runner = self.get(runner_id)
        command_id = body.get("id") or new_id()
        record = self.commands.get(command_id)
        if record is not None and (
            record.runner_id != runner_id
            or record.type != body["type"]
            or record.deployment != body["deployment"]
        ):
            raise HubError(ErrorCode.ALREADY_EXISTS, path=f"command {command_id}")
        if runner.link is None:
            raise HubError(ErrorCode.RUNNER_OFFLINE, id=runner_id)
        wire = self._wire(runner, {**body, "id": command_id})
        if record is None:
            record = CommandRecord(command_id, runner_id, wire["type"], wire["deployment"], wire)
            self.commands.add(record)
            await self._desire(runner, wire)
        else:
            record.sends += 1
        self._bus.publish("runners.command", record.describe())
        sent = record

        def on_ack(*args: Any) -> None:
            answer = args[0] if args else None
            if isinstance(answer, dict) and answer.get("received") is True:
                self.commands.acked(sent)

        await runner.link.emit("command", sent.body, on_ack)
        return record

    async def order(self, runner_id: str, body: dict[str, Any]) -> CommandRecord | None:
        """Change a runner's desired state by a command, and send it when the runner is connected.

        A runner that is not connected gets its desired state by `reconcile` when it is again.
        """
        runner = self.get(runner_id)
        if runner.link is None:
            await self._desire(runner, self._wire(runner, {**body, "id": new_id()}))
            return None
        return await self.send(runner_id, body)

    def _wire(self, runner: Runner, body: dict[str, Any]) -> dict[str, Any]:
        """Complete a command for the wire: a deploy names the package's download path."""
        wire = {key: value for key, value in body.items() if value is not None}
        kind, deployment = wire["type"], wire["deployment"]
        if kind == "deploy":
            if "package" not in wire or "revision" not in wire:
                raise HubError(
                    ErrorCode.INVALID_PAYLOAD, detail="deploy needs `package` and `revision`"
                )
            wire["url"] = DOWNLOAD.format(package=wire["package"], revision=wire["revision"])
        elif kind in ("start", "stop", "restart") and not any(
            entry["deployment"] == deployment for entry in runner.desired
        ):
            raise HubError(ErrorCode.NOT_FOUND, what="deployment", id=deployment)
        return wire

    async def _desire(self, runner: Runner, wire: dict[str, Any]) -> None:
        """Change the runner's desired state the way the command does, and keep it."""
        kind, deployment = wire["type"], wire["deployment"]
        entries = {entry["deployment"]: entry for entry in runner.desired}
        if kind == "deploy":
            previous = entries.get(deployment)
            entries[deployment] = {
                "deployment": deployment,
                "package": wire["package"],
                "revision": wire["revision"],
                "url": wire["url"],
                "state": previous["state"] if previous is not None else "stopped",
            }
        elif kind in ("start", "restart"):
            entries[deployment] = {**entries[deployment], "state": "running"}
        elif kind == "stop":
            entries[deployment] = {**entries[deployment], "state": "stopped"}
        elif kind == "remove":
            entries.pop(deployment, None)
        else:
            return
        runner.desired = list(entries.values())
        await self._records.update_runner(runner.id, desired=runner.desired)

    async def revoke(self, runner_id: str) -> None:
        """Delete a runner and its credential; its connection, if any, is closed."""
        runner = self.get(runner_id)
        self.credentials.forget_runner(runner_id)
        del self._runners[runner_id]
        await self._records.delete_runner(runner_id)
        if runner.link is not None:
            link, runner.link = runner.link, None
            await link.close()
        self._bus.publish("runners.revoked", {"id": runner_id, "name": runner.name})

    def spawn(self, work: Any) -> None:
        """Run `work` in the background, keeping a reference until it ends."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
