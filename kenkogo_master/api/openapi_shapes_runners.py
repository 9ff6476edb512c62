"""Answers of /api/v1/runners and /api/v1/runner-enrolments."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from kenkogo_master.api.answers import Shape
from kenkogo_master.runners.commands import CommandRecord
from kenkogo_master.runners.credentials import Enrolment
from kenkogo_master.runners.registry import Runner


class RunnerEnrolment(Shape):
    """A one-time enrolment token, never its secret."""

    id: str
    name: str
    created_ms: int
    used_ms: int | None = Field(description="when a runner spent it; null while unused")
    runner_id: str | None = Field(description="the runner it enrolled")

    @classmethod
    def of(cls, enrolment: Enrolment) -> RunnerEnrolment:
        """Describe an enrolment token."""
        return cls(
            id=enrolment.id,
            name=enrolment.name,
            created_ms=enrolment.created_ms,
            used_ms=enrolment.used_ms,
            runner_id=enrolment.runner_id,
        )


class NewRunnerEnrolment(Shape):
    """POST /api/v1/runner-enrolments: the only answer that shows the token."""

    id: str
    name: str
    created_ms: int
    token: str = Field(description="give it to one runner: `python main.py runner --token`")


class RunnerEnrolmentList(Shape):
    """GET /api/v1/runner-enrolments."""

    items: list[RunnerEnrolment]
    count: int


class RunnerApp(Shape):
    """An app on a runner, as the runner last reported it."""

    deployment: str
    state: str = Field(description="`lost` while its runner is, else `reported_state`")
    reported_state: str
    detail: str
    pid: int | None
    exit_code: int | None
    revision: str | None
    changed_ms: int


class DesiredApp(Shape):
    """A deployment the runner should host, sent to it as `reconcile` after every connect."""

    deployment: str
    package: str
    revision: str
    url: str
    state: Literal["running", "stopped"]


class RunnerItem(Shape):
    """A runner: what it said about itself at its last register, and where it stands."""

    id: str
    name: str
    state: Literal["online", "lost", "offline"] = Field(
        description="`lost`: no heartbeat for three intervals; `offline`: not connected since "
        "this Master started"
    )
    connected: bool
    remote: str | None
    host: str
    os: str
    arch: str
    version: str
    capacity: int
    labels: list[str]
    created_ms: int
    connected_ms: int | None
    last_heartbeat_ms: int | None
    last_seen_ms: int | None
    resources: dict[str, Any] = Field(description="the last heartbeat's resources")
    apps: list[RunnerApp]

    @classmethod
    def of(cls, runner: Runner) -> RunnerItem:
        """Describe a runner."""
        return cls(**runner.describe())


class RunnerDetail(RunnerItem):
    """GET /api/v1/runners/{id}: a runner with its desired state."""

    desired: list[DesiredApp]

    @classmethod
    def of(cls, runner: Runner) -> RunnerDetail:
        """Describe a runner in full."""
        return cls(**runner.describe(detail=True))


class RunnerList(Shape):
    """GET /api/v1/runners."""

    items: list[RunnerItem]
    count: int


class RunnerCommand(Shape):
    """A command sent to a runner, and what became of it."""

    id: str
    runner: str
    type: Literal["deploy", "start", "stop", "restart", "remove", "logs"]
    deployment: str
    state: Literal["sent", "acked", "running", "ok", "failed"]
    sends: int = Field(description="how often it was sent under its id; the runner runs it once")
    created_ms: int
    acked_ms: int | None
    finished_ms: int | None
    error: dict[str, Any] | None = Field(description="`{code, message}` when it failed")
    lines: list[str] | None = Field(description="the output lines a `logs` command returned")

    @classmethod
    def of(cls, record: CommandRecord) -> RunnerCommand:
        """Describe a command."""
        return cls(**record.describe())


class LogLine(Shape):
    """One line of an app's output on a runner."""

    stream: Literal["stdout", "stderr"]
    seq: int = Field(description="the number of the chunk it came in")
    line: str


class RunnerLogs(Shape):
    """GET /api/v1/runners/{id}/apps/{deployment}/logs: the latest lines, oldest first."""

    deployment: str
    lines: list[LogLine]
    gaps: int = Field(description="chunks that never arrived (the runner's queue overflowed)")
