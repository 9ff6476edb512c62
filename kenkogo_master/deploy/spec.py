"""What the supervisor needs to run an installed app revision, whatever its runtime.

The package side (manifest, archive, install) produces these; the supervisor side (processes,
states, restarts, logs) consumes them. Defaults follow supervisord's and the issue's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

RuntimeType = Literal["python", "node", "command"]


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """When and how fast a stopped app is started again."""

    when: Literal["always", "on-failure", "never"] = "on-failure"
    backoff_initial: float = 1.0  # seconds before the first restart
    backoff_max: float = 30.0  # the doubling stops here
    jitter: float = 0.2  # ± this fraction of each delay
    reset_after: float = 30.0  # seconds of healthy uptime that forget earlier failures
    fatal_after: int = 5  # quick failures in a row that end in `fatal`


@dataclass(frozen=True, slots=True)
class StopPolicy:
    """How an app is asked to stop before it is killed."""

    signal: Literal["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP"] = "SIGTERM"
    timeout: float = 10.0  # seconds between the signal and SIGKILL to the process group


@dataclass(frozen=True, slots=True)
class ReadyPolicy:
    """When a started app counts as running."""

    when: Literal["registered", "seconds"] = "seconds"
    seconds: float = 1.0  # up this long (or, for `registered`, the most to wait for it)


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits, applied where the platform allows (None: no limit)."""

    memory_mb: int | None = None
    cpu_percent: float | None = None


@dataclass(frozen=True, slots=True)
class LaunchSpec:
    """One installed app revision, ready to start: the command, where, and under which rules."""

    app_id: str  # the manifest's id, the app's name on the Master
    revision: str  # the package's sha256 (or another stable revision name)
    argv: tuple[str, ...]  # absolute executable first (the revision's own venv python, node, ...)
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)  # the manifest's [env]; secrets come later
    runtime: RuntimeType = "python"
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    stop: StopPolicy = field(default_factory=StopPolicy)
    ready: ReadyPolicy = field(default_factory=ReadyPolicy)
    limits: Limits = field(default_factory=Limits)
