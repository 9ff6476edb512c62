"""Run an installing tool (venv, pip, uv, npm) under a hard and an inactivity time limit.

The tool leads its own process group, so a kill reaches what it started too; its output is
handed over line by line as it comes, and a failure is said in words from its own output.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# The Master's own interpreter settings would steer the new environment's pip to the wrong place.
_NOT_INHERITED = frozenset({"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"})
# pip and npm say what failed in lines like these; the first pattern found is the most precise.
_FAILURE_LINES = (
    re.compile(r"No matching distribution found for .+"),
    re.compile(r"Could not find a version that satisfies the requirement .+"),
    re.compile(r"^(ERROR|error): .+"),
    re.compile(r"^npm (ERR!|error) .+"),
)
LINE_LIMIT = 1024 * 1024  # longer lines are cut, not fatal


class InstallFailed(Exception):
    """An install step failed; the message says why in words."""


@dataclass(frozen=True, slots=True)
class TimeLimits:
    """When a tool is stopped: the install's deadline (loop time) and the silence allowed."""

    deadline: float
    timeout: float  # the install's whole limit, for the message
    idle: float


def failure_reason(lines: Sequence[str]) -> str | None:
    """Return the line of a tool's output that says what failed, if one does."""
    for pattern in _FAILURE_LINES:
        for line in reversed(lines):
            found = pattern.search(line.strip())
            if found:
                return found.group(0)
    return None


def child_environment() -> dict[str, str]:
    """Return the tools' environment: the Master's, less its own settings and secrets."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KENKOGO_") and key not in _NOT_INHERITED
    }
    env.update(
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        PYTHONUNBUFFERED="1",
        npm_config_fund="false",
        npm_config_audit="false",
    )
    return env


def kill_group(process: asyncio.subprocess.Process) -> None:
    """Kill a tool and everything it started (it leads its own process group)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if sys.platform != "win32":
            os.killpg(process.pid, signal.SIGKILL)
        elif process.returncode is None:  # pragma: no cover
            process.kill()


def describe(argv: Sequence[str]) -> str:
    """Return how a failure names the tool: `pip`'s `python -m pip`, `npm ci`."""
    tool = Path(argv[0]).name
    if len(argv) > 2 and argv[1] == "-m":
        return f"{tool} -m {argv[2]}"
    return f"{tool} {argv[1]}" if len(argv) > 1 and not argv[1].startswith("-") else tool


async def run_tool(
    argv: Sequence[str],
    cwd: Path,
    limits: TimeLimits,
    on_line: Callable[[str], None],
    tail: Sequence[str],
) -> None:
    """Run a tool to its end; raise InstallFailed past a limit or on a non-zero exit.

    `on_line` gets each line of its output (stdout and stderr together); `tail` is where the
    caller keeps the last ones, read for the reason when the tool fails.
    """
    loop = asyncio.get_running_loop()
    on_line("$ " + " ".join(argv))
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=child_environment(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        limit=LINE_LIMIT,
    )
    assert process.stdout is not None
    too_long = f"the install took longer than {limits.timeout:g} s"
    try:
        while True:
            left = limits.deadline - loop.time()
            if left <= 0:
                raise InstallFailed(too_long)
            try:
                line = await asyncio.wait_for(process.stdout.readline(), min(limits.idle, left))
            except TimeoutError:
                if loop.time() >= limits.deadline:
                    raise InstallFailed(too_long) from None
                name = Path(argv[0]).name
                raise InstallFailed(f"{name} printed nothing for {limits.idle:g} s") from None
            except ValueError:  # a line past the buffer: keep its start
                line = await process.stdout.read(4096)
            if not line:
                break
            on_line(line.decode("utf-8", "replace").rstrip())
        code = await process.wait()
    finally:
        # Also when it ended by itself: nothing an installer started may outlive it.
        kill_group(process)
        if process.returncode is None:
            await process.wait()
    if code != 0:
        reason = failure_reason(list(tail))
        if reason is not None:
            raise InstallFailed(f"{describe(argv)} failed (exit {code}): {reason}")
        raise InstallFailed(f"{describe(argv)} failed (exit {code}); see the output's tail")
