"""Placement: each deployment runs on one runner, and this Master's supervisor is one of them.

A deployment names a runner (an id, or `local`) or labels, which must all be among a runner's;
of the connected runners that match, the one with the fewest deployments wins (ties: the local
one, then the oldest). Every deployment is stored in the same table, so names stay unique
everywhere. One placed on a remote runner is run there by `deploy`, `start`, `stop`,
`restart` and `remove` commands; its state is the runner's `app_state`, its logs the runner's
`log_chunk` lines. Its env and secrets travel to the runner in `deploy` and `reconcile` over
the authenticated /runner connection only: they are never logged, never part of a command's
result nor of the runner's stored desired state.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from kenkogo_master.deploy.states import ACTIVE
from kenkogo_master.deploy.supervisor import Deployment, DeploymentError, Supervisor
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.runners.registry import Runner, Runners

LOCAL = "local"
# Seconds a REST action on a remote deployment waits for the runner's result before answering
# with the state known then (an install may take longer; the state follows by itself).
ACTION_WAIT = 10.0

RevisionCheck = Callable[[str, str], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class RemoteState:
    """What a runner last said about one of its apps."""

    state: str
    pid: int | None = None
    exit_code: int | None = None


@dataclass(frozen=True, slots=True)
class RemoteLine:
    """One output line of an app on a runner, numbered by the Master from 1."""

    seq: int
    time_ms: int
    stream: str
    text: str


class Placement:
    """Choose where deployments run, and carry their actions there."""

    def __init__(
        self,
        supervisor: Supervisor,
        runners: Runners,
        labels: list[str],
        revision_exists: RevisionCheck,
    ) -> None:
        self.supervisor = supervisor
        self.runners = runners
        self.labels = list(labels)
        self._revision_exists = revision_exists
        runners.variables = self._variables

    def _variables(self, deployment_id: str) -> dict[str, Any]:
        deployment = self.supervisor.get(deployment_id)
        if deployment is None:
            return {}
        return {"env": deployment.env, "secrets": deployment.secrets}

    # -- choosing ---------------------------------------------------------------------------------

    def count(self, runner_id: str | None) -> int:
        """Return how many deployments are placed on a runner (None: the local one)."""
        placed = self.supervisor.deployments.values()
        return sum(1 for item in placed if item.runner_id == runner_id)

    def choose(self, runner: str | None, labels: list[str] | None) -> str | None:
        """Return the runner id a placement picks (None: local), or refuse with 409."""
        if runner is not None:
            if runner == LOCAL:
                return None
            if not any(item.id == runner for item in self.runners.listing()):
                raise HubError(ErrorCode.NO_RUNNER_MATCHES, placement=f"runner {runner}")
            return runner  # a runner not connected now gets it by reconcile when it is
        if not labels:
            return None
        wanted = set(labels)
        candidates: list[tuple[int, int, str | None]] = []
        if wanted <= set(self.labels):
            candidates.append((self.count(None), 0, None))
        for order, item in enumerate(self.runners.listing(), start=1):
            if item.link is not None and item.state == "online" and wanted <= set(item.labels):
                candidates.append((self.count(item.id), order, item.id))
        if not candidates:
            raise HubError(ErrorCode.NO_RUNNER_MATCHES, placement="labels " + ", ".join(labels))
        return min(candidates)[2]

    def runner_of(self, deployment: Deployment) -> Runner | None:
        """Return the runner a remote deployment is on, if it is still known."""
        return next(
            (item for item in self.runners.listing() if item.id == deployment.runner_id), None
        )

    # -- what the REST resources do ---------------------------------------------------------------

    async def create(
        self,
        app_id: str,
        revision: str,
        env: dict[str, str],
        secrets: dict[str, str],
        enabled: bool,
        name: str | None,
        runner: str | None,
        labels: list[str] | None,
    ) -> Deployment:
        """Place and store a deployment; it starts where it landed when enabled."""
        target = self.choose(runner, labels)
        if target is not None:
            await self._revision_exists(app_id, revision)
        deployment = await self.supervisor.create(
            app_id, revision, env, secrets, enabled, name, runner_id=target, labels=labels or []
        )
        if target is not None:
            await self._deploy(deployment)
            if enabled:
                await self._order(deployment, "start", wait=False)
        return deployment

    async def update(
        self,
        deployment: Deployment,
        env: dict[str, str] | None,
        secrets: dict[str, str] | None,
        enabled: bool | None,
        revision: str | None,
        placed: bool,
        runner: str | None,
        labels: list[str] | None,
    ) -> None:
        """Change a deployment; a new placement moves it (running where it ran, if it did)."""
        target = self.choose(runner, labels) if placed else deployment.runner_id
        if target is not None and revision is not None:
            await self._revision_exists(deployment.app_id, revision)
        moving = target != deployment.runner_id
        if moving and target is None:
            check = revision or deployment.revision
            if self.supervisor.resolver(deployment.app_id, check) is None:
                raise DeploymentError("not_installed")
        if not moving:
            await self.supervisor.update(deployment, env, secrets, enabled, revision)
            if placed:
                await self.supervisor.place(deployment, target, labels or [])
            elif target is not None and (env, secrets, revision) != (None, None, None):
                await self._deploy(deployment)  # the runner restarts a running app with it
            return
        running = await self._leave(deployment)
        await self.supervisor.place(deployment, target, labels or [])
        # Placed first: the revision is checked where the deployment runs from now on.
        await self.supervisor.update(deployment, env, secrets, enabled, revision)
        if target is None:
            if running:
                await self.supervisor.start(deployment)
            return
        await self._deploy(deployment)
        if running:
            await self._order(deployment, "start", wait=False)

    async def _leave(self, deployment: Deployment) -> bool:
        """Stop a deployment where it runs before it moves; tell whether it was running."""
        if deployment.runner_id is None:
            running = deployment.wanted
            await self.supervisor.stop(deployment)
            return running
        running = self._desired_state(deployment) == "running"
        await self._forget_remote(deployment)
        return running

    async def start(self, deployment: Deployment) -> None:
        """Start a deployment where it is placed."""
        if deployment.runner_id is None:
            await self.supervisor.start(deployment)
        else:
            await self._order(deployment, "start")

    async def stop(self, deployment: Deployment) -> None:
        """Stop a deployment where it is placed."""
        if deployment.runner_id is None:
            await self.supervisor.stop(deployment)
        else:
            await self._order(deployment, "stop")

    async def restart(self, deployment: Deployment) -> None:
        """Restart a deployment where it is placed."""
        if deployment.runner_id is None:
            await self.supervisor.restart(deployment)
        else:
            await self._order(deployment, "restart")

    async def remove(self, deployment: Deployment) -> None:
        """Stop a deployment where it runs, and forget it."""
        if deployment.runner_id is not None:
            await self._forget_remote(deployment)
        await self.supervisor.remove(deployment)

    # -- what the REST resources show -------------------------------------------------------------

    def remote_state(self, deployment: Deployment) -> RemoteState:
        """Return what the runner says of a remote deployment (`lost` with its runner)."""
        runner = self.runner_of(deployment)
        if runner is None:
            return RemoteState("lost")
        view = runner.apps.get(deployment.id)
        if view is None:
            return RemoteState("lost" if runner.state == "lost" else "stopped")
        state = runner.app_state(view)
        if state == "removed":
            state = "stopped"
        running = state in {item.value for item in ACTIVE}
        return RemoteState(state, view.pid if running else None, view.exit_code)

    def remote_logs(
        self, deployment: Deployment, offset: int | None, limit: int
    ) -> tuple[list[RemoteLine], int]:
        """Return a remote deployment's lines from `offset` (or its last ones), and what follows."""
        runner = self.runner_of(deployment)
        tail = runner.logs.get(deployment.id) if runner is not None else None
        if tail is None:
            return [], offset or 1
        first = tail.received - len(tail.lines) + 1
        numbered = [
            RemoteLine(first + index, time_ms, stream, text)
            for index, (stream, _, text, time_ms) in enumerate(tail.lines)
        ]
        if offset is None:
            chosen = numbered[-limit:]
        else:
            chosen = [line for line in numbered if line.seq >= offset][:limit]
        next_offset = chosen[-1].seq + 1 if chosen else (offset or tail.received + 1)
        return chosen, next_offset

    # -- commands ---------------------------------------------------------------------------------

    def _desired_state(self, deployment: Deployment) -> str | None:
        runner = self.runner_of(deployment)
        for entry in runner.desired if runner is not None else []:
            if entry["deployment"] == deployment.id:
                return str(entry["state"])
        return None

    async def _deploy(self, deployment: Deployment) -> None:
        body = {
            "type": "deploy",
            "deployment": deployment.id,
            "package": deployment.app_id,
            "revision": deployment.revision,
            "env": deployment.env,
            "secrets": deployment.secrets,
        }
        await self._send(deployment, body, wait=False)

    async def _order(self, deployment: Deployment, kind: str, wait: bool = True) -> None:
        await self._send(deployment, {"type": kind, "deployment": deployment.id}, wait)

    async def _send(self, deployment: Deployment, body: dict[str, Any], wait: bool) -> None:
        runner_id = deployment.runner_id
        if runner_id is None:
            return
        record = await self.runners.order(runner_id, body)
        if record is not None and wait:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(ACTION_WAIT):
                    await record.done.wait()

    async def _forget_remote(self, deployment: Deployment) -> None:
        # A revoked runner took its desired state with it: there is nothing left to remove.
        with contextlib.suppress(HubError):
            await self._send(deployment, {"type": "remove", "deployment": deployment.id}, True)
