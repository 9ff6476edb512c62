"""Answers of /api/v1/deployments."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kenkogo_master.api.answers import Shape

StateName = Literal[
    "stopped", "starting", "running", "backoff", "stopping", "exited", "fatal", "lost"
]


class DeploymentResources(Shape):
    """What the app's process tree uses, sampled with psutil."""

    cpu_percent: float = Field(description="percent of one core, the whole tree")
    memory_bytes: int = Field(description="resident memory of the whole tree")
    children: int = Field(description="processes under the main one")


class Deployment(Shape):
    """A deployed app: what runs where, its state and process; secrets by name only.

    On a runner, the state is the one the runner last reported (`lost` while the runner is),
    and the process fields the Master does not see (uptime, restarts, resources) are empty.
    """

    id: str
    name: str
    app_id: str
    revision: str
    runner: str = Field(description="where it runs: a runner's id, or `local` (this Master)")
    runner_name: str | None = Field(description="the runner's name (None: local, or revoked)")
    labels: list[str] = Field(description="the labels its placement asked for")
    env: dict[str, str]
    secret_names: list[str] = Field(description="the secrets' names; their values are never shown")
    enabled: bool = Field(description="started when the Master starts")
    state: StateName
    pid: int | None
    uptime_s: float | None = Field(description="seconds the current process has been up")
    restarts: int = Field(description="automatic restarts so far")
    exit_code: int | None = Field(description="the last process's exit code (negative: signal)")
    instance_id: str | None = Field(description="the app instance its process registered as")
    resources: DeploymentResources | None
    created_ms: int
    updated_ms: int


class DeploymentList(Shape):
    """Every deployment, oldest first."""

    items: list[Deployment]
    count: int


class DeploymentLogLine(Shape):
    """One line of an app's output (`supervisor`: a note of the supervisor's own)."""

    seq: int = Field(description="the line's number, kept across restarts")
    time_ms: int
    stream: Literal["stdout", "stderr", "supervisor"]
    text: str


class DeploymentLogs(Shape):
    """Lines of an app's output, oldest first."""

    items: list[DeploymentLogLine]
    count: int
    next_offset: int = Field(description="the `offset` that reads on after these lines")
