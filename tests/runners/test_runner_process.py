"""A runner agent as its own process on this machine: deploy, run, killed, back, reconciled."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from kenkogo_master.runner.records import APPS_FILE
from tests.conftest import RunningMaster, StartMaster
from tests.runners.clients import SHA, enrolment_token, wait_for
from tests.runners.script_executor import RUNS_FILE
from tests.support.process import MAIN, REPO

SCRIPT_EXECUTOR = "tests.runners.script_executor:factory"
INTERVAL = 0.5  # the heartbeat interval of these tests: lost after 1.5 s of silence


class RunnerProcess:
    """`python main.py runner` with the script executor (or the packages'), its output kept."""

    def __init__(
        self,
        master: RunningMaster,
        data_dir: Path,
        executor: str | None = SCRIPT_EXECUTOR,
        labels: str = "linux,test",
    ) -> None:
        self.master = master
        self.labels = labels
        self.data_dir = data_dir
        self.executor = executor
        self.process: asyncio.subprocess.Process | None = None
        self.output = bytearray()
        self._reader: asyncio.Task[None] | None = None

    async def start(self, token: str | None = None) -> None:
        """Start the agent (with an enrolment token the first time)."""
        args = [
            str(MAIN),
            "runner",
            "--master",
            self.master.url,
            "--data",
            str(self.data_dir),
            "--name",
            "box-1",
            "--labels",
            self.labels,
            "--spread",
            "0.2",
        ]
        if self.executor is not None:
            args += ["--executor", self.executor]
        if token is not None:
            args += ["--token", token]
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            cwd=REPO,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        while chunk := await self.process.stdout.read(65_536):
            self.output += chunk

    async def stop(self, sig: signal.Signals) -> int:
        """Send `sig` and wait for the exit."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
        code = await asyncio.wait_for(self.process.wait(), 15)
        if self._reader is not None:
            await self._reader
        return code

    def starts(self) -> list[int]:
        """Return the pid of every start of the app, in order."""
        path = self.data_dir / RUNS_FILE
        lines = path.read_text().splitlines() if path.exists() else []
        return [int(line.split()[1]) for line in lines]

    def groups(self) -> list[int]:
        """Return the process groups the runner's supervisor has noted in apps.json."""
        path = self.data_dir / APPS_FILE
        rows = json.loads(path.read_text()) if path.exists() else []
        return [row["pgid"] for row in rows if isinstance(row.get("pgid"), int)]


def alive(pid: int) -> bool:
    """Tell whether a process exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return status.rsplit(")", 1)[1].split()[0] != "Z"


async def command(master: RunningMaster, runner_id: str, **body: Any) -> dict[str, Any]:
    """Send a command and wait for its result."""
    status, answer = await master.api(
        "POST", f"/api/v1/runners/{runner_id}/commands", json={"wait_ms": 15_000, **body}
    )
    assert status == 200, answer
    return answer


async def the_runner(master: RunningMaster, state: str) -> dict[str, Any] | None:
    """Return the one runner when it is in `state`."""
    _, body = await master.api("GET", "/api/v1/runners")
    items = body["items"]
    return items[0] if len(items) == 1 and items[0]["state"] == state else None


async def app_in(master: RunningMaster, runner_id: str, state: str) -> dict[str, Any] | None:
    """Return the runner's app d1 when it is shown in `state`."""
    _, body = await master.api("GET", f"/api/v1/runners/{runner_id}")
    apps = [app for app in body["apps"] if app["deployment"] == "d1"]
    return apps[0] if apps and apps[0]["state"] == state else None


async def test_a_runner_process_runs_its_app_survives_a_kill_and_runs_commands_once(
    start_master: StartMaster, runner_process: list[RunnerProcess], tmp_path: Path
) -> None:
    master = await start_master(runners__heartbeat_interval=str(INTERVAL))
    agent = RunnerProcess(master, tmp_path / "runner")
    runner_process.append(agent)
    await agent.start(await enrolment_token(master))
    view = await wait_for(lambda: the_runner(master, "online"), timeout=20)
    runner_id = view["id"]
    assert view["name"] == "box-1" and view["labels"] == ["linux", "test"]
    assert view["os"].startswith("Linux") and view["capacity"] >= 1

    # Deploy and start: the script runs and reports its state and output.
    deploy = {"type": "deploy", "deployment": "d1", "package": "echo", "revision": SHA}
    assert (await command(master, runner_id, **deploy))["state"] == "ok"
    assert (await command(master, runner_id, type="start", deployment="d1"))["state"] == "ok"
    running = await wait_for(lambda: app_in(master, runner_id, "running"))
    [pid] = agent.starts()
    assert running["pid"] == pid and alive(pid)

    async def output() -> list[str] | None:
        _, logs = await master.api("GET", f"/api/v1/runners/{runner_id}/apps/d1/logs")
        lines = [f"{line['stream']}:{line['line']}" for line in logs.get("lines", [])]
        return lines if "stdout:tick 2" in lines else None

    lines = await wait_for(output)
    assert f"stdout:hello from {pid}" in lines and "stderr:a line on stderr" in lines
    logs = await command(master, runner_id, type="logs", deployment="d1", lines=3)
    assert len(logs["lines"]) == 3

    # A command sent twice under one id runs once: the second copy gets the first result.
    first = await command(master, runner_id, id="restart-1", type="restart", deployment="d1")
    assert first["state"] == "ok" and len(agent.starts()) == 2
    again = await command(master, runner_id, id="restart-1", type="restart", deployment="d1")
    assert again["state"] == "ok" and again["sends"] == 2
    await asyncio.sleep(1.0)
    assert len(agent.starts()) == 2
    app_pid = agent.starts()[-1]
    assert alive(app_pid) and not alive(pid)

    # SIGKILL: the runner goes silent; after three intervals it and its app are shown lost.
    await agent.stop(signal.SIGKILL)
    view = await wait_for(lambda: the_runner(master, "lost"), timeout=10)
    silent = time.time() - view["last_heartbeat_ms"] / 1000
    assert 3 * INTERVAL <= silent <= 3 * INTERVAL + 1.0, silent
    assert [app["state"] for app in view["apps"]] == ["lost"]
    assert alive(app_pid)  # orphaned by the kill

    # Back again (no token now: it kept its credential): it ends the orphan, and reconcile
    # starts the app once.
    await agent.start()
    await wait_for(lambda: the_runner(master, "online"), timeout=20)
    await wait_for(lambda: app_in(master, runner_id, "running"), timeout=20)
    await asyncio.sleep(1.0)
    starts = agent.starts()
    assert len(starts) == 3, starts
    assert not alive(app_pid) and alive(starts[-1])
    assert [pid for pid in starts if alive(pid)] == [starts[-1]]
    _, body = await master.api("GET", "/api/v1/runners")
    assert body["count"] == 1 and body["items"][0]["id"] == runner_id

    # The journal outlived the kill: the old id still runs nothing.
    again = await command(master, runner_id, id="restart-1", type="restart", deployment="d1")
    assert again["state"] == "ok" and again["sends"] == 3
    await asyncio.sleep(0.5)
    assert len(agent.starts()) == 3

    # Stopped by an operator: the runner stops its app with it.
    assert await agent.stop(signal.SIGTERM) == 0
    assert not alive(starts[-1])
    assert b"Traceback" not in agent.output, agent.output.decode()
