"""Installing tools run under time limits; a stopped one takes what it started with it."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from kenkogo_master.deploy.tools import InstallFailed, TimeLimits, failure_reason, run_tool

PIP_OUTPUT = """Collecting six==1.16.0
  Using cached six-1.16.0-py2.py3-none-any.whl (11 kB)
ERROR: Could not find a version that satisfies the requirement nope==1 (from versions: none)
ERROR: No matching distribution found for nope==1
"""


def alive(pid: int) -> bool:
    """Tell whether a process runs (a zombie waiting for its reaper does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def limits(seconds: float = 30, idle: float = 30) -> TimeLimits:
    deadline = asyncio.get_running_loop().time() + seconds
    return TimeLimits(deadline=deadline, timeout=seconds, idle=idle)


def test_the_failing_requirement_is_the_reason() -> None:
    assert failure_reason(PIP_OUTPUT.splitlines()) == "No matching distribution found for nope==1"
    assert failure_reason(["npm error code EUSAGE", "npm error missing lock"]) == (
        "npm error missing lock"
    )
    assert failure_reason(["all fine"]) is None


async def test_output_arrives_line_by_line_and_a_failure_says_why(tmp_path: Path) -> None:
    lines: list[str] = []
    script = "print('one'); print('ERROR: it broke'); raise SystemExit(3)"
    with pytest.raises(InstallFailed) as caught:
        await run_tool([sys.executable, "-c", script], tmp_path, limits(), lines.append, lines)
    assert lines[1:] == ["one", "ERROR: it broke"]
    python = Path(sys.executable).name
    assert str(caught.value) == f"{python} failed (exit 3): ERROR: it broke"


@pytest.mark.parametrize(
    ("seconds", "idle", "reason"),
    [(30, 0.5, "sh printed nothing for 0.5 s"), (0.7, 30, "the install took longer than 0.7 s")],
)
async def test_a_tool_past_a_limit_is_killed_with_its_children(
    tmp_path: Path, seconds: float, idle: float, reason: str
) -> None:
    lines: list[str] = []
    # The child starts a grandchild, says its pid, then goes silent.
    script = "sleep 60 & echo $!; wait"
    started = asyncio.get_running_loop().time()
    with pytest.raises(InstallFailed) as caught:
        await run_tool(["sh", "-c", script], tmp_path, limits(seconds, idle), lines.append, lines)
    assert str(caught.value) == reason
    assert asyncio.get_running_loop().time() - started < 5
    grandchild = int(lines[1])
    for _ in range(100):
        if not alive(grandchild):
            break
        await asyncio.sleep(0.02)
    assert not alive(grandchild)
