"""A deployment's states, as supervisord names them."""

from __future__ import annotations

from enum import StrEnum


class DeployState(StrEnum):
    """Where a deployed app stands."""

    STOPPED = "stopped"  # not running, and not meant to be until started
    STARTING = "starting"  # started, not ready yet (registered, or up long enough)
    RUNNING = "running"  # ready
    BACKOFF = "backoff"  # ended against its will; waiting before the next start
    STOPPING = "stopping"  # asked to stop: the stop signal was sent, SIGKILL may follow
    EXITED = "exited"  # ended by itself, and its restart policy does not start it again
    FATAL = "fatal"  # failed too often in a row, or cannot be started at all (not installed)
    LOST = "lost"  # on a runner that went away (runners only)


# States in which a process of the deployment exists or will soon.
ACTIVE = frozenset(
    {DeployState.STARTING, DeployState.RUNNING, DeployState.BACKOFF, DeployState.STOPPING}
)


def backoff_delay(failures: int, initial: float, ceiling: float) -> float:
    """Return the delay before the restart after `failures` failures in a row (no jitter)."""
    return min(ceiling, initial * (1 << min(max(failures, 1) - 1, 30)))
