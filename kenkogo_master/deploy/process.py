"""One run of a deployed app: its own process group, its output captured, a stop that ends it all.

The process starts in a new session (so in a group of its own, away from the Master's terminal
and signals), with a small environment: a few variables of the Master's (PATH, HOME, the
locale…), never its settings or tokens, then the app's own, then what the supervisor adds. A
stop signals the whole group, waits, then SIGKILLs the group: grandchildren included. When the
main process ends by itself, what is left of its group is killed with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import psutil

from kenkogo_master.deploy.reaper import end_group, group_alive, reap_zombies, signal_group
from kenkogo_master.deploy.spec import LaunchSpec

log = logging.getLogger(__name__)

# The Master's own variables an app inherits; everything else (KENKOGO_* settings, tokens,
# cloud credentials) stays with the Master.
INHERITED = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "TEMP",
        "TMP",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "SYSTEMROOT",  # Windows cannot start Python without it
        "SYSTEMDRIVE",
        "COMSPEC",
        "PATHEXT",
        "WINDIR",
    }
)
CHUNK = 65_536
MAX_PENDING = 8192  # bytes of an unfinished line kept before it is written as a line of its own
EXIT_POLL = 0.02  # seconds between looks at whether the main process was reaped
PUMP_DRAIN = 2.0  # seconds the output may still flow once the group is gone

LineSink = Callable[[str, str], object]  # (stream, text)


def child_environment(spec: LaunchSpec, added: Mapping[str, str]) -> dict[str, str]:
    """Return a started app's environment: a few inherited variables, the app's, then `added`."""
    inherited = {
        key: value for key, value in os.environ.items() if key in INHERITED or key.startswith("LC_")
    }
    # Unbuffered: an app's print() reaches the live tail at once, not when 8 KiB have piled up.
    return {**inherited, "PYTHONUNBUFFERED": "1", **spec.env, **added}


def limit_memory(pid: int, megabytes: int) -> None:
    """Cap a started app's data memory (heap and anonymous maps), inherited by its children.

    RLIMIT_DATA, not RLIMIT_AS: Node's V8 reserves gigabytes of address space it never touches.
    Set from outside right after the start, not in a preexec hook (unsafe beside threads): the
    interpreter is still starting up then. CPU limits need cgroups, which an app cannot be given
    without privileges, so `cpu_percent` is only carried for runners and containers that can.
    """
    size = megabytes * 1024 * 1024
    with contextlib.suppress(psutil.Error, OSError, AttributeError):
        psutil.Process(pid).rlimit(psutil.RLIMIT_DATA, (size, size))


@dataclass(frozen=True, slots=True)
class Resources:
    """What an app's process tree uses now."""

    cpu_percent: float
    memory_bytes: int
    children: int


class AppProcess:
    """A started app: wait for it, stop it, sample it."""

    def __init__(self, process: asyncio.subprocess.Process, sink: LineSink) -> None:
        self._process = process
        self.pid = process.pid
        self.pgid = process.pid  # start_new_session: the process leads its own group
        self.started_at = time.monotonic()
        self.create_time: float | None = None
        with contextlib.suppress(psutil.Error):
            self.create_time = psutil.Process(self.pid).create_time()
        self._sink = sink
        self._pumps = [
            asyncio.create_task(self._pump(stream, name))
            for stream, name in ((process.stdout, "stdout"), (process.stderr, "stderr"))
            if stream is not None
        ]
        self._tree: dict[int, psutil.Process] = {}

    @classmethod
    async def start(cls, spec: LaunchSpec, env: dict[str, str], sink: LineSink) -> AppProcess:
        """Start `spec` in a new process group; raise OSError when it cannot be started."""
        process = await asyncio.create_subprocess_exec(
            *spec.argv,
            cwd=spec.cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        if spec.limits.memory_mb is not None:
            limit_memory(process.pid, spec.limits.memory_mb)
        return cls(process, sink)

    async def _pump(self, reader: asyncio.StreamReader, name: str) -> None:
        pending = b""
        while True:
            chunk = await reader.read(CHUNK)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if len(pending) > MAX_PENDING:
                lines.append(pending)
                pending = b""
            for line in lines:
                self._sink(name, line.rstrip(b"\r").decode("utf-8", "replace"))
        if pending:
            self._sink(name, pending.decode("utf-8", "replace"))

    async def exited(self) -> int:
        """Wait for the main process to end; end what is left of its group; return its code."""
        # Process.wait() also waits for the pipes to close, which a grandchild holding them
        # open would put off forever; the exit code is known as soon as the process is reaped.
        waiting = asyncio.create_task(self._process.wait())
        while self._process.returncode is None and not waiting.done():
            await asyncio.wait({waiting}, timeout=EXIT_POLL)
        code = self._process.returncode
        assert code is not None
        if not await end_group(self.pgid, self.pid):
            log.warning("process group %d did not end after SIGKILL", self.pgid)
        # Every writer is dead now; the pipes drain and close.
        _done, pending = await asyncio.wait([*self._pumps, waiting], timeout=PUMP_DRAIN)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._pumps, waiting, return_exceptions=True)
        return code

    @property
    def running(self) -> bool:
        """Tell whether the main process has not ended yet."""
        return self._process.returncode is None

    async def terminate(self, signal_name: str, timeout: float) -> bool:
        """Signal the group, wait `timeout` seconds, then SIGKILL it; tell whether it was killed."""
        signal_group(self.pgid, signal.Signals[signal_name])
        deadline = time.monotonic() + timeout
        while group_alive(self.pgid) and time.monotonic() < deadline:
            reap_zombies(self.pgid, self.pid)
            await asyncio.sleep(0.02)
        if not group_alive(self.pgid):
            return False
        log.info("process group %d still runs after %.1f s: SIGKILL", self.pgid, timeout)
        signal_group(self.pgid, signal.SIGKILL)
        return True

    def sample(self) -> Resources:
        """Return the CPU (percent of one core), memory (RSS) and child count of the tree."""
        try:
            leader = self._tree.get(self.pid) or psutil.Process(self.pid)
            members = [leader, *leader.children(recursive=True)]
        except psutil.Error:
            return Resources(0.0, 0, 0)
        # cpu_percent compares with the previous call on the same object: keep the objects.
        tree = {member.pid: self._tree.get(member.pid, member) for member in members}
        self._tree = tree
        cpu, memory = 0.0, 0
        for member in tree.values():
            with contextlib.suppress(psutil.Error):
                cpu += member.cpu_percent(None)
                memory += member.memory_info().rss
        return Resources(round(cpu, 1), memory, len(tree) - 1)
