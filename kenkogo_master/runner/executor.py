"""What a runner does with apps, behind one protocol, and the executor that runs processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kenkogo_master.deploy.spec import LaunchSpec
from kenkogo_master.runner.journal import read_json, write_atomically

log = logging.getLogger(__name__)

APPS_FILE = "apps.json"
MARKER = "KENKOGO_RUNNER_DIR"
TAIL_LINES = 1000  # output lines kept per app for a `logs` command
MAX_LINE = 8192


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

    async def deploy(self, deployment: str, package: str, revision: str, url: str) -> None: ...
    async def start(self, deployment: str) -> None: ...
    async def stop(self, deployment: str) -> None: ...
    async def restart(self, deployment: str) -> None: ...
    async def remove(self, deployment: str) -> None: ...
    async def logs(self, deployment: str, lines: int) -> list[str]: ...
    def states(self) -> list[dict[str, Any]]: ...
    async def close(self) -> None: ...


# Turns a deployed revision into something to run: downloads, checks and installs it if needed.
Resolver = Callable[[str, str, str, str], Awaitable[LaunchSpec]]


@dataclass(slots=True)
class Hosted:
    """One deployment on this runner and its process, if one runs."""

    deployment: str
    package: str
    revision: str
    url: str
    spec: LaunchSpec | None = None
    state: str = "stopped"
    process: asyncio.subprocess.Process | None = None
    watcher: asyncio.Task[None] | None = None
    wanted: bool = False  # started by a command and not stopped since: restarts follow policy
    failures: int = 0  # quick failures in a row
    ready: asyncio.Future[int | None] | None = None  # the exit code if it ended before ready
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))

    def record(self) -> dict[str, Any]:
        """Return what is kept on disk about it."""
        return {
            "deployment": self.deployment,
            "package": self.package,
            "revision": self.revision,
            "url": self.url,
            "wanted": self.wanted,
            "pgid": self.process.pid if self.process is not None else None,
        }


class ProcessExecutor:
    """Run each deployment as a child process in its own process group.

    The deployments and their process groups are kept in `apps.json`, so that a runner killed
    with its apps still running ends them when it starts again (then reconcile starts them
    once more): an app never runs twice for one deployment.
    """

    def __init__(self, data_dir: Path, resolve: Resolver, events: AppEvents) -> None:
        self._file = data_dir / APPS_FILE
        # Every app's environment names its runner's data directory: how a restarted runner
        # tells the groups it left behind from whatever process got the same id since.
        self._marker = f"{MARKER}={data_dir.resolve()}"
        self._resolve = resolve
        self._events = events
        self._apps: dict[str, Hosted] = {}
        self._load()

    def _load(self) -> None:
        stored = read_json(self._file)
        for entry in stored if isinstance(stored, list) else []:
            try:
                hosted = Hosted(
                    entry["deployment"], entry["package"], entry["revision"], entry["url"]
                )
            except (KeyError, TypeError):
                continue
            _end_group(entry.get("pgid"), self._marker)
            self._apps[hosted.deployment] = hosted

    def _save(self) -> None:
        write_atomically(self._file, [hosted.record() for hosted in self._apps.values()])

    def _get(self, deployment: str) -> Hosted:
        hosted = self._apps.get(deployment)
        if hosted is None:
            raise ExecutorError("not_found", f"no deployment {deployment} on this runner")
        return hosted

    def _move(self, hosted: Hosted, state: str, **details: Any) -> None:
        hosted.state = state
        self._events.state(hosted.deployment, state, revision=hosted.revision, **details)

    # -- the protocol -----------------------------------------------------------------------------

    def states(self) -> list[dict[str, Any]]:
        """Return each deployment with its state (for `register` and reconcile)."""
        return [
            {
                "deployment": h.deployment,
                "state": h.state,
                "package": h.package,
                "revision": h.revision,
            }
            for h in self._apps.values()
        ]

    async def deploy(self, deployment: str, package: str, revision: str, url: str) -> None:
        """Fetch and install a revision; a running app of the deployment is restarted on it."""
        spec = await self._resolve(deployment, package, revision, url)
        hosted = self._apps.get(deployment)
        was_running = hosted is not None and hosted.process is not None
        if hosted is not None and was_running:
            await self.stop(deployment)
        hosted = Hosted(
            deployment,
            package,
            revision,
            url,
            spec=spec,
            wanted=was_running,
            tail=hosted.tail if hosted else deque(maxlen=TAIL_LINES),
        )
        self._apps[deployment] = hosted
        self._save()
        self._move(hosted, "stopped", detail="deployed")
        if was_running:
            await self.start(deployment)

    async def start(self, deployment: str) -> None:
        """Start the app unless it runs already."""
        hosted = self._get(deployment)
        if hosted.process is not None:
            return
        if hosted.spec is None:  # deployed before this runner restarted
            hosted.spec = await self._resolve(
                deployment, hosted.package, hosted.revision, hosted.url
            )
        hosted.wanted, hosted.failures = True, 0
        await self._spawn(hosted)
        # A start ends when the app counts as running (its ready policy), or fails when it
        # ended before that: the command's result says which.
        assert hosted.ready is not None
        code = await asyncio.shield(hosted.ready)
        if code is not None:
            raise ExecutorError("start_failed", f"the app exited with {code} before it was ready")

    async def stop(self, deployment: str) -> None:
        """Stop the app: its stop signal to the group, then SIGKILL after the stop timeout."""
        hosted = self._get(deployment)
        hosted.wanted = False
        self._save()
        process, watcher = hosted.process, hosted.watcher
        if process is None:
            if hosted.state != "stopped":
                self._move(hosted, "stopped")
            return
        self._move(hosted, "stopping", pid=process.pid)
        spec = hosted.spec
        timeout = spec.stop.timeout if spec is not None else 10.0
        sig = getattr(signal, spec.stop.signal) if spec is not None else signal.SIGTERM
        _signal_group(process.pid, sig)
        try:
            async with asyncio.timeout(timeout):
                await process.wait()
        except TimeoutError:
            _signal_group(process.pid, signal.SIGKILL)
            await process.wait()
        _signal_group(process.pid, signal.SIGKILL)  # grandchildren that outlived the leader
        if watcher is not None:
            await asyncio.gather(watcher, return_exceptions=True)

    async def restart(self, deployment: str) -> None:
        """Stop the app if it runs, then start it."""
        await self.stop(deployment)
        await self.start(deployment)

    async def remove(self, deployment: str) -> None:
        """Stop the app and forget the deployment."""
        if deployment not in self._apps:
            return
        await self.stop(deployment)
        hosted = self._apps.pop(deployment)
        self._save()
        self._move(hosted, "removed")

    async def logs(self, deployment: str, lines: int) -> list[str]:
        """Return the latest output lines of the app."""
        return list(self._get(deployment).tail)[-lines:]

    async def close(self) -> None:
        """Stop every app (the runner is stopping); the deployments are kept."""
        for deployment, hosted in list(self._apps.items()):
            wanted = hosted.wanted
            await self.stop(deployment)
            hosted.wanted = wanted  # started again by the next reconcile
        self._save()

    # -- processes --------------------------------------------------------------------------------

    async def _spawn(self, hosted: Hosted) -> None:
        spec = hosted.spec
        assert spec is not None
        self._move(hosted, "starting")
        try:
            process = await asyncio.create_subprocess_exec(
                *spec.argv,
                cwd=spec.cwd,
                env={**os.environ, **spec.env, MARKER: self._marker.partition("=")[2]},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # its own process group: stop reaches grandchildren
            )
        except OSError as exc:
            self._move(hosted, "fatal", detail=f"cannot start: {exc}")
            raise ExecutorError("start_failed", f"cannot start {spec.argv[0]}: {exc}") from exc
        hosted.process = process
        hosted.ready = asyncio.get_running_loop().create_future()
        self._save()
        hosted.watcher = asyncio.create_task(self._watch(hosted, process, time.monotonic()))

    async def _watch(
        self, hosted: Hosted, process: asyncio.subprocess.Process, started: float
    ) -> None:
        spec = hosted.spec
        assert spec is not None and process.stdout is not None and process.stderr is not None
        pumps = [
            asyncio.create_task(self._pump(hosted, process.stdout, "stdout")),
            asyncio.create_task(self._pump(hosted, process.stderr, "stderr")),
        ]
        ready = asyncio.create_task(asyncio.sleep(spec.ready.seconds))
        ended = asyncio.create_task(process.wait())
        await asyncio.wait({ready, ended}, return_when=asyncio.FIRST_COMPLETED)
        if not ended.done():
            self._move(hosted, "running", pid=process.pid)
        ready.cancel()
        if hosted.ready is not None and not hosted.ready.done():
            hosted.ready.set_result(process.returncode if ended.done() else None)
        code = await ended
        await asyncio.gather(*pumps, return_exceptions=True)
        hosted.process = None
        self._save()
        if not hosted.wanted:
            self._move(hosted, "stopped", exit_code=code)
            return
        policy = spec.restart
        if time.monotonic() - started >= policy.reset_after:
            hosted.failures = 0
        hosted.failures += 1
        again = policy.when == "always" or (policy.when == "on-failure" and code != 0)
        if not again:
            hosted.wanted = False
            self._move(hosted, "exited", exit_code=code)
            return
        if hosted.failures >= policy.fatal_after:
            hosted.wanted = False
            self._move(hosted, "fatal", exit_code=code, detail=f"{hosted.failures} quick failures")
            return
        delay = min(policy.backoff_initial * 2 ** (hosted.failures - 1), policy.backoff_max)
        self._move(hosted, "backoff", exit_code=code, detail=f"restart in {delay:.1f} s")
        await asyncio.sleep(delay)
        if hosted.wanted and hosted.process is None and self._apps.get(hosted.deployment) is hosted:
            await self._spawn(hosted)

    async def _pump(self, hosted: Hosted, stream: asyncio.StreamReader, name: str) -> None:
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # a line longer than the reader's limit: take what is there
                raw = await stream.read(65_536)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\n")[:MAX_LINE]
            hosted.tail.append(line)
            self._events.output(hosted.deployment, name, line)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _end_group(pgid: object, marker: str) -> None:
    """End a process group a killed runner left behind (its apps would otherwise run twice)."""
    if not isinstance(pgid, int) or pgid <= 1:
        return
    try:
        environment = Path(f"/proc/{pgid}/environ").read_bytes()
    except FileNotFoundError:
        return  # gone already
    except OSError:
        environment = None  # no /proc here, or not ours to read: the group id must do
    if environment is None or marker.encode() in environment.split(b"\0"):
        _signal_group(pgid, signal.SIGKILL)
        log.info("ended the process group %d a previous run of this runner left", pgid)
