"""The local supervisor: start, watch, restart and stop the deployed apps this Master runs.

One task per running deployment owns its state: it starts the process, waits until it is
ready, waits for it to end, and restarts it by its policy (back-off doubling from
`backoff_initial` to `backoff_max` with ±`jitter`, forgotten after `reset_after` seconds of
uptime, `fatal` after `fatal_after` quick failures in a row). Every transition is stored and
published on the event stream (`deploy.state`); resources are sampled (`deploy.resources`).

The Master gives it its SQL records and its event bus; a runner gives it a file of its own and
a publisher that forwards transitions and output lines to the Master (runner/supervised.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kenkogo_master.deploy.app_logs import AppLog, LogLine
from kenkogo_master.deploy.app_tokens import AppTokens
from kenkogo_master.deploy.process import AppProcess, Resources, child_environment
from kenkogo_master.deploy.reaper import Leftover, become_subreaper, end_leftovers
from kenkogo_master.deploy.spec import LaunchSpec
from kenkogo_master.deploy.states import ACTIVE, DeployState, backoff_delay
from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.observability.logs import LOG_TOPIC
from kenkogo_master.observability.redact import Redactor
from kenkogo_master.sdk.deployed import APP_TOKEN, MASTER_PID, MASTER_URL
from kenkogo_master.settings import SupervisorSettings

log = logging.getLogger(__name__)

STATE_TOPIC = "deploy.state"
RESOURCES_TOPIC = "deploy.resources"
LOG_LINE_TOPIC = f"{LOG_TOPIC}.deployment"
# Seconds an app gets when the Master stops. Docker allows 10 in all, and the hand-over before
# (apps ack what they hold, [apps] stop_grace, 5 s) may take up to 5 of them.
SHUTDOWN_STOP = 4.0


class Records(Protocol):
    """Where deployments and their transitions are kept (SQL on the Master, a file on a runner)."""

    async def all(self) -> list[dict[str, Any]]:
        """Return every deployment, oldest first."""

    async def add(self, row: dict[str, Any]) -> None:
        """Store a new deployment."""

    async def change(self, deployment_id: str, **values: Any) -> None:
        """Change some fields of a deployment."""

    async def transition(
        self,
        deployment_id: str,
        from_state: str,
        to_state: str,
        reason: str,
        exit_code: int | None,
        at_ms: int,
        **values: Any,
    ) -> None:
        """Store a state change and the deployment's new fields."""

    async def transitions(self, deployment_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """Return a deployment's latest state changes, newest first."""

    async def remove(self, deployment_id: str) -> None:
        """Forget a deployment and its history."""


class Publisher(Protocol):
    """Where transitions, output lines and samples go (the event bus on the Master)."""

    def publish(self, topic: str, data: dict[str, Any]) -> None:
        """Send `data` on `topic`."""

    def wanted(self, topic: str) -> bool:
        """Tell whether anyone listens on `topic` (else nothing is built for it)."""


class Resolver(Protocol):
    """Find the installed revision of an app: what to run, or None when it is not installed."""

    def __call__(self, app_id: str, revision: str) -> LaunchSpec | None:
        """Return the launch spec of `app_id` at `revision`, or None."""


class DeploymentError(Exception):
    """An operation the deployment's state or install does not allow."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # not_installed, exists


@dataclass(eq=False)
class Deployment:
    """One deployment as the supervisor keeps it in memory."""

    id: str
    name: str
    app_id: str
    revision: str
    env: dict[str, str]
    secrets: dict[str, str]
    enabled: bool
    state: DeployState
    restarts: int
    created_ms: int
    updated_ms: int
    log: AppLog
    redactor: Redactor
    process: AppProcess | None = None
    task: asyncio.Task[None] | None = None
    wanted: bool = False  # the operator wants it running
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # a stop ends waits at once
    registered: asyncio.Event = field(default_factory=asyncio.Event)
    instance_id: str | None = None  # the app instance its process registered as
    failures: int = 0  # quick failures in a row
    exit_code: int | None = None
    resources: Resources | None = None
    stop_timeout: float | None = None  # a shorter stop than the spec's (the Master's shutdown)
    runner_id: str | None = None  # placed on this runner: it runs there, never here
    labels: list[str] = field(default_factory=list)  # the labels its placement asked for

    def uptime(self) -> float | None:
        """Return the seconds the current process has been up, if one runs."""
        if self.process is None or not self.process.running:
            return None
        return round(time.monotonic() - self.process.started_at, 3)


class Supervisor:
    """Own every deployment: its stored row, its process and its state."""

    def __init__(
        self,
        records: Records,
        resolver: Resolver,
        tokens: AppTokens | None,
        bus: Publisher,
        settings: SupervisorSettings,
        logs_dir: Path,
        master_url: Callable[[], str],
        rng: random.Random | None = None,
    ) -> None:
        self.resolver = resolver
        self._records = records
        self._tokens = tokens
        self._bus = bus
        self._settings = settings
        self._logs_dir = logs_dir
        self._master_url = master_url
        self._rng = rng or random.Random()
        self._starting = asyncio.Semaphore(settings.max_starting)
        self.deployments: dict[str, Deployment] = {}
        self._sampler: asyncio.Task[None] | None = None
        self.subreaper = False

    # -- start-up and shutdown ------------------------------------------------------------------

    async def load(self, launch: bool = True) -> None:
        """Read the deployments, end the processes a killed Master left, start the enabled ones.

        A runner passes `launch=False`: the Master's reconcile says what runs there.
        """
        rows = await self._records.all()
        leftovers = [
            Leftover(row["id"], row["pid"], row["pgid"], row["proc_started"])
            for row in rows
            if row["pgid"] is not None
        ]
        if leftovers:
            ended = await end_leftovers(leftovers)
            if ended:
                log.warning("ended %d app process group(s) an earlier run left behind", ended)
        for row in rows:
            deployment = self._make(row)
            self.deployments[deployment.id] = deployment
            if DeployState(row["state"]) in ACTIVE:
                # It was running when the Master went away: it is not now.
                await self._move(
                    deployment,
                    DeployState.STOPPED,
                    "master_restarted",
                    pid=None,
                    pgid=None,
                    proc_started=None,
                )
            elif row["pgid"] is not None:
                await self._records.change(deployment.id, pid=None, pgid=None, proc_started=None)
        self._sampler = asyncio.create_task(self._sample_forever(), name="deploy-sampler")
        for deployment in self.deployments.values():
            if launch and deployment.enabled and deployment.runner_id is None:
                self._launch(deployment)

    async def shutdown(self) -> None:
        """Stop every app at once (each within SHUTDOWN_STOP), keeping whether it is enabled."""
        await asyncio.gather(
            *(self._stop(item, SHUTDOWN_STOP) for item in self.deployments.values()),
            return_exceptions=True,
        )

    async def close(self) -> None:
        """Stop sampling and close the log files (after shutdown)."""
        if self._sampler is not None:
            self._sampler.cancel()
            await asyncio.gather(self._sampler, return_exceptions=True)
        for deployment in self.deployments.values():
            deployment.log.close()

    def _make(self, row: dict[str, Any]) -> Deployment:
        redactor = Redactor()
        redactor.add_secrets(row["secrets"].values())
        deployment_id = row["id"]

        def publish(line: LogLine) -> None:
            if self._bus.wanted(LOG_LINE_TOPIC):
                self._bus.publish(
                    LOG_LINE_TOPIC,
                    {
                        "time_ms": line.time_ms,
                        "level": "INFO",
                        "logger": f"deploy.{row['name']}",
                        "message": line.text,
                        "deployment": deployment_id,
                        "seq": line.seq,
                        "stream": line.stream,
                    },
                )

        app_log = AppLog(
            self._logs_dir / deployment_id,
            self._settings.log_file_bytes,
            self._settings.log_files,
            self._settings.log_tail_lines,
            redactor,
            publish,
        )
        return Deployment(
            id=deployment_id,
            name=row["name"],
            app_id=row["app_id"],
            revision=row["revision"],
            env=dict(row["env"]),
            secrets=dict(row["secrets"]),
            enabled=row["enabled"],
            state=DeployState(row["state"]),
            restarts=row["restarts"],
            created_ms=row["created_ms"],
            updated_ms=row["updated_ms"],
            log=app_log,
            redactor=redactor,
            runner_id=row.get("runner_id"),
            labels=list(row.get("labels") or []),
        )

    # -- operator actions -----------------------------------------------------------------------

    def get(self, deployment_id: str) -> Deployment | None:
        """Return a deployment, or None."""
        return self.deployments.get(deployment_id)

    async def create(
        self,
        app_id: str,
        revision: str,
        env: dict[str, str],
        secrets: dict[str, str],
        enabled: bool,
        name: str | None,
        deployment_id: str | None = None,
        runner_id: str | None = None,
        labels: list[str] | None = None,
    ) -> Deployment:
        """Store a deployment of an installed revision; start it when enabled.

        Its id is new, unless given (a runner keeps the Master's id for it). One placed on a
        runner (`runner_id`) is only kept here: the runner installs and runs it.
        """
        if runner_id is None and self.resolver(app_id, revision) is None:
            raise DeploymentError("not_installed")
        name = name or app_id
        if any(item.name == name for item in self.deployments.values()):
            raise DeploymentError("exists")
        at_ms = now_ms()
        row = {
            "id": deployment_id or new_id(),
            "name": name,
            "app_id": app_id,
            "revision": revision,
            "env": env,
            "secrets": secrets,
            "enabled": enabled,
            "state": DeployState.STOPPED.value,
            "restarts": 0,
            "pid": None,
            "pgid": None,
            "proc_started": None,
            "created_ms": at_ms,
            "updated_ms": at_ms,
        }
        if runner_id is not None or labels:  # (a runner's own records have no placement)
            row.update(runner_id=runner_id, labels=labels or [])
        await self._records.add(row)
        deployment = self._make(row)
        self.deployments[deployment.id] = deployment
        log.info("deployment %s (%s) created for %s", deployment.id, name, app_id)
        if enabled and runner_id is None:
            self._launch(deployment)
        return deployment

    async def update(
        self,
        deployment: Deployment,
        env: dict[str, str] | None,
        secrets: dict[str, str] | None,
        enabled: bool | None,
        revision: str | None,
    ) -> None:
        """Change env, secrets (replacing them all), enabled or revision; used at the next start."""
        local = deployment.runner_id is None
        if local and revision is not None and self.resolver(deployment.app_id, revision) is None:
            raise DeploymentError("not_installed")
        values: dict[str, Any] = {"updated_ms": now_ms()}
        if env is not None:
            deployment.env = env
            values["env"] = env
        if secrets is not None:
            deployment.redactor.add_secrets(secrets.values())  # old ones stay masked too
            deployment.secrets = secrets
            values["secrets"] = secrets
        if enabled is not None:
            deployment.enabled = enabled
            values["enabled"] = enabled
        if revision is not None:
            deployment.revision = revision
            values["revision"] = revision
        deployment.updated_ms = values["updated_ms"]
        await self._records.change(deployment.id, **values)

    async def place(self, deployment: Deployment, runner_id: str | None, labels: list[str]) -> None:
        """Note where a deployment runs now (the caller stopped it where it ran before)."""
        deployment.runner_id, deployment.labels = runner_id, labels
        deployment.updated_ms = now_ms()
        await self._records.change(
            deployment.id, runner_id=runner_id, labels=labels, updated_ms=deployment.updated_ms
        )

    async def start(self, deployment: Deployment) -> None:
        """Start a deployment that is not running (from fatal and exited too)."""
        if deployment.task is not None and not deployment.task.done():
            return  # running, starting or in back-off already
        if self.resolver(deployment.app_id, deployment.revision) is None:
            raise DeploymentError("not_installed")
        deployment.failures = 0
        before = deployment.state
        self._launch(deployment)
        # Answer with the state the start led to (`starting`), not the one it left.
        for _ in range(200):
            if deployment.state is not before or deployment.task is None or deployment.task.done():
                break
            await asyncio.sleep(0.005)

    async def stop(self, deployment: Deployment) -> None:
        """Stop a deployment and wait until its whole process group is gone."""
        await self._stop(deployment, None)

    async def restart(self, deployment: Deployment) -> None:
        """Stop, then start again."""
        await self._stop(deployment, None)
        await self.start(deployment)

    async def remove(self, deployment: Deployment) -> None:
        """Stop a deployment and forget it (its log files are kept)."""
        await self._stop(deployment, None)
        deployment.log.close()
        self.deployments.pop(deployment.id, None)
        await self._records.remove(deployment.id)

    async def read_transitions(self, deployment: Deployment, limit: int) -> list[dict[str, Any]]:
        """Return the deployment's latest state changes, newest first."""
        return await self._records.transitions(deployment.id, limit)

    def registered(self, deployment_id: str, instance_id: str) -> None:
        """Note that a deployment's process registered with the Master (ready = `registered`)."""
        deployment = self.deployments.get(deployment_id)
        if deployment is not None:
            deployment.instance_id = instance_id
            deployment.registered.set()

    # -- the run loop -----------------------------------------------------------------------------

    def _launch(self, deployment: Deployment) -> None:
        deployment.wanted = True
        deployment.wake = asyncio.Event()
        deployment.task = asyncio.create_task(
            self._run(deployment), name=f"deploy-{deployment.name}"
        )

    async def _stop(self, deployment: Deployment, timeout: float | None) -> None:
        deployment.wanted = False
        deployment.stop_timeout = timeout
        deployment.wake.set()
        task = deployment.task
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self, deployment: Deployment) -> None:
        try:
            while deployment.wanted:
                if not await self._run_once(deployment):
                    break
            if deployment.state in ACTIVE:  # a stop came between two runs (in back-off)
                await self._move(deployment, DeployState.STOPPED, "stopped")
        except Exception:
            log.exception("deployment %s: the supervisor failed", deployment.name)
            await self._move(deployment, DeployState.FATAL, "supervisor_error")
        finally:
            self._forget_token(deployment)
            deployment.process = None
            deployment.resources = None

    async def _run_once(self, deployment: Deployment) -> bool:
        """Run the app once; return whether to go round again (after its back-off)."""
        spec = self.resolver(deployment.app_id, deployment.revision)
        if spec is None:
            await self._move(deployment, DeployState.FATAL, "not_installed")
            return False
        async with self._starting:  # the limit on starts at once: until ready, or not
            if not deployment.wanted:
                return False
            started = await self._spawn(deployment, spec)
            if started is not None:
                process, exit_task = started
                ready = await self._wait_ready(deployment, spec, exit_task)
        if started is None:
            return await self._failed(deployment, spec, None, 0.0, "spawn_failed")
        if ready:
            await self._move(deployment, DeployState.RUNNING, "ready")
            stop_asked = asyncio.create_task(deployment.wake.wait())
            await asyncio.wait({exit_task, stop_asked}, return_when=asyncio.FIRST_COMPLETED)
            stop_asked.cancel()
        if not exit_task.done():  # a stop, or not ready in time: end it
            reason = "stop" if not deployment.wanted else "not_ready"
            await self._move(deployment, DeployState.STOPPING, reason)
            timeout = spec.stop.timeout
            if deployment.stop_timeout is not None:
                timeout = min(timeout, deployment.stop_timeout)
            killed = await process.terminate(spec.stop.signal, timeout)
            code = await exit_task
            if not deployment.wanted:
                note = f"stopped (exit code {code}{', killed' if killed else ''})"
                deployment.log.write("supervisor", note)
                await self._ended(deployment, DeployState.STOPPED, "stopped", code)
                return False
            uptime = time.monotonic() - process.started_at
            return await self._failed(deployment, spec, code, uptime, "not_ready")
        code = exit_task.result()
        uptime = time.monotonic() - process.started_at
        deployment.log.write("supervisor", f"exited with code {code} after {uptime:.1f} s")
        if not deployment.wanted:
            await self._ended(deployment, DeployState.STOPPED, "stopped", code)
            return False
        policy = spec.restart
        if policy.when == "never" or (policy.when == "on-failure" and code == 0):
            await self._ended(deployment, DeployState.EXITED, "exited", code)
            return False
        return await self._failed(deployment, spec, code, uptime, "exited")

    async def _spawn(
        self, deployment: Deployment, spec: LaunchSpec
    ) -> tuple[AppProcess, asyncio.Task[int]] | None:
        await self._move(deployment, DeployState.STARTING, "start")
        deployment.registered = asyncio.Event()
        deployment.instance_id = None
        added = {
            **deployment.env,
            **deployment.secrets,
            MASTER_URL: self._master_url(),
            MASTER_PID: str(os.getpid()),
        }
        if self._tokens is not None:
            # Only the Master that checks it issues a token; a runner's apps go without one.
            token = self._tokens.issue(deployment.id)
            deployment.redactor.add_secrets([token])
            added[APP_TOKEN] = token
        if not self.subreaper:
            self.subreaper = become_subreaper()
        try:
            process = await AppProcess.start(
                spec, child_environment(spec, added), deployment.log.write
            )
        except OSError as exc:
            deployment.log.write("supervisor", f"cannot start {spec.argv[0]}: {exc}")
            log.warning("deployment %s: cannot start: %s", deployment.name, exc)
            return None
        deployment.process = process
        deployment.log.write("supervisor", f"started, pid {process.pid}")
        await self._records.change(
            deployment.id, pid=process.pid, pgid=process.pgid, proc_started=process.create_time
        )
        return process, asyncio.create_task(process.exited())

    async def _wait_ready(
        self, deployment: Deployment, spec: LaunchSpec, exit_task: asyncio.Task[int]
    ) -> bool:
        """Wait until ready; False when it ended, a stop came, or it did not register in time."""
        waits: set[asyncio.Task[Any]] = {exit_task, asyncio.create_task(deployment.wake.wait())}
        if spec.ready.when == "registered":
            waits.add(asyncio.create_task(deployment.registered.wait()))
        await asyncio.wait(waits, timeout=spec.ready.seconds, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            if task is not exit_task:
                task.cancel()
        if exit_task.done() or not deployment.wanted:
            return False
        return spec.ready.when == "seconds" or deployment.registered.is_set()

    async def _failed(
        self,
        deployment: Deployment,
        spec: LaunchSpec,
        code: int | None,
        uptime: float,
        reason: str,
    ) -> bool:
        """Count a failure; go to back-off and wait, or to fatal. Return whether to start again."""
        policy = spec.restart
        if uptime >= policy.reset_after:
            deployment.failures = 0  # it ran well for long enough: earlier failures are forgiven
        else:
            deployment.failures += 1
        if deployment.failures >= policy.fatal_after:
            await self._ended(deployment, DeployState.FATAL, reason, code)
            log.warning(
                "deployment %s: fatal after %d quick failures", deployment.name, deployment.failures
            )
            return False
        nominal = backoff_delay(deployment.failures, policy.backoff_initial, policy.backoff_max)
        delay = nominal * self._rng.uniform(1 - policy.jitter, 1 + policy.jitter)
        await self._ended(deployment, DeployState.BACKOFF, reason, code)
        deployment.log.write("supervisor", f"starting again in {delay:.2f} s")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(deployment.wake.wait(), delay)
        if not deployment.wanted:
            await self._move(deployment, DeployState.STOPPED, "stopped")
            return False
        deployment.restarts += 1
        await self._records.change(deployment.id, restarts=deployment.restarts)
        return True

    async def _ended(
        self, deployment: Deployment, state: DeployState, reason: str, code: int | None
    ) -> None:
        deployment.exit_code = code
        deployment.process = None
        deployment.resources = None
        self._forget_token(deployment)
        await self._move(deployment, state, reason, code, pid=None, pgid=None, proc_started=None)

    def _forget_token(self, deployment: Deployment) -> None:
        if self._tokens is not None:
            self._tokens.forget(deployment.id)

    async def _move(
        self,
        deployment: Deployment,
        to_state: DeployState,
        reason: str,
        exit_code: int | None = None,
        **values: Any,
    ) -> None:
        from_state = deployment.state
        deployment.state = to_state
        at_ms = now_ms()
        deployment.updated_ms = at_ms
        await self._records.transition(
            deployment.id, from_state.value, to_state.value, reason, exit_code, at_ms, **values
        )
        self._bus.publish(
            STATE_TOPIC,
            {
                "id": deployment.id,
                "name": deployment.name,
                "from": from_state.value,
                "to": to_state.value,
                "reason": reason,
                "exit_code": exit_code,
                "at_ms": at_ms,
            },
        )
        log.info(
            "deployment %s (%s): %s -> %s (%s)",
            deployment.id,
            deployment.name,
            from_state.value,
            to_state.value,
            reason,
        )

    # -- resources ---------------------------------------------------------------------------------

    async def _sample_forever(self) -> None:
        while True:
            await asyncio.sleep(self._settings.sample_interval)
            self.sample()

    def sample(self) -> None:
        """Sample every running app's process tree and publish what it uses."""
        for deployment in self.deployments.values():
            process = deployment.process
            if process is None or not process.running:
                continue
            deployment.resources = process.sample()
            if self._bus.wanted(RESOURCES_TOPIC):
                resources = deployment.resources
                self._bus.publish(
                    RESOURCES_TOPIC,
                    {
                        "id": deployment.id,
                        "name": deployment.name,
                        "cpu_percent": resources.cpu_percent,
                        "memory_bytes": resources.memory_bytes,
                        "children": resources.children,
                    },
                )
