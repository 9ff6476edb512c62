"""What a runner does with apps, behind one protocol, and the executor that runs them.

The executor is the Master's own supervisor (deploy/supervisor.py: process groups, stop then
SIGKILL, ready policy, restarts with back-off, fatal) with a file for its records and a
publisher that turns its transitions and output lines into `app_state` and `log_chunk`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from kenkogo_master.deploy.spec import LaunchSpec, ReadyPolicy
from kenkogo_master.deploy.states import ACTIVE, DeployState
from kenkogo_master.deploy.supervisor import (
    LOG_LINE_TOPIC,
    STATE_TOPIC,
    Deployment,
    DeploymentError,
    Supervisor,
)
from kenkogo_master.runner.records import FileRecords
from kenkogo_master.settings import SupervisorSettings

log = logging.getLogger(__name__)

LOGS_FOLDER = "logs"
WIRE_STREAMS = frozenset({"stdout", "stderr"})  # the supervisor's own notes stay in the files
STATE_POLL = 0.02  # seconds between looks at whether a started app became ready


class ExecutorError(Exception):
    """A command the executor could not carry out, with a code and words for the operator."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class AppEvents(Protocol):
    """Where an executor reports what its apps do."""

    def state(
        self,
        deployment: str,
        state: str,
        *,
        detail: str = "",
        pid: int | None = None,
        exit_code: int | None = None,
        revision: str | None = None,
    ) -> None: ...

    def output(self, deployment: str, stream: str, line: str) -> None: ...


class Executor(Protocol):
    """The app work a runner's commands and reconcile turn into."""

    async def open(self) -> None: ...
    async def deploy(
        self,
        deployment: str,
        package: str,
        revision: str,
        url: str,
        *,
        env: dict[str, str] | None = None,
        secrets: dict[str, str] | None = None,
    ) -> None: ...
    async def start(self, deployment: str) -> None: ...
    async def stop(self, deployment: str) -> None: ...
    async def restart(self, deployment: str) -> None: ...
    async def remove(self, deployment: str) -> None: ...
    async def logs(self, deployment: str, lines: int) -> list[str]: ...
    def states(self) -> list[dict[str, Any]]: ...
    async def close(self) -> None: ...


# Turns a deployed revision into something to run: downloads, checks and installs it if needed.
Resolver = Callable[[str, str, str, str], Awaitable[LaunchSpec]]


def on_runner(spec: LaunchSpec) -> LaunchSpec:
    """Return `spec` as a runner runs it: ready after some seconds up.

    An app registers with the Master, not with its runner, which therefore cannot wait for
    it: `registered` becomes `seconds` (the default, or less when the manifest allows less).
    """
    if spec.ready.when != "registered":
        return spec
    seconds = min(spec.ready.seconds, ReadyPolicy().seconds)
    return dataclasses.replace(spec, ready=ReadyPolicy(when="seconds", seconds=seconds))


class _Forward:
    """The supervisor's publisher on a runner: transitions and lines go to the Master."""

    def __init__(self, events: AppEvents) -> None:
        self._events = events
        self.supervisor: Supervisor | None = None
        self.moves: dict[str, int] = {}  # transitions seen per deployment

    def wanted(self, topic: str) -> bool:
        """Tell which topics the Master hears of (not the resource samples)."""
        return topic in (STATE_TOPIC, LOG_LINE_TOPIC)

    def publish(self, topic: str, data: dict[str, Any]) -> None:
        """Forward a transition as `app_state`, an output line as `log_chunk` lines."""
        if topic == LOG_LINE_TOPIC and data["stream"] in WIRE_STREAMS:
            self._events.output(data["deployment"], data["stream"], data["message"])
        elif topic == STATE_TOPIC:
            deployment_id = data["id"]
            self.moves[deployment_id] = self.moves.get(deployment_id, 0) + 1
            found = self.supervisor.get(deployment_id) if self.supervisor else None
            process = found.process if found is not None else None
            self._events.state(
                deployment_id,
                data["to"],
                detail=data["reason"],
                pid=process.pid if process is not None and process.running else None,
                exit_code=data["exit_code"],
                revision=found.revision if found is not None else None,
            )


class ProcessExecutor:
    """Run each deployment with the supervisor, as a child process in its own process group.

    The deployments and their process groups are kept in `apps.json`, so that a runner killed
    with its apps still running ends them when it starts again (then reconcile starts them
    once more): an app never runs twice for one deployment.
    """

    def __init__(
        self, data_dir: Path, resolve: Resolver, events: AppEvents, master_url: str = ""
    ) -> None:
        self._resolve = resolve
        self._events = events
        self._specs: dict[tuple[str, str], LaunchSpec] = {}
        self._records = FileRecords(data_dir)
        self._forward = _Forward(events)
        self._supervisor = Supervisor(
            self._records,
            lambda app_id, revision: self._specs.get((app_id, revision)),
            None,
            self._forward,
            SupervisorSettings(),
            data_dir / LOGS_FOLDER,
            lambda: master_url.rstrip("/"),
        )
        self._forward.supervisor = self._supervisor

    async def open(self) -> None:
        """Read the deployments and end the processes a killed runner left (none is started)."""
        await self._supervisor.load(launch=False)

    def _get(self, deployment: str) -> Deployment:
        found = self._supervisor.get(deployment)
        if found is None:
            raise ExecutorError("not_found", f"no deployment {deployment} on this runner")
        return found

    async def _spec(self, deployment: str, package: str, revision: str, url: str) -> None:
        if (package, revision) not in self._specs:
            spec = await self._resolve(deployment, package, revision, url)
            self._specs[(package, revision)] = on_runner(spec)

    # -- the protocol -----------------------------------------------------------------------------

    def states(self) -> list[dict[str, Any]]:
        """Return each deployment with its state (for `register` and reconcile)."""
        return [
            {
                "deployment": item.id,
                "state": item.state.value,
                "package": item.app_id,
                "revision": item.revision,
            }
            for item in self._supervisor.deployments.values()
        ]

    async def deploy(
        self,
        deployment: str,
        package: str,
        revision: str,
        url: str,
        *,
        env: dict[str, str] | None = None,
        secrets: dict[str, str] | None = None,
    ) -> None:
        """Fetch and install a revision; a running app of the deployment is restarted on it.

        `env` and `secrets` (None: unchanged) are the app's environment from the next start;
        the secrets are masked in its output like on the Master.
        """
        await self._spec(deployment, package, revision, url)
        found = self._supervisor.get(deployment)
        running = found is not None and found.state in ACTIVE
        if found is not None and found.app_id != package:
            await self._supervisor.remove(found)
            found = None
        if found is None:
            await self._supervisor.create(
                package, revision, env or {}, secrets or {}, False, deployment, deployment
            )
        else:
            await self._supervisor.stop(found)
            await self._supervisor.update(found, env, secrets, None, revision)
        await self._records.change(deployment, url=url)
        self._events.state(deployment, "stopped", detail="deployed", revision=revision)
        if running:
            await self.start(deployment)

    async def start(self, deployment: str) -> None:
        """Start the app unless it runs already; end when it is ready, or fail if it ended."""
        found = self._get(deployment)
        if found.task is not None and not found.task.done():
            return
        url = str(self._records.extra(deployment, "url") or "")
        await self._spec(deployment, found.app_id, found.revision, url)
        before = self._forward.moves.get(deployment, 0)
        try:
            await self._supervisor.start(found)
        except DeploymentError as exc:
            raise ExecutorError("start_failed", f"cannot start: {exc.reason}") from exc
        # A start ends when the app counts as running (its ready policy), or fails when it
        # ended before that: the command's result says which.
        while found.task is not None and not found.task.done():
            moved = self._forward.moves.get(deployment, 0) > before
            if moved and found.state not in (DeployState.STOPPED, DeployState.STARTING):
                break
            await asyncio.sleep(STATE_POLL)
        if found.state is not DeployState.RUNNING:
            raise ExecutorError(
                "start_failed",
                f"the app exited with {found.exit_code} before it was ready ({found.state})",
            )

    async def stop(self, deployment: str) -> None:
        """Stop the app: its stop signal to the group, then SIGKILL after the stop timeout."""
        await self._supervisor.stop(self._get(deployment))

    async def restart(self, deployment: str) -> None:
        """Stop the app if it runs, then start it."""
        await self.stop(deployment)
        await self.start(deployment)

    async def remove(self, deployment: str) -> None:
        """Stop the app and forget the deployment."""
        found = self._supervisor.get(deployment)
        if found is None:
            return
        revision = found.revision
        await self._supervisor.remove(found)
        self._events.state(deployment, "removed", revision=revision)

    async def logs(self, deployment: str, lines: int) -> list[str]:
        """Return the latest output lines of the app."""
        return [line.text for line in self._get(deployment).log.read(None, lines)]

    async def close(self) -> None:
        """Stop every app (the runner is stopping); the deployments are kept."""
        await self._supervisor.shutdown()
        await self._supervisor.close()
