"""Pydantic models of the frames on /runner (PROTOCOL.md section 6), read by both ends."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from kenkogo_master.protocol.apps import WireModel

Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Text = Annotated[str, StringConstraints(max_length=200)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
CommandType = Literal["deploy", "start", "stop", "restart", "remove", "logs"]
# The states of an app on a runner, as supervisord names them, plus `lost` (its runner went
# away, shown by the Master only) and `removed` (the last word about a deployment).
AppStateName = Literal[
    "stopped", "starting", "running", "backoff", "stopping", "exited", "fatal", "lost", "removed"
]
MAX_LINES = 200  # lines per log chunk
MAX_LINE = 8192  # characters per line
MAX_APPS = 1000  # apps one runner reports at most
# A deployment's environment and secrets, sent with `deploy` and `reconcile` (over the
# authenticated /runner connection only; never logged, never in a command's result).
Variables = Annotated[
    dict[
        Annotated[str, StringConstraints(min_length=1, max_length=200)],
        Annotated[str, StringConstraints(max_length=10_000)],
    ],
    Field(max_length=200),
]


class RunnerApp(WireModel):
    """One app a runner hosts, as it reports it in `register`."""

    deployment: Id
    state: AppStateName
    package: Id | None = None
    revision: Id | None = None


class RunnerRegister(WireModel):
    """The `register` event: who the runner is and what it runs already."""

    id: Id | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    host: Text = ""
    os: Text = ""
    arch: Text = ""
    version: Text = ""
    capacity: int = Field(0, ge=0, le=100_000)
    labels: list[Label] = Field(default_factory=list, max_length=32)
    apps: list[RunnerApp] = Field(default_factory=list, max_length=MAX_APPS)


class Resources(WireModel):
    """What a runner's machine has left, as sampled by the runner."""

    cpu_percent: float | None = Field(None, ge=0, le=100_000)
    memory_percent: float | None = Field(None, ge=0, le=100)
    memory_available_mb: float | None = Field(None, ge=0)
    load: float | None = Field(None, ge=0)
    apps: int | None = Field(None, ge=0)


class RunnerHeartbeat(WireModel):
    """The `heartbeat` event; its resources are optional."""

    resources: Resources = Field(default_factory=Resources)


class CommandResult(WireModel):
    """The `command_result` event: how a command ended (or that it is still running)."""

    id: Id
    status: Literal["ok", "failed", "running"]
    error: dict[str, Any] | None = None
    lines: list[Annotated[str, StringConstraints(max_length=MAX_LINE)]] | None = Field(
        None, max_length=1000
    )


class AppState(WireModel):
    """The `app_state` event, sent on every transition of an app."""

    deployment: Id
    state: AppStateName
    detail: Annotated[str, StringConstraints(max_length=2000)] = ""
    pid: int | None = None
    exit_code: int | None = None
    revision: Id | None = None


class LogChunk(WireModel):
    """The `log_chunk` event: numbered lines of one app's output stream."""

    deployment: Id
    stream: Literal["stdout", "stderr"]
    seq: int = Field(ge=0)
    lines: list[Annotated[str, StringConstraints(max_length=MAX_LINE)]] = Field(
        max_length=MAX_LINES
    )


class Command(WireModel):
    """A `command` to a runner (what the runner validates on its side)."""

    id: Id
    type: CommandType
    deployment: Id
    package: Id | None = None
    revision: Sha256 | None = None
    url: Annotated[str, StringConstraints(max_length=2000)] | None = None
    lines: int = Field(100, ge=1, le=1000)
    env: Variables = Field(default_factory=dict)
    secrets: Variables = Field(default_factory=dict)


class Desired(WireModel):
    """One entry of `reconcile`: a deployment and the state it should be in."""

    deployment: Id
    package: Id
    revision: Sha256
    url: Annotated[str, StringConstraints(max_length=2000)]
    state: Literal["running", "stopped"]
    env: Variables = Field(default_factory=dict)
    secrets: Variables = Field(default_factory=dict)


class Reconcile(WireModel):
    """The `reconcile` event: everything the runner should host, and nothing else."""

    desired: list[Desired] = Field(max_length=MAX_APPS)
