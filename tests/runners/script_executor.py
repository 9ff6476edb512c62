"""Executors for runner tests that do not depend on packages: a script, or nothing at all."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from kenkogo_master.deploy.spec import LaunchSpec, ReadyPolicy, StopPolicy
from kenkogo_master.runner.agent import RunnerContext
from kenkogo_master.runner.executor import Executor, ProcessExecutor

APP_SCRIPT = Path(__file__).with_name("app_script.py")
RUNS_FILE = "runs.log"  # in the runner's data directory: one `start <pid>` line per start


def factory(context: RunnerContext) -> Executor:
    """Run every deployment as app_script.py, whatever its package (no download, no install)."""

    async def resolve(deployment: str, package: str, revision: str, url: str) -> LaunchSpec:
        return LaunchSpec(
            app_id=package,
            revision=revision,
            argv=(sys.executable, str(APP_SCRIPT), str(context.data_dir / RUNS_FILE)),
            cwd=context.data_dir,
            runtime="command",
            ready=ReadyPolicy(seconds=0.3),
            stop=StopPolicy(timeout=3.0),
        )

    return ProcessExecutor(context.data_dir, resolve, context.events)


class NullExecutor:
    """Hosts nothing; answers every command at once (for fleets of simulated runners)."""

    def __init__(self, context: RunnerContext) -> None:
        self._states: dict[str, dict[str, Any]] = {}

    async def open(self) -> None:
        """Nothing was left."""

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
        """Note the deployment."""
        self._states[deployment] = {
            "deployment": deployment,
            "state": "stopped",
            "package": package,
            "revision": revision,
        }

    async def start(self, deployment: str) -> None:
        """Pretend to start."""
        self._states[deployment]["state"] = "running"

    async def stop(self, deployment: str) -> None:
        """Pretend to stop."""
        self._states[deployment]["state"] = "stopped"

    async def restart(self, deployment: str) -> None:
        """Pretend to restart."""
        self._states[deployment]["state"] = "running"

    async def remove(self, deployment: str) -> None:
        """Forget the deployment."""
        self._states.pop(deployment, None)

    async def logs(self, deployment: str, lines: int) -> list[str]:
        """Nothing was written."""
        return []

    def states(self) -> list[dict[str, Any]]:
        """Return the deployments."""
        return list(self._states.values())

    async def close(self) -> None:
        """Nothing to stop."""
