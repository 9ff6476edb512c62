"""No process the supervisor started outlives its welcome: groups ended whole, zombies reaped.

Three things, each for a way processes linger:
- The Master becomes a child subreaper (Linux): a grandchild whose parent died is reparented
  to the Master instead of to PID 1, so the Master reaps it. Init systems reap orphans, but
  PID 1 in a container often is the Master itself or something that never reaps.
- After a group is killed, its zombies that are the Master's children are reaped here; the
  group leader is not touched (asyncio waits for it and wants its exit status).
- A Master that was killed (SIGKILL, power loss) could not stop its apps: each deployment's row
  keeps the pgid and start time of its process, and the next start ends those groups, after
  checking that the group still is the one it started (a reused pid is left alone).
  Apps run by the SDK also notice that the Master is gone and stop by themselves.

PR_SET_PDEATHSIG is not used: it fires when the *thread* that forked the child exits, and the
Master forks from whichever thread runs the loop or a helper thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass

import psutil

log = logging.getLogger(__name__)

PR_SET_CHILD_SUBREAPER = 36
START_TIME_SLACK = 1.0  # seconds: a process started within this of the recorded time is the one


def become_subreaper() -> bool:
    """Make orphaned descendants the Master's children (Linux); tell whether it worked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def group_exists(pgid: int) -> bool:
    """Tell whether any process (zombies too) is still in the group."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def group_alive(pgid: int) -> bool:
    """Tell whether any process of the group still runs (zombies do not count).

    A zombie whose parent is another process (a Master killed earlier left it to PID 1, or to
    the process that was its subreaper) cannot be reaped here, and runs nothing.
    """
    if not group_exists(pgid):
        return False
    if not sys.platform.startswith("linux"):
        return True
    wanted = str(pgid)
    with os.scandir("/proc") as entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as stat:
                    # pid (comm) state ppid pgrp …: comm may hold spaces and parentheses.
                    fields = stat.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue  # ended while looking
            if fields[2].decode() == wanted and fields[0] not in (b"Z", b"X"):
                return True
    return False


def signal_group(pgid: int, number: int) -> bool:
    """Send a signal to a whole group; tell whether it was there."""
    try:
        os.killpg(pgid, number)
    except ProcessLookupError:
        return False
    except PermissionError:
        log.warning("not allowed to signal process group %d", pgid)
        return False
    return True


def reap_zombies(pgid: int, leader: int) -> int:
    """Reap the zombies of a group that are this process's children (never the leader)."""
    reaped = 0
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process().children():
            if child.pid == leader:
                continue
            try:
                if child.status() != psutil.STATUS_ZOMBIE or os.getpgid(child.pid) != pgid:
                    continue
                os.waitpid(child.pid, os.WNOHANG)
                reaped += 1
            except (psutil.Error, ChildProcessError, ProcessLookupError):
                continue
    return reaped


async def end_group(pgid: int, leader: int, wait: float = 2.0) -> bool:
    """SIGKILL what is left of a group and reap its zombies; tell whether it is gone in time."""
    signal_group(pgid, signal.SIGKILL)
    deadline = time.monotonic() + wait
    while True:
        reap_zombies(pgid, leader)
        if not group_alive(pgid):
            reap_zombies(pgid, leader)  # those that died since the pass above
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.01)


@dataclass(frozen=True, slots=True)
class Leftover:
    """A process group a previous run of the Master started, as its row recorded it."""

    deployment_id: str
    pid: int
    pgid: int
    started: float | None


def still_ours(leftover: Leftover) -> bool:
    """Tell whether the recorded group still runs the process that was started then.

    While any process is in a group its id cannot be given to a new process, so a group whose
    leader is gone but that still has members is ours; a leader alive with another start time
    is a stranger that got a reused pid.
    """
    try:
        leader = psutil.Process(leftover.pgid)
    except psutil.NoSuchProcess:
        return group_exists(leftover.pgid)
    except psutil.Error:
        return False
    if leftover.started is None:
        return False
    try:
        started: float = leader.create_time()
        return abs(started - leftover.started) < START_TIME_SLACK
    except psutil.Error:
        return False


async def end_leftovers(leftovers: list[Leftover], grace: float = 3.0) -> int:
    """End the groups a killed Master left running: SIGTERM, `grace` seconds, SIGKILL."""
    ours = [item for item in leftovers if still_ours(item)]
    for item in ours:
        log.warning(
            "deployment %s: ending process group %d left by an earlier run of the Master",
            item.deployment_id,
            item.pgid,
        )
        signal_group(item.pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(group_alive(item.pgid) for item in ours) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for item in ours:
        await end_group(item.pgid, item.pid)
    return len(ours)
